package engine_test

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"syscall"
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

// BenchmarkPlan1000 measures the time and memory of planning a built
// 1,000-slave lab (about 7,000 objects) against the simulated cloud, in
// process: the simulated cloud's work is counted too. cpu-s is the
// process's CPU time per plan (both cores), which a busy machine changes
// less than the wall time. Targets: < 0.5 s and < 100 MB per plan.
func BenchmarkPlan1000(b *testing.B) {
	h := newHarness(b)
	lab := h.lab(1000)
	h.apply(lab, engine.PlanOptions{})
	ctx := context.Background()
	b.ReportAllocs()
	var mem0, mem1 runtime.MemStats
	runtime.ReadMemStats(&mem0)
	cpu0 := cpuTime()
	for b.Loop() {
		p, _, err := engine.Plan(ctx, h.cloud, h.reg, lab, engine.PlanOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if p.HasChanges() {
			b.Fatal("the built lab has changes")
		}
	}
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&mem1)
	n := float64(b.N)
	b.ReportMetric(b.Elapsed().Seconds()/n, "wall-s")
	b.ReportMetric(cpu.Seconds()/n, "cpu-s")
	b.ReportMetric(float64(mem1.TotalAlloc-mem0.TotalAlloc)/n/1e6, "MB/op")
	b.ReportMetric(0.5, "target-wall-s")
	b.ReportMetric(100, "target-MB/op")
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
//
// batch is how many operations like op may share one slot (the walker's
// batches, walk.Options.Batch: up to Kind.Bulk creates run at once in one
// slot); 1 for one at a time. A caps' kind counts each member against its
// cap, so the per-kind bounds count every operation alone.
func lowerBound(g map[engine.Op][]engine.Op, dur map[engine.Op]time.Duration, parallelism int, caps map[string]int, batch func(engine.Op) int) (bound, critical time.Duration) {
	// head: the longest chain of dependencies before an operation, the
	// earliest it can start; tail: the longest chain of dependents after
	// it, the least time left once it ends.
	head, tail := map[engine.Op]time.Duration{}, map[engine.Op]time.Duration{}
	dependents := map[engine.Op][]engine.Op{}
	for op, ds := range g {
		for _, d := range ds {
			dependents[d] = append(dependents[d], op)
		}
	}
	var visitHead, visitTail func(engine.Op) time.Duration
	visitHead = func(op engine.Op) time.Duration {
		if h, ok := head[op]; ok {
			return h
		}
		var h time.Duration
		for _, d := range g[op] {
			h = max(h, visitHead(d)+dur[d])
		}
		head[op] = h
		return h
	}
	visitTail = func(op engine.Op) time.Duration {
		if t, ok := tail[op]; ok {
			return t
		}
		var t time.Duration
		for _, d := range dependents[op] {
			t = max(t, dur[d]+visitTail(d))
		}
		tail[op] = t
		return t
	}
	var all []job
	perKind := map[string][]job{}
	for op := range g {
		critical = max(critical, visitHead(op)+dur[op])
		j := job{dur[op], visitHead(op), visitTail(op), 1}
		k := string(engine.BaseAddress(op.Address).Kind())
		perKind[k] = append(perKind[k], j)
		if batch != nil {
			j.batch = max(1, batch(op))
		}
		all = append(all, j)
	}
	bound = max(critical, slotBound(all, parallelism))
	for k, js := range perKind {
		if c := caps[k]; c > 0 {
			bound = max(bound, slotBound(js, c))
		}
	}
	return bound, critical
}

// job is an operation as the bound sees it: its duration, the least time
// before it can start (its longest chain of dependencies) and after it
// ends (its longest chain of dependents), and how many such operations
// may run together in one slot (batch, 1 for none).
type job struct {
	dur, head, tail time.Duration
	batch           int
}

// slotBound is the least time jobs of these durations need on n slots:
// their total shared by the slots, and the rounds.
//
// Total: a slot holding a batch of k <= B jobs is held at least as long
// as the longest of them, so at least their sum / B; a job alone holds
// it its whole duration. The slots' time, at most n times the makespan,
// is at least the sum of dur/batch over the jobs.
//
// Rounds, among the jobs that run alone (batch 1): each holds a slot of
// its own, so at most n run at once and they can be laid on n slots each
// running one at a time; of any m jobs, some slot runs at least
// k = ceil(m/n), one after another. That slot cannot start the first before the earliest head
// among the m, spends at least the sum of the k shortest of them, and
// after the last the least tail among them is still to run. So each m
// longest jobs give min head + k shortest + min tail (m = n+1 gives the
// n-th and (n+1)-th longest back to back; 51 five-second builds on 10
// slots take six rounds, after the network, subnet and port the first
// build waits for).
func slotBound(js []job, n int) time.Duration {
	var total time.Duration
	var sorted []job
	for _, j := range js {
		total += j.dur / time.Duration(max(1, j.batch))
		if j.batch <= 1 {
			sorted = append(sorted, j)
		}
	}
	b := total / time.Duration(n)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].dur > sorted[j].dur })
	if len(sorted) <= n {
		return b
	}
	head, tail := sorted[0].head, sorted[0].tail
	for m := 1; m <= len(sorted); m++ {
		head, tail = min(head, sorted[m-1].head), min(tail, sorted[m-1].tail)
		if m <= n {
			continue
		}
		k := (m + n - 1) / n
		rounds := head + tail
		for _, j := range sorted[m-k : m] {
			rounds += j.dur
		}
		b = max(b, rounds)
	}
	return b
}

// bulkOf is how many operations like op the walker may run together in
// one slot: up to Kind.Bulk creates of a kind (engine's batchOf).
func bulkOf(op engine.Op) int {
	if op.Phase != engine.PhaseCreate {
		return 1
	}
	d, _ := resources.KindOf(engine.BaseAddress(op.Address).Kind())
	return max(1, d.Bulk)
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
				bound, critical = lowerBound(g, tm.dur, par, engine.DefaultKindLimits, bulkOf)
				if err := saveTimeline("apply50", g, t0, tm, par); err != nil {
					b.Fatal(err)
				}
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
		tm := &timing{start: map[engine.Op]time.Time{}, dur: map[engine.Op]time.Duration{}}
		ap := &engine.Applier{Cloud: h.cloud, Registry: h.reg, Parallelism: 10, Progress: tm}
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
		g, err := engine.Graph(lab, p)
		if err != nil {
			b.Fatal(err)
		}
		if err := saveTimeline("destroy50", g, t0, tm, 10); err != nil {
			b.Fatal(err)
		}
		requests, objects = totalRequests(h.sim.Requests()), p.Summary().Delete
	}
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(float64(requests), "requests/op")
	b.ReportMetric(float64(requests)/float64(objects), "requests/object")
	b.ReportMetric(1.5, "target-requests/object")
}
