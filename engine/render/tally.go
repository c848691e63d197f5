package render

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// Tally counts an apply's operations per kind as they run: what the
// compact views (Lines, Live) show instead of a line per operation. It is
// an engine.Progress; Report tells it what to print above the counts.
type Tally struct {
	// Now is the clock; nil for time.Now (tests give a fixed one).
	Now func() time.Time
	// Report receives lines worth printing at once: failures, and
	// operations running unusually long (once each). Nil: dropped.
	Report func(line string)

	mu      sync.Mutex
	kinds   []specs.Kind
	per     map[specs.Kind]*kindCount
	running map[engine.Op]time.Time
	slow    map[engine.Op]bool
	begin   time.Time
}

type kindCount struct {
	total, running, failed int
	done                   map[engine.Phase]int
	took                   time.Duration // of the done ones, for "usually"
}

func (c *kindCount) finished() int {
	n := c.failed
	for _, d := range c.done {
		n += d
	}
	return n
}

// slowAfter: an operation is reported as unusually slow once it has run
// slowFactor times its kind's mean so far (over at least slowSamples
// done ones) and at least slowFloor: a port at 3 s when ports take 0.2 s
// is news, a server at 70 s when servers take 60 s is not.
const (
	slowFactor  = 3
	slowSamples = 3
	slowFloor   = 10 * time.Second
)

// NewTally counts the operations of p: one per create, update and delete,
// two per replace.
func NewTally(p *plan.Plan, now func() time.Time) *Tally {
	t := &Tally{Now: now, per: map[specs.Kind]*kindCount{}, running: map[engine.Op]time.Time{}, slow: map[engine.Op]bool{}}
	for _, c := range p.Changes {
		n := 0
		switch c.Action {
		case plan.Create, plan.Update, plan.Delete:
			n = 1
		case plan.Replace:
			n = 2
		}
		if n == 0 {
			continue
		}
		k := engine.BaseAddress(c.Address).Kind()
		if t.per[k] == nil {
			t.per[k] = &kindCount{done: map[engine.Phase]int{}}
		}
		t.per[k].total += n
	}
	for _, k := range specs.Kinds {
		if t.per[k] != nil {
			t.kinds = append(t.kinds, k)
		}
	}
	t.begin = t.now()
	return t
}

func (t *Tally) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *Tally) count(op engine.Op) *kindCount {
	return t.kindCount(engine.BaseAddress(op.Address).Kind())
}

// kindCount is k's counts, made for a kind the plan had none of (a
// destroy's re-read may find one), in build order.
func (t *Tally) kindCount(k specs.Kind) *kindCount {
	c := t.per[k]
	if c == nil {
		c = &kindCount{done: map[engine.Phase]int{}}
		t.per[k] = c
		t.kinds = append(t.kinds, k)
		sort.SliceStable(t.kinds, func(i, j int) bool { return kindOrder(t.kinds[i]) < kindOrder(t.kinds[j]) })
	}
	return c
}

// kindOrder is k's place in build order (specs.Kinds).
func kindOrder(k specs.Kind) int {
	for i, kk := range specs.Kinds {
		if kk == k {
			return i
		}
	}
	return len(specs.Kinds)
}

func (t *Tally) Started(op engine.Op) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.count(op).running++
	t.running[op] = t.now()
}

func (t *Tally) Retrying(engine.Op, int, error) {}

// Reread counts the objects a destroy's re-read found among the
// operations to do, and reports what it found.
func (t *Tally) Reread(r engine.Reread) {
	t.mu.Lock()
	for _, a := range r.Found {
		t.kindCount(engine.BaseAddress(a).Kind()).total++
	}
	t.mu.Unlock()
	t.report(r.String())
}

func (t *Tally) Finished(op engine.Op, elapsed time.Duration, _ string, err error) {
	t.mu.Lock()
	c := t.count(op)
	c.running--
	delete(t.running, op)
	if err != nil {
		c.failed++
	} else {
		c.done[op.Phase]++
		c.took += elapsed
	}
	t.mu.Unlock()
	if err != nil {
		t.report(fmt.Sprintf("%s: %s failed after %s: %s", op.Address, verbs[op.Phase][0], round(elapsed),
			firstLine(resources.Humanize(err).Error())))
	}
}

func (t *Tally) report(line string) {
	if t.Report != nil {
		t.Report(line)
	}
}

// CheckSlow reports, once each, the operations running unusually long
// (see slowFactor); the views call it on every refresh.
func (t *Tally) CheckSlow() {
	t.mu.Lock()
	now := t.now()
	var lines []string
	for op, since := range t.running {
		c := t.count(op)
		n := c.finished() - c.failed
		if t.slow[op] || n < slowSamples {
			continue
		}
		usual := c.took / time.Duration(n)
		if ran := now.Sub(since); ran >= slowFloor && ran >= slowFactor*usual {
			t.slow[op] = true
			lines = append(lines, fmt.Sprintf("%s: still %s after %s (%s usually takes %s)",
				op.Address, verbs[op.Phase][0], round(ran), engine.BaseAddress(op.Address).Kind(), round(usual)))
		}
	}
	t.mu.Unlock()
	sort.Strings(lines)
	for _, l := range lines {
		t.report(l)
	}
}

// KindState is one kind's counts at a moment.
type KindState struct {
	Kind                         specs.Kind
	Total, Done, Running, Failed int
	Left                         int
	DoneByPhase                  map[engine.Phase]int
}

// Snapshot is the counts per kind (in build order), the totals, the time
// since the apply began and an estimate of the time left: the elapsed
// time scaled by the operations left over those finished (0 until one
// has finished).
func (t *Tally) Snapshot() (kinds []KindState, all KindState, elapsed, left time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range t.kinds {
		c := t.per[k]
		s := KindState{Kind: k, Total: c.total, Running: c.running, Failed: c.failed, DoneByPhase: map[engine.Phase]int{}}
		for ph, n := range c.done {
			s.Done += n
			s.DoneByPhase[ph] = n
		}
		s.Left = max(0, s.Total-s.Done-s.Failed-s.Running)
		kinds = append(kinds, s)
		all.Total += s.Total
		all.Done += s.Done
		all.Running += s.Running
		all.Failed += s.Failed
		all.Left += s.Left
	}
	elapsed = t.now().Sub(t.begin)
	if finished := all.Done + all.Failed; finished > 0 {
		left = time.Duration(float64(elapsed) * float64(all.Left+all.Running) / float64(finished))
	}
	return kinds, all, elapsed, left
}

// Line is the one-line summary Lines prints per interval.
func (t *Tally) Line() string {
	kinds, all, elapsed, left := t.Snapshot()
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %d/%d done, %d in flight, %d failed, %d left", elapsed.Round(time.Second), all.Done, all.Total, all.Running, all.Failed, all.Left)
	if all.Done+all.Failed > 0 && all.Left+all.Running > 0 {
		fmt.Fprintf(&b, ", about %s to go", left.Round(time.Second))
	}
	var open []string
	for _, k := range kinds {
		if k.Done+k.Failed < k.Total {
			open = append(open, fmt.Sprintf("%s %d/%d", k.Kind, k.Done, k.Total))
		}
	}
	if len(open) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(open, ", "))
	}
	return b.String()
}

// Summary writes the final counts grouped by kind, in build order.
func (t *Tally) Summary(w io.Writer) error {
	kinds, _, elapsed, _ := t.Snapshot()
	width := 0
	for _, k := range kinds {
		width = max(width, len(k.Kind))
	}
	if _, err := fmt.Fprintf(w, "By kind (%s):\n", elapsed.Round(time.Second)); err != nil {
		return err
	}
	for _, k := range kinds {
		var parts []string
		for _, ph := range []engine.Phase{engine.PhaseCreate, engine.PhaseUpdate, engine.PhaseDestroy} {
			if n := k.DoneByPhase[ph]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, verbs[ph][1]))
			}
		}
		if k.Failed > 0 {
			parts = append(parts, fmt.Sprintf("%d failed", k.Failed))
		}
		if n := k.Total - k.Done - k.Failed; n > 0 {
			parts = append(parts, fmt.Sprintf("%d not started", n))
		}
		if _, err := fmt.Fprintf(w, "  %-*s  %s\n", width, k.Kind, strings.Join(parts, ", ")); err != nil {
			return err
		}
	}
	return nil
}
