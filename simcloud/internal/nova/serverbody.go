package nova

import (
	"net"
	"net/http"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// serverBody is serverView's map as a struct, for server lists: the same
// attributes, in the order encoding/json writes a map's keys (sorted
// bytewise: "OS-..." first), so that the JSON is the same byte for byte
// (TestServerBodyIsServerView). A lab's plan lists a thousand servers; a
// map per server and a dozen nested maps, their keys sorted at every
// encoding, were most of the simulated Nova's time. Attributes that a
// microversion or the admin role adds are pointers, absent when nil; *any
// keeps a present null.
type serverBody struct {
	DiskConfig      string            `json:"OS-DCF:diskConfig"`
	AZ              string            `json:"OS-EXT-AZ:availability_zone"`
	Host            *any              `json:"OS-EXT-SRV-ATTR:host,omitempty"`
	Hostname        *string           `json:"OS-EXT-SRV-ATTR:hostname,omitempty"`
	HypervisorHost  *any              `json:"OS-EXT-SRV-ATTR:hypervisor_hostname,omitempty"`
	InstanceName    *string           `json:"OS-EXT-SRV-ATTR:instance_name,omitempty"`
	KernelID        *string           `json:"OS-EXT-SRV-ATTR:kernel_id,omitempty"`
	LaunchIndex     *int              `json:"OS-EXT-SRV-ATTR:launch_index,omitempty"`
	RamdiskID       *string           `json:"OS-EXT-SRV-ATTR:ramdisk_id,omitempty"`
	ReservationID   *string           `json:"OS-EXT-SRV-ATTR:reservation_id,omitempty"`
	RootDevice      *string           `json:"OS-EXT-SRV-ATTR:root_device_name,omitempty"`
	UserData        *any              `json:"OS-EXT-SRV-ATTR:user_data,omitempty"`
	PowerState      int               `json:"OS-EXT-STS:power_state"`
	TaskState       any               `json:"OS-EXT-STS:task_state"`
	VMState         string            `json:"OS-EXT-STS:vm_state"`
	LaunchedAt      any               `json:"OS-SRV-USG:launched_at"`
	TerminatedAt    any               `json:"OS-SRV-USG:terminated_at"`
	AccessIPv4      string            `json:"accessIPv4"`
	AccessIPv6      string            `json:"accessIPv6"`
	Addresses       map[string]any    `json:"addresses"`
	ConfigDrive     string            `json:"config_drive"`
	Created         string            `json:"created"`
	Description     *any              `json:"description,omitempty"`
	Fault           *faultBody        `json:"fault,omitempty"`
	Flavor          any               `json:"flavor"`
	HostID          string            `json:"hostId"`
	ID              string            `json:"id"`
	Image           any               `json:"image"`
	KeyName         any               `json:"key_name"`
	Links           []linkBody        `json:"links"`
	Locked          *bool             `json:"locked,omitempty"`
	LockedReason    *any              `json:"locked_reason,omitempty"`
	Metadata        map[string]string `json:"metadata"`
	Name            string            `json:"name"`
	VolumesAttached []attachedBody    `json:"os-extended-volumes:volumes_attached"`
	Progress        int               `json:"progress"`
	SecurityGroups  []nameBody        `json:"security_groups"`
	Status          string            `json:"status"`
	Tags            *[]string         `json:"tags,omitempty"`
	TenantID        string            `json:"tenant_id"`
	Updated         string            `json:"updated"`
	UserID          string            `json:"user_id"`
}

// The nested objects of a server, keys sorted as in a map.
type (
	linkBody struct {
		Href string `json:"href"`
		Rel  string `json:"rel"`
	}
	nameBody struct {
		Name string `json:"name"`
	}
	attachedBody struct {
		DeleteOnTermination bool   `json:"delete_on_termination"`
		ID                  string `json:"id"`
	}
	faultBody struct {
		Code    int    `json:"code"`
		Created string `json:"created"`
		Message string `json:"message"`
	}
	imageBody struct {
		ID    string     `json:"id"`
		Links []linkBody `json:"links"`
	}
	flavorRefBody struct {
		ID    string     `json:"id"`
		Links []linkBody `json:"links"`
	}
	bootedFlavorBody struct {
		Disk         int               `json:"disk"`
		Ephemeral    int               `json:"ephemeral"`
		ExtraSpecs   map[string]string `json:"extra_specs"`
		OriginalName string            `json:"original_name"`
		RAM          int               `json:"ram"`
		Swap         int               `json:"swap"`
		VCPUs        int               `json:"vcpus"`
	}
	addressBody struct {
		MAC     string `json:"OS-EXT-IPS-MAC:mac_addr"`
		Type    string `json:"OS-EXT-IPS:type"`
		Addr    string `json:"addr"`
		Version int    `json:"version"`
	}
)

func anyPtr(v any) *any { return &v }

// encodeServer is serverView as a serverBody.
func (s *Service) encodeServer(r *http.Request, sv *server) *serverBody {
	p := sv.phaseAt(s.knobs.Now())
	mvr := mv(r)
	base := baseURL(r)
	meta := sv.Metadata
	if meta == nil {
		meta = map[string]string{}
	}
	b := &serverBody{
		ID: sv.ID, Name: sv.Name, Status: p.status, TenantID: sv.ProjectID, UserID: sv.UserID,
		Created: simcore.Timestamp(sv.Created), Updated: simcore.Timestamp(p.updated),
		HostID: hostID(sv.ProjectID, sv.Host), Addresses: s.addressBodies(sv), Metadata: meta,
		Links: []linkBody{
			{Rel: "self", Href: base + "/v2.1/servers/" + sv.ID},
			{Rel: "bookmark", Href: base + "/servers/" + sv.ID},
		},
		KeyName: nilIfEmpty(sv.KeyName), AccessIPv4: sv.AccessIPv4, AccessIPv6: sv.AccessIPv6,
		DiskConfig: "MANUAL", AZ: sv.AZ, VMState: p.vmState, TaskState: p.task, PowerState: p.power,
		SecurityGroups:  []nameBody{{Name: "default"}},
		VolumesAttached: []attachedBody{},
	}
	for _, d := range sv.BDMs {
		if d.SourceType == "volume" && d.UUID != "" {
			b.VolumesAttached = append(b.VolumesAttached, attachedBody{ID: d.UUID, DeleteOnTermination: d.DeleteOnTermination})
		}
	}
	if p.launched != nil {
		b.LaunchedAt = p.launched.UTC().Format("2006-01-02T15:04:05.000000")
	}
	if sv.ImageID != "" {
		b.Image = imageBody{ID: sv.ImageID, Links: []linkBody{{Rel: "bookmark", Href: base + "/images/" + sv.ImageID}}}
	} else {
		b.Image = "" // booted from volume
	}
	if mvr >= 47 {
		b.Flavor = bootedFlavorBody{VCPUs: sv.Flavor.VCPUs, RAM: sv.Flavor.RAM, Disk: sv.Flavor.Disk,
			Ephemeral: sv.Flavor.Ephemeral, Swap: sv.Flavor.Swap, OriginalName: sv.Flavor.Name, ExtraSpecs: specs(&sv.Flavor)}
	} else {
		b.Flavor = flavorRefBody{ID: sv.FlavorID, Links: []linkBody{
			{Rel: "self", Href: base + "/v2.1/flavors/" + sv.FlavorID},
			{Rel: "bookmark", Href: base + "/flavors/" + sv.FlavorID},
		}}
	}
	if p.status == "ERROR" {
		b.Fault = &faultBody{Code: 500, Message: sv.Fault, Created: simcore.Timestamp(sv.ReadyAt)}
	}
	if mvr >= 9 {
		locked := false
		b.Locked = &locked
	}
	if mvr >= 19 {
		b.Description = anyPtr(sv.Description)
	}
	if mvr >= 26 {
		tags := sv.Tags
		if tags == nil {
			tags = []string{}
		}
		b.Tags = &tags
	}
	if mvr >= 73 {
		b.LockedReason = anyPtr(nil)
	}
	if caller(r).Admin {
		b.Host, b.HypervisorHost = anyPtr(nilIfEmpty(sv.Host)), anyPtr(nilIfEmpty(sv.Host))
		b.InstanceName = &sv.InstanceName
		if mvr >= 3 {
			launch, empty, root := 0, "", "/dev/vda"
			reservation := "r-" + sv.ID[:min(8, len(sv.ID))]
			b.UserData = anyPtr(nilIfEmpty(sv.UserData))
			b.Hostname, b.ReservationID, b.LaunchIndex = &sv.Name, &reservation, &launch
			b.KernelID, b.RamdiskID, b.RootDevice = &empty, &empty, &root
		}
	}
	return b
}

// addressBodies is addresses with each address a struct.
func (s *Service) addressBodies(sv *server) map[string]any {
	out := map[string]any{}
	if s.ports == nil {
		return out
	}
	for _, id := range sv.Ports {
		p, ok := s.ports.Port(id)
		if !ok {
			continue
		}
		list, _ := out[p.NetworkName].([]addressBody)
		add := func(ip, typ string) {
			v := 4
			if a := net.ParseIP(ip); a != nil && a.To4() == nil {
				v = 6
			}
			list = append(list, addressBody{Version: v, Addr: ip, Type: typ, MAC: p.MAC})
		}
		for _, ip := range p.FixedIPs {
			add(ip, "fixed")
		}
		for _, ip := range p.FloatingIPs {
			add(ip, "floating")
		}
		if list == nil {
			list = []addressBody{}
		}
		out[p.NetworkName] = list
	}
	return out
}
