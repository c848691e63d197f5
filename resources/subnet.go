package resources

import (
	"context"
	"fmt"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/fuelplan/fuelplan/specs"
)

// Subnet manages the one IPv4 subnet of each lab network.
type Subnet struct{}

func (Subnet) Kind() specs.Kind { return specs.KindSubnet }

func (Subnet) Schema() Schema {
	return Schema{
		{Name: "name"},
		{Name: "network", ForceNew: true},
		{Name: "cidr", ForceNew: true},
		{Name: "gateway"},
		{Name: "enable_dhcp", Type: Boolean},
		{Name: "pools", Type: List},
		{Name: "dns", Type: List},
	}
}

// Desired: gateway appears when the spec names one or says there is none
// (""); left out, Neutron's default (the first address) is not drift.
func (Subnet) Desired(r specs.Resource) Desired {
	s := r.(*specs.Subnet)
	f := Fields{"name": s.Name, "cidr": s.CIDR, "enable_dhcp": boolField(s.EnableDHCP)}
	switch {
	case s.Gateway != "":
		f["gateway"] = s.Gateway
	case s.NoGateway:
		f["gateway"] = ""
	}
	if len(s.AllocationPools) > 0 {
		f["pools"] = poolsField(s.AllocationPools)
	}
	if len(s.DNSNameservers) > 0 {
		f["dns"] = dnsField(s.DNSNameservers)
	}
	return Desired{Fields: f, Refs: Refs{"network": {s.Network}}}
}

func poolsField(ps []specs.AllocationPool) string {
	vs := make([]string, len(ps))
	for i, p := range ps {
		vs[i] = p.Start + "-" + p.End
	}
	return JoinSorted(vs)
}

// dnsField keeps the servers in order, unlike other lists: the order is
// the order resolvers are tried in, so a reordering is a real change.
func dnsField(vs []string) string { return strings.Join(vs, ",") }

type subnetView struct {
	ID             string                   `json:"id"`
	Name           string                   `json:"name"`
	NetworkID      string                   `json:"network_id"`
	CIDR           string                   `json:"cidr"`
	GatewayIP      *string                  `json:"gateway_ip"`
	EnableDHCP     bool                     `json:"enable_dhcp"`
	Pools          []subnets.AllocationPool `json:"allocation_pools"`
	DNSNameservers []string                 `json:"dns_nameservers"`
	Description    string                   `json:"description"`
	Tags           []string                 `json:"tags"`
	RevisionNumber int                      `json:"revision_number"`
}

func (v subnetView) id() string { return v.ID }

// marked notes the tags; the description stays as created, the spec
// having none to put back.
func (v *subnetView) marked(tags []string, _ string) { v.Tags = tags }

func (v subnetView) object(lab string) *Object {
	o := neutronObject(specs.KindSubnet, lab, v.ID, v.Name, v.Tags, v.RevisionNumber)
	readCreationMark(o, v.Tags, v.Description)
	o.Fields["network"] = v.NetworkID
	o.Fields["cidr"] = v.CIDR
	o.Fields["gateway"] = ""
	if v.GatewayIP != nil {
		o.Fields["gateway"] = *v.GatewayIP
	}
	o.Fields["enable_dhcp"] = boolField(v.EnableDHCP)
	ps := make([]specs.AllocationPool, len(v.Pools))
	for i, p := range v.Pools {
		ps[i] = specs.AllocationPool{Start: p.Start, End: p.End}
	}
	o.Fields["pools"] = poolsField(ps)
	o.Fields["dns"] = dnsField(v.DNSNameservers)
	return o
}

func (Subnet) List(ctx context.Context, c *Cloud, q Query) ([]*Object, error) {
	objs, err := listTagged(ctx, c, q, func(nq neutronQuery) ([]*Object, error) {
		vs, err := listNeutron[subnetView, subnetPage](ctx, c, "subnets", nq)
		if err != nil {
			return nil, err
		}
		return objectsOf(vs, q.Lab), nil
	})
	if err != nil {
		return nil, fmt.Errorf("list subnets: %w", err)
	}
	return objs, nil
}

func (Subnet) Get(ctx context.Context, c *Cloud, id string) (*Object, error) {
	return getNeutron[subnetView](ctx, c, "subnets", "subnet", id)
}

func gophercloudPools(ps []specs.AllocationPool) []subnets.AllocationPool {
	out := make([]subnets.AllocationPool, len(ps))
	for i, p := range ps {
		out[i] = subnets.AllocationPool{Start: p.Start, End: p.End}
	}
	return out
}

// gatewayOpt is gateway_ip for a request: nil leaves Neutron's default,
// "" (which gophercloud sends as null) means no gateway.
func gatewayOpt(s *specs.Subnet) *string {
	switch {
	case s.Gateway != "":
		return &s.Gateway
	case s.NoGateway:
		none := ""
		return &none
	}
	return nil
}

func (Subnet) Create(ctx context.Context, c *Cloud, lab string, r specs.Resource, ids IDs) (*Object, error) {
	s, ok := r.(*specs.Subnet)
	if !ok {
		return nil, wrongType(r, "subnet")
	}
	netID, err := refID(ids, "create", s.Addr(), "network", s.Network)
	if err != nil {
		return nil, err
	}
	dhcp := s.EnableDHCP
	opts := subnets.CreateOpts{
		NetworkID: netID, Name: s.Name, CIDR: s.CIDR, IPVersion: gophercloud.IPv4,
		GatewayIP: gatewayOpt(s), EnableDHCP: &dhcp,
		AllocationPools: gophercloudPools(s.AllocationPools), DNSNameservers: s.DNSNameservers,
	}
	adopt := func() (*Object, error) { return adoptCutShort(ctx, c, Subnet{}, "subnets", lab, s, "", ids) }
	return createNeutron[subnetView](ctx, c, "subnets", lab, s.Addr(), "", adopt, opts.ToSubnetCreateMap, nil)
}

func (Subnet) Update(ctx context.Context, c *Cloud, r specs.Resource, live *Object, fields []string, _ IDs) (*Object, error) {
	s, ok := r.(*specs.Subnet)
	if !ok {
		return nil, wrongType(r, "subnet")
	}
	var opts subnets.UpdateOpts
	for _, f := range fields {
		switch f {
		case "name":
			opts.Name = &s.Name
		case "gateway":
			opts.GatewayIP = gatewayOpt(s)
		case "enable_dhcp":
			dhcp := s.EnableDHCP
			opts.EnableDHCP = &dhcp
		case "pools":
			opts.AllocationPools = gophercloudPools(s.AllocationPools)
		case "dns":
			dns := append([]string{}, s.DNSNameservers...)
			opts.DNSNameservers = &dns
		default:
			return nil, unchangeable(s.Addr(), f)
		}
	}
	var v subnetView
	if err := subnets.Update(ctx, c.Network, live.ID, opts).ExtractIntoStructPtr(&v, "subnet"); err != nil {
		return nil, fmt.Errorf("%s: update: %w", s.Addr(), err)
	}
	return updated(&v, s.Addr()), nil
}

func (Subnet) Delete(ctx context.Context, c *Cloud, live *Object) error {
	return deleteNeutron(ctx, c, "subnets", live)
}
