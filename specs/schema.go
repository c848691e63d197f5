package specs

// The spec document as written: every field keeps its position (see
// decode.go). Validation reads these; Compile turns them into instances.
// docs/spec.md is the reference for each field.

// APIVersion is the only spec version this build reads.
const APIVersion = "fuelplan/v1"

// Document is one spec file.
type Document struct {
	At              Pos
	APIVersion      String                  `spec:"apiVersion,required"`
	Lab             String                  `spec:"lab,required"`
	Cloud           String                  `spec:"cloud"`
	ExternalNetwork String                  `spec:"external_network"`
	VLANMode        String                  `spec:"vlan_mode"`
	Images          []ImageSpec             `spec:"images"`
	Flavors         []FlavorSpec            `spec:"flavors"`
	Networks        []NetworkSpec           `spec:"networks,required"`
	Router          *RouterSpec             `spec:"router"`
	SecurityGroups  []SecurityGroupSpec     `spec:"security_groups"`
	Keypair         *KeypairSpec            `spec:"keypair"`
	Master          *ServerSpec             `spec:"master,required"`
	Slaves          *SlavesSpec             `spec:"slaves"`
	Inventory       map[string]*SSHHostSpec `spec:"inventory"`
	Patches         []PatchSpec             `spec:"patches"`
	Waits           []WaitSpec              `spec:"waits"`
}

// Named is the naming pair most objects share: the logical name (used in
// addresses and references) and an optional cloud-name override.
type Named struct {
	Name      String `spec:"name"`
	CloudName String `spec:"cloud_name"`
	// Protect: fuelplan never deletes the object (destroy leaves it, and a
	// change that would replace it is an error).
	Protect Bool `spec:"protect"`
}

// ImageSpec is an image to upload from a local file, or to look up.
type ImageSpec struct {
	At   Pos
	Path string
	Named
	Existing        Bool              `spec:"existing"`
	File            String            `spec:"file"`
	DiskFormat      String            `spec:"disk_format"`
	ContainerFormat String            `spec:"container_format"`
	Properties      map[string]String `spec:"properties"`
}

// FlavorSpec is a flavor to create, or to look up.
type FlavorSpec struct {
	At   Pos
	Path string
	Named
	Existing   Bool              `spec:"existing"`
	VCPUs      Int               `spec:"vcpus"`
	RAM        Int               `spec:"ram"`
	Disk       Int               `spec:"disk"`
	Ephemeral  Int               `spec:"ephemeral"`
	ExtraSpecs map[string]String `spec:"extra_specs"`
}

// PoolSpec is one allocation pool.
type PoolSpec struct {
	At    Pos
	Path  string
	Start String `spec:"start,required"`
	End   String `spec:"end,required"`
}

// NetworkSpec is a lab network with its one subnet.
type NetworkSpec struct {
	At   Pos
	Path string
	Named
	Description     String     `spec:"description"`
	CIDR            String     `spec:"cidr,required"`
	Gateway         String     `spec:"gateway"`
	DHCP            Bool       `spec:"dhcp"`
	AllocationPools []PoolSpec `spec:"allocation_pools"`
	DNS             []String   `spec:"dns_nameservers"`
	MTU             Int        `spec:"mtu"`
	PortSecurity    Bool       `spec:"port_security"`
	VLANTransparent Bool       `spec:"vlan_transparent"`
	// VLANMode says how the NICs on this network carry their vlans:
	// auto, trunk or transparent (docs/vlan.md).
	VLANMode String `spec:"vlan_mode"`
	Router   Bool   `spec:"router"`
}

// RouterSpec is the lab's router.
type RouterSpec struct {
	At   Pos
	Path string
	Named
	ExternalGateway Bool     `spec:"external_gateway"`
	Interfaces      []String `spec:"interfaces"`
}

// SecurityGroupSpec is a security group and its rules.
type SecurityGroupSpec struct {
	At   Pos
	Path string
	Named
	Description String     `spec:"description"`
	Rules       []RuleSpec `spec:"rules"`
}

// RuleSpec is one security group rule.
type RuleSpec struct {
	At          Pos
	Path        string
	Name        String `spec:"name"`
	Direction   String `spec:"direction"`
	EtherType   String `spec:"ethertype"`
	Protocol    String `spec:"protocol"`
	Ports       String `spec:"ports"`
	RemoteIP    String `spec:"remote_ip"`
	RemoteGroup String `spec:"remote_group"`
}

// KeypairSpec is the lab's keypair.
type KeypairSpec struct {
	At   Pos
	Path string
	Named
	PublicKey     String `spec:"public_key"`
	PublicKeyFile String `spec:"public_key_file"`
}

// PairSpec is an allowed address pair.
type PairSpec struct {
	At   Pos
	Path string
	IP   String `spec:"ip_address,required"`
	MAC  String `spec:"mac_address"`
}

// PortSpec is one NIC of a server (or of every slave, with patterns).
type PortSpec struct {
	At                  Pos
	Path                string
	Network             String     `spec:"network,required"`
	FixedIP             String     `spec:"fixed_ip"`
	MAC                 String     `spec:"mac"`
	PortSecurity        Bool       `spec:"port_security"`
	SecurityGroups      []String   `spec:"security_groups"`
	AllowedAddressPairs []PairSpec `spec:"allowed_address_pairs"`
	VLANs               []VLANSpec `spec:"vlans"`
}

// VLANSpec is one VLAN (or a range) tagged on a NIC: frames with that ID
// belong to the lab network named. A range (ids) names a network pattern
// with {vlan} in its name: one network per ID.
type VLANSpec struct {
	At      Pos
	Path    string
	Network String `spec:"network,required"`
	ID      Int    `spec:"id"`
	IDs     String `spec:"ids"`
}

// VolumeSpec is a volume attached at boot.
type VolumeSpec struct {
	At         Pos
	Path       string
	Name       String `spec:"name,required"`
	Size       Int    `spec:"size,required"`
	Image      String `spec:"image"`
	DeviceType String `spec:"device_type"`
	DiskBus    String `spec:"disk_bus"`
	BootIndex  Int    `spec:"boot_index"`
	Bootable   Bool   `spec:"bootable"`
}

// ServerBody is what the master and the slave template share.
type ServerBody struct {
	Flavor         String            `spec:"flavor,required"`
	Image          String            `spec:"image"`
	Volumes        []VolumeSpec      `spec:"volumes"`
	Ports          []PortSpec        `spec:"ports"`
	SecurityGroups []String          `spec:"security_groups"`
	Keypair        String            `spec:"keypair"`
	UserData       *UserDataSpec     `spec:"user_data"`
	Metadata       map[string]String `spec:"metadata"`
}

// ServerSpec is the Fuel master.
type ServerSpec struct {
	At   Pos
	Path string
	Named
	ServerBody
	FloatingIP *FloatingIPSpec `spec:"floating_ip"`
}

// SlavesSpec is the slave template.
type SlavesSpec struct {
	At    Pos
	Path  string
	Count Int `spec:"count,required"`
	// Name is the name pattern, e.g. slave-{index:02d}.
	Name String `spec:"name"`
	ServerBody
	Overrides []OverrideSpec `spec:"overrides"`
}

// OverrideSpec changes one slave of the template.
type OverrideSpec struct {
	At       Pos
	Path     string
	Index    Int               `spec:"index,required"`
	Flavor   String            `spec:"flavor"`
	Image    String            `spec:"image"`
	Ports    []PortSpec        `spec:"ports"`
	Metadata map[string]String `spec:"metadata"`
}

// SSHHostSpec says how to reach a hypervisor (or a jump host).
type SSHHostSpec struct {
	At         Pos
	Path       string
	Address    String       `spec:"address,required"`
	User       String       `spec:"user"`
	KeyFile    String       `spec:"key_file"`
	KnownHosts String       `spec:"known_hosts"`
	Jump       *SSHHostSpec `spec:"jump"`
	Sudo       Bool         `spec:"sudo"`
}

// PatchSpec is a compute-node patch.
type PatchSpec struct {
	At     Pos
	Path   string
	Name   String   `spec:"name,required"`
	Type   String   `spec:"type,required"`
	Method String   `spec:"method"`
	Port   String   `spec:"port"`
	Host   String   `spec:"host"`
	Hosts  []String `spec:"hosts"`
	After  String   `spec:"after"`
	Check  String   `spec:"check"`
	Apply  String   `spec:"apply"`
}

// WaitSpec is a readiness check.
type WaitSpec struct {
	At       Pos
	Path     string
	Name     String   `spec:"name,required"`
	Type     String   `spec:"type,required"`
	URL      String   `spec:"url"`
	Status   Int      `spec:"status"`
	Count    Int      `spec:"count"`
	Address  String   `spec:"address"`
	Marker   String   `spec:"marker"`
	Timeout  String   `spec:"timeout"`
	Interval String   `spec:"interval"`
	Username String   `spec:"username"`
	Password String   `spec:"password"`
	After    []String `spec:"after"`
}
