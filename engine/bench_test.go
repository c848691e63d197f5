package engine_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/resources"
)

func totalRequests(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// BenchmarkPlanBuiltLab200 counts the API requests a plan of a built
// 200-slave lab makes, authentication and extension discovery included,
// next to the number of live objects: one GET per resource would cost that
// many requests.
func BenchmarkPlanBuiltLab200(b *testing.B) {
	h := newHarness(b)
	lab := h.lab(200)
	h.apply(lab, engine.PlanOptions{})
	ctx := context.Background()
	target := resources.Target{CloudName: "sim", CloudsYAML: []byte(h.sim.CloudsYAML("sim", h.sim.Admin()))}
	h.sim.ResetRequests()
	var objects int
	for b.Loop() {
		c, err := resources.Connect(ctx, target)
		if err != nil {
			b.Fatal(err)
		}
		p, _, err := engine.Plan(ctx, c, h.reg, lab, engine.PlanOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if p.HasChanges() {
			b.Fatal("the built lab has changes")
		}
		objects = len(p.Observed)
	}
	b.ReportMetric(float64(totalRequests(h.sim.Requests()))/float64(b.N), "requests/op")
	b.ReportMetric(float64(objects), "objects")
}

// BenchmarkPlanBuiltLab200Latency is BenchmarkPlanBuiltLab200 at 30 ms per
// request, a cloud across a WAN: the wall time of connecting and planning,
// which concurrent list calls keep near the longest chain of round trips
// rather than their sum. Target: <= 0.3 s with the same request count.
func BenchmarkPlanBuiltLab200Latency(b *testing.B) {
	h := newHarness(b)
	lab := h.lab(200)
	h.apply(lab, engine.PlanOptions{})
	ctx := context.Background()
	target := resources.Target{CloudName: "sim", CloudsYAML: []byte(h.sim.CloudsYAML("sim", h.sim.Admin()))}
	h.sim.SetLatency(30 * time.Millisecond)
	h.sim.ResetRequests()
	for b.Loop() {
		c, err := resources.Connect(ctx, target)
		if err != nil {
			b.Fatal(err)
		}
		p, _, err := engine.Plan(ctx, c, h.reg, lab, engine.PlanOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if p.HasChanges() {
			b.Fatal("the built lab has changes")
		}
	}
	b.ReportMetric(float64(totalRequests(h.sim.Requests()))/float64(b.N), "requests/op")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "wall-s")
	b.ReportMetric(0.3, "target-wall-s")
}

// BenchmarkPlan1000 measures CPU time and memory of planning a built
// 1,000-slave lab (about 7,000 objects) against the simulated cloud.
func BenchmarkPlan1000(b *testing.B) {
	h := newHarness(b)
	lab := h.lab(1000)
	h.apply(lab, engine.PlanOptions{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		p, _, err := engine.Plan(ctx, h.cloud, h.reg, lab, engine.PlanOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if p.HasChanges() {
			b.Fatal("the built lab has changes")
		}
	}
}

// timing records when each operation ran.
type timing struct {
	mu    sync.Mutex
	start map[engine.Op]time.Time
	dur   map[engine.Op]time.Duration
}

func (t *timing) Started(op engine.Op) {
	t.mu.Lock()
	t.start[op] = time.Now()
	t.mu.Unlock()
}
func (t *timing) Retrying(engine.Op, int, error) {}
func (t *timing) Reread(engine.Reread)           {}
func (t *timing) Finished(op engine.Op, d time.Duration, _ string, _ error) {
	t.mu.Lock()
	t.dur[op] = d
	t.mu.Unlock()
}

// lowerBound is the least time any schedule of these operations could take
// under the same limits, from their measured durations: the longest
// dependency chain; the total work shared by the parallelism; and the
// rounds that more long operations than slots force (slotBound). Per-kind
// caps give the same bounds per kind.
func lowerBound(g map[engine.Op][]engine.Op, dur map[engine.Op]time.Duration, parallelism int, caps map[string]int) (bound, critical time.Duration) {
	finish := map[engine.Op]time.Duration{}
	var visit func(engine.Op) time.Duration
	visit = func(op engine.Op) time.Duration {
		if f, ok := finish[op]; ok {
			return f
		}
		var ready time.Duration
		for _, d := range g[op] {
			ready = max(ready, visit(d))
		}
		finish[op] = ready + dur[op]
		return finish[op]
	}
	var all []time.Duration
	perKind := map[string][]time.Duration{}
	for op := range g {
		critical = max(critical, visit(op))
		all = append(all, dur[op])
		k := string(engine.BaseAddress(op.Address).Kind())
		perKind[k] = append(perKind[k], dur[op])
	}
	bound = max(critical, slotBound(all, parallelism))
	for k, ds := range perKind {
		if c := caps[k]; c > 0 {
			bound = max(bound, slotBound(ds, c))
		}
	}
	return bound, critical
}

// slotBound is the least time jobs of these durations need on n slots:
// their total shared by the slots, and the rounds: of the m longest jobs,
// some slot runs at least ceil(m/n) one after another, so at least the
// ceil(m/n) shortest of them (m = n+1 gives the n-th and (n+1)-th longest
// back to back; 51 five-second builds on 10 slots take six rounds).
func slotBound(ds []time.Duration, n int) time.Duration {
	var total time.Duration
	for _, d := range ds {
		total += d
	}
	b := total / time.Duration(n)
	sorted := append([]time.Duration(nil), ds...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] > sorted[j] })
	for m := n + 1; m <= len(sorted); m++ {
		k := (m + n - 1) / n
		var rounds time.Duration
		for _, d := range sorted[m-k : m] {
			rounds += d
		}
		b = max(b, rounds)
	}
	return b
}

// BenchmarkApply50 applies a 50-slave lab with 50 ms per request and 5 s
// server builds, and compares the wall time with the lower bound of any
// schedule (target: within 1.05x at parallelism 10 and at 50), and counts
// the API requests per object created (target: at most 1.5).
func BenchmarkApply50(b *testing.B) {
	for _, par := range []int{10, 50} {
		b.Run(fmt.Sprintf("parallelism=%d", par), func(b *testing.B) {
			var wall, bound, critical time.Duration
			var requests, objects int
			for b.Loop() {
				b.StopTimer()
				h := newHarness(b)
				h.sim.SetLatency(50 * time.Millisecond)
				h.sim.Knobs().SetBuildTime(5 * time.Second)
				lab := h.lab(50)
				p, st := h.plan(lab, engine.PlanOptions{})
				tm := &timing{start: map[engine.Op]time.Time{}, dur: map[engine.Op]time.Duration{}}
				ap := &engine.Applier{Cloud: h.cloud, Registry: h.reg, Parallelism: par, Progress: tm}
				h.sim.ResetRequests()
				b.StartTimer()
				t0 := time.Now()
				rep, err := ap.Apply(context.Background(), lab, st, p)
				wall = time.Since(t0)
				requests, objects = totalRequests(h.sim.Requests()), p.Summary().Create
				if err != nil {
					b.Fatal(err)
				}
				if err := rep.Err(); err != nil {
					b.Fatal(err)
				}
				g, err := engine.Graph(lab, p)
				if err != nil {
					b.Fatal(err)
				}
				bound, critical = lowerBound(g, tm.dur, par, engine.DefaultKindLimits)
			}
			b.ReportMetric(wall.Seconds(), "wall-s")
			b.ReportMetric(bound.Seconds(), "bound-s")
			b.ReportMetric(critical.Seconds(), "critical-path-s")
			b.ReportMetric(wall.Seconds()/bound.Seconds(), "x-bound")
			b.ReportMetric(float64(requests), "requests/op")
			b.ReportMetric(float64(requests)/float64(objects), "requests/object")
			b.ReportMetric(1.05, "target-x-bound")
			b.ReportMetric(1.5, "target-requests/object")
		})
	}
}

// BenchmarkDestroy50 destroys a built 50-slave lab with 50 ms per request
// at parallelism 10: the wall time, and the API requests it makes (waits
// for deletes to finish included) in all and per object deleted. Target:
// at most 1.5 requests per object.
func BenchmarkDestroy50(b *testing.B) {
	var wall time.Duration
	var requests, objects int
	for b.Loop() {
		b.StopTimer()
		h := newHarness(b)
		lab := h.lab(50)
		h.apply(lab, engine.PlanOptions{})
		h.sim.SetLatency(50 * time.Millisecond)
		p, st := h.plan(lab, engine.PlanOptions{Destroy: true})
		ap := &engine.Applier{Cloud: h.cloud, Registry: h.reg, Parallelism: 10}
		h.sim.ResetRequests()
		b.StartTimer()
		t0 := time.Now()
		rep, err := ap.Apply(context.Background(), lab, st, p)
		wall = time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		if err := rep.Err(); err != nil {
			b.Fatal(err)
		}
		requests, objects = totalRequests(h.sim.Requests()), p.Summary().Delete
	}
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(float64(requests), "requests/op")
	b.ReportMetric(float64(requests)/float64(objects), "requests/object")
	b.ReportMetric(1.5, "target-requests/object")
}
