package engine_test

import (
	"testing"
	"time"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/specs"
)

// The benchmark's lower bound, on graphs whose best schedule is known: it
// must never exceed a schedule that exists (else a run could be judged
// against the impossible), and should reach it.
func TestLowerBound(t *testing.T) {
	op := func(a string) engine.Op { return engine.Op{Phase: engine.PhaseCreate, Address: specs.Address(a)} }
	s := time.Second
	tests := []struct {
		name string
		g    map[string][]string
		dur  map[string]time.Duration
		par  int
		// batch: how many of an address's kind may share a slot (walk
		// batches); absent means one at a time.
		batch map[string]int
		// best is the length of a schedule that exists (see each case).
		best time.Duration
	}{
		{
			// Three 5 s builds on two slots: two rounds, whatever the order.
			name: "rounds",
			g:    map[string][]string{"server.a": nil, "server.b": nil, "server.c": nil},
			dur:  map[string]time.Duration{"server.a": 5 * s, "server.b": 5 * s, "server.c": 5 * s},
			par:  2,
			best: 10 * s,
		},
		{
			// Each build after a 1 s port. Best: ports a, b at 0-1; build a
			// 1-6 and then b 6-11 on one slot; port c 1-2, build c 2-7 on
			// the other. No build starts before 1 s, and some slot runs
			// two: 11 s (rounds alone said 10).
			name: "rounds after the work that readies them",
			g: map[string][]string{
				"port.a": nil, "port.b": nil, "port.c": nil,
				"server.a": {"port.a"}, "server.b": {"port.b"}, "server.c": {"port.c"},
			},
			dur: map[string]time.Duration{
				"port.a": s, "port.b": s, "port.c": s,
				"server.a": 5 * s, "server.b": 5 * s, "server.c": 5 * s,
			},
			par:  2,
			best: 11 * s,
		},
		{
			// Each build followed by a 1 s floating IP: mirrored, 11 s.
			name: "rounds before the work that follows them",
			g: map[string][]string{
				"server.a": nil, "server.b": nil, "server.c": nil,
				"floating_ip.a": {"server.a"}, "floating_ip.b": {"server.b"}, "floating_ip.c": {"server.c"},
			},
			dur: map[string]time.Duration{
				"floating_ip.a": s, "floating_ip.b": s, "floating_ip.c": s,
				"server.a": 5 * s, "server.b": 5 * s, "server.c": 5 * s,
			},
			par:  2,
			best: 11 * s,
		},
		{
			// One long chain dominates: 1 + 5 + 1.
			name: "critical chain",
			g:    map[string][]string{"port.a": nil, "server.a": {"port.a"}, "floating_ip.a": {"server.a"}},
			dur:  map[string]time.Duration{"port.a": s, "server.a": 5 * s, "floating_ip.a": s},
			par:  2,
			best: 7 * s,
		},
		{
			// Four 1 s port creates batched in one slot: one second (the
			// walker runs them together, as BenchmarkApply50's ports). A
			// bound that counts one operation per slot says 4 s.
			name:  "a batch in one slot",
			g:     map[string][]string{"port.a": nil, "port.b": nil, "port.c": nil, "port.d": nil},
			dur:   map[string]time.Duration{"port.a": s, "port.b": s, "port.c": s, "port.d": s},
			par:   1,
			batch: map[string]int{"port": 4},
			best:  s,
		},
		{
			// Three 1 s ports on two slots, batched: one second, not the
			// two rounds of three lone operations on two slots.
			name:  "batches make no rounds",
			g:     map[string][]string{"port.a": nil, "port.b": nil, "port.c": nil},
			dur:   map[string]time.Duration{"port.a": s, "port.b": s, "port.c": s},
			par:   2,
			batch: map[string]int{"port": 3},
			best:  s,
		},
		{
			// Batched ports, then builds: ports a, b in one slot at 0-1,
			// c in the other; builds a, b at 1-6, c at 6-11. The builds'
			// rounds still count: 11 s.
			name: "batches before rounds",
			g: map[string][]string{
				"port.a": nil, "port.b": nil, "port.c": nil,
				"server.a": {"port.a"}, "server.b": {"port.b"}, "server.c": {"port.c"},
			},
			dur: map[string]time.Duration{
				"port.a": s, "port.b": s, "port.c": s,
				"server.a": 5 * s, "server.b": 5 * s, "server.c": 5 * s,
			},
			par:   2,
			batch: map[string]int{"port": 2},
			best:  11 * s,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := map[engine.Op][]engine.Op{}
			dur := map[engine.Op]time.Duration{}
			for a, ds := range tt.g {
				for _, d := range ds {
					g[op(a)] = append(g[op(a)], op(d))
				}
				if ds == nil {
					g[op(a)] = nil
				}
				dur[op(a)] = tt.dur[a]
			}
			batch := func(o engine.Op) int { return max(1, tt.batch[string(engine.BaseAddress(o.Address).Kind())]) }
			if bound, _ := lowerBound(g, dur, tt.par, nil, batch); bound != tt.best {
				t.Errorf("bound %v, want %v (a schedule of that length exists)", bound, tt.best)
			}
		})
	}
}
