package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/mtu"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/portsecurity"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/specs"
)

// scenario is one end-to-end story. run leaves in e.last the lab it
// built; the suite then destroys it and checks that the cloud is as it
// was before the scenario.
type scenario struct {
	name string
	// member runs the scenario as the target's user without admin rights.
	member bool
	run    func(e *env)
}

// scenarios is the one list run against every target.
var scenarios = []scenario{
	{name: "fuel-lab", run: fuelLab},
	{name: "member", member: true, run: asMember},
	{name: "drift", run: drift},
	{name: "by-hand", run: byHand},
	{name: "unowned-name", run: unownedName},
	{name: "port-security", run: portSecurityOff},
	{name: "update-replace", run: updateAndReplace},
	{name: "interrupted", run: interrupted},
	{name: "killed-destroy", run: killedThenDestroyed},
	{name: "example", run: shippedExample},
	{name: "boot-media", run: bootMedia},
	{name: "boot-media-drift", run: bootMediaDrift},
	{name: "iso-change", run: isoChange},
	{name: "vlan", run: vlans},
}

// runScenario runs one scenario on a target, framed: leftovers of an
// earlier run destroyed first (real clouds), the inventory taken, the
// scenario run, its lab destroyed, the inventory compared.
func runScenario(t *testing.T, tg *target, sc scenario) {
	user := tg.admin
	if sc.member {
		if tg.member == "" {
			t.Skip("no member cloud: set FUELPLAN_E2E_MEMBER_CLOUD to a clouds.yaml entry without the admin role")
		}
		user = tg.member
	}
	e := newEnv(t, tg, "e2e-"+sc.name, user)
	if e.cloud.Admin && sc.member {
		t.Fatalf("cloud %s has the admin role; the member scenario needs a user without it", user)
	}
	before := e.inventory("")
	e.last = e.labOf(1)
	t.Cleanup(func() {
		if t.Failed() { // leave the cloud clean for the next run anyway
			if _, err := e.tryApply(e.last, engine.PlanOptions{Destroy: true}); err != nil {
				t.Logf("cleanup of lab %s: %v", e.lab, err)
			}
		}
	})
	start := time.Now()
	sc.run(e)
	e.step("scenario")
	e.destroy(e.last)
	e.step("destroy")
	e.asItWas(before)
	t.Logf("%s on %s as %s: %v", sc.name, tg.name, user, time.Since(start).Round(time.Millisecond))
}

// 1. A scaled-down Fuel lab: plan, apply, plan shows nothing, destroy.
func fuelLab(e *env) {
	lab := e.labOf(2)
	e.last = lab
	p, _ := e.plan(lab, engine.PlanOptions{})
	if len(p.Conflicts) != 0 {
		e.t.Fatalf("conflicts on a clean cloud:\n%s", describe(p))
	}
	// Everything but the lookups (external network, image, flavor) is created.
	if s := p.Summary(); s.Create != lab.Len()-3 || s.Update+s.Replace+s.Delete != 0 {
		e.t.Fatalf("first plan %+v, want %d creates only:\n%s", s, lab.Len()-3, describe(p))
	}
	e.apply(lab, engine.PlanOptions{})
	e.converged(lab)
	e.serversActive(lab, 3)
}

// 8. The shipped example, examples/fuel-lab.yaml, as a user would apply
// it (small stand-ins for the ISO files, the cloud's external network, the
// cloud's login): the plan right after apply is empty.
func shippedExample(e *env) {
	if !e.cloud.Admin {
		e.t.Skip("the example creates flavors: OS_CLOUD needs the admin role")
	}
	lab := e.example()
	e.last = lab
	e.apply(lab, engine.PlanOptions{})
	e.converged(lab)
	e.serversActive(lab, 3)
}

// 2. The lab as a member (one slave, as in the scenarios below, to keep
// a real cloud's run short): creating a flavor needs admin and says so;
// what does not depend on it is built all the same.
func asMember(e *env) {
	withFlavor := e.labOf(1,
		replace("flavors:\n", "flavors:\n  - name: big\n    vcpus: 1\n    ram: 512\n    disk: 1\n"),
		replace("slaves:\n  count: 1\n  name: slave-{index:02d}\n  flavor: small", "slaves:\n  count: 1\n  name: slave-{index:02d}\n  flavor: big"))
	e.last = withFlavor
	p, st := e.plan(withFlavor, engine.PlanOptions{})
	rep, err := e.applier().Apply(context.Background(), withFlavor, st, p)
	if err != nil {
		e.t.Fatal(err)
	}
	aerr := rep.Err()
	if aerr == nil || !strings.Contains(aerr.Error(), "flavor.big") || !strings.Contains(aerr.Error(), "admin role") {
		e.t.Fatalf("apply as a member: %v, want flavor.big reported as needing the admin role", aerr)
	}
	for op, err := range rep.Results {
		if err != nil && !strings.Contains(op.String(), "slave") && !strings.Contains(op.String(), "flavor.big") {
			e.t.Errorf("%s: %v, want success (it does not need the new flavor)", op, err)
		}
	}
	lab := e.labOf(1)
	e.last = lab
	e.apply(lab, engine.PlanOptions{})
	e.converged(lab)
	e.serversActive(lab, 2)
}

// 3. Drift: a port and a server deleted behind fuelplan's back are
// planned back and recreated.
func drift(e *env) {
	lab := e.labOf(1)
	e.last = lab
	e.apply(lab, engine.PlanOptions{})
	_, st := e.plan(lab, engine.PlanOptions{})
	ctx := context.Background()
	port, _ := st.Live("port.slave-01.storage")
	srv, _ := st.Live("server.master")
	if err := ports.Delete(ctx, e.cloud.Network, port.ID).ExtractErr(); err != nil {
		e.t.Fatal(err)
	}
	if err := servers.Delete(ctx, e.cloud.Compute, srv.ID).ExtractErr(); err != nil {
		e.t.Fatal(err)
	}
	e.eventually("server.master deleted", func() bool {
		_, err := servers.Get(ctx, e.cloud.Compute, srv.ID).Extract()
		return gophercloud.ResponseCodeIs(err, 404)
	})
	p, _ := e.plan(lab, engine.PlanOptions{})
	got := actions(p)
	want := map[specs.Address]plan.Action{
		"port.slave-01.storage": plan.Create,
		"server.master":         plan.Create,
		// slave-01 lost its storage NIC: it is rebuilt with it.
		"server.slave-01": plan.Replace,
	}
	for a, act := range want {
		if got[a] != act {
			e.t.Errorf("%s: %q, want %q", a, got[a], act)
		}
	}
	if len(got) != len(want) {
		e.t.Errorf("plan after drift:\n%s want only %v", describe(p), want)
	}
	e.apply(lab, engine.PlanOptions{})
	e.converged(lab)
	e.serversActive(lab, 2)
}

// 4. An unowned network with a lab resource's name is left alone and
// reported.
func unownedName(e *env) {
	ctx := context.Background()
	n, err := networks.Create(ctx, e.cloud.Network, networks.CreateOpts{Name: e.lab + "-admin"}).Extract()
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = networks.Delete(ctx, e.cloud.Network, n.ID).ExtractErr() })
	lab := e.labOf(1)
	e.last = lab
	p, _ := e.plan(lab, engine.PlanOptions{})
	if len(p.Conflicts) != 1 || p.Conflicts[0].Address != "network.admin" || p.Conflicts[0].ID != n.ID {
		e.t.Fatalf("conflicts:\n%s want network.admin -> %s", describe(p), n.ID)
	}
	if _, ok := p.Change("network.admin"); ok {
		e.t.Errorf("network.admin is blocked by the conflict, yet planned:\n%s", describe(p))
	}
	if _, err := e.tryApply(lab, engine.PlanOptions{}); err == nil || !strings.Contains(err.Error(), "conflict") {
		e.t.Fatalf("apply with a conflict: %v, want a refusal", err)
	}
	got, err := networks.Get(ctx, e.cloud.Network, n.ID).Extract()
	if err != nil {
		e.t.Fatalf("the unowned network is gone: %v", err)
	}
	if len(got.Tags) != 0 || got.RevisionNumber != n.RevisionNumber {
		e.t.Errorf("the unowned network was touched: tags %v, revision %d -> %d", got.Tags, n.RevisionNumber, got.RevisionNumber)
	}
	// Excluded, the conflicting network no longer stops the rest: the
	// storage network (which does not depend on it) is built.
	storageOnly := engine.PlanOptions{Targets: []string{"network.storage"}, Excludes: []string{"network.admin"}}
	if p, err := e.tryApply(lab, storageOnly); err != nil || len(p.Conflicts) != 0 {
		e.t.Fatalf("apply of network.storage with network.admin excluded: %v\n%s", err, describe(p))
	}
	if err := networks.Delete(ctx, e.cloud.Network, n.ID).ExtractErr(); err != nil {
		e.t.Fatal(err)
	}

	// 5b. Renaming a lab network onto an unowned network's name is a
	// conflict too, and the lab's network is not renamed.
	other, err := networks.Create(ctx, e.cloud.Network, networks.CreateOpts{Name: e.lab + "-other"}).Extract()
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = networks.Delete(ctx, e.cloud.Network, other.ID).ExtractErr() })
	renamed := e.labOf(1, replace("  - name: storage\n", "  - name: storage\n    cloud_name: "+e.lab+"-other\n"))
	p, _ = e.plan(renamed, engine.PlanOptions{Targets: []string{"network.storage"}})
	if len(p.Conflicts) != 1 || p.Conflicts[0].Address != "network.storage" || p.Conflicts[0].ID != other.ID ||
		!strings.Contains(p.Conflicts[0].Message, "renaming") {
		e.t.Fatalf("rename onto an unowned name: conflicts %+v\n%s want network.storage -> %s", p.Conflicts, describe(p), other.ID)
	}
	if _, err := e.tryApply(renamed, engine.PlanOptions{Targets: []string{"network.storage"}}); err == nil || !strings.Contains(err.Error(), "conflict") {
		e.t.Fatalf("apply of the rename: %v, want a refusal", err)
	}
	if err := networks.Delete(ctx, e.cloud.Network, other.ID).ExtractErr(); err != nil {
		e.t.Fatal(err)
	}
}

// 3b. Drift made by hand in Neutron: port security turned off on a port
// whose spec gives security groups (the groups removed with it, as
// Neutron insists), and a rule added to the lab's group. The port is put
// back in one update, the rule deleted.
func byHand(e *env) {
	lab := e.labOf(1)
	e.last = lab
	e.apply(lab, engine.PlanOptions{})
	_, st := e.plan(lab, engine.PlanOptions{})
	ctx := context.Background()
	port, _ := st.Live("port.slave-01.admin")
	group, _ := st.Live("security_group.lab")
	off, none := false, []string{}
	if _, err := ports.Update(ctx, e.cloud.Network, port.ID, portsecurity.PortUpdateOptsExt{
		UpdateOptsBuilder: ports.UpdateOpts{SecurityGroups: &none}, PortSecurityEnabled: &off}).Extract(); err != nil {
		e.t.Fatal(err)
	}
	hand, err := rules.Create(ctx, e.cloud.Network, rules.CreateOpts{SecGroupID: group.ID, Direction: rules.DirIngress,
		EtherType: rules.EtherType4, Protocol: rules.ProtocolTCP, PortRangeMin: 3306, PortRangeMax: 3306}).Extract()
	if err != nil {
		e.t.Fatal(err)
	}
	p, _ := e.plan(lab, engine.PlanOptions{})
	got := actions(p)
	if got["port.slave-01.admin"] != plan.Update || count(p, plan.Delete, specs.KindSecurityGroupRule) != 1 || len(got) != 2 {
		e.t.Fatalf("plan after changes by hand:\n%s want port.slave-01.admin updated and the hand-made rule deleted", describe(p))
	}
	if c, _ := p.Change("port.slave-01.admin"); !hasField(c, "port_security") || !hasField(c, "security_groups") {
		e.t.Errorf("port.slave-01.admin: fields %+v, want port_security and security_groups", c.Fields)
	}
	e.apply(lab, engine.PlanOptions{})
	e.converged(lab)
	if s := e.port(st, "port.slave-01.admin"); !s.PortSecurityEnabled || len(s.SecurityGroups) != 1 {
		e.t.Errorf("port.slave-01.admin: port security %v, groups %v; want on, [lab]", s.PortSecurityEnabled, s.SecurityGroups)
	}
	if _, err := rules.Get(ctx, e.cloud.Network, hand.ID).Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		e.t.Errorf("the rule added by hand: %v, want it deleted (404)", err)
	}
}

func hasField(c plan.Change, name string) bool {
	for _, f := range c.Fields {
		if f.Name == name {
			return true
		}
	}
	return false
}

// 5. Port security off on the master's admin port (so no security
// groups), allowed address pairs on the slaves' admin ports.
func portSecurityOff(e *env) {
	lab := e.labOf(1,
		replace("  keypair: ops\n  security_groups: [lab]\n", "  keypair: ops\n"),
		replace("      mac: aa:0a:14:00:02:01\n", "      mac: aa:0a:14:00:02:01\n      port_security: false\n"),
		replace("      mac: aa:0a:14:00:{index+2:02x}:01\n", "      mac: aa:0a:14:00:{index+2:02x}:01\n      allowed_address_pairs:\n        - ip_address: 10.20.0.100\n"))
	e.last = lab
	e.apply(lab, engine.PlanOptions{})
	e.converged(lab)
	_, st := e.plan(lab, engine.PlanOptions{})
	master := e.port(st, "port.master.admin")
	if master.PortSecurityEnabled || len(master.SecurityGroups) != 0 || len(master.AllowedAddressPairs) != 0 {
		e.t.Errorf("master's admin port: port security %v, groups %v, pairs %v; want off, none, none",
			master.PortSecurityEnabled, master.SecurityGroups, master.AllowedAddressPairs)
	}
	slave := e.port(st, "port.slave-01.admin")
	// Neutron fills a pair's MAC with the port's own when it is left out.
	want := []ports.AddressPair{{IPAddress: "10.20.0.100", MACAddress: slave.MACAddress}}
	if !slave.PortSecurityEnabled || len(slave.SecurityGroups) != 1 || len(slave.AllowedAddressPairs) != 1 || slave.AllowedAddressPairs[0] != want[0] {
		e.t.Errorf("slave-01's admin port: port security %v, groups %v, pairs %+v; want on, [lab], %+v",
			slave.PortSecurityEnabled, slave.SecurityGroups, slave.AllowedAddressPairs, want)
	}
	e.serversActive(lab, 2)
}

// 6. Updates in place (network MTU and description, a rule added), then
// a replace (subnet CIDR) with everything that depends on it.
func updateAndReplace(e *env) {
	lab := e.labOf(1)
	e.apply(lab, engine.PlanOptions{})
	updated := e.labOf(1,
		replace("    cidr: 192.168.1.0/24\n", "    cidr: 192.168.1.0/24\n    mtu: 1400\n    description: storage traffic\n"),
		replace("        ports: 22\n        remote_ip: 0.0.0.0/0\n", "        ports: 22\n        remote_ip: 0.0.0.0/0\n      - protocol: udp\n        ports: 53\n        remote_ip: 10.20.0.0/24\n"))
	p, _ := e.plan(updated, engine.PlanOptions{})
	got := actions(p)
	if got["network.storage"] != plan.Update || count(p, plan.Create, specs.KindSecurityGroupRule) != 1 || len(got) != 2 {
		e.t.Fatalf("update plan:\n%s want network.storage updated and one rule created", describe(p))
	}
	e.last = updated
	e.apply(updated, engine.PlanOptions{})
	e.converged(updated)
	n := e.network(p, "network.storage")
	if n.MTU != 1400 || n.Description != "storage traffic" {
		e.t.Errorf("network.storage: mtu %d, description %q; want 1400, %q", n.MTU, n.Description, "storage traffic")
	}

	replaced := e.labOf(1,
		replace("    cidr: 192.168.1.0/24\n", "    cidr: 192.168.1.0/24\n    mtu: 1400\n    description: storage traffic\n"),
		replace("        ports: 22\n        remote_ip: 0.0.0.0/0\n", "        ports: 22\n        remote_ip: 0.0.0.0/0\n      - protocol: udp\n        ports: 53\n        remote_ip: 10.20.0.0/24\n"),
		replace("cidr: 192.168.0.0/24", "cidr: 192.168.10.0/24"))
	p, _ = e.plan(replaced, engine.PlanOptions{})
	got = actions(p)
	if got["subnet.mgmt"] != plan.Replace || count(p, plan.Replace, specs.KindPort) != 1 ||
		count(p, plan.Replace, specs.KindServer) != 1 || len(got) != 3 {
		e.t.Fatalf("replace plan:\n%s want subnet.mgmt, the slave's mgmt port and the slave replaced, nothing else", describe(p))
	}
	e.last = replaced
	e.apply(replaced, engine.PlanOptions{})
	e.converged(replaced)
	e.serversActive(replaced, 2)
}

// port reads a lab port from Neutron with its port security.
func (e *env) port(st *engine.State, a specs.Address) portWithSecurity {
	e.t.Helper()
	o, ok := st.Live(a)
	if !ok {
		e.t.Fatalf("%s is not in the cloud", a)
	}
	var p portWithSecurity
	if err := ports.Get(context.Background(), e.cloud.Network, o.ID).ExtractInto(&p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

type portWithSecurity struct {
	ports.Port
	portsecurity.PortSecurityExt
}

// network reads a lab network, found through a plan's change, from Neutron.
func (e *env) network(p *plan.Plan, a specs.Address) networkWithMTU {
	e.t.Helper()
	c, ok := p.Change(a)
	if !ok || c.ID == "" {
		e.t.Fatalf("%s: no live ID in the plan", a)
	}
	var n networkWithMTU
	if err := networks.Get(context.Background(), e.cloud.Network, c.ID).ExtractInto(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

type networkWithMTU struct {
	networks.Network
	mtu.NetworkMTUExt
}

// serversActive checks that the lab's n servers are ACTIVE in Nova.
func (e *env) serversActive(lab *specs.Lab, n int) {
	e.t.Helper()
	_, st := e.plan(lab, engine.PlanOptions{})
	e.serversActiveIn(lab, st, n)
}

// serversActiveIn is serversActive on the servers of a state read already.
func (e *env) serversActiveIn(lab *specs.Lab, st *engine.State, n int) {
	e.t.Helper()
	active := 0
	for _, a := range lab.Addresses() {
		if a.Kind() != specs.KindServer {
			continue
		}
		o, ok := st.Live(a)
		if !ok {
			e.t.Errorf("%s is not in the cloud", a)
			continue
		}
		s, err := servers.Get(context.Background(), e.cloud.Compute, o.ID).Extract()
		if err != nil {
			e.t.Fatalf("%s: %v", a, err)
		}
		if s.Status != "ACTIVE" {
			e.t.Errorf("%s: status %s, want ACTIVE", a, s.Status)
		}
		active++
	}
	if active != n {
		e.t.Errorf("%d servers, want %d", active, n)
	}
}

// eventually polls cond until it holds or the target's settle time passes.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(e.tg.settle)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: not after %v", what, e.tg.settle)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
