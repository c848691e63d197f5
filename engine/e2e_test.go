package engine_test

// End-to-end tests of plan, apply and destroy: the real gophercloud
// client over HTTP against the project's simulated cloud.

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/simcloud"
	"github.com/fuelplan/fuelplan/specs"
)

type harness struct {
	t     testing.TB
	sim   *simcloud.Cloud
	cloud *resources.Cloud
	reg   resources.Registry
	dir   string
}

// newHarness starts a simulated cloud whose quotas do not limit the lab
// sizes the tests and benchmarks build (the default world's are small).
func newHarness(t testing.TB) *harness {
	t.Helper()
	w := simcloud.DefaultWorld()
	for k := range w.Quotas {
		w.Quotas[k] = -1
	}
	sim, err := simcloud.Start(simcloud.Config{World: w})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	c, err := resources.Connect(context.Background(), resources.Target{CloudName: "sim", CloudsYAML: []byte(sim.CloudsYAML("sim", sim.Admin()))})
	if err != nil {
		t.Fatal(err)
	}
	reg := resources.Default()
	t.Cleanup(func() { _ = reg.Close() })
	return &harness{t: t, sim: sim, cloud: c, reg: reg, dir: t.TempDir()}
}

// lab compiles testdata/engine/lab.yaml with n slaves, after edits.
func (h *harness) lab(slaves int, edits ...func(string) string) *specs.Lab {
	h.t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "engine", "lab.yaml"))
	if err != nil {
		h.t.Fatal(err)
	}
	text := strings.Replace(string(data), "count: SLAVES", "count: "+strconv.Itoa(slaves), 1)
	if slaves > 250 {
		// One MAC byte no longer holds the index, nor a /24 the ports.
		text = strings.Replace(text, "mac: aa:0a:14:00:{index+2:02x}:01", "mac: aa:0a:{index/256:02x}:{index%256:02x}:00:01", 1)
		for _, r := range [][2]string{
			{"10.20.0.0/24", "10.20.0.0/20"}, {"172.16.0.0/24", "172.16.0.0/20"},
			{"192.168.1.0/24", "192.168.16.0/20"}, {"192.168.0.0/24", "192.168.32.0/20"},
		} {
			text = strings.Replace(text, r[0], r[1], 1)
		}
	}
	for _, e := range edits {
		text = e(text)
	}
	path := filepath.Join(h.dir, "lab.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		h.t.Fatal(err)
	}
	lab, diags := specs.LoadLab(path, func(string) (string, bool) { return "", false })
	if diags.HasErrors() {
		h.t.Fatalf("spec: %v", diags)
	}
	return lab
}

func (h *harness) plan(lab *specs.Lab, opts engine.PlanOptions) (*plan.Plan, *engine.State) {
	h.t.Helper()
	p, st, err := engine.Plan(context.Background(), h.cloud, h.reg, lab, opts)
	if err != nil {
		h.t.Fatalf("plan: %v", err)
	}
	return p, st
}

func (h *harness) applier() *engine.Applier {
	return &engine.Applier{Cloud: h.cloud, Registry: h.reg, Parallelism: 10,
		Backoff: engine.Backoff{Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond}}
}

// apply plans and applies, failing the test on any error.
func (h *harness) apply(lab *specs.Lab, opts engine.PlanOptions) *plan.Plan {
	h.t.Helper()
	p, st := h.plan(lab, opts)
	rep, err := h.applier().Apply(context.Background(), lab, st, p)
	if err != nil {
		h.t.Fatalf("apply: %v", err)
	}
	if err := rep.Err(); err != nil {
		h.t.Fatalf("apply: %v", err)
	}
	return p
}

// inventory lists every object a project can see, by kind, as sorted IDs:
// "the cloud as it was" is an equal inventory.
func (h *harness) inventory() map[string][]string {
	h.t.Helper()
	ctx := context.Background()
	inv := map[string][]string{}
	add := func(kind string, ids ...string) { inv[kind] = append(inv[kind], ids...) }
	must := func(err error) {
		if err != nil {
			h.t.Fatal(err)
		}
	}
	np, err := networks.List(h.cloud.Network, nil).AllPages(ctx)
	must(err)
	ns, err := networks.ExtractNetworks(np)
	must(err)
	for _, n := range ns {
		add("network", n.ID)
	}
	sp, err := subnets.List(h.cloud.Network, nil).AllPages(ctx)
	must(err)
	ss, err := subnets.ExtractSubnets(sp)
	must(err)
	for _, s := range ss {
		add("subnet", s.ID)
	}
	pp, err := ports.List(h.cloud.Network, nil).AllPages(ctx)
	must(err)
	ps, err := ports.ExtractPorts(pp)
	must(err)
	for _, p := range ps {
		add("port", p.ID)
	}
	rp, err := routers.List(h.cloud.Network, nil).AllPages(ctx)
	must(err)
	rs, err := routers.ExtractRouters(rp)
	must(err)
	for _, r := range rs {
		add("router", r.ID)
	}
	gp, err := groups.List(h.cloud.Network, groups.ListOpts{}).AllPages(ctx)
	must(err)
	gs, err := groups.ExtractGroups(gp)
	must(err)
	for _, g := range gs {
		add("security_group", g.ID)
	}
	fp, err := floatingips.List(h.cloud.Network, floatingips.ListOpts{}).AllPages(ctx)
	must(err)
	fs, err := floatingips.ExtractFloatingIPs(fp)
	must(err)
	for _, f := range fs {
		add("floating_ip", f.ID)
	}
	svp, err := servers.List(h.cloud.Compute, servers.ListOpts{AllTenants: true}).AllPages(ctx)
	must(err)
	svs, err := servers.ExtractServers(svp)
	must(err)
	for _, s := range svs {
		add("server", s.ID)
	}
	kp, err := keypairs.List(h.cloud.Compute, nil).AllPages(ctx)
	must(err)
	ks, err := keypairs.ExtractKeyPairs(kp)
	must(err)
	for _, k := range ks {
		add("keypair", k.Name)
	}
	for k := range inv {
		sort.Strings(inv[k])
	}
	return inv
}

func actions(p *plan.Plan) map[specs.Address]plan.Action {
	m := map[specs.Address]plan.Action{}
	for _, c := range p.Changes {
		m[c.Address] = c.Action
	}
	return m
}

func countKind(p *plan.Plan, a plan.Action, k specs.Kind) int {
	n := 0
	for _, c := range p.Changes {
		if c.Action == a && c.Address.Kind() == k {
			n++
		}
	}
	return n
}

func TestLifecycle(t *testing.T) {
	h := newHarness(t)
	before := h.inventory()
	lab := h.lab(2)

	p, _ := h.plan(lab, engine.PlanOptions{})
	if len(p.Conflicts) != 0 {
		t.Fatalf("conflicts on an empty cloud: %+v", p.Conflicts)
	}
	// Everything but the lookups (external network, image, flavor) is created.
	if got, want := p.Summary().Create, lab.Len()-3; got != want {
		t.Errorf("first plan creates %d, want %d", got, want)
	}
	if s := p.Summary(); s.Update+s.Replace+s.Delete != 0 {
		t.Errorf("first plan: %+v, want only creates", s)
	}

	h.apply(lab, engine.PlanOptions{})
	again, _ := h.plan(lab, engine.PlanOptions{})
	if again.HasChanges() {
		t.Fatalf("second plan is not empty:\n%+v", again.Changes)
	}

	destroyed := h.apply(lab, engine.PlanOptions{Destroy: true})
	if destroyed.Summary().Delete == 0 {
		t.Fatal("destroy planned nothing")
	}
	after := h.inventory()
	for k, ids := range after {
		if strings.Join(ids, ",") != strings.Join(before[k], ",") {
			t.Errorf("%s after destroy: %v, before the lab: %v", k, ids, before[k])
		}
	}
}

func TestSpecChangesPlanExactly(t *testing.T) {
	h := newHarness(t)
	h.apply(h.lab(5), engine.PlanOptions{})

	t.Run("slave count 5 to 7", func(t *testing.T) {
		p, _ := h.plan(h.lab(7), engine.PlanOptions{})
		s := p.Summary()
		if s.Create != 2+2*4 || s.Update+s.Replace+s.Delete != 0 {
			t.Errorf("summary %+v, want 10 creates (2 servers, 8 ports) only", s)
		}
		for _, a := range []specs.Address{"server.slave-06", "server.slave-07", "port.slave-07.mgmt"} {
			if actions(p)[a] != plan.Create {
				t.Errorf("%s: %q, want create", a, actions(p)[a])
			}
		}
	})
	t.Run("network MTU updates in place", func(t *testing.T) {
		p, _ := h.plan(h.lab(5, func(s string) string {
			return strings.Replace(s, "cidr: 192.168.1.0/24", "cidr: 192.168.1.0/24\n    mtu: 1400", 1)
		}), engine.PlanOptions{})
		if got := actions(p); len(got) != 1 || got["network.storage"] != plan.Update {
			t.Errorf("changes %v, want only network.storage updated", got)
		}
	})
	t.Run("subnet CIDR replaces what depends on it", func(t *testing.T) {
		p, _ := h.plan(h.lab(5, func(s string) string {
			return strings.Replace(s, "cidr: 192.168.0.0/24", "cidr: 192.168.10.0/24", 1)
		}), engine.PlanOptions{})
		got := actions(p)
		if got["subnet.mgmt"] != plan.Replace {
			t.Errorf("subnet.mgmt: %q, want replace", got["subnet.mgmt"])
		}
		// Every slave has a mgmt port; the master has none.
		if n := countKind(p, plan.Replace, specs.KindPort); n != 5 {
			t.Errorf("%d ports replaced, want the 5 mgmt ports", n)
		}
		if n := countKind(p, plan.Replace, specs.KindServer); n != 5 {
			t.Errorf("%d servers replaced, want the 5 slaves", n)
		}
		if got["server.master"] != "" || got["network.mgmt"] != "" {
			t.Errorf("master or network touched: %v", got)
		}
		c, _ := p.Change("subnet.mgmt")
		if len(c.Reasons) == 0 || c.Reasons[0].Cause != plan.CauseField || c.Reasons[0].Field != "cidr" {
			t.Errorf("subnet.mgmt replace reasons %v, want cidr named", c.Reasons)
		}
	})
}

func TestApplyConvergesAfterSubnetReplace(t *testing.T) {
	h := newHarness(t)
	h.apply(h.lab(2), engine.PlanOptions{})
	changed := h.lab(2, func(s string) string { return strings.Replace(s, "cidr: 192.168.0.0/24", "cidr: 192.168.10.0/24", 1) })
	h.apply(changed, engine.PlanOptions{})
	if p, _ := h.plan(changed, engine.PlanOptions{}); p.HasChanges() {
		t.Fatalf("plan after the replace is not empty: %+v", p.Changes)
	}
}

func TestDriftIsPlannedBack(t *testing.T) {
	h := newHarness(t)
	lab := h.lab(2)
	h.apply(lab, engine.PlanOptions{})
	_, st := h.plan(lab, engine.PlanOptions{})
	ctx := context.Background()

	port, _ := st.Live("port.slave-02.storage")
	srv, _ := st.Live("server.slave-01")
	if err := ports.Delete(ctx, h.cloud.Network, port.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if err := servers.Delete(ctx, h.cloud.Compute, srv.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	p, _ := h.plan(lab, engine.PlanOptions{})
	got := actions(p)
	if got["port.slave-02.storage"] != plan.Create {
		t.Errorf("deleted port: %q, want create", got["port.slave-02.storage"])
	}
	if got["server.slave-01"] != plan.Create {
		t.Errorf("deleted server: %q, want create", got["server.slave-01"])
	}
	// slave-02 lost its storage NIC: it must be rebuilt with it.
	if got["server.slave-02"] != plan.Replace {
		t.Errorf("server.slave-02: %q, want replace (its port was deleted)", got["server.slave-02"])
	}
	h.apply(lab, engine.PlanOptions{})
	if p, _ := h.plan(lab, engine.PlanOptions{}); p.HasChanges() {
		t.Fatalf("plan after repair is not empty: %+v", p.Changes)
	}
}

func TestUnownedNetworkIsAConflict(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	n, err := networks.Create(ctx, h.cloud.Network, networks.CreateOpts{Name: "eng-admin"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	lab := h.lab(1)
	p, st := h.plan(lab, engine.PlanOptions{})
	if len(p.Conflicts) != 1 || p.Conflicts[0].Address != "network.admin" || p.Conflicts[0].ID != n.ID {
		t.Fatalf("conflicts %+v, want network.admin -> %s", p.Conflicts, n.ID)
	}
	if _, err := h.applier().Apply(ctx, lab, st, p); err == nil {
		t.Fatal("apply with a conflict: no error")
	}
	got, err := networks.Get(ctx, h.cloud.Network, n.ID).Extract()
	if err != nil {
		t.Fatalf("the unowned network is gone: %v", err)
	}
	if len(got.Tags) != 0 {
		t.Errorf("the unowned network was marked: %v", got.Tags)
	}
}

// NewState, which the planner's table tests build states with, classifies
// objects as Read does: the same objects give the same plan.
func TestNewStateAgreesWithRead(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.apply(h.lab(2), engine.PlanOptions{})
	// An unowned namesake of a network to be created (a conflict), and a
	// subnet change that propagates.
	if _, err := networks.Create(ctx, h.cloud.Network, networks.CreateOpts{Name: "eng-extra"}).Extract(); err != nil {
		t.Fatal(err)
	}
	lab := h.lab(2, func(s string) string {
		s = strings.Replace(s, "cidr: 192.168.0.0/24", "cidr: 192.168.10.0/24", 1)
		return strings.Replace(s, "networks:\n", "networks:\n  - name: extra\n    cidr: 10.99.0.0/24\n", 1)
	})
	want, st := h.plan(lab, engine.PlanOptions{})
	if len(want.Conflicts) != 1 || countKind(want, plan.Replace, specs.KindServer) != 2 {
		t.Fatalf("plan from Read: %d conflicts, %d servers replaced; want 1 and 2", len(want.Conflicts), countKind(want, plan.Replace, specs.KindServer))
	}
	var objs []*resources.Object
	for _, k := range specs.Kinds {
		objs = append(objs, st.Objects(k)...)
	}
	lit, err := engine.NewState(lab, h.reg, objs...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := engine.BuildPlan(lab, lit, h.reg, engine.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plan from NewState differs from the plan from Read:\n got %+v\nwant %+v", got, want)
	}
}

func TestServerErrorFailsItsSubtreeOnly(t *testing.T) {
	h := newHarness(t)
	h.sim.Knobs().FailServer("eng-slave-01", "No valid host was found. There are not enough hosts available.")
	lab := h.lab(2)
	p, st := h.plan(lab, engine.PlanOptions{})
	rep, err := h.applier().Apply(context.Background(), lab, st, p)
	if err != nil {
		t.Fatal(err)
	}
	aerr := rep.Err()
	if aerr == nil || !strings.Contains(aerr.Error(), "server.slave-01") || !strings.Contains(aerr.Error(), "No valid host") {
		t.Fatalf("apply error %v, want server.slave-01 with Nova's fault", aerr)
	}
	for op, err := range rep.Results {
		if op.Address == "server.slave-01" {
			continue
		}
		if err != nil {
			t.Errorf("%s: %v, want success (independent of the failed server)", op, err)
		}
	}
}

func TestTargetAndExclude(t *testing.T) {
	h := newHarness(t)
	lab := h.lab(3)
	p, _ := h.plan(lab, engine.PlanOptions{Targets: []string{"server.slave-02"}})
	got := actions(p)
	if got["server.slave-02"] != plan.Create || got["port.slave-02.admin"] != plan.Create || got["network.admin"] != plan.Create {
		t.Errorf("target misses slave-02 or its dependencies: %v", got)
	}
	if got["server.slave-01"] != "" || got["server.master"] != "" || got["floating_ip.master"] != "" {
		t.Errorf("target includes unrelated resources: %v", got)
	}
	p, _ = h.plan(lab, engine.PlanOptions{Excludes: []string{"network.mgmt"}})
	got = actions(p)
	if got["network.mgmt"] != "" || got["subnet.mgmt"] != "" || got["port.slave-01.mgmt"] != "" || got["server.slave-01"] != "" {
		t.Errorf("exclude keeps network.mgmt or its dependents: %v", got)
	}
	if got["server.master"] != plan.Create {
		t.Errorf("exclude dropped the master, which does not use mgmt: %v", got)
	}
	if _, err := engine.BuildPlan(lab, mustState(t, h, lab), h.reg, engine.PlanOptions{Targets: []string{"server.nope"}}); err == nil {
		t.Error("a target matching nothing: no error")
	}
}

func mustState(t *testing.T, h *harness, lab *specs.Lab) *engine.State {
	st, err := engine.Read(context.Background(), h.cloud, h.reg, lab)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestSavedPlanRefusesWhenTheCloudMoved(t *testing.T) {
	h := newHarness(t)
	lab := h.lab(1)
	h.apply(lab, engine.PlanOptions{})
	changed := h.lab(1, func(s string) string {
		return strings.Replace(s, "cidr: 192.168.1.0/24", "cidr: 192.168.1.0/24\n    mtu: 1400", 1)
	})
	saved, st := h.plan(changed, engine.PlanOptions{})
	port, _ := st.Live("port.slave-01.admin")
	if _, err := ports.Update(context.Background(), h.cloud.Network, port.ID, ports.UpdateOpts{Name: ptr("renamed")}).Extract(); err != nil {
		t.Fatal(err)
	}
	fresh, _ := h.plan(changed, engine.PlanOptions{})
	moved := engine.Moved(saved, fresh)
	if len(moved) != 1 || !strings.HasPrefix(moved[0], "port.slave-01.admin revision ") {
		t.Fatalf("Moved = %q, want port.slave-01.admin's revision change", moved)
	}
}

func ptr[T any](v T) *T { return &v }

func TestProtectedNetworkSurvivesDestroyAndRefusesReplace(t *testing.T) {
	h := newHarness(t)
	protect := func(s string) string {
		return strings.Replace(s, "  - name: storage\n", "  - name: storage\n    protect: true\n", 1)
	}
	lab := h.lab(1, protect)
	h.apply(lab, engine.PlanOptions{})

	moved := h.lab(1, protect, func(s string) string {
		return strings.Replace(s, "cidr: 192.168.1.0/24", "cidr: 192.168.2.0/24", 1)
	})
	if _, _, err := engine.Plan(context.Background(), h.cloud, h.reg, moved, engine.PlanOptions{}); err == nil ||
		!strings.Contains(err.Error(), "subnet.storage: protected") {
		t.Fatalf("replacing a protected subnet: %v, want an error naming it", err)
	}

	p := h.apply(lab, engine.PlanOptions{Destroy: true})
	if _, ok := p.Change("network.storage"); ok {
		t.Error("destroy planned to delete the protected network")
	}
	if len(p.Warnings) == 0 || !strings.Contains(strings.Join(p.Warnings, "\n"), "network.storage: protected") {
		t.Errorf("destroy warnings %q, want the protected network named", p.Warnings)
	}
	_, st := h.plan(lab, engine.PlanOptions{})
	for _, a := range []specs.Address{"network.storage", "subnet.storage"} {
		if _, ok := st.Live(a); !ok {
			t.Errorf("%s is gone after destroy", a)
		}
	}
	if _, ok := st.Live("network.admin"); ok {
		t.Error("network.admin survived destroy")
	}
}
