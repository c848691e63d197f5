package e2e

import (
	"context"
	"slices"
	"strconv"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/trunks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/vlantransparent"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/specs"
)

// vlanEdits turn the suite's lab into Fuel's tagged layout: mgmt (VLAN
// 101) and the tenant VLANs ride the slaves' public NIC over trunks, and
// storage (VLAN 102) a private NIC whose network is VLAN-transparent.
func vlanEdits(tenants string) []func(string) string {
	return []func(string) string{
		replace("  - name: storage\n", "  - name: private\n    cidr: 10.30.0.0/24\n    dhcp: false\n    vlan_mode: transparent\n"+
			"  - name: \"tenant-{vlan}\"\n    cidr: 10.40.0.0/24\n    dhcp: false\n  - name: storage\n"),
		replace("    router: true\n  - name: private", "    router: true\n    vlan_mode: trunk\n  - name: private"),
		replace("    - network: public\n    - network: storage\n    - network: mgmt\n",
			"    - network: public\n      vlans:\n        - {network: mgmt, id: 101}\n        - {network: \"tenant-{vlan}\", ids: "+tenants+"}\n"+
				"    - network: private\n      vlans:\n        - {network: storage, id: 102}\n"),
	}
}

// vlanLab compiles the VLAN lab for the target's Neutron.
func (e *env) vlanLab(tenants string) *specs.Lab {
	e.t.Helper()
	lab, err := e.labOf(1, vlanEdits(tenants)...).ForCloud(e.cloud.VLANCaps())
	if err != nil {
		e.t.Fatal(err)
	}
	return lab
}

// subportsOf reads a trunk's subports as "network-name=VLAN", sorted.
func (e *env) subportsOf(st *engine.State, a specs.Address) (string, []string) {
	e.t.Helper()
	o, ok := st.Live(a)
	if !ok {
		e.t.Fatalf("%s is not in the cloud", a)
	}
	ctx := context.Background()
	subs, err := trunks.GetSubports(ctx, e.cloud.Network, o.ID).Extract()
	if err != nil {
		e.t.Fatal(err)
	}
	netName := map[string]string{}
	for _, n := range st.Objects(specs.KindNetwork) {
		netName[n.ID] = n.Name
	}
	byPort := map[string]string{}
	for _, p := range st.Objects(specs.KindPort) {
		byPort[p.ID] = netName[p.Fields["network"]]
	}
	var out []string
	for _, sp := range subs {
		out = append(out, byPort[sp.PortID]+"="+strconv.Itoa(sp.SegmentationID))
	}
	slices.Sort(out)
	return o.ID, out
}

// 14. VLANs: a slave's public NIC is a trunk's parent with mgmt and the
// tenant VLANs as subports, its private NIC on a VLAN-transparent
// network. The lab applies and plans empty; a subport removed by hand is
// planned back and restored in place; a changed tenant range updates the
// trunk in place (a subport removed, one added, the trunk kept); the
// suite then destroys it and checks the cloud is as it was.
func vlans(e *env) {
	if !e.cloud.HasExtension("trunk") || !e.cloud.HasExtension("vlan-transparent") {
		e.t.Skip("the cloud's Neutron lacks the trunk or the vlan-transparent extension")
	}
	lab := e.vlanLab("1000-1001")
	e.last = lab
	e.apply(lab, engine.PlanOptions{})
	e.converged(lab)
	e.serversActive(lab, 2)

	_, st := e.plan(lab, engine.PlanOptions{})
	trunk := specs.Address("trunk.slave-01.public")
	pre := e.lab + "-"
	id, subs := e.subportsOf(st, trunk)
	want := []string{pre + "mgmt=101", pre + "tenant-1000=1000", pre + "tenant-1001=1001"}
	if !slices.Equal(subs, want) {
		e.t.Fatalf("subports %v, want %v", subs, want)
	}
	priv, ok := st.Live("network.private")
	if !ok {
		e.t.Fatal("network.private is not in the cloud")
	}
	var n struct {
		networks.Network
		vlantransparent.TransparentExt
	}
	if err := networks.Get(context.Background(), e.cloud.Network, priv.ID).ExtractInto(&n); err != nil {
		e.t.Fatal(err)
	}
	if !n.VLANTransparent {
		e.t.Errorf("network.private is not VLAN-transparent")
	}
	if _, built := st.Live("network.storage"); built {
		e.t.Errorf("network.storage was built though private carries VLAN 102 as it is")
	}

	// By hand: mgmt leaves the trunk.
	mgmt, _ := st.Live("port.slave-01.mgmt")
	if _, err := trunks.RemoveSubports(context.Background(), e.cloud.Network, id, trunks.RemoveSubportsOpts{
		Subports: []trunks.RemoveSubport{{PortID: mgmt.ID}}}).Extract(); err != nil {
		e.t.Fatal(err)
	}
	p, _ := e.plan(lab, engine.PlanOptions{})
	if got := actions(p); len(got) != 1 || got[trunk] != plan.Update {
		e.t.Fatalf("plan after a subport was removed by hand:\n%s want only %s updated", describe(p), trunk)
	}
	e.apply(lab, engine.PlanOptions{})
	e.converged(lab)
	_, st = e.plan(lab, engine.PlanOptions{})
	if id2, subs := e.subportsOf(st, trunk); id2 != id || !slices.Equal(subs, want) {
		e.t.Fatalf("after the repair: trunk %s subports %v, want %s %v", id2, subs, id, want)
	}

	// The tenant range moves by one: 1000 goes, 1002 comes.
	lab = e.vlanLab("1001-1002")
	e.last = lab
	p, _ = e.plan(lab, engine.PlanOptions{})
	got := actions(p)
	for a, act := range map[specs.Address]plan.Action{
		trunk: plan.Update, "network.tenant-1002": plan.Create, "network.tenant-1000": plan.Delete,
		"port.slave-01.tenant-1002": plan.Create, "port.slave-01.tenant-1000": plan.Delete,
	} {
		if got[a] != act {
			e.t.Errorf("%s: %q, want %q", a, got[a], act)
		}
	}
	if len(got) != 7 { // and the two subnets
		e.t.Errorf("plan of the range change:\n%s", describe(p))
	}
	e.apply(lab, engine.PlanOptions{})
	e.converged(lab)
	_, st = e.plan(lab, engine.PlanOptions{})
	want = []string{pre + "mgmt=101", pre + "tenant-1001=1001", pre + "tenant-1002=1002"}
	if id2, subs := e.subportsOf(st, trunk); id2 != id || !slices.Equal(subs, want) {
		e.t.Fatalf("after the range change: trunk %s subports %v, want %s %v", id2, subs, id, want)
	}
	e.serversActive(lab, 2)
}
