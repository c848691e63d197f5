package specs

// This file is the contract between the spec compiler and the engine: the
// typed, fully resolved desired state of every cloud object a lab consists
// of. A compiled instance holds no YAML detail and no cloud IDs; references
// to other instances are by Address, and every reference is also an edge
// in the lab's DAG.

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Address names one resource instance within a lab, stable across runs:
// "network.admin", "port.slave-03.storage", "server.master".
type Address string

// Kind is the first element of an address.
type Kind string

// The resource kinds, in the order a lab is built from nothing.
const (
	KindExternalNetwork   Kind = "external_network" // looked up, never created
	KindImage             Kind = "image"            // uploaded or looked up
	KindFlavor            Kind = "flavor"           // created or looked up
	KindNetwork           Kind = "network"
	KindSubnet            Kind = "subnet"
	KindRouter            Kind = "router"
	KindRouterInterface   Kind = "router_interface"
	KindSecurityGroup     Kind = "security_group"
	KindSecurityGroupRule Kind = "security_group_rule"
	KindKeypair           Kind = "keypair"
	KindPort              Kind = "port"
	KindTrunk             Kind = "trunk"
	KindVolume            Kind = "volume"
	KindServer            Kind = "server"
	KindFloatingIP        Kind = "floating_ip"
	KindPatch             Kind = "patch"
	KindWait              Kind = "wait"
)

// Kinds lists every kind in build order.
var Kinds = []Kind{
	KindExternalNetwork, KindImage, KindFlavor, KindNetwork, KindSubnet, KindRouter,
	KindRouterInterface, KindSecurityGroup, KindSecurityGroupRule, KindKeypair, KindPort,
	KindTrunk, KindVolume, KindServer, KindFloatingIP, KindPatch, KindWait,
}

// NewAddress joins a kind and name parts: NewAddress(KindPort, "slave-03", "admin").
func NewAddress(k Kind, parts ...string) Address {
	return Address(string(k) + "." + strings.Join(parts, "."))
}

// Kind returns the kind part of the address.
func (a Address) Kind() Kind {
	k, _, _ := strings.Cut(string(a), ".")
	return Kind(k)
}

// Name returns everything after the kind.
func (a Address) Name() string {
	_, n, _ := strings.Cut(string(a), ".")
	return n
}

// Pos is a place in a spec file, for messages that point the operator at
// the line that caused them.
type Pos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Secret holds a value that must never be printed, logged or saved: a
// password, a token, user_data marked sensitive. Every formatting path
// yields "(sensitive)"; only Reveal gives the value, for the API call.
type Secret struct{ value string }

// NewSecret wraps a sensitive value.
func NewSecret(v string) Secret { return Secret{value: v} }

// Reveal returns the value, for the single place that sends it to the cloud.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == "" }

const redacted = "(sensitive)"

func (s Secret) String() string               { return redacted }
func (s Secret) GoString() string             { return redacted }
func (s Secret) Format(f fmt.State, _ rune)   { _, _ = f.Write([]byte(redacted)) }
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(redacted) }
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Resource is one compiled instance. Deps lists the addresses it needs to
// exist first; the DAG holds exactly these edges, dependency -> dependent.
type Resource interface {
	Addr() Address
	Kind() Kind
	Deps() []Address
	// Declared is where the spec declares it (for slaves, the template).
	Declared() Pos
}

// Meta is embedded in every instance.
type Meta struct {
	Address Address `json:"address"`
	// Name is the name the object has in the cloud (lab-prefixed unless the
	// spec names it outright). For lookups it is the name searched for.
	Name string `json:"name"`
	// Protect: never delete this object, even when the spec drops it.
	Protect bool `json:"protect,omitempty"`
	At      Pos  `json:"-"`
}

func (m *Meta) Addr() Address     { return m.Address }
func (m *Meta) Kind() Kind        { return m.Address.Kind() }
func (m *Meta) Declared() Pos     { return m.At }
func (m *Meta) CloudName() string { return m.Name }

// ExternalNetwork is an existing provider network, looked up by name.
type ExternalNetwork struct {
	Meta
}

func (*ExternalNetwork) Deps() []Address { return nil }

// Image is a Glance image: uploaded from File, or looked up by name when
// Existing is set.
type Image struct {
	Meta
	Existing        bool              `json:"existing,omitempty"`
	File            string            `json:"file,omitempty"` // resolved against the spec's folder
	DiskFormat      string            `json:"disk_format,omitempty"`
	ContainerFormat string            `json:"container_format,omitempty"`
	Properties      map[string]string `json:"properties,omitempty"`
}

func (*Image) Deps() []Address { return nil }

// Flavor is a Nova flavor: created (admin only), or looked up by name.
type Flavor struct {
	Meta
	Existing   bool              `json:"existing,omitempty"`
	VCPUs      int               `json:"vcpus,omitempty"`
	RAM        int               `json:"ram_mb,omitempty"`
	Disk       int               `json:"disk_gb,omitempty"`
	Ephemeral  int               `json:"ephemeral_gb,omitempty"`
	ExtraSpecs map[string]string `json:"extra_specs,omitempty"`
}

func (*Flavor) Deps() []Address { return nil }

// Network is a Neutron network. Nil pointers mean "the spec does not say":
// the cloud's default is then not drift.
type Network struct {
	Meta
	Description     string `json:"description,omitempty"`
	MTU             *int   `json:"mtu,omitempty"`
	PortSecurity    *bool  `json:"port_security,omitempty"`
	VLANTransparent *bool  `json:"vlan_transparent,omitempty"`
	// Index is the network's position in the spec: the NIC order on servers.
	Index int `json:"index"`
}

func (*Network) Deps() []Address { return nil }

// AllocationPool is an inclusive range of addresses Neutron may hand out.
type AllocationPool struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Subnet is the one IPv4 subnet of a lab network.
type Subnet struct {
	Meta
	Network Address `json:"network"`
	CIDR    string  `json:"cidr"`
	// Gateway is the gateway address; empty with NoGateway set means none,
	// empty without it means Neutron's default (the first address).
	Gateway         string           `json:"gateway,omitempty"`
	NoGateway       bool             `json:"no_gateway,omitempty"`
	EnableDHCP      bool             `json:"enable_dhcp"`
	AllocationPools []AllocationPool `json:"allocation_pools,omitempty"`
	DNSNameservers  []string         `json:"dns_nameservers,omitempty"`
}

func (s *Subnet) Deps() []Address { return []Address{s.Network} }

// Router is the lab's router.
type Router struct {
	Meta
	// ExternalNetwork is set when the router has its gateway there.
	ExternalNetwork Address `json:"external_network,omitempty"`
}

func (r *Router) Deps() []Address {
	if r.ExternalNetwork == "" {
		return nil
	}
	return []Address{r.ExternalNetwork}
}

// RouterInterface attaches a lab subnet to the router.
type RouterInterface struct {
	Meta
	Router Address `json:"router"`
	Subnet Address `json:"subnet"`
}

func (ri *RouterInterface) Deps() []Address { return []Address{ri.Router, ri.Subnet} }

// SecurityGroup is a lab security group; its rules are separate instances.
type SecurityGroup struct {
	Meta
	Description string `json:"description,omitempty"`
}

func (*SecurityGroup) Deps() []Address { return nil }

// SecurityGroupRule is one rule of a lab security group. Rules cannot be
// changed in place in Neutron: any difference is a replace.
type SecurityGroupRule struct {
	Meta
	Group     Address `json:"group"`
	Direction string  `json:"direction"`           // ingress | egress
	EtherType string  `json:"ethertype"`           // IPv4 | IPv6
	Protocol  string  `json:"protocol,omitempty"`  // tcp, udp, icmp, or empty for any
	PortMin   int     `json:"port_min,omitempty"`  // 0 = unset
	PortMax   int     `json:"port_max,omitempty"`  // 0 = unset
	RemoteIP  string  `json:"remote_ip,omitempty"` // CIDR
	// RemoteGroup references another lab group (or Group itself).
	RemoteGroup Address `json:"remote_group,omitempty"`
}

func (r *SecurityGroupRule) Deps() []Address {
	d := []Address{r.Group}
	if r.RemoteGroup != "" && r.RemoteGroup != r.Group {
		d = append(d, r.RemoteGroup)
	}
	return d
}

// Keypair is a Nova keypair with a public key (never a private one).
type Keypair struct {
	Meta
	PublicKey string `json:"public_key"`
}

func (*Keypair) Deps() []Address { return nil }

// AddressPair is an allowed address pair on a port.
type AddressPair struct {
	IP  string `json:"ip_address"`
	MAC string `json:"mac_address,omitempty"`
}

// Port is one NIC of one server, on one lab network.
type Port struct {
	Meta
	Server  Address `json:"server"` // the server it belongs to (not a dependency)
	Network Address `json:"network"`
	Subnet  Address `json:"subnet"`
	// NetworkName is the spec's network name: ports are keyed by it.
	NetworkName string `json:"network_name"`
	FixedIP     string `json:"fixed_ip,omitempty"`
	MAC         string `json:"mac,omitempty"`
	// MACOf: without a MAC of its own, the port takes this port's MAC
	// when it is created. A trunk's subport takes its parent's: the
	// guest's VLAN interfaces send with the NIC's MAC.
	MACOf               Address       `json:"mac_of,omitempty"`
	PortSecurity        *bool         `json:"port_security,omitempty"`
	SecurityGroups      []Address     `json:"security_groups,omitempty"`
	AllowedAddressPairs []AddressPair `json:"allowed_address_pairs,omitempty"`
	// DHCPPatch is the method (auto, api or ssh) of the allow-dhcp-server
	// patch on this port, "" when none. The api method turns the port's
	// security off, so the port adapter leaves port security and groups
	// to the patch then (resources/patch.go, docs/patches.md).
	DHCPPatch string `json:"-"`
}

func (p *Port) Deps() []Address {
	d := []Address{p.Network, p.Subnet}
	if p.MACOf != "" {
		d = append(d, p.MACOf)
	}
	return append(d, p.SecurityGroups...)
}

// Trunk makes a server's NIC (its parent port) carry VLANs: each subport
// is a port on the VLAN's own network, tagged with its ID on the parent.
// Subports are added and removed in place; only a new parent replaces it.
type Trunk struct {
	Meta
	Parent   Address   `json:"parent"`
	Subports []Subport `json:"subports"` // in network name order
}

// Subport is one VLAN of a trunk.
type Subport struct {
	Port           Address `json:"port"`
	NetworkName    string  `json:"network_name"`
	SegmentationID int     `json:"segmentation_id"`
}

func (t *Trunk) Deps() []Address {
	d := []Address{t.Parent}
	for _, s := range t.Subports {
		d = append(d, s.Port)
	}
	return d
}

// Volume is a Cinder volume, blank or made from an image.
type Volume struct {
	Meta
	SizeGB   int     `json:"size_gb"`
	Image    Address `json:"image,omitempty"`
	Bootable bool    `json:"bootable,omitempty"`
}

func (v *Volume) Deps() []Address {
	if v.Image == "" {
		return nil
	}
	return []Address{v.Image}
}

// BlockDevice attaches a volume to a server at boot (block_device_mapping_v2).
type BlockDevice struct {
	Volume     Address `json:"volume"`
	DeviceType string  `json:"device_type"`        // disk | cdrom
	DiskBus    string  `json:"disk_bus,omitempty"` // virtio, ide, scsi...
	BootIndex  int     `json:"boot_index"`         // -1: not bootable
}

// Server is a Nova server. Ports are in NIC order (the spec's network order).
type Server struct {
	Meta
	Flavor       Address       `json:"flavor"`
	Image        Address       `json:"image,omitempty"` // empty when booting from volumes
	BlockDevices []BlockDevice `json:"block_devices,omitempty"`
	Ports        []Address     `json:"ports"`
	// Trunks are the trunks on its NICs: made before the server boots.
	Trunks   []Address `json:"trunks,omitempty"`
	Keypair  Address   `json:"keypair,omitempty"`
	UserData string    `json:"user_data,omitempty"`
	// SensitiveUserData is set instead of UserData when the spec marks it so.
	SensitiveUserData Secret            `json:"-"`
	Metadata          map[string]string `json:"metadata,omitempty"`
	// Role is "master" or "slave"; Index is the slave's number (1-based).
	Role  string `json:"role"`
	Index int    `json:"index,omitempty"`
}

func (s *Server) Deps() []Address {
	d := []Address{s.Flavor}
	if s.Image != "" {
		d = append(d, s.Image)
	}
	for _, b := range s.BlockDevices {
		d = append(d, b.Volume)
	}
	d = append(d, s.Ports...)
	d = append(d, s.Trunks...)
	if s.Keypair != "" {
		d = append(d, s.Keypair)
	}
	return d
}

// FloatingIP gives a server's port an address on the external network.
type FloatingIP struct {
	Meta
	Port            Address `json:"port"`
	ExternalNetwork Address `json:"external_network"`
	// FixedAddress asks for a particular floating address; empty allocates any.
	FixedAddress string `json:"floating_ip_address,omitempty"`
	// RouterInterface: the port's subnet must reach the router first, or
	// Neutron refuses the association (external network unreachable).
	RouterInterface Address `json:"router_interface,omitempty"`
}

func (f *FloatingIP) Deps() []Address {
	d := []Address{f.Port, f.ExternalNetwork}
	if f.RouterInterface != "" {
		d = append(d, f.RouterInterface)
	}
	return d
}

// SSHHost says how to reach one hypervisor over SSH.
type SSHHost struct {
	Hypervisor string   `json:"hypervisor"`
	Address    string   `json:"address"` // host:port
	User       string   `json:"user"`
	KeyFile    string   `json:"key_file,omitempty"`
	KnownHosts string   `json:"known_hosts,omitempty"`
	Jump       *SSHHost `json:"jump,omitempty"`
	Sudo       bool     `json:"sudo,omitempty"`
}

// Patch is a change on the host cloud's compute nodes.
type Patch struct {
	Meta
	Type string `json:"type"` // allow-dhcp-server | command
	// Method for allow-dhcp-server: auto | api | ssh.
	Method string `json:"method,omitempty"`
	// Port is the port whose DHCP replies must pass (allow-dhcp-server).
	Port Address `json:"port,omitempty"`
	// Server is the server the patch follows (the port's server, or the
	// command patch's `after`).
	Server Address `json:"server,omitempty"`
	// Host names the hypervisor outright, for users without admin rights.
	Host string `json:"host,omitempty"`
	// Hosts are the hypervisors a command patch runs on.
	Hosts []string `json:"hosts,omitempty"`
	Check string   `json:"check,omitempty"`
	Apply string   `json:"apply,omitempty"`
	// Inventory maps hypervisor names to SSH hosts (shared by all patches).
	Inventory map[string]SSHHost `json:"-"`
}

func (p *Patch) Deps() []Address {
	var d []Address
	if p.Port != "" {
		d = append(d, p.Port)
	}
	if p.Server != "" {
		d = append(d, p.Server)
	}
	return d
}

// Wait is a readiness check run after apply.
type Wait struct {
	Meta
	Type string `json:"type"` // http | fuel-nodes | tcp | console
	// URL may hold {{master.ip}}-style templates resolved after apply.
	URL       string `json:"url,omitempty"`
	Status    int    `json:"status,omitempty"`
	Count     int    `json:"count,omitempty"`
	Address   string `json:"address,omitempty"`
	Marker    string `json:"marker,omitempty"`
	TimeoutS  int    `json:"timeout_seconds,omitempty"`
	IntervalS int    `json:"interval_seconds,omitempty"`
	// Username and Password log in to Fuel's Keystone where needed.
	Username string `json:"username,omitempty"`
	Password Secret `json:"-"`
	// After are the servers (and anything else) the check needs first.
	After []Address `json:"after,omitempty"`
}

func (w *Wait) Deps() []Address { return w.After }
