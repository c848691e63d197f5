package neutron

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/trunk_details"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/trunks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/vlantransparent"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
)

// wantNeutronError asserts the status, the NeutronError type and the
// message, with {id}-style placeholders already filled in by the caller.
func wantNeutronError(t *testing.T, err error, status int, typ, msg string) {
	t.Helper()
	wantFault(t, err, status, typ)
	var ue gophercloud.ErrUnexpectedResponseCode
	errors.As(err, &ue)
	var body struct{ NeutronError struct{ Message string } }
	_ = json.Unmarshal(ue.Body, &body)
	if body.NeutronError.Message != msg {
		t.Fatalf("message:\n got %q\nwant %q", body.NeutronError.Message, msg)
	}
}

// trunkLab is a parent port and three would-be subports, each on a network
// of its own, made by the member.
type trunkLab struct {
	parent *ports.Port
	subs   []*ports.Port
}

func newTrunkLab(t *testing.T, c *testCloud) trunkLab {
	t.Helper()
	ctx := context.Background()
	var l trunkLab
	for i, name := range []string{"parent", "mgmt", "storage", "tenant"} {
		n := must[*networks.Network](t)(networks.Create(ctx, c.member, networks.CreateOpts{Name: name}).Extract())
		p := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{Name: name, NetworkID: n.ID}).Extract())
		if i == 0 {
			l.parent = p
		} else {
			l.subs = append(l.subs, p)
		}
	}
	return l
}

func vlan(portID string, id int) trunks.Subport {
	return trunks.Subport{PortID: portID, SegmentationType: "vlan", SegmentationID: id}
}

func TestTrunkLifecycle(t *testing.T) {
	ctx := context.Background()
	c := newTestCloud(t, defaultConfig())
	l := newTrunkLab(t, c)

	tr := must[*trunks.Trunk](t)(trunks.Create(ctx, c.member, trunks.CreateOpts{Name: "t", Description: "fuelplan lab=x address=trunk.a.b",
		PortID: l.parent.ID, Subports: []trunks.Subport{vlan(l.subs[0].ID, 101)}}).Extract())
	// Real Zed: a new trunk is at revision 0, DOWN without agents.
	if tr.RevisionNumber != 0 || tr.Status != "DOWN" || !tr.AdminStateUp || len(tr.Subports) != 1 {
		t.Fatalf("created trunk: %+v", tr)
	}

	// add_subports answers with the trunk itself (no envelope) and bumps the revision.
	added := must[*trunks.Trunk](t)(trunks.AddSubports(ctx, c.member, tr.ID, trunks.AddSubportsOpts{
		Subports: []trunks.Subport{vlan(l.subs[1].ID, 102), vlan(l.subs[2].ID, 1000)}}).Extract())
	if added.ID != tr.ID || len(added.Subports) != 3 || added.RevisionNumber != 1 {
		t.Fatalf("after add_subports: %+v", added)
	}
	subs := must[[]trunks.Subport](t)(trunks.GetSubports(ctx, c.member, tr.ID).Extract())
	if len(subs) != 3 || subs[2] != vlan(l.subs[2].ID, 1000) {
		t.Fatalf("get_subports: %+v", subs)
	}

	// The parent port shows trunk_details with the subports' MACs; a subport
	// has no trunk_details.
	var parent struct {
		ports.Port
		trunk_details.TrunkDetailsExt
	}
	if err := ports.Get(ctx, c.member, l.parent.ID).ExtractInto(&parent); err != nil {
		t.Fatal(err)
	}
	if parent.TrunkDetails.TrunkID != tr.ID || len(parent.TrunkDetails.SubPorts) != 3 ||
		parent.TrunkDetails.SubPorts[0].MACAddress != l.subs[0].MACAddress {
		t.Fatalf("trunk_details: %+v", parent.TrunkDetails)
	}
	var raw struct {
		Port map[string]any `json:"port"`
	}
	if err := ports.Get(ctx, c.member, l.subs[0].ID).ExtractInto(&raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw.Port["trunk_details"]; ok {
		t.Fatal("a subport shows trunk_details")
	}

	removed := must[*trunks.Trunk](t)(trunks.RemoveSubports(ctx, c.member, tr.ID, trunks.RemoveSubportsOpts{
		Subports: []trunks.RemoveSubport{{PortID: l.subs[1].ID}}}).Extract())
	if len(removed.Subports) != 2 || removed.RevisionNumber != 2 {
		t.Fatalf("after remove_subports: %+v", removed)
	}

	// Tags through the shared tag API; lists filter on them.
	if _, err := c.member.Put(ctx, c.member.ServiceURL("trunks", tr.ID, "tags"), map[string]any{"tags": []string{"fuelplan-lab:x"}}, nil,
		&gophercloud.RequestOpts{OkCodes: []int{200}}); err != nil {
		t.Fatal(err)
	}
	pages, err := trunks.List(c.member, trunks.ListOpts{Tags: "fuelplan-lab:x"}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	listed := must[[]trunks.Trunk](t)(trunks.ExtractTrunks(pages))
	if len(listed) != 1 || listed[0].ID != tr.ID {
		t.Fatalf("listed by tag: %+v", listed)
	}

	if err := trunks.Delete(ctx, c.member, tr.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	_, err = trunks.Get(ctx, c.member, tr.ID).Extract()
	wantNeutronError(t, err, 404, "TrunkNotFound", "Trunk "+tr.ID+" could not be found.")
	// Its ports are free again.
	for _, p := range append([]*ports.Port{l.parent}, l.subs...) {
		if err := ports.Delete(ctx, c.member, p.ID).ExtractErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTrunkErrors: every status, type and message as real Zed Neutron
// answered them (../shared/realcloud, probed by hand).
func TestTrunkErrors(t *testing.T) {
	ctx := context.Background()
	// As Zed: no tag-creation.
	cfg := defaultConfig()
	cfg.Extensions = slices.DeleteFunc(slices.Clone(DefaultExtensions), func(a string) bool { return a == "tag-creation" })
	c := newTestCloud(t, cfg)
	l := newTrunkLab(t, c)
	tr := must[*trunks.Trunk](t)(trunks.Create(ctx, c.member, trunks.CreateOpts{Name: "t", PortID: l.parent.ID,
		Subports: []trunks.Subport{vlan(l.subs[0].ID, 101)}}).Extract())
	const missing = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	add := func(sp ...any) error {
		return trunks.AddSubports(ctx, c.member, tr.ID, rawSubports(sp)).Err
	}
	tests := []struct {
		name     string
		err      error
		status   int
		typ, msg string
	}{
		{"delete the parent port", ports.Delete(ctx, c.member, l.parent.ID).ExtractErr(), 409, "PortInUseAsTrunkParent",
			"Port " + l.parent.ID + " is currently a parent port for trunk " + tr.ID + "."},
		{"delete a subport", ports.Delete(ctx, c.member, l.subs[0].ID).ExtractErr(), 409, "PortInUseAsSubPort",
			"Port " + l.subs[0].ID + " is currently a subport for trunk " + tr.ID + "."},
		{"segmentation ID used on the trunk", add(vlan(l.subs[1].ID, 101)), 409, "DuplicateSubPort",
			"segmentation_type vlan and segmentation_id 101 already in use on trunk " + tr.ID + "."},
		{"port already a subport", add(vlan(l.subs[0].ID, 103)), 409, "TrunkPortInUse",
			"Port " + l.subs[0].ID + " is in use by another trunk."},
		{"the parent as a subport", add(vlan(l.parent.ID, 104)), 409, "ParentPortInUse",
			"Port " + l.parent.ID + " is currently in use and is not eligible for use as a parent port."},
		{"segmentation ID 4095", add(vlan(l.subs[1].ID, 4095)), 400, "InvalidInput",
			"Invalid input for operation: Segmentation ID '4095' is not in range."},
		{"segmentation ID 0", add(vlan(l.subs[1].ID, 0)), 400, "InvalidInput",
			"Invalid input for operation: Segmentation ID '0' is not in range."},
		{"type vxlan", add(trunks.Subport{PortID: l.subs[1].ID, SegmentationType: "vxlan", SegmentationID: 5}), 400, "InvalidInput",
			"Invalid input for operation: Unknown segmentation_type 'vxlan'."},
		{"no segmentation type", add(map[string]any{"port_id": l.subs[1].ID, "segmentation_id": 5}), 400, "InvalidInput",
			"Invalid input for operation: Invalid subport details '{'port_id': '" + l.subs[1].ID + "', 'segmentation_id': 5}': missing segmentation information. Must specify both segmentation_id and segmentation_type."},
		{"not a UUID", add(vlan("nosuch", 5)), 400, "InvalidInput",
			"Invalid input for operation: Invalid UUID for subport: 'nosuch'."},
		{"the same port twice", add(vlan(l.subs[1].ID, 102), vlan(l.subs[1].ID, 103)), 400, "InvalidInput",
			"Invalid input for operation: Non unique UUID for subport: '" + l.subs[1].ID + "'."},
		{"no such port", add(vlan(missing, 5)), 404, "PortNotFound", "Port " + missing + " could not be found."},
		{"remove a port that is no subport", trunks.RemoveSubports(ctx, c.member, tr.ID, trunks.RemoveSubportsOpts{
			Subports: []trunks.RemoveSubport{{PortID: l.subs[1].ID}}}).Err, 404, "SubPortNotFound",
			"SubPort " + l.subs[1].ID + " on trunk " + tr.ID + " could not be found."},
		{"a second trunk on the parent", trunks.Create(ctx, c.member, trunks.CreateOpts{PortID: l.parent.ID, Subports: []trunks.Subport{}}).Err,
			409, "ParentPortInUse", "Port " + l.parent.ID + " is currently in use and is not eligible for use as a parent port."},
		{"a trunk on a subport", trunks.Create(ctx, c.member, trunks.CreateOpts{PortID: l.subs[0].ID, Subports: []trunks.Subport{}}).Err,
			409, "TrunkPortInUse", "Port " + l.subs[0].ID + " is in use by another trunk."},
		{"tags in the create (Zed has no tag-creation)", trunks.Create(ctx, c.member, rawTrunk{"port_id": l.subs[1].ID, "tags": []string{"a"}}).Err,
			400, "HTTPBadRequest", "Attribute 'tags' not allowed in POST"},
		{"change the parent", trunks.Update(ctx, c.member, tr.ID, rawUpdate{map[string]any{"port_id": l.subs[1].ID}}).Err,
			400, "HTTPBadRequest", "Cannot update read-only attribute port_id"},
		{"another project's trunk", trunks.Delete(ctx, c.other, tr.ID).ExtractErr(), 404, "TrunkNotFound",
			"Trunk " + tr.ID + " could not be found."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantNeutronError(t, tt.err, tt.status, tt.typ, tt.msg) })
	}
	// None of the refused requests changed the trunk.
	got := must[*trunks.Trunk](t)(trunks.Get(ctx, c.member, tr.ID).Extract())
	if len(got.Subports) != 1 || got.RevisionNumber != 0 {
		t.Fatalf("refused requests changed the trunk: %+v", got)
	}

	// A disabled trunk refuses add_subports and delete (409 TrunkDisabled).
	down := false
	must[*trunks.Trunk](t)(trunks.Update(ctx, c.member, tr.ID, trunks.UpdateOpts{AdminStateUp: &down}).Extract())
	disabled := "Trunk " + tr.ID + " is currently disabled."
	wantNeutronError(t, add(vlan(l.subs[1].ID, 102)), 409, "TrunkDisabled", disabled)
	wantNeutronError(t, trunks.Delete(ctx, c.member, tr.ID).ExtractErr(), 409, "TrunkDisabled", disabled)
}

type rawTrunk map[string]any

func (o rawTrunk) ToTrunkCreateMap() (map[string]any, error) {
	return map[string]any{"trunk": map[string]any(o)}, nil
}

type rawSubports []any

func (o rawSubports) ToTrunkAddSubportsMap() (map[string]any, error) {
	return map[string]any{"sub_ports": []any(o)}, nil
}

func TestTrunkWithoutExtension(t *testing.T) {
	cfg := defaultConfig()
	for _, e := range DefaultExtensions {
		if e != "trunk" && e != "trunk-details" {
			cfg.Extensions = append(cfg.Extensions, e)
		}
	}
	c := newTestCloud(t, cfg)
	l := newTrunkLab(t, c)
	_, err := trunks.Create(context.Background(), c.member, trunks.CreateOpts{PortID: l.parent.ID, Subports: []trunks.Subport{}}).Extract()
	wantFault(t, err, 404, "HTTPNotFound")
}

func TestNetworkVLANTransparentIsCreateOnly(t *testing.T) {
	cfg := defaultConfig()
	cfg.Extensions = append(append([]string{}, DefaultExtensions...), "vlan-transparent")
	c := newTestCloud(t, cfg)
	ctx := context.Background()
	n := must[*networks.Network](t)(networks.Create(ctx, c.member, vlantransparent.CreateOptsExt{
		CreateOptsBuilder: networks.CreateOpts{Name: "vt"}, VLANTransparent: ptr(true)}).Extract())
	_, err := networks.Update(ctx, c.member, n.ID, rawUpdate{map[string]any{"vlan_transparent": false}}).Extract()
	// Real Zed: 400 HTTPBadRequest "Cannot update read-only attribute vlan_transparent".
	wantNeutronError(t, err, 400, "HTTPBadRequest", "Cannot update read-only attribute vlan_transparent")
	// Without the extension the attribute is unknown, on create as on update.
	c2 := newTestCloud(t, defaultConfig())
	n2 := must[*networks.Network](t)(networks.Create(ctx, c2.member, networks.CreateOpts{Name: "x"}).Extract())
	_, err = networks.Update(ctx, c2.member, n2.ID, rawUpdate{map[string]any{"vlan_transparent": false}}).Extract()
	wantFault(t, err, 400, "HTTPBadRequest")
	if err != nil && !strings.Contains(err.Error(), "Unrecognized attribute") {
		t.Fatalf("without the extension: %v", err)
	}
}

// rawUpdate sends any update body; a struct, because gophercloud reads
// update options' headers (If-Match) by reflection.
type rawUpdate struct{ attrs map[string]any }

func (o rawUpdate) ToNetworkUpdateMap() (map[string]any, error) {
	return map[string]any{"network": o.attrs}, nil
}

func (o rawUpdate) ToTrunkUpdateMap() (map[string]any, error) {
	return map[string]any{"trunk": o.attrs}, nil
}
