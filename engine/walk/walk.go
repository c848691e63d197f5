// Package walk runs a function over every node of a DAG in parallel, each
// node only after all of its dependencies succeeded. It knows nothing of
// clouds: the concurrency bound and per-class caps are plain counters, and
// which ready node goes first is a priority the caller gives.
//
// Modelled on OpenTofu's internal/dag walk (a node waits for its
// dependencies, failures propagate as "upstream failed", a separate
// limiter), with one change: ready nodes queue by priority in front of
// the limiter, so the caller can put its critical path first.
package walk

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
)

// ErrUpstream marks a node skipped because a dependency failed or was
// skipped; only the root cause is worth reporting.
var ErrUpstream = errors.New("not started: a dependency failed")

// ErrInterrupted marks a node never started because the walk was
// cancelled, before it or before one of its dependencies started.
var ErrInterrupted = errors.New("not started: interrupted")

// Options bound the walk.
type Options[N comparable] struct {
	// Parallelism caps running nodes in all; <= 0 means 10.
	Parallelism int
	// Class groups nodes for a further cap (e.g. by resource kind); nil for none.
	Class func(N) string
	// ClassLimit caps running nodes per class; absent or <= 0 means no cap.
	ClassLimit map[string]int
	// Priority orders ready nodes: when a slot is free, the ready node
	// with the highest priority whose class has room starts. Priorities
	// compare element by element (the first that differs decides); equal
	// ones start in the order they became ready. It is asked when a node
	// becomes ready, and again for every waiting node when PriorityVersion
	// changes. Nil: the order they became ready.
	Priority func(N) []float64
	// PriorityVersion says when priorities have changed (the caller's
	// estimates moved): whenever it returns a new value, the walker asks
	// Priority again for every node still waiting, so a node queued under
	// old estimates is not ranked above one queued under new ones. Nil:
	// priorities never change.
	PriorityVersion func() uint64
	// Long marks nodes expected to run far longer than the rest (server
	// builds); asked once per node. Such nodes finish in rounds: with L
	// of them not yet finished and P slots, at least ceil(L/P) rounds,
	// and ceil(L/ceil(L/P)) of them at a time finish in as many. While
	// other nodes are ready, no more long nodes than that run at once:
	// the spare slots run the short work that makes the next long nodes
	// ready, so a slot freed by a long node finds another ready to start
	// rather than making its dependencies first. With no other node
	// ready, a long node takes any free slot. Nil: none is long.
	Long func(N) bool
	// Batch names nodes that are better run together (creates the
	// caller's layer below sends as one bulk request); asked once per
	// node when it becomes ready. When a node with a non-empty key
	// starts, the other ready nodes of its queue (same class, same
	// length) with the same key start with it, highest priority first,
	// up to max in all and as far as the class cap has room (each member
	// counts against it). They take one slot of Parallelism: their fns
	// are called concurrently and the slot frees when the last ends. Each
	// member succeeds or fails on its own; its dependents are released as
	// it ends. Nil, or an empty key: every node runs alone.
	Batch func(N) (key string, max int)
}

// Result is the outcome of one node: nil error on success.
type Result[N comparable] struct {
	Node N
	Err  error
}

// Walk calls fn for every node in deps (a map from each node to the nodes
// it depends on; every dependency must itself be a key). A node starts once
// all its dependencies returned nil. Once ctx is cancelled no node starts,
// but running ones go on with a context that is not cancelled, so an API
// call is never cut off halfway: Ctrl-C stops the walk, not the cloud.
// The returned map has an entry for every node.
func Walk[N comparable](ctx context.Context, deps map[N][]N, opts Options[N], fn func(context.Context, N) error) (map[N]error, error) {
	for n, ds := range deps {
		for _, d := range ds {
			if _, ok := deps[d]; !ok {
				return nil, fmt.Errorf("walk: %v depends on %v, which is not in the graph", n, d)
			}
		}
	}
	if err := checkAcyclic(deps); err != nil {
		return nil, err
	}
	w := newWalker(deps, opts)
	runCtx := context.WithoutCancel(ctx)
	finished := make(chan slotResult[N])
	running := 0 // slots in use; a batch holds one
	cancelled := ctx.Done()
	for n, ds := range deps {
		if len(ds) == 0 {
			w.ready(n)
		}
	}
	for len(w.results) < len(deps) {
		w.refresh()
		for ctx.Err() == nil && running < w.parallelism {
			batch, ok := w.next()
			if !ok {
				break
			}
			running++
			s := &slot{left: len(batch)}
			for _, n := range batch {
				go func() { finished <- slotResult[N]{Result[N]{n, fn(runCtx, n)}, s} }()
			}
		}
		if ctx.Err() != nil {
			w.interrupt()
			if running == 0 {
				break
			}
			cancelled = nil // from now on, only wait for running nodes
		}
		select {
		case r := <-finished:
			if r.slot.left--; r.slot.left == 0 {
				running--
			}
			w.finish(r.Node, r.Err)
		case <-cancelled:
		}
	}
	return w.results, nil
}

// slot is one of Parallelism's slots, held by a node or a batch until
// its last member ends; only Walk's goroutine touches it.
type slot struct{ left int }

type slotResult[N comparable] struct {
	Result[N]
	slot *slot
}

// walker is the scheduling state of one walk; only Walk's goroutine
// touches it.
type walker[N comparable] struct {
	deps        map[N][]N
	dependents  map[N][]N
	waiting     map[N]int // unfinished dependencies per node
	results     map[N]error
	parallelism int
	class       func(N) string
	limit       map[string]int
	inFlight    map[string]int
	queues      map[queueKey]*queue[N] // ready nodes by class and length
	priority    func(N) []float64
	version     func() uint64
	seen        uint64 // the PriorityVersion the queues are ordered by
	long        map[N]bool
	longLeft    int // long nodes not finished
	longRunning int
	batch       func(N) (string, int)
	seq         int
}

// queueKey splits ready nodes by class (for its cap) and by whether they
// are long (for the rounds rule).
type queueKey struct {
	class string
	long  bool
}

func newWalker[N comparable](deps map[N][]N, opts Options[N]) *walker[N] {
	w := &walker[N]{
		deps:        deps,
		dependents:  make(map[N][]N, len(deps)),
		waiting:     make(map[N]int, len(deps)),
		results:     make(map[N]error, len(deps)),
		parallelism: opts.Parallelism,
		class:       opts.Class,
		limit:       opts.ClassLimit,
		inFlight:    map[string]int{},
		queues:      map[queueKey]*queue[N]{},
		priority:    opts.Priority,
		version:     opts.PriorityVersion,
		long:        map[N]bool{},
		batch:       opts.Batch,
	}
	if w.parallelism <= 0 {
		w.parallelism = 10
	}
	if w.class == nil {
		w.class = func(N) string { return "" }
	}
	if w.priority == nil {
		w.priority = func(N) []float64 { return nil }
	}
	for n, ds := range deps {
		w.waiting[n] = len(ds)
		for _, d := range ds {
			w.dependents[d] = append(w.dependents[d], n)
		}
		if opts.Long != nil && opts.Long(n) {
			w.long[n] = true
			w.longLeft++
		}
	}
	if w.version != nil {
		w.seen = w.version()
	}
	return w
}

// ready queues a node whose dependencies all succeeded.
func (w *walker[N]) ready(n N) {
	k := queueKey{w.class(n), w.long[n]}
	q := w.queues[k]
	if q == nil {
		q = &queue[N]{}
		w.queues[k] = q
	}
	w.seq++
	it := item[N]{node: n, priority: w.priority(n), seq: w.seq}
	if w.batch != nil {
		it.batch, it.batchMax = w.batch(n)
	}
	heap.Push(q, it)
}

// refresh asks the priorities of every waiting node again when the
// caller's PriorityVersion moved, keeping the order they became ready.
func (w *walker[N]) refresh() {
	if w.version == nil {
		return
	}
	v := w.version()
	if v == w.seen {
		return
	}
	w.seen = v
	for _, q := range w.queues {
		for i := range *q {
			(*q)[i].priority = w.priority((*q)[i].node)
		}
		heap.Init(q)
	}
}

// longCap is how many long nodes may run at once while other work is
// ready: as many as finishing the unfinished ones in the fewest rounds
// of the parallelism needs (see Options.Long).
func (w *walker[N]) longCap() int {
	if w.longLeft == 0 {
		return w.parallelism
	}
	rounds := (w.longLeft + w.parallelism - 1) / w.parallelism
	return (w.longLeft + rounds - 1) / rounds
}

// next takes the ready node of highest priority whose class has room; a
// long one only while long nodes run below longCap or no other is ready;
// with it, the ready nodes of its batch (Options.Batch).
func (w *walker[N]) next() ([]N, bool) {
	var best, bestShort *queue[N]
	var bestKey, bestShortKey queueKey
	for k, q := range w.queues {
		if q.Len() == 0 || (w.limit[k.class] > 0 && w.inFlight[k.class] >= w.limit[k.class]) {
			continue
		}
		if best == nil || (*q)[0].before((*best)[0]) {
			best, bestKey = q, k
		}
		if !k.long && (bestShort == nil || (*q)[0].before((*bestShort)[0])) {
			bestShort, bestShortKey = q, k
		}
	}
	if best == nil {
		return nil, false
	}
	if bestKey.long && bestShort != nil && w.longRunning >= w.longCap() {
		best, bestKey = bestShort, bestShortKey
	}
	first := heap.Pop(best).(item[N])
	batch := []N{first.node}
	if first.batch != "" && first.batchMax > 1 {
		room := first.batchMax - 1
		if l := w.limit[bestKey.class]; l > 0 {
			room = min(room, l-w.inFlight[bestKey.class]-1)
		}
		if bestKey.long && bestShort != nil {
			room = min(room, w.longCap()-w.longRunning-1)
		}
		batch = append(batch, best.take(first.batch, room)...)
	}
	w.inFlight[bestKey.class] += len(batch)
	if bestKey.long {
		w.longRunning += len(batch)
	}
	return batch, true
}

// finish records a node's outcome and releases its dependents: those
// left with no unfinished dependency are queued, or resolved at once as
// their dependencies' outcomes say (ErrUpstream, ErrInterrupted).
func (w *walker[N]) finish(n N, err error) {
	w.inFlight[w.class(n)]--
	if w.long[n] {
		w.longRunning--
	}
	w.resolve(n, err)
}

func (w *walker[N]) resolve(n N, err error) {
	w.results[n] = err
	if w.long[n] {
		w.longLeft--
	}
	for _, m := range w.dependents[n] {
		w.waiting[m]--
		if w.waiting[m] > 0 {
			continue
		}
		// A failed dependency makes m upstream-failed; one only kept from
		// starting by an interrupt makes it interrupted too, so a Ctrl-C
		// is never reported as a failure.
		var failed, interrupted bool
		for _, d := range w.deps[m] {
			switch err := w.results[d]; {
			case err == nil:
			case errors.Is(err, ErrInterrupted):
				interrupted = true
			default:
				failed = true
			}
		}
		switch {
		case failed:
			w.resolve(m, ErrUpstream)
		case interrupted:
			w.resolve(m, ErrInterrupted)
		default:
			w.ready(m)
		}
	}
}

// interrupt resolves every queued node with ErrInterrupted; nodes still
// waiting for running ones follow as those finish.
func (w *walker[N]) interrupt() {
	for _, q := range w.queues {
		for q.Len() > 0 {
			w.resolve(heap.Pop(q).(item[N]).node, ErrInterrupted)
		}
	}
}

// item is a ready node with its priority, the order it became ready and
// its batch (Options.Batch).
type item[N comparable] struct {
	node     N
	priority []float64
	seq      int
	batch    string
	batchMax int
}

func (a item[N]) before(b item[N]) bool {
	if c := slices.Compare(a.priority, b.priority); c != 0 {
		return c > 0
	}
	return a.seq < b.seq
}

// queue is a heap of ready nodes, the first to start on top.
type queue[N comparable] []item[N]

// take removes and returns up to n nodes of batch key from q, those
// that would start first first.
func (q *queue[N]) take(key string, n int) []N {
	if n <= 0 {
		return nil
	}
	var same []item[N]
	rest := (*q)[:0:0]
	for _, it := range *q {
		if it.batch == key {
			same = append(same, it)
		} else {
			rest = append(rest, it)
		}
	}
	if len(same) == 0 {
		return nil
	}
	slices.SortFunc(same, func(a, b item[N]) int {
		if a.before(b) {
			return -1
		}
		return 1
	})
	if len(same) > n {
		rest = append(rest, same[n:]...)
		same = same[:n]
	}
	*q = rest
	heap.Init(q)
	out := make([]N, len(same))
	for i, it := range same {
		out[i] = it.node
	}
	return out
}

func (q queue[N]) Len() int           { return len(q) }
func (q queue[N]) Less(i, j int) bool { return q[i].before(q[j]) }
func (q queue[N]) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *queue[N]) Push(x any)        { *q = append(*q, x.(item[N])) }
func (q *queue[N]) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}

// checkAcyclic rejects a cycle, which would otherwise deadlock the walk.
func checkAcyclic[N comparable](deps map[N][]N) error {
	const (
		unseen = iota
		active
		finished
	)
	state := make(map[N]int, len(deps))
	var visitNode func(N) bool
	visitNode = func(n N) bool {
		switch state[n] {
		case active:
			return false
		case finished:
			return true
		}
		state[n] = active
		for _, d := range deps[n] {
			if !visitNode(d) {
				return false
			}
		}
		state[n] = finished
		return true
	}
	for n := range deps {
		if !visitNode(n) {
			return fmt.Errorf("walk: the graph has a cycle through %v", n)
		}
	}
	return nil
}

// Failures returns the nodes whose error is a root cause (not ErrUpstream
// or ErrInterrupted), sorted by less.
func Failures[N comparable](results map[N]error, less func(a, b N) bool) []Result[N] {
	var out []Result[N]
	for n, err := range results {
		if err != nil && !errors.Is(err, ErrUpstream) && !errors.Is(err, ErrInterrupted) {
			out = append(out, Result[N]{n, err})
		}
	}
	sort.Slice(out, func(i, j int) bool { return less(out[i].Node, out[j].Node) })
	return out
}
