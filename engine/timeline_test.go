package engine_test

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/fuelplan/fuelplan/engine"
)

// -apply50.timeline=DIR writes, for each BenchmarkApply50 (and Destroy50) run, the
// schedule it ran: every operation's start and end, how many slots were
// busy and how much ready work waited at each moment, and the chain that
// decided the wall time (each step: what the operation waited for).
var timelineDir = flag.String("apply50.timeline", "", "write BenchmarkApply50's schedules to this directory")

type span struct {
	op         engine.Op
	start, end time.Duration
}

// writeTimeline writes the schedule of one run to w: ops in start order,
// a profile of busy slots and waiting ready work, and the chain back from
// the last operation to finish.
func writeTimeline(w io.Writer, g map[engine.Op][]engine.Op, t0 time.Time, start map[engine.Op]time.Time, dur map[engine.Op]time.Duration, par int) {
	spans := map[engine.Op]span{}
	var all []span
	for op := range g {
		s, ok := start[op]
		if !ok {
			continue // barriers report nothing
		}
		sp := span{op, s.Sub(t0), s.Sub(t0) + dur[op]}
		spans[op] = sp
		all = append(all, sp)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].start < all[j].start })
	// ready: when an operation's last dependency ended.
	ready := func(op engine.Op) time.Duration {
		var r time.Duration
		for _, d := range g[op] {
			if sp, ok := spans[d]; ok {
				r = max(r, sp.end)
			}
		}
		return r
	}
	fmt.Fprintf(w, "# ops in start order: start end dur ready-at waited\n")
	for _, sp := range all {
		r := ready(sp.op)
		fmt.Fprintf(w, "%8.3f %8.3f %6.3f %8.3f %6.3f  %s\n", sp.start.Seconds(), sp.end.Seconds(), (sp.end - sp.start).Seconds(), r.Seconds(), (sp.start - r).Seconds(), sp.op)
	}

	// Profile: at each event, busy slots and ready-but-waiting ops.
	var times []time.Duration
	for _, sp := range all {
		times = append(times, sp.start, sp.end, ready(sp.op))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	var idleWithWork, idle time.Duration
	fmt.Fprintf(w, "\n# profile: from to busy waiting-ready\n")
	for i := 0; i+1 < len(times); i++ {
		a, b := times[i], times[i+1]
		if b == a {
			continue
		}
		mid := a + (b-a)/2
		busy, waiting := 0, 0
		for _, sp := range all {
			if sp.start <= mid && mid < sp.end {
				busy++
			} else if ready(sp.op) <= mid && mid < sp.start {
				waiting++
			}
		}
		free := par - busy
		idle += time.Duration(free) * (b - a)
		if free > 0 && waiting > 0 {
			idleWithWork += time.Duration(min(free, waiting)) * (b - a)
		}
		if b-a > 20*time.Millisecond || free > 0 && waiting > 0 {
			fmt.Fprintf(w, "%8.3f %8.3f %3d %3d\n", a.Seconds(), b.Seconds(), busy, waiting)
		}
	}
	fmt.Fprintf(w, "\n# idle slot-seconds %.2f, of which with ready work waiting %.2f\n", idle.Seconds(), idleWithWork.Seconds())

	// The deciding chain: from the last op to end, step back to the
	// dependency that ended last (when the op started at once) or note
	// that it waited for a slot.
	var last span
	for _, sp := range all {
		if sp.end > last.end {
			last = sp
		}
	}
	fmt.Fprintf(w, "\n# chain back from the last op\n")
	for sp := last; ; {
		r := ready(sp.op)
		fmt.Fprintf(w, "%8.3f %8.3f ready %8.3f waited %6.3f  %s\n", sp.start.Seconds(), sp.end.Seconds(), r.Seconds(), (sp.start - r).Seconds(), sp.op)
		var prev span
		found := false
		for _, d := range g[sp.op] {
			if dsp, ok := spans[d]; ok && (!found || dsp.end > prev.end) {
				prev, found = dsp, true
			}
		}
		if !found {
			break
		}
		sp = prev
	}
}

func saveTimeline(name string, g map[engine.Op][]engine.Op, t0 time.Time, tm *timing, par int) error {
	if *timelineDir == "" {
		return nil
	}
	f, err := os.Create(fmt.Sprintf("%s/%s-p%d.txt", *timelineDir, name, par))
	if err != nil {
		return err
	}
	writeTimeline(f, g, t0, tm.start, tm.dur, par)
	return f.Close()
}
