package resources

import (
	"context"
	"fmt"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/fuelplan/fuelplan/specs"
)

// Router manages the lab's router and its gateway on the external network.
type Router struct{}

func (Router) Kind() specs.Kind { return specs.KindRouter }

func (Router) Schema() Schema {
	return Schema{{Name: "name"}, {Name: "external_network"}}
}

// Desired: a router without an external network in the spec has no
// gateway (Neutron's default too), so a gateway someone added is drift.
func (Router) Desired(r specs.Resource) Desired {
	rt := r.(*specs.Router)
	d := Desired{Fields: Fields{"name": rt.Name}}
	if rt.ExternalNetwork == "" {
		d.Fields["external_network"] = ""
	} else {
		d.Refs = Refs{"external_network": {rt.ExternalNetwork}}
	}
	return d
}

type routerView struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Status  string `json:"status"`
	Gateway *struct {
		NetworkID string `json:"network_id"`
	} `json:"external_gateway_info"`
	Description    string   `json:"description"`
	Tags           []string `json:"tags"`
	RevisionNumber int      `json:"revision_number"`
}

func (v routerView) id() string { return v.ID }

// marked notes the tags; the description stays as created, the spec
// having none to put back.
func (v *routerView) marked(tags []string, _ string) { v.Tags = tags }

func (v routerView) object(lab string) *Object {
	o := neutronObject(specs.KindRouter, lab, v.ID, v.Name, v.Tags, v.RevisionNumber)
	readCreationMark(o, v.Tags, v.Description)
	o.Status = v.Status
	o.Fields["external_network"] = ""
	if v.Gateway != nil {
		o.Fields["external_network"] = v.Gateway.NetworkID
	}
	return o
}

func (Router) List(ctx context.Context, c *Cloud, q Query) ([]*Object, error) {
	objs, err := listTagged(ctx, c, q, func(nq neutronQuery) ([]*Object, error) {
		vs, err := listNeutron[routerView, routerPage](ctx, c, "routers", nq)
		if err != nil {
			return nil, err
		}
		return objectsOf(vs, q.Lab), nil
	})
	if err != nil {
		return nil, fmt.Errorf("list routers: %w", err)
	}
	return objs, nil
}

func (Router) Get(ctx context.Context, c *Cloud, id string) (*Object, error) {
	return getNeutron[routerView](ctx, c, "routers", "router", id)
}

func (Router) Create(ctx context.Context, c *Cloud, lab string, r specs.Resource, ids IDs) (*Object, error) {
	rt, ok := r.(*specs.Router)
	if !ok {
		return nil, wrongType(r, "router")
	}
	opts := routers.CreateOpts{Name: rt.Name}
	if rt.ExternalNetwork != "" {
		ext, err := refID(ids, "create", rt.Addr(), "external_network", rt.ExternalNetwork)
		if err != nil {
			return nil, err
		}
		opts.GatewayInfo = &routers.GatewayInfo{NetworkID: ext}
	}
	adopt := func() (*Object, error) { return adoptCutShort(ctx, c, Router{}, "routers", lab, rt, "", ids) }
	return createNeutron[routerView](ctx, c, "routers", lab, rt.Addr(), "", adopt, opts.ToRouterCreateMap, nil)
}

// Update renames the router and sets or clears its gateway: an empty
// external_gateway_info ({}) is how Neutron clears it.
func (Router) Update(ctx context.Context, c *Cloud, r specs.Resource, live *Object, fields []string, ids IDs) (*Object, error) {
	rt, ok := r.(*specs.Router)
	if !ok {
		return nil, wrongType(r, "router")
	}
	var opts routers.UpdateOpts
	for _, f := range fields {
		switch f {
		case "name":
			opts.Name = rt.Name
		case "external_network":
			opts.GatewayInfo = &routers.GatewayInfo{}
			if rt.ExternalNetwork != "" {
				ext, err := refID(ids, "update", rt.Addr(), "external_network", rt.ExternalNetwork)
				if err != nil {
					return nil, err
				}
				opts.GatewayInfo.NetworkID = ext
			}
		default:
			return nil, unchangeable(rt.Addr(), f)
		}
	}
	var v routerView
	if err := routers.Update(ctx, c.Network, live.ID, opts).ExtractIntoStructPtr(&v, "router"); err != nil {
		return nil, fmt.Errorf("%s: update: %w", rt.Addr(), err)
	}
	return updated(&v, rt.Addr()), nil
}

// Delete removes the router. Neutron refuses while interfaces remain; the
// engine deletes those first (they depend on the router).
func (Router) Delete(ctx context.Context, c *Cloud, live *Object) error {
	return deleteNeutron(ctx, c, "routers", live)
}

// RouterInterface manages the attachment of a lab subnet to the router.
// Its live object is the interface port Neutron makes, which cannot carry
// the mark at birth (add_router_interface takes no tags): an interface is
// the lab's when its router is, and which spec instance it implements
// follows from its router and subnet.
type RouterInterface struct{}

func (RouterInterface) Kind() specs.Kind { return specs.KindRouterInterface }

// Schema: an interface is its router and subnet; both force a new one.
func (RouterInterface) Schema() Schema {
	return Schema{{Name: "router", ForceNew: true}, {Name: "subnet", ForceNew: true}}
}

func (RouterInterface) Desired(r specs.Resource) Desired {
	ri := r.(*specs.RouterInterface)
	return Desired{Refs: Refs{"router": {ri.Router}, "subnet": {ri.Subnet}}}
}

// routerInterfaceOwners are the device_owner values of a router's subnet
// ports: legacy, distributed (DVR) and HA routers each have their own.
var routerInterfaceOwners = []string{
	"network:router_interface", "network:router_interface_distributed", "network:ha_router_replicated_interface",
}

func interfaceObject(v portView) *Object {
	o := &Object{Kind: specs.KindRouterInterface, ID: v.ID, Name: v.Name, Status: v.Status,
		Revision: fmt.Sprint(v.RevisionNumber), Fields: Fields{"router": v.DeviceID, "subnet": ""}}
	if len(v.FixedIPs) > 0 {
		o.Fields["subnet"] = v.FixedIPs[0].SubnetID
		o.Fields["ip"] = v.FixedIPs[0].IPAddress
	}
	return o
}

// List reads the interface ports of the lab's routers (those already
// read, in q.Read) in one call. Each is owned; its address is that of the
// wanted interface with the same router and subnet, else, for one the
// spec no longer has, router_interface.<router name>.<subnet name> from
// the addresses of its router and subnet (the subnet's ID when the subnet
// is not the lab's), so the engine can plan its removal.
func (RouterInterface) List(ctx context.Context, c *Cloud, q Query) ([]*Object, error) {
	routerAddr := map[string]specs.Address{}
	var routerIDs []string
	subnetAddr := map[string]specs.Address{}
	if q.Read != nil {
		for _, o := range q.Read.Objects(specs.KindRouter) {
			if o.Owned && o.Address != "" {
				routerAddr[o.ID] = o.Address
				routerIDs = append(routerIDs, o.ID)
			}
		}
		for _, o := range q.Read.Objects(specs.KindSubnet) {
			if o.Owned && o.Address != "" {
				subnetAddr[o.ID] = o.Address
			}
		}
	}
	if len(routerIDs) == 0 {
		return nil, nil
	}
	wanted := map[[2]specs.Address]specs.Address{}
	for _, r := range q.Want {
		if ri, ok := r.(*specs.RouterInterface); ok {
			wanted[[2]specs.Address{ri.Router, ri.Subnet}] = ri.Addr()
		}
	}
	nq := projectQuery(ctx, c).with("device_id", routerIDs...).with("device_owner", routerInterfaceOwners...)
	vs, err := listPorts(ctx, c, nq)
	if err != nil {
		return nil, fmt.Errorf("list router interfaces: %w", err)
	}
	var out []*Object
	for _, v := range vs {
		o := interfaceObject(v)
		o.Owned = true
		ra := routerAddr[v.DeviceID]
		sa, known := subnetAddr[o.Fields["subnet"]]
		if a, ok := wanted[[2]specs.Address{ra, sa}]; ok && known {
			o.Address = a
		} else {
			sub := o.Fields["subnet"]
			if known {
				sub = sa.Name()
			}
			o.Address = specs.NewAddress(specs.KindRouterInterface, ra.Name(), sub)
		}
		out = append(out, o)
	}
	return out, nil
}

// Get reads the interface port; without the snapshot its address is unknown.
func (RouterInterface) Get(ctx context.Context, c *Cloud, id string) (*Object, error) {
	var v portView
	if err := ports.Get(ctx, c.Network, id).ExtractInto(&v); err != nil {
		return nil, getError("router interface port", id, err)
	}
	return interfaceObject(v), nil
}

func (RouterInterface) Create(ctx context.Context, c *Cloud, _ string, r specs.Resource, ids IDs) (*Object, error) {
	ri, ok := r.(*specs.RouterInterface)
	if !ok {
		return nil, wrongType(r, "router_interface")
	}
	routerID, err := refID(ids, "create", ri.Addr(), "router", ri.Router)
	if err != nil {
		return nil, err
	}
	subnetID, err := refID(ids, "create", ri.Addr(), "subnet", ri.Subnet)
	if err != nil {
		return nil, err
	}
	info, err := routers.AddInterface(ctx, c.Network, routerID, routers.AddInterfaceOpts{SubnetID: subnetID}).Extract()
	if err != nil {
		return nil, fmt.Errorf("%s: create: %w", ri.Addr(), err)
	}
	var v portView
	if err := ports.Get(ctx, c.Network, info.PortID).ExtractInto(&v); err != nil {
		return nil, fmt.Errorf("%s: create: read interface port %s: %w", ri.Addr(), info.PortID, err)
	}
	o := interfaceObject(v)
	o.Address, o.Owned = ri.Addr(), true
	return o, nil
}

func (RouterInterface) Update(_ context.Context, _ *Cloud, r specs.Resource, _ *Object, fields []string, _ IDs) (*Object, error) {
	return nil, unchangeable(r.Addr(), strings.Join(fields, ", "))
}

// Delete detaches the subnet by the interface's port. An interface, or a
// router, already gone is success.
func (RouterInterface) Delete(ctx context.Context, c *Cloud, live *Object) error {
	routerID := live.Fields["router"]
	if routerID == "" {
		return fmt.Errorf("%s: delete: interface port %s has no router", liveLabel(live), live.ID)
	}
	_, err := routers.RemoveInterface(ctx, c.Network, routerID, routers.RemoveInterfaceOpts{PortID: live.ID}).Extract()
	if err := ignoreNotFound(err); err != nil {
		return fmt.Errorf("%s: delete: %w", liveLabel(live), err)
	}
	return nil
}
