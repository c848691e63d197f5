package resources

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/attributestags"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"

	"github.com/fuelplan/fuelplan/specs"
)

// FloatingIP manages the floating addresses of the lab's servers. A
// floating IP has no name: its Name here is its address, and an unowned
// one is a conflict only when the spec asks for that very address.
type FloatingIP struct{}

func (FloatingIP) Kind() specs.Kind { return specs.KindFloatingIP }

// Schema: the port can be changed (re-association); the network and the
// address cannot.
func (FloatingIP) Schema() Schema {
	return Schema{
		{Name: "port"},
		{Name: "external_network", ForceNew: true},
		{Name: "floating_ip_address", ForceNew: true},
	}
}

func (FloatingIP) Desired(r specs.Resource) Desired {
	f := r.(*specs.FloatingIP)
	d := Desired{Fields: Fields{}, Refs: Refs{"port": {f.Port}, "external_network": {f.ExternalNetwork}}}
	if f.FixedAddress != "" {
		d.Fields["floating_ip_address"] = f.FixedAddress
	}
	return d
}

type floatingIPView struct {
	ID             string   `json:"id"`
	Address        string   `json:"floating_ip_address"`
	NetworkID      string   `json:"floating_network_id"`
	PortID         *string  `json:"port_id"`
	FixedIP        *string  `json:"fixed_ip_address"`
	Status         string   `json:"status"`
	Description    string   `json:"description"`
	Tags           []string `json:"tags"`
	RevisionNumber int      `json:"revision_number"`
}

func (v floatingIPView) id() string { return v.ID }

// marked notes the tags; the description stays as created, the spec
// having none to put back.
func (v *floatingIPView) marked(tags []string, _ string) { v.Tags = tags }

func (v floatingIPView) object(lab string) *Object {
	o := neutronObject(specs.KindFloatingIP, lab, v.ID, v.Address, v.Tags, v.RevisionNumber)
	delete(o.Fields, "name")
	o.Status = v.Status
	o.Fields["port"] = deref(v.PortID)
	o.Fields["external_network"] = v.NetworkID
	o.Fields["floating_ip_address"] = v.Address
	o.Fields["fixed_ip"] = deref(v.FixedIP)
	return o
}

func (FloatingIP) List(ctx context.Context, c *Cloud, q Query) ([]*Object, error) {
	wantAddr := func(r specs.Resource) string {
		if f, ok := r.(*specs.FloatingIP); ok {
			return f.FixedAddress
		}
		return ""
	}
	objs, err := listTaggedBy(ctx, c, q, "floating_ip_address", wantAddr, func(nq neutronQuery) ([]*Object, error) {
		vs, err := listNeutron[floatingIPView, floatingIPPage](ctx, c, "floatingips", nq)
		if err != nil {
			return nil, err
		}
		return objectsOf(vs, q.Lab), nil
	})
	if err != nil {
		return nil, fmt.Errorf("list floating IPs: %w", err)
	}
	return objs, nil
}

func (FloatingIP) Get(ctx context.Context, c *Cloud, id string) (*Object, error) {
	return getNeutron[floatingIPView](ctx, c, "floatingips", "floating IP", id)
}

// Create allocates the address and associates it with the port in one
// request; the description names the address, for people reading the
// cloud without fuelplan.
func (FloatingIP) Create(ctx context.Context, c *Cloud, lab string, r specs.Resource, ids IDs) (*Object, error) {
	f, ok := r.(*specs.FloatingIP)
	if !ok {
		return nil, wrongType(r, "floating_ip")
	}
	netID, err := refID(ids, "create", f.Addr(), "external_network", f.ExternalNetwork)
	if err != nil {
		return nil, err
	}
	portID, err := refID(ids, "create", f.Addr(), "port", f.Port)
	if err != nil {
		return nil, err
	}
	opts := floatingips.CreateOpts{
		FloatingNetworkID: netID, FloatingIP: f.FixedAddress, PortID: portID, Description: string(f.Addr()),
	}
	adopt := func() (*Object, error) { return adoptCutShortFIP(ctx, c, f, netID, portID, lab) }
	return createNeutron[floatingIPView](ctx, c, "floatingips", lab, f.Addr(), "", adopt, opts.ToFloatingIPCreateMap, nil)
}

// adoptCutShortFIP is adoptCutShort (mark.go) for a floating IP, which
// has no name: on a cloud without tag-creation, a create cut short before
// its tags left an address associated with the lab's own port (already
// made and marked), from the same network, with this instance's address
// as description and no lab tags. That one is tagged and taken.
func adoptCutShortFIP(ctx context.Context, c *Cloud, f *specs.FloatingIP, netID, portID, lab string) (*Object, error) {
	if c.HasExtension("tag-creation") {
		return nil, nil
	}
	pages, err := floatingips.List(c.Network, floatingips.ListOpts{PortID: portID, FloatingNetworkID: netID}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("look for a create cut short: %w", err)
	}
	var vs []floatingIPView
	if err := floatingips.ExtractFloatingIPsInto(pages, &vs); err != nil {
		return nil, err
	}
	for _, v := range vs {
		if v.Description != string(f.Addr()) || hasLabTag(v.Tags) || (f.FixedAddress != "" && v.Address != f.FixedAddress) {
			continue
		}
		tags := markTags(lab, f.Addr())
		if _, err := attributestags.ReplaceAll(ctx, c.Network, "floatingips", v.ID, attributestags.ReplaceAllOpts{Tags: tags}).Extract(); err != nil {
			return nil, fmt.Errorf("tag what a create cut short left (floating IP %s): %w", v.ID, err)
		}
		v.Tags = tags
		return v.object(lab), nil
	}
	return nil, nil
}

// Update re-associates the address with the spec's port.
func (FloatingIP) Update(ctx context.Context, c *Cloud, r specs.Resource, live *Object, fields []string, ids IDs) (*Object, error) {
	f, ok := r.(*specs.FloatingIP)
	if !ok {
		return nil, wrongType(r, "floating_ip")
	}
	var opts floatingips.UpdateOpts
	for _, name := range fields {
		if name != "port" {
			return nil, unchangeable(f.Addr(), name)
		}
		portID, err := refID(ids, "update", f.Addr(), "port", f.Port)
		if err != nil {
			return nil, err
		}
		opts.PortID = &portID
	}
	var v floatingIPView
	if err := floatingips.Update(ctx, c.Network, live.ID, opts).ExtractInto(&v); err != nil {
		return nil, fmt.Errorf("%s: update: %w", f.Addr(), err)
	}
	return updated(&v, f.Addr()), nil
}

// Delete releases the address (which also disassociates it).
func (FloatingIP) Delete(ctx context.Context, c *Cloud, live *Object) error {
	return deleteNeutron(ctx, c, "floatingips", live)
}
