package engine_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/walk"
	"github.com/fuelplan/fuelplan/internal/lablock"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// stealOnStart runs steal when the first operation starts, then holds
// every starting operation until stopped is done (at most 10s): the
// operations in flight when the lock goes are the first ones, and the
// walk decides alone what starts after.
type stealOnStart struct {
	once    sync.Once
	steal   func()
	stopped <-chan struct{}
}

func (p *stealOnStart) Started(engine.Op) {
	p.once.Do(p.steal)
	select {
	case <-p.stopped:
	case <-time.After(10 * time.Second):
	}
}
func (p *stealOnStart) Retrying(engine.Op, int, error)                   {}
func (p *stealOnStart) Finished(engine.Op, time.Duration, string, error) {}
func (p *stealOnStart) Reread(engine.Reread)                             {}

// TestLostLockStopsApply: another holder takes the lab lock mid-apply
// (what a second holder's takeover writes: the anchor's description
// swapped to it): the running apply is stopped as on Ctrl-C (nothing new
// starts, operations in flight end) within a heartbeat, instead of
// building on, and its report says the lock was lost and to whom.
func TestLostLockStopsApply(t *testing.T) {
	h := newHarness(t)
	// Servers take a while to build: an apply that went on after losing
	// its lock would run for the whole build time.
	h.sim.Knobs().SetBuildTime(20 * time.Second)
	lab := h.lab(3)
	ctx := context.Background()
	l, err := lablock.Acquire(ctx, h.cloud, lab.Name, lablock.Options{Holder: "first", Lease: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	gctx, cancel := l.Guard(ctx)
	defer cancel()
	p, st := h.plan(lab, engine.PlanOptions{})
	ap := h.applier()
	ap.Progress = &stealOnStart{stopped: gctx.Done(), steal: func() {
		as, err := resources.ListLockAnchors(ctx, h.cloud, lab.Name+"-fuelplan-lock")
		if err != nil || len(as) != 1 {
			t.Errorf("lock anchors %v, %v", as, err)
			return
		}
		desc := "fuelplan-lock held by second since " + time.Now().UTC().Format(time.RFC3339) + " lease 300"
		if _, err := groups.Update(ctx, h.cloud.Network, as[0].ID, groups.UpdateOpts{Description: &desc}).Extract(); err != nil {
			t.Error(err)
		}
	}}
	start := time.Now()
	rep, err := ap.Apply(gctx, lab, st, p)
	if err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("apply ran %v after losing its lock", elapsed)
	}
	if !errors.Is(rep.Stopped, lablock.ErrLost) {
		t.Fatalf("report stopped by %v, want the lost lock", rep.Stopped)
	}
	rerr := rep.Err()
	if rerr == nil || !strings.Contains(rerr.Error(), "the lab lock was lost") || !strings.Contains(rerr.Error(), "second took it") {
		t.Fatalf("report: %v, want it to say the lock was lost to second", rerr)
	}
	if n := rep.Done[engine.PhaseCreate]; n > ap.Parallelism {
		t.Errorf("%d creates done: operations started after the lock was lost", n)
	}
	for _, s := range []string{"server.master", "server.slave-01"} {
		if err := rep.Results[engine.Op{Phase: engine.PhaseCreate, Address: specs.Address(s)}]; !errors.Is(err, walk.ErrInterrupted) && !errors.Is(err, walk.ErrUpstream) {
			t.Errorf("create %s: %v, want it never started", s, err)
		}
	}
	if err := l.Release(ctx); !errors.Is(err, lablock.ErrLost) {
		t.Errorf("Release after the loss: %v, want ErrLost", err)
	}
}
