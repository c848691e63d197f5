package resources

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/trunks"

	"github.com/fuelplan/fuelplan/specs"
)

// Trunk manages Neutron trunks (the trunk extension): a server's NIC is
// the parent port, each VLAN a subport on the VLAN's own network. Subports
// are added and removed in place (add_subports, remove_subports); only a
// different parent port, which Neutron cannot change, replaces a trunk.
//
// Subports are two keyed families, by the subport port's address name
// ("slave-01.mgmt"): subports.* holds the port, vlan.* its VLAN ID. A
// subport added by hand shows under its port ID, so the plan removes it.
type Trunk struct{}

const (
	trunkSubportsPrefix = "subports."
	trunkVLANPrefix     = "vlan."
)

func (Trunk) Kind() specs.Kind { return specs.KindTrunk }

func (Trunk) Schema() Schema {
	return Schema{
		{Name: "name"},
		{Name: "parent", ForceNew: true},
		{Name: trunkSubportsPrefix + "*", FollowsReplace: true},
		{Name: trunkVLANPrefix + "*"},
	}
}

// subportKey is a subport's key in the families: its port's address
// without the kind ("slave-01.mgmt").
func subportKey(port specs.Address) string { return port.Name() }

func (Trunk) Desired(r specs.Resource) Desired {
	t := r.(*specs.Trunk)
	d := Desired{Fields: Fields{"name": t.Name}, Refs: Refs{"parent": {t.Parent}}}
	for _, sp := range t.Subports {
		k := subportKey(sp.Port)
		d.Refs[trunkSubportsPrefix+k] = []specs.Address{sp.Port}
		d.Fields[trunkVLANPrefix+k] = strconv.Itoa(sp.SegmentationID)
	}
	return d
}

type trunkView struct {
	ID             string           `json:"id"`
	Name           string           `json:"name"`
	Description    string           `json:"description"`
	Status         string           `json:"status"`
	PortID         string           `json:"port_id"`
	Subports       []trunks.Subport `json:"sub_ports"`
	Tags           []string         `json:"tags"`
	RevisionNumber int              `json:"revision_number"`
}

func (v trunkView) id() string { return v.ID }

// marked notes the tags; the description keeps the creation mark, the
// spec having none to put back (as for ports).
func (v *trunkView) marked(tags []string, _ string) { v.Tags = tags }

// object keys subports by port ID; Relate re-keys the lab's own by address.
func (v trunkView) object(lab string) *Object {
	o := neutronObject(specs.KindTrunk, lab, v.ID, v.Name, v.Tags, v.RevisionNumber)
	readCreationMark(o, v.Tags, v.Description)
	o.Status = v.Status
	o.Fields["parent"] = v.PortID
	for _, sp := range v.Subports {
		o.Fields[trunkSubportsPrefix+sp.PortID] = sp.PortID
		o.Fields[trunkVLANPrefix+sp.PortID] = strconv.Itoa(sp.SegmentationID)
	}
	return o
}

// Relate names each subport by its port's address where the lab owns the
// port, so the families line up with the spec's.
func (Trunk) Relate(objs []*Object, all Snapshot) {
	addrOf := map[string]specs.Address{}
	for _, p := range all.Objects(specs.KindPort) {
		if p.Owned && p.Address != "" {
			addrOf[p.ID] = p.Address
		}
	}
	for _, t := range objs {
		var ids []string
		for k := range t.Fields {
			if id, ok := strings.CutPrefix(k, trunkSubportsPrefix); ok {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		for _, id := range ids {
			a, ok := addrOf[id]
			if !ok {
				continue
			}
			vlan := t.Fields[trunkVLANPrefix+id]
			delete(t.Fields, trunkSubportsPrefix+id)
			delete(t.Fields, trunkVLANPrefix+id)
			t.Fields[trunkSubportsPrefix+subportKey(a)] = id
			t.Fields[trunkVLANPrefix+subportKey(a)] = vlan
		}
	}
}

// noTrunks says what to do on a cloud without the trunk extension.
const noTrunks = "this cloud's Neutron has no trunk extension; use vlan_mode: auto or transparent (docs/vlan.md)"

func (Trunk) List(ctx context.Context, c *Cloud, q Query) ([]*Object, error) {
	if !c.HasExtension("trunk") {
		// Nothing can exist; the list call itself would be a 404.
		return nil, nil
	}
	objs, err := listTagged(ctx, c, q, func(nq neutronQuery) ([]*Object, error) {
		vs, err := listNeutron[trunkView, trunkPage](ctx, c, "trunks", nq)
		if err != nil {
			return nil, err
		}
		return objectsOf(vs, q.Lab), nil
	})
	if err != nil {
		return nil, fmt.Errorf("list trunks: %w", err)
	}
	return objs, nil
}

func (Trunk) Get(ctx context.Context, c *Cloud, id string) (*Object, error) {
	return getNeutron[trunkView](ctx, c, "trunks", "trunk", id)
}

// subports resolves the spec's subports to port IDs.
func subports(op string, t *specs.Trunk, ids IDs) ([]trunks.Subport, error) {
	out := make([]trunks.Subport, 0, len(t.Subports))
	for _, sp := range t.Subports {
		id, err := refID(ids, op, t.Addr(), trunkSubportsPrefix+subportKey(sp.Port), sp.Port)
		if err != nil {
			return nil, err
		}
		out = append(out, trunks.Subport{PortID: id, SegmentationType: "vlan", SegmentationID: sp.SegmentationID})
	}
	return out, nil
}

func (Trunk) Create(ctx context.Context, c *Cloud, lab string, r specs.Resource, ids IDs) (*Object, error) {
	t, ok := r.(*specs.Trunk)
	if !ok {
		return nil, wrongType(r, "trunk")
	}
	if !c.HasExtension("trunk") {
		return nil, fmt.Errorf("%s: create: %s", t.Addr(), noTrunks)
	}
	parent, err := refID(ids, "create", t.Addr(), "parent", t.Parent)
	if err != nil {
		return nil, err
	}
	subs, err := subports("create", t, ids)
	if err != nil {
		return nil, err
	}
	adopt := func() (*Object, error) { return adoptCutShort(ctx, c, Trunk{}, "trunks", lab, t, "", ids) }
	opts := trunks.CreateOpts{Name: t.Name, PortID: parent, Subports: subs}
	return createNeutron[trunkView](ctx, c, "trunks", lab, t.Addr(), "", adopt, opts.ToTrunkCreateMap, nil)
}

// Update renames in place and brings the subports to the spec's: those
// the spec does not have (or has with another VLAN ID) are removed first,
// then the missing ones added, against the trunk as it is now, so a
// subport moved by hand since the plan is handled too.
func (Trunk) Update(ctx context.Context, c *Cloud, r specs.Resource, live *Object, fields []string, ids IDs) (*Object, error) {
	t, ok := r.(*specs.Trunk)
	if !ok {
		return nil, wrongType(r, "trunk")
	}
	subsChanged := false
	for _, f := range fields {
		switch {
		case f == "name":
			name := t.Name
			if _, err := trunks.Update(ctx, c.Network, live.ID, trunks.UpdateOpts{Name: &name}).Extract(); err != nil {
				return nil, fmt.Errorf("%s: update: %w", t.Addr(), err)
			}
		case strings.HasPrefix(f, trunkSubportsPrefix), strings.HasPrefix(f, trunkVLANPrefix):
			subsChanged = true
		default:
			return nil, unchangeable(t.Addr(), f)
		}
	}
	if subsChanged {
		if err := syncSubports(ctx, c, t, live.ID, ids); err != nil {
			return nil, fmt.Errorf("%s: update: %w", t.Addr(), err)
		}
	}
	var v trunkView
	if err := trunks.Get(ctx, c.Network, live.ID).ExtractInto(&v); err != nil {
		return nil, getError("trunk", live.ID, err)
	}
	return updated(&v, t.Addr()), nil
}

func syncSubports(ctx context.Context, c *Cloud, t *specs.Trunk, id string, ids IDs) error {
	want, err := subports("update", t, ids)
	if err != nil {
		return err
	}
	have, err := trunks.GetSubports(ctx, c.Network, id).Extract()
	if err != nil {
		return fmt.Errorf("read subports: %w", err)
	}
	wanted := map[string]int{}
	for _, sp := range want {
		wanted[sp.PortID] = sp.SegmentationID
	}
	kept := map[string]bool{}
	var remove []trunks.RemoveSubport
	for _, sp := range have {
		if seg, ok := wanted[sp.PortID]; ok && seg == sp.SegmentationID && sp.SegmentationType == "vlan" {
			kept[sp.PortID] = true
			continue
		}
		remove = append(remove, trunks.RemoveSubport{PortID: sp.PortID})
	}
	var add []trunks.Subport
	for _, sp := range want {
		if !kept[sp.PortID] {
			add = append(add, sp)
		}
	}
	if len(remove) > 0 {
		if _, err := trunks.RemoveSubports(ctx, c.Network, id, trunks.RemoveSubportsOpts{Subports: remove}).Extract(); err != nil {
			return fmt.Errorf("remove_subports: %w", err)
		}
	}
	if len(add) > 0 {
		if _, err := trunks.AddSubports(ctx, c.Network, id, trunks.AddSubportsOpts{Subports: add}).Extract(); err != nil {
			return fmt.Errorf("add_subports: %w", err)
		}
	}
	return nil
}

func (Trunk) Delete(ctx context.Context, c *Cloud, live *Object) error {
	return deleteNeutron(ctx, c, "trunks", live)
}
