package resources

import (
	"context"
	"fmt"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/fuelplan/fuelplan/specs"
)

// Port manages the servers' NICs. Ports are made before their servers so
// that a NIC keeps its address and MAC when the server is replaced, and so
// that Nova attaches them in the spec's network order.
type Port struct{}

func (Port) Kind() specs.Kind { return specs.KindPort }

// Schema: device_id is in the live Fields (a server's Relate finds its
// ports by it) but never compared: the spec does not set it.
func (Port) Schema() Schema {
	return Schema{
		{Name: "name"},
		{Name: "network", ForceNew: true},
		{Name: "subnet", ForceNew: true},
		{Name: "fixed_ip"},
		{Name: "mac", ForceNew: true},
		{Name: "port_security", Type: Boolean},
		{Name: "security_groups", Type: List},
		{Name: "allowed_address_pairs", Type: List},
	}
}

// Desired: the spec's fields; port security and groups as securityFields
// says, unless a patch owns them.
func (Port) Desired(r specs.Resource) Desired {
	p := r.(*specs.Port)
	d := Desired{
		Fields: Fields{"name": p.Name},
		Refs:   Refs{"network": {p.Network}, "subnet": {p.Subnet}},
	}
	if p.FixedIP != "" {
		d.Fields["fixed_ip"] = p.FixedIP
	}
	if p.MAC != "" {
		d.Fields["mac"] = strings.ToLower(p.MAC)
	}
	// An allow-dhcp-server patch that may turn port security off owns
	// both fields (see PortSecurityFollowsPatch): the port does not fight it.
	if !PortSecurityFollowsPatch(p) {
		securityFields(d, p)
	}
	if len(p.AllowedAddressPairs) > 0 {
		d.Fields["allowed_address_pairs"] = pairsField(p.AllowedAddressPairs, p.MAC)
	}
	return d
}

// securityFields: a port whose spec turns port security off must have no
// security groups (Neutron insists), so that is desired even when the
// spec lists none; otherwise groups the spec leaves out (Neutron puts the
// project's default group on) are not drift.
//
// A port with security groups or address pairs needs port security on
// (Neutron refuses them otherwise: PortSecurityAndIPRequiredForSecurityGroups,
// AddressPairAndPortSecurityRequired), so that is desired too when the
// spec does not say: port security turned off by hand is drift, repaired
// in the same update that puts the groups back.
func securityFields(d Desired, p *specs.Port) {
	if on := wantPortSecurity(p); on != nil {
		d.Fields["port_security"] = boolField(*on)
	}
	switch {
	case len(p.SecurityGroups) > 0:
		d.Refs["security_groups"] = p.SecurityGroups
	case portSecurityOff(p):
		d.Fields["security_groups"] = ""
	}
}

func portSecurityOff(p *specs.Port) bool { return p.PortSecurity != nil && !*p.PortSecurity }

// wantPortSecurity is the port security a port needs: the spec's, or on
// when it has groups or address pairs, or nil (no opinion).
func wantPortSecurity(p *specs.Port) *bool {
	if p.PortSecurity != nil {
		return p.PortSecurity
	}
	if len(p.SecurityGroups) > 0 || len(p.AllowedAddressPairs) > 0 {
		on := true
		return &on
	}
	return nil
}

// pairsField renders allowed address pairs as "ip" or "ip@mac", sorted.
// Neutron fills in the port's own MAC for a pair given without one, so a
// pair's MAC equal to the port's is left out on both sides. (A spec that
// names, in a pair, the MAC Neutron happens to give a port whose own MAC
// the spec leaves to Neutron would show as drift; no spec does that.)
func pairsField(ps []specs.AddressPair, portMAC string) string {
	vs := make([]string, len(ps))
	for i, p := range ps {
		vs[i] = p.IP
		if p.MAC != "" && !strings.EqualFold(p.MAC, portMAC) {
			vs[i] += "@" + strings.ToLower(p.MAC)
		}
	}
	return JoinSorted(vs)
}

type portView struct {
	ID                  string              `json:"id"`
	Name                string              `json:"name"`
	Status              string              `json:"status"`
	NetworkID           string              `json:"network_id"`
	MAC                 string              `json:"mac_address"`
	FixedIPs            []ports.IP          `json:"fixed_ips"`
	DeviceID            string              `json:"device_id"`
	DeviceOwner         string              `json:"device_owner"`
	PortSecurity        *bool               `json:"port_security_enabled"`
	SecurityGroups      []string            `json:"security_groups"`
	AllowedAddressPairs []ports.AddressPair `json:"allowed_address_pairs"`
	Description         string              `json:"description"`
	Tags                []string            `json:"tags"`
	RevisionNumber      int                 `json:"revision_number"`
}

func (v portView) id() string { return v.ID }

// marked notes the tags; the description stays as created, the spec
// having none to put back.
func (v *portView) marked(tags []string, _ string) { v.Tags = tags }

func (v portView) object(lab string) *Object {
	o := neutronObject(specs.KindPort, lab, v.ID, v.Name, v.Tags, v.RevisionNumber)
	readCreationMark(o, v.Tags, v.Description)
	o.Status = v.Status
	o.Fields["network"] = v.NetworkID
	o.Fields["subnet"], o.Fields["fixed_ip"] = "", ""
	if len(v.FixedIPs) > 0 {
		o.Fields["subnet"], o.Fields["fixed_ip"] = v.FixedIPs[0].SubnetID, v.FixedIPs[0].IPAddress
	}
	o.Fields["mac"] = strings.ToLower(v.MAC)
	// Without the port-security extension a port's groups always apply:
	// its port security reads as on.
	o.Fields["port_security"] = boolField(v.PortSecurity == nil || *v.PortSecurity)
	o.Fields["security_groups"] = JoinSorted(v.SecurityGroups)
	pairs := make([]specs.AddressPair, len(v.AllowedAddressPairs))
	for i, p := range v.AllowedAddressPairs {
		pairs[i] = specs.AddressPair{IP: p.IPAddress, MAC: p.MACAddress}
	}
	o.Fields["allowed_address_pairs"] = pairsField(pairs, v.MAC)
	o.Fields["device_id"] = v.DeviceID
	o.Fields["device_owner"] = v.DeviceOwner
	return o
}

func listPorts(ctx context.Context, c *Cloud, q neutronQuery) ([]portView, error) {
	return listNeutron[portView, portPage](ctx, c, "ports", q)
}

func (Port) List(ctx context.Context, c *Cloud, q Query) ([]*Object, error) {
	objs, err := listTagged(ctx, c, q, func(nq neutronQuery) ([]*Object, error) {
		vs, err := listPorts(ctx, c, nq)
		if err != nil {
			return nil, err
		}
		return objectsOf(vs, q.Lab), nil
	})
	if err != nil {
		return nil, fmt.Errorf("list ports: %w", err)
	}
	return objs, nil
}

func (Port) Get(ctx context.Context, c *Cloud, id string) (*Object, error) {
	return getNeutron[portView](ctx, c, "ports", "port", id)
}

// securityGroupIDs resolves the spec's groups; with port security off
// and none listed it is the explicit empty list, so Neutron does not put
// the project's default group on a port that may not have one.
func securityGroupIDs(op string, p *specs.Port, ids IDs) (*[]string, error) {
	if len(p.SecurityGroups) == 0 {
		if portSecurityOff(p) {
			return &[]string{}, nil
		}
		return nil, nil
	}
	out := make([]string, len(p.SecurityGroups))
	for i, g := range p.SecurityGroups {
		id, err := refID(ids, op, p.Addr(), "security_groups", g)
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return &out, nil
}

func addressPairs(ps []specs.AddressPair) []ports.AddressPair {
	out := make([]ports.AddressPair, len(ps))
	for i, p := range ps {
		out[i] = ports.AddressPair{IPAddress: p.IP, MACAddress: p.MAC}
	}
	return out
}

func (Port) Create(ctx context.Context, c *Cloud, lab string, r specs.Resource, ids IDs) (*Object, error) {
	p, ok := r.(*specs.Port)
	if !ok {
		return nil, wrongType(r, "port")
	}
	if p.PortSecurity != nil && !c.HasExtension("port-security") {
		return nil, fmt.Errorf("%s: create: port_security: this cloud's Neutron has no port-security extension", p.Addr())
	}
	netID, err := refID(ids, "create", p.Addr(), "network", p.Network)
	if err != nil {
		return nil, err
	}
	subnetID, err := refID(ids, "create", p.Addr(), "subnet", p.Subnet)
	if err != nil {
		return nil, err
	}
	sgs, err := securityGroupIDs("create", p, ids)
	if err != nil {
		return nil, err
	}
	mac, err := portMAC(ctx, c, p, ids)
	if err != nil {
		return nil, err
	}
	opts := ports.CreateOpts{
		NetworkID: netID, Name: p.Name, MACAddress: mac,
		FixedIPs:            []ports.IP{{SubnetID: subnetID, IPAddress: p.FixedIP}},
		SecurityGroups:      sgs,
		AllowedAddressPairs: addressPairs(p.AllowedAddressPairs),
	}
	// gophercloud's CreateOpts have no port security: fill adds it.
	fill := func(inner map[string]any) {
		if p.PortSecurity != nil {
			inner["port_security_enabled"] = *p.PortSecurity
		}
	}
	adopt := func() (*Object, error) { return adoptCutShort(ctx, c, Port{}, "ports", lab, p, "", ids) }
	return createNeutron[portView](ctx, c, "ports", lab, p.Addr(), "", adopt, opts.ToPortCreateMap, fill)
}

// Update changes the port in one request. Turning port security off also
// clears the security groups and address pairs in that request: Neutron
// refuses port security off while either is set, and refuses either
// while it is off.
func (Port) Update(ctx context.Context, c *Cloud, r specs.Resource, live *Object, fields []string, ids IDs) (*Object, error) {
	p, ok := r.(*specs.Port)
	if !ok {
		return nil, wrongType(r, "port")
	}
	body := map[string]any{}
	for _, f := range fields {
		switch f {
		case "name":
			body["name"] = p.Name
		case "fixed_ip":
			subnetID, err := refID(ids, "update", p.Addr(), "subnet", p.Subnet)
			if err != nil {
				return nil, err
			}
			body["fixed_ips"] = []ports.IP{{SubnetID: subnetID, IPAddress: p.FixedIP}}
		case "port_security":
			// One request turns port security back on and sets the groups
			// and pairs that need it (real Zed takes them together).
			on := wantPortSecurity(p)
			if on == nil {
				continue
			}
			body["port_security_enabled"] = *on
			if !*on {
				body["security_groups"] = []string{}
				body["allowed_address_pairs"] = addressPairs(p.AllowedAddressPairs)
			}
		case "security_groups":
			sgs, err := securityGroupIDs("update", p, ids)
			if err != nil {
				return nil, err
			}
			if sgs != nil {
				body["security_groups"] = *sgs
			}
		case "allowed_address_pairs":
			body["allowed_address_pairs"] = addressPairs(p.AllowedAddressPairs)
		default:
			return nil, unchangeable(p.Addr(), f)
		}
	}
	var v portView
	if err := ports.Update(ctx, c.Network, live.ID, updateBody{key: "port", attrs: body}).ExtractInto(&v); err != nil {
		return nil, fmt.Errorf("%s: update: %w", p.Addr(), err)
	}
	return updated(&v, p.Addr()), nil
}

func (Port) Delete(ctx context.Context, c *Cloud, live *Object) error {
	return deleteNeutron(ctx, c, "ports", live)
}

// portMAC is the MAC to create p with: its own, or the one its MACOf port
// has now (a trunk's subport takes its parent's).
func portMAC(ctx context.Context, c *Cloud, p *specs.Port, ids IDs) (string, error) {
	if p.MAC != "" || p.MACOf == "" {
		return p.MAC, nil
	}
	id, err := refID(ids, "create", p.Addr(), "mac", p.MACOf)
	if err != nil {
		return "", err
	}
	from, err := ports.Get(ctx, c.Network, id).Extract()
	if err != nil {
		return "", fmt.Errorf("%s: create: read the MAC of %s: %w", p.Addr(), p.MACOf, err)
	}
	return from.MACAddress, nil
}
