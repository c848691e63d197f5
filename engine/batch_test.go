package engine_test

import (
	"context"
	"errors"
	"testing"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/walk"
	"github.com/fuelplan/fuelplan/simcloud"
	"github.com/fuelplan/fuelplan/specs"
)

const portPOST = "POST /network/v2.0/ports"

// At parallelism 1 a port create held its slot alone, so every port went
// to Neutron in a POST of its own. Ready port creates now run together in
// one slot (Kind.Bulk): their creates reach the adapter at once and go as
// bulk POSTs (then a tag PUT each, as Zed needs).
func TestApplyBatchesPortCreates(t *testing.T) {
	h := newHarness(t)
	lab := h.lab(6)
	p, st := h.plan(lab, engine.PlanOptions{})
	ports := 0
	for _, c := range p.Changes {
		if c.Address.Kind() == specs.KindPort {
			ports++
		}
	}
	ap := h.applier()
	ap.Parallelism = 1
	h.sim.ResetRequests()
	rep, err := ap.Apply(context.Background(), lab, st, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	got := h.sim.Requests()
	if posts := got[portPOST]; posts >= ports/2 {
		t.Errorf("%d ports created with %d POSTs at parallelism 1, want them batched into bulk creates", ports, posts)
	}
	if tags := got["PUT /network/v2.0/ports/{id}/tags"]; tags != ports {
		t.Errorf("%d tag PUTs, want one per port (%d)", tags, ports)
	}
	if p, _ := h.plan(lab, engine.PlanOptions{}); p.HasChanges() {
		t.Errorf("the applied lab still has changes: %+v", p.Summary())
	}
}

// A port whose create fails fails alone: the bulk request its batch
// became fails (400, injected on the first two port POSTs), each port is
// then created on its own, the first of those fails, and only that port
// and what waits for it are not made. Had each port gone alone (no
// batch), both injected failures would have hit a port each.
func TestApplyBatchedPortFailsAlone(t *testing.T) {
	h := newHarness(t)
	lab := h.lab(6)
	p, st := h.plan(lab, engine.PlanOptions{})
	ap := h.applier()
	ap.Parallelism = 1
	h.sim.InjectFaults(simcloud.Fault{Method: "POST", Path: "/network/v2.0/ports", Status: 400, Max: 2})
	rep, err := ap.Apply(context.Background(), lab, st, p)
	if err != nil {
		t.Fatal(err)
	}
	fails := walk.Failures(rep.Results, func(a, b engine.Op) bool { return a.Address < b.Address })
	if len(fails) != 1 || engine.BaseAddress(fails[0].Node.Address).Kind() != specs.KindPort {
		t.Fatalf("failures %v, want exactly one port create", fails)
	}
	upstream := 0
	for op, err := range rep.Results {
		switch {
		case errors.Is(err, walk.ErrUpstream):
			upstream++
		case err != nil && op != fails[0].Node:
			t.Errorf("%v: %v, want made or upstream of the failed port", op, err)
		}
	}
	if upstream == 0 {
		t.Error("nothing waited for the failed port")
	}
}
