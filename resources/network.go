package resources

import (
	"context"
	"fmt"
	"strconv"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/fuelplan/fuelplan/specs"
)

// Network manages the lab's Neutron networks.
type Network struct{}

func (Network) Kind() specs.Kind { return specs.KindNetwork }

// Schema: mtu is updatable where the cloud has net-mtu-writable; without
// that extension Neutron refuses mtu on create as much as on update, so
// replacing the network would not help either, and Create and Update both
// say so plainly instead. vlan_transparent is fixed at creation.
func (Network) Schema() Schema {
	return Schema{
		{Name: "name"},
		{Name: "description"},
		{Name: "mtu", Type: Number},
		{Name: "port_security", Type: Boolean},
		{Name: "vlan_transparent", ForceNew: true, Type: Boolean},
	}
}

func (Network) Desired(r specs.Resource) Desired {
	n := r.(*specs.Network)
	f := Fields{"name": n.Name}
	if n.Description != "" {
		f["description"] = n.Description
	}
	if n.MTU != nil {
		f["mtu"] = strconv.Itoa(*n.MTU)
	}
	if n.PortSecurity != nil {
		f["port_security"] = boolField(*n.PortSecurity)
	}
	if n.VLANTransparent != nil {
		f["vlan_transparent"] = boolField(*n.VLANTransparent)
	}
	return Desired{Fields: f}
}

// networkView is a network as Neutron shows it, extensions included.
type networkView struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	Description     string   `json:"description"`
	Status          string   `json:"status"`
	MTU             int      `json:"mtu"`
	PortSecurity    *bool    `json:"port_security_enabled"`
	VLANTransparent *bool    `json:"vlan_transparent"`
	External        bool     `json:"router:external"`
	Tags            []string `json:"tags"`
	RevisionNumber  int      `json:"revision_number"`
}

func (v networkView) id() string                { return v.ID }
func (v networkView) object(lab string) *Object { return v.objectAs(specs.KindNetwork, lab) }

// marked notes the tags and the spec's description tagAfterCreate put on.
func (v *networkView) marked(tags []string, description string) {
	v.Tags, v.Description = tags, description
}

// objectAs is the object as kind: an external network is read as a
// network too (extnet.go).
func (v networkView) objectAs(kind specs.Kind, lab string) *Object {
	o := neutronObject(kind, lab, v.ID, v.Name, v.Tags, v.RevisionNumber)
	readCreationMark(o, v.Tags, v.Description)
	o.Status = v.Status
	o.Fields["description"] = v.Description
	if v.MTU != 0 {
		o.Fields["mtu"] = strconv.Itoa(v.MTU)
	}
	if v.PortSecurity != nil {
		o.Fields["port_security"] = boolField(*v.PortSecurity)
	}
	// Neutron shows null when the cloud has no opinion: not transparent.
	o.Fields["vlan_transparent"] = boolField(v.VLANTransparent != nil && *v.VLANTransparent)
	return o
}

func listNetworks(ctx context.Context, c *Cloud, q neutronQuery) ([]networkView, error) {
	return listNeutron[networkView, networkPage](ctx, c, "networks", q)
}

func (Network) List(ctx context.Context, c *Cloud, q Query) ([]*Object, error) {
	objs, err := listTagged(ctx, c, q, func(nq neutronQuery) ([]*Object, error) {
		vs, err := listNetworks(ctx, c, nq)
		if err != nil {
			return nil, err
		}
		return objectsOf(vs, q.Lab), nil
	})
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	return objs, nil
}

func (Network) Get(ctx context.Context, c *Cloud, id string) (*Object, error) {
	return getNeutron[networkView](ctx, c, "networks", "network", id)
}

// checkNetworkExtensions refuses, before any request, what the cloud's
// Neutron would reject with a less helpful message.
func checkNetworkExtensions(c *Cloud, n *specs.Network, fields map[string]bool) error {
	if fields["mtu"] && n.MTU != nil && !c.HasExtension("net-mtu-writable") {
		return fmt.Errorf("mtu: this cloud's Neutron cannot set a network's MTU (no net-mtu-writable extension); drop mtu from the spec")
	}
	if fields["port_security"] && n.PortSecurity != nil && !c.HasExtension("port-security") {
		return fmt.Errorf("port_security: this cloud's Neutron has no port-security extension; drop port_security from the spec")
	}
	if fields["vlan_transparent"] && n.VLANTransparent != nil && !c.HasExtension("vlan-transparent") {
		return fmt.Errorf("vlan_transparent: this cloud's Neutron has no vlan-transparent extension; drop vlan_transparent from the spec")
	}
	return nil
}

func (Network) Create(ctx context.Context, c *Cloud, lab string, r specs.Resource, _ IDs) (*Object, error) {
	n, ok := r.(*specs.Network)
	if !ok {
		return nil, wrongType(r, "network")
	}
	all := map[string]bool{"mtu": true, "port_security": true, "vlan_transparent": true}
	if err := checkNetworkExtensions(c, n, all); err != nil {
		return nil, fmt.Errorf("%s: create: %w", n.Addr(), err)
	}
	adopt := func() (*Object, error) {
		return adoptCutShort(ctx, c, Network{}, "networks", lab, n, n.Description, nil)
	}
	// gophercloud's CreateOpts have no mtu, port security or VLAN
	// transparency: fill adds them.
	fill := func(inner map[string]any) {
		if n.MTU != nil {
			inner["mtu"] = *n.MTU
		}
		if n.PortSecurity != nil {
			inner["port_security_enabled"] = *n.PortSecurity
		}
		if n.VLANTransparent != nil {
			inner["vlan_transparent"] = *n.VLANTransparent
		}
	}
	opts := networks.CreateOpts{Name: n.Name, Description: n.Description}
	return createNeutron[networkView](ctx, c, "networks", lab, n.Addr(), n.Description, adopt, opts.ToNetworkCreateMap, fill)
}

func (Network) Update(ctx context.Context, c *Cloud, r specs.Resource, live *Object, fields []string, _ IDs) (*Object, error) {
	n, ok := r.(*specs.Network)
	if !ok {
		return nil, wrongType(r, "network")
	}
	body := map[string]any{}
	set := map[string]bool{}
	for _, f := range fields {
		set[f] = true
		switch f {
		case "name":
			body["name"] = n.Name
		case "description":
			body["description"] = n.Description
		case "mtu":
			if n.MTU != nil {
				body["mtu"] = *n.MTU
			}
		case "port_security":
			if n.PortSecurity != nil {
				body["port_security_enabled"] = *n.PortSecurity
			}
		default:
			return nil, unchangeable(n.Addr(), f)
		}
	}
	if err := checkNetworkExtensions(c, n, set); err != nil {
		return nil, fmt.Errorf("%s: update: %w", n.Addr(), err)
	}
	var v networkView
	if err := networks.Update(ctx, c.Network, live.ID, updateBody{key: "network", attrs: body}).ExtractInto(&v); err != nil {
		return nil, fmt.Errorf("%s: update: %w", n.Addr(), err)
	}
	return updated(&v, n.Addr()), nil
}

func (Network) Delete(ctx context.Context, c *Cloud, live *Object) error {
	return deleteNeutron(ctx, c, "networks", live)
}
