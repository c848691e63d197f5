package neutron

import (
	"slices"
	"time"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// std holds Neutron's "standard attributes": every resource has them, and
// the shared list, tag and revision machinery works on them alone.
type std struct {
	ID          string    `json:"id"`
	Seq         int64     `json:"seq"`
	ProjectID   string    `json:"project_id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Tags        []string  `json:"tags"`
	Revision    int       `json:"revision_number"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// newStd starts a resource's standard attributes. A new resource is at
// revision 1, as Neutron's API reference shows; Seq records creation
// order, which IDs (random) cannot.
func (s *Service) newStd(project, name, description string) std {
	now := s.knobs.Now()
	s.st.Seq++
	return std{ID: simcore.NewID(), Seq: s.st.Seq, ProjectID: project, Name: name, Description: description,
		Tags: []string{}, Revision: 1, CreatedAt: now, UpdatedAt: now}
}

func (s *std) base() *std { return s }

// touch records a change: Neutron bumps revision_number and updated_at on
// every update, tag changes and port bindings included.
func (s *std) touch(now time.Time) {
	s.Revision++
	s.UpdatedAt = now
}

// attrs renders the standard attributes as Neutron shows them, in a map
// with room for a port's attributes (growing it was a tenth of a large
// list's time).
func (s *std) attrs() map[string]any {
	m := make(map[string]any, renderSize)
	m["id"], m["name"], m["description"] = s.ID, s.Name, s.Description
	m["project_id"], m["tenant_id"] = s.ProjectID, s.ProjectID
	m["tags"], m["revision_number"] = slices.Clone(s.Tags), s.Revision
	m["created_at"], m["updated_at"] = simcore.Timestamp(s.CreatedAt), simcore.Timestamp(s.UpdatedAt)
	return m
}

// renderSize is how many attributes the largest rendering (an admin's
// view of a port) holds.
const renderSize = 32

type object interface{ base() *std }

type network struct {
	std
	AdminStateUp    bool `json:"admin_state_up"`
	Shared          bool `json:"shared"`
	External        bool `json:"router_external"`
	MTU             int  `json:"mtu"`
	PortSecurity    bool `json:"port_security_enabled"`
	VLANTransparent bool `json:"vlan_transparent"`
}

type pool struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type hostRoute struct {
	Destination string `json:"destination"`
	NextHop     string `json:"nexthop"`
}

type subnet struct {
	std
	NetworkID  string      `json:"network_id"`
	CIDR       string      `json:"cidr"`
	IPVersion  int         `json:"ip_version"`
	GatewayIP  string      `json:"gateway_ip"` // "" = no gateway (null)
	EnableDHCP bool        `json:"enable_dhcp"`
	Pools      []pool      `json:"allocation_pools"`
	DNS        []string    `json:"dns_nameservers"`
	HostRoutes []hostRoute `json:"host_routes"`
}

type fixedIP struct {
	SubnetID  string `json:"subnet_id"`
	IPAddress string `json:"ip_address"`
}

type addressPair struct {
	IPAddress  string `json:"ip_address"`
	MACAddress string `json:"mac_address,omitempty"`
}

type port struct {
	std
	NetworkID      string        `json:"network_id"`
	AdminStateUp   bool          `json:"admin_state_up"`
	MAC            string        `json:"mac_address"`
	FixedIPs       []fixedIP     `json:"fixed_ips"`
	DeviceID       string        `json:"device_id"`
	DeviceOwner    string        `json:"device_owner"`
	PortSecurity   bool          `json:"port_security_enabled"`
	SecurityGroups []string      `json:"security_groups"`
	AddressPairs   []addressPair `json:"allowed_address_pairs"`
	HostID         string        `json:"binding_host_id"`
}

type gatewayInfo struct {
	NetworkID  string `json:"network_id"`
	EnableSNAT bool   `json:"enable_snat"`
	PortID     string `json:"port_id"`
}

type router struct {
	std
	AdminStateUp bool         `json:"admin_state_up"`
	Gateway      *gatewayInfo `json:"gateway,omitempty"`
	Routes       []hostRoute  `json:"routes"`
	Distributed  bool         `json:"distributed"`
	AZHints      []string     `json:"availability_zone_hints"`
}

type secGroup struct {
	std
	Stateful bool `json:"stateful"`
}

type sgRule struct {
	std
	GroupID     string `json:"security_group_id"`
	Direction   string `json:"direction"`
	Ethertype   string `json:"ethertype"`
	Protocol    string `json:"protocol"`       // "" = any (null)
	PortMin     *int   `json:"port_range_min"` // nil = null
	PortMax     *int   `json:"port_range_max"`
	RemoteIP    string `json:"remote_ip_prefix"`
	RemoteGroup string `json:"remote_group_id"`
}

type floatingIP struct {
	std
	NetworkID string `json:"floating_network_id"`
	Address   string `json:"floating_ip_address"`
	// IPPortID is the hidden network:floatingip port that holds Address, as
	// real Neutron allocates it.
	IPPortID string `json:"ip_port_id"`
	PortID   string `json:"port_id"`
	FixedIP  string `json:"fixed_ip_address"`
	RouterID string `json:"router_id"`
}

// store is the whole state; it is what Snapshot writes. encoding/json sorts
// map keys, so the snapshot is deterministic.
type store struct {
	Networks    map[string]*network    `json:"networks"`
	Subnets     map[string]*subnet     `json:"subnets"`
	Ports       map[string]*port       `json:"ports"`
	Routers     map[string]*router     `json:"routers"`
	SecGroups   map[string]*secGroup   `json:"security_groups"`
	SGRules     map[string]*sgRule     `json:"security_group_rules"`
	FloatingIPs map[string]*floatingIP `json:"floatingips"`
	Trunks      map[string]*trunk      `json:"trunks"`
	// DefaultSG maps a project to its "default" group, created lazily the
	// first time the project talks to Neutron, as real Neutron does.
	DefaultSG map[string]string `json:"default_security_groups"`
	// Seq is the last creation sequence number handed out.
	Seq int64 `json:"seq"`
}

func newStore() *store {
	return &store{
		Networks: map[string]*network{}, Subnets: map[string]*subnet{}, Ports: map[string]*port{},
		Routers: map[string]*router{}, SecGroups: map[string]*secGroup{}, SGRules: map[string]*sgRule{},
		FloatingIPs: map[string]*floatingIP{}, Trunks: map[string]*trunk{}, DefaultSG: map[string]string{},
	}
}

// sorted returns a map's values ordered by ID, the order lists and
// pagination markers use.
func sorted[T object](m map[string]T) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b T) int {
		if a.base().ID < b.base().ID {
			return -1
		}
		if a.base().ID > b.base().ID {
			return 1
		}
		return 0
	})
	return out
}

// byCreation returns a map's values in creation order.
func byCreation[T object](m map[string]T) []T {
	out := sorted(m)
	slices.SortStableFunc(out, func(a, b T) int { return int(a.base().Seq - b.base().Seq) })
	return out
}

func countProject[T object](m map[string]T, project string) int {
	n := 0
	for _, v := range m {
		if v.base().ProjectID == project {
			n++
		}
	}
	return n
}
