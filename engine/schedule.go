package engine

import (
	"sync"
	"time"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// criticalPath gives the walker its priorities: an operation's is the
// estimated time from its start to the end of the apply along the longest
// chain of operations that wait for it, so that a volume -> server -> wait
// chain starts before a port nothing waits long for. Durations are
// estimated per phase and kind: each kind's registered Typical duration
// until this run has measured some, then the mean of what it measured.
type criticalPath struct {
	mu         sync.Mutex
	order      []Op // every operation after all of its dependents
	dependents map[Op][]Op
	measured   map[estimateKey]mean
	used       map[estimateKey]time.Duration // the estimates remaining was computed from
	remaining  map[Op]time.Duration
	stale      bool
}

type estimateKey struct {
	phase Phase
	kind  specs.Kind
}

type mean struct {
	sum time.Duration
	n   int
}

// reestimateRatio is how far an estimate may drift from the one the table
// was computed from before it is computed again: often enough to follow a
// cloud slower or faster than the registered guesses, seldom enough that
// recomputing (linear in the graph) stays a handful of times per kind.
const reestimateRatio = 1.25

func newCriticalPath(g map[Op][]Op) *criticalPath {
	c := &criticalPath{
		dependents: map[Op][]Op{},
		measured:   map[estimateKey]mean{},
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
	return c
}

// Priority is the walker's priority for op: its remaining path in seconds.
func (c *criticalPath) Priority(op Op) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stale {
		c.compute()
	}
	return c.remaining[op].Seconds()
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
	used, now := c.used[k], c.estimate(k)
	if float64(now) > float64(used)*reestimateRatio || float64(now)*reestimateRatio < float64(used) {
		c.stale = true
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
		c.remaining[op] = est + after
	}
	c.stale = false
}

func (c *criticalPath) estimate(k estimateKey) time.Duration {
	if k.phase == PhaseBarrier {
		return 0
	}
	if m := c.measured[k]; m.n > 0 {
		return m.sum / time.Duration(m.n)
	}
	d, _ := resources.KindOf(k.kind)
	return d.Typical
}

func keyOf(op Op) estimateKey {
	return estimateKey{op.Phase, BaseAddress(op.Address).Kind()}
}
