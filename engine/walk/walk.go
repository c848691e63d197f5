// Package walk runs a function over every node of a DAG in parallel, each
// node only after all of its dependencies succeeded. It knows nothing of
// clouds: the concurrency bound and per-class caps are plain semaphores.
//
// Modelled on OpenTofu's internal/dag walk: one goroutine per node waiting
// on its dependencies' done channels, and a separate limiter.
package walk

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
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
	par := opts.Parallelism
	if par <= 0 {
		par = 10
	}
	global := make(chan struct{}, par)
	classes := map[string]chan struct{}{}
	for c, n := range opts.ClassLimit {
		if n > 0 {
			classes[c] = make(chan struct{}, n)
		}
	}
	runCtx := context.WithoutCancel(ctx)

	done := make(map[N]chan struct{}, len(deps))
	for n := range deps {
		done[n] = make(chan struct{})
	}
	var mu sync.Mutex
	results := make(map[N]error, len(deps))
	var wg sync.WaitGroup
	for n, ds := range deps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[n])
			err := visit(ctx, runCtx, n, ds, done, &mu, results, global, classes, opts.Class, fn)
			mu.Lock()
			results[n] = err
			mu.Unlock()
		}()
	}
	wg.Wait()
	return results, nil
}

func visit[N comparable](ctx, runCtx context.Context, n N, ds []N, done map[N]chan struct{},
	mu *sync.Mutex, results map[N]error, global chan struct{}, classes map[string]chan struct{},
	class func(N) string, fn func(context.Context, N) error) error {
	for _, d := range ds {
		<-done[d]
	}
	// A failed dependency makes this node upstream-failed; one only kept
	// from starting by an interrupt makes it interrupted too, so a Ctrl-C
	// is never reported as a failure.
	mu.Lock()
	interrupted := false
	for _, d := range ds {
		switch err := results[d]; {
		case err == nil:
		case errors.Is(err, ErrInterrupted):
			interrupted = true
		default:
			mu.Unlock()
			return ErrUpstream
		}
	}
	mu.Unlock()
	if interrupted {
		return ErrInterrupted
	}
	// Acquire the class slot before the global one, so a node waiting on a
	// busy class does not hold a global slot others could use.
	var cls chan struct{}
	if class != nil {
		cls = classes[class(n)]
	}
	if cls != nil {
		select {
		case cls <- struct{}{}:
			defer func() { <-cls }()
		case <-ctx.Done():
			return ErrInterrupted
		}
	}
	select {
	case global <- struct{}{}:
		defer func() { <-global }()
	case <-ctx.Done():
		return ErrInterrupted
	}
	if ctx.Err() != nil {
		return ErrInterrupted
	}
	return fn(runCtx, n)
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
