package engine_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/simcloud"
)

// TestFaultsConvergeWithinTwoRuns injects 10% server errors and conflicts
// into every mutating request and slows server builds: apply of a 50-slave
// lab must converge in at most two runs, leaving no duplicate and nothing
// unmarked behind.
func TestFaultsConvergeWithinTwoRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("50-slave lab under faults")
	}
	h := newHarness(t)
	before := map[string]bool{}
	for _, ids := range h.inventory() {
		for _, id := range ids {
			before[id] = true
		}
	}
	h.sim.Knobs().SetBuildTime(300 * time.Millisecond)
	var faults []simcloud.Fault
	for i, m := range []string{"POST", "PUT", "DELETE"} {
		for j, status := range []int{500, 503, 409} {
			faults = append(faults,
				simcloud.Fault{Method: m, Path: "/network/v2.0/", Rate: 0.1 / 3, Status: status, Seed: int64(10*i + j)},
				simcloud.Fault{Method: m, Path: "/compute/v2.1/", Rate: 0.1 / 3, Status: status, Seed: int64(100 + 10*i + j)})
		}
	}
	h.sim.InjectFaults(faults...)
	lab := h.lab(50)
	ctx := context.Background()
	runs := 0
	for runs < 2 {
		runs++
		p, st, err := engine.Plan(ctx, h.cloud, h.reg, lab, engine.PlanOptions{})
		if err != nil {
			t.Fatalf("run %d: plan: %v", runs, err)
		}
		rep, err := h.applier().Apply(ctx, lab, st, p)
		if err != nil {
			t.Fatalf("run %d: apply: %v", runs, err)
		}
		if rep.Err() == nil {
			break
		}
		t.Logf("run %d did not finish: %v", runs, rep.Err())
	}
	h.sim.ClearFaults()
	p, _ := h.plan(lab, engine.PlanOptions{})
	if p.HasChanges() {
		t.Fatalf("after %d runs the plan still has changes (duplicates show as deletes): %+v", runs, p.Summary())
	}
	t.Logf("converged in %d run(s)", runs)

	// Nothing unmarked: every network, port and server in the project is
	// the lab's, Neutron's own (router interfaces), or was there before.
	nets, _ := networks.List(h.cloud.Network, networks.ListOpts{ProjectID: h.cloud.ProjectID}).AllPages(ctx)
	ns, _ := networks.ExtractNetworks(nets)
	for _, n := range ns {
		if !hasTag(n.Tags, "fuelplan-lab:eng") && !before[n.ID] {
			t.Errorf("unmarked network %s %q", n.ID, n.Name)
		}
	}
	pp, _ := ports.List(h.cloud.Network, ports.ListOpts{ProjectID: h.cloud.ProjectID}).AllPages(ctx)
	ps, _ := ports.ExtractPorts(pp)
	for _, p := range ps {
		if !hasTag(p.Tags, "fuelplan-lab:eng") && !strings.HasPrefix(p.DeviceOwner, "network:") && !before[p.ID] {
			t.Errorf("unmarked port %s %q", p.ID, p.Name)
		}
	}
	sp, _ := servers.List(h.cloud.Compute, servers.ListOpts{}).AllPages(ctx)
	ss, _ := servers.ExtractServers(sp)
	if len(ss) != 51 {
		t.Errorf("%d servers in the project, want 51", len(ss))
	}
}

func hasTag(tags []string, t string) bool {
	for _, x := range tags {
		if x == t {
			return true
		}
	}
	return false
}

// countingProgress cancels the apply after n operations have finished.
type countingProgress struct {
	n      int64
	done   atomic.Int64
	cancel context.CancelFunc
}

func (p *countingProgress) Started(engine.Op)              {}
func (p *countingProgress) Retrying(engine.Op, int, error) {}
func (p *countingProgress) Reread(engine.Reread)           {}
func (p *countingProgress) Finished(engine.Op, time.Duration, string, error) {
	if p.done.Add(1) == p.n {
		p.cancel()
	}
}

// TestInterruptedApplyConverges: Ctrl-C after some creates stops the walk,
// lets running operations end, and a second apply finishes the lab with no
// duplicate.
func TestInterruptedApplyConverges(t *testing.T) {
	h := newHarness(t)
	lab := h.lab(3)
	ctx, cancel := context.WithCancel(context.Background())
	p, st := h.plan(lab, engine.PlanOptions{})
	ap := h.applier()
	ap.Progress = &countingProgress{n: 8, cancel: cancel}
	rep, err := ap.Apply(ctx, lab, st, p)
	if err != nil {
		t.Fatal(err)
	}
	rerr := rep.Err()
	if rerr == nil || !strings.Contains(rerr.Error(), "interrupted") {
		t.Fatalf("interrupted apply: %v, want an interrupted report", rerr)
	}
	if rep.Done[engine.PhaseCreate] < 8 || rep.Done[engine.PhaseCreate] >= p.Summary().Create {
		t.Fatalf("%d creates done of %d: the interrupt did not stop the walk midway", rep.Done[engine.PhaseCreate], p.Summary().Create)
	}
	second := h.apply(lab, engine.PlanOptions{})
	if second.Summary().Create != p.Summary().Create-rep.Done[engine.PhaseCreate] {
		t.Errorf("second apply created %d, want the %d the first did not", second.Summary().Create, p.Summary().Create-rep.Done[engine.PhaseCreate])
	}
	if again, _ := h.plan(lab, engine.PlanOptions{}); again.HasChanges() {
		t.Fatalf("plan after the second apply: %+v", again.Summary())
	}
}
