package engine

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// criticalPath gives the walker its priorities: an operation's is the
// estimated time from its start to the end of the apply along the longest
// chain of operations that wait for it, so that a volume -> server chain
// starts before a port nothing waits long for; equal ones go in address
// order, so a server's ports are made together and the server can start.
//
// Each step down the chain counts pathDiscount of its time: with more
// ready work than slots, what runs long now must not wait behind the
// short operations that merely precede other long ones. Undiscounted, the
// 200 ports of a 50-slave lab (each 0.25 s, then a 5 s server) went
// before every ready server, and the last round of servers ran alone:
// BenchmarkApply50 took 1.16x its bound at parallelism 10.
//
// Durations are estimated per phase and kind: the mean of what this run
// measured of the kind, else its registered Typical duration at the pace
// the phase's measured operations ran against theirs, else its Typical.
// Unscaled, the guesses for kinds deleted last (a second per subnet and
// network) outweighed 0.1 s server deletes measured on a quick cloud, and
// with the discount ports went before the servers that free them. When the estimates move, the walker ranks every
// waiting operation again (Version): ranked once when they became ready,
// the 200 ports of a 50-slave lab kept priorities from the first guess of
// a server's build (a minute, so a port ranked 55 s) and went before
// servers ready later and ranked by the measured 5.7 s.
//
// The operations of the longest kinds (Long: at least longShare of the
// longest estimate, server builds) finish in rounds of the parallelism;
// the walker runs no more of them at once than the fewest rounds need,
// while shorter work is ready (walk.Options.Long).
type criticalPath struct {
	mu         sync.Mutex
	order      []Op // every operation after all of its dependents
	index      map[Op]int
	dependents map[Op][]Op
	measured   map[estimateKey]mean
	pace       map[Phase]pace
	used       map[estimateKey]time.Duration // the estimates remaining was computed from
	remaining  map[Op]time.Duration
	stale      bool
	version    uint64
	longest    time.Duration // the longest first estimate, for Long
}

type estimateKey struct {
	phase Phase
	kind  specs.Kind
}

type mean struct {
	sum time.Duration
	n   int
}

// pace is what a phase's measured operations took against what their
// kinds' Typical durations guessed: a kind not yet measured is guessed at
// that pace (a cloud ten times quicker than the guesses for ports is
// likely so for subnets).
type pace struct {
	measured, typical time.Duration
}

// reestimateRatio is how far an estimate may drift from the one the table
// was computed from before it is computed again: often enough to follow a
// cloud slower or faster than the registered guesses, seldom enough that
// recomputing (linear in the graph) stays a handful of times per kind.
const reestimateRatio = 1.25

// pathDiscount weighs each further step of a chain (see criticalPath).
const pathDiscount = 0.9

// longShare is how close to the longest estimate an operation's must be
// for it to count as long: a server build (a minute) is, a volume (10 s)
// or a port (a second) is not.
const longShare = 0.5

func newCriticalPath(g map[Op][]Op) *criticalPath {
	c := &criticalPath{
		dependents: map[Op][]Op{},
		measured:   map[estimateKey]mean{},
		pace:       map[Phase]pace{},
		used:       map[estimateKey]time.Duration{},
		stale:      true,
	}
	for op, ds := range g {
		for _, d := range ds {
			c.dependents[d] = append(c.dependents[d], op)
		}
	}
	// Depth-first from every node, emitting a node after its dependents:
	// remaining times are then computed in one pass over order.
	seen := map[Op]bool{}
	var visit func(Op)
	visit = func(op Op) {
		if seen[op] {
			return
		}
		seen[op] = true
		for _, d := range c.dependents[op] {
			visit(d)
		}
		c.order = append(c.order, op)
	}
	for op := range g {
		visit(op)
	}
	sorted := slices.SortedFunc(maps.Keys(g), func(a, b Op) int {
		if opLess(a, b) {
			return -1
		}
		if opLess(b, a) {
			return 1
		}
		return 0
	})
	c.index = make(map[Op]int, len(sorted))
	for i, op := range sorted {
		c.index[op] = i
		c.longest = max(c.longest, c.estimate(keyOf(op)))
	}
	return c
}

// Version changes whenever the priorities do (walk.Options.PriorityVersion).
func (c *criticalPath) Version() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stale {
		c.compute()
	}
	return c.version
}

// Long says whether op is among the longest operations, by the estimates
// before the run (walk.Options.Long).
func (c *criticalPath) Long(op Op) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.longest > 0 && float64(c.estimate(keyOf(op))) >= longShare*float64(c.longest)
}

// Priority is the walker's priority for op: its remaining path in
// seconds, then its place in address order (earlier first).
func (c *criticalPath) Priority(op Op) []float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stale {
		c.compute()
	}
	return []float64{c.remaining[op].Seconds(), -float64(c.index[op])}
}

// Measured records how long a successful operation took.
func (c *criticalPath) Measured(op Op, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := keyOf(op)
	m := c.measured[k]
	m.sum += d
	m.n++
	c.measured[k] = m
	p := c.pace[k.phase]
	p.measured += d
	p.typical += typicalOf(k)
	c.pace[k.phase] = p
	// The pace moves the estimates of kinds not yet measured too.
	for k, used := range c.used {
		now := c.estimate(k)
		if float64(now) > float64(used)*reestimateRatio || float64(now)*reestimateRatio < float64(used) {
			c.stale = true
			return
		}
	}
}

func (c *criticalPath) compute() {
	c.remaining = make(map[Op]time.Duration, len(c.order))
	for _, op := range c.order {
		var after time.Duration
		for _, d := range c.dependents[op] {
			after = max(after, c.remaining[d])
		}
		k := keyOf(op)
		est := c.estimate(k)
		c.used[k] = est
		c.remaining[op] = est + time.Duration(pathDiscount*float64(after))
	}
	c.stale = false
	c.version++
}

func (c *criticalPath) estimate(k estimateKey) time.Duration {
	if k.phase == PhaseBarrier {
		return 0
	}
	if m := c.measured[k]; m.n > 0 {
		return m.sum / time.Duration(m.n)
	}
	if p := c.pace[k.phase]; p.typical > 0 {
		return time.Duration(float64(typicalOf(k)) * float64(p.measured) / float64(p.typical))
	}
	return typicalOf(k)
}

func typicalOf(k estimateKey) time.Duration {
	d, _ := resources.KindOf(k.kind)
	return d.Typical
}

func keyOf(op Op) estimateKey {
	return estimateKey{op.Phase, BaseAddress(op.Address).Kind()}
}
