package walk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestWalkOrderAndResults(t *testing.T) {
	deps := map[string][]string{
		"net":    nil,
		"subnet": {"net"},
		"port":   {"net", "subnet"},
		"flavor": nil,
		"server": {"port", "flavor"},
	}
	var mu sync.Mutex
	finished := map[string]bool{}
	res, err := Walk(context.Background(), deps, Options[string]{Parallelism: 3}, func(_ context.Context, n string) error {
		mu.Lock()
		defer mu.Unlock()
		for _, d := range deps[n] {
			if !finished[d] {
				return fmt.Errorf("%s started before %s finished", n, d)
			}
		}
		finished[n] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(deps) {
		t.Fatalf("got %d results, want %d", len(res), len(deps))
	}
	for n, err := range res {
		if err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
}

func TestWalkBounds(t *testing.T) {
	tests := []struct {
		name        string
		parallelism int
		classLimit  int
		wantMax     int32
	}{
		{"global bound", 4, 0, 4},
		{"class bound below global", 8, 2, 2},
		{"serial", 1, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			deps := map[int][]int{}
			for i := 0; i < 40; i++ {
				deps[i] = nil
			}
			var running, peak atomic.Int32
			opts := Options[int]{Parallelism: tt.parallelism}
			if tt.classLimit > 0 {
				opts.Class = func(int) string { return "server" }
				opts.ClassLimit = map[string]int{"server": tt.classLimit}
			}
			_, err := Walk(context.Background(), deps, opts, func(context.Context, int) error {
				now := running.Add(1)
				for {
					p := peak.Load()
					if now <= p || peak.CompareAndSwap(p, now) {
						break
					}
				}
				time.Sleep(5 * time.Millisecond)
				running.Add(-1)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := peak.Load(); got != tt.wantMax {
				t.Errorf("peak concurrency %d, want %d", got, tt.wantMax)
			}
		})
	}
}

func TestWalkFailureStopsOnlyDependents(t *testing.T) {
	deps := map[string][]string{
		"a":  nil,
		"a1": {"a"},
		"a2": {"a1"},
		"b":  nil,
		"b1": {"b"},
	}
	boom := errors.New("boom")
	var ran sync.Map
	res, err := Walk(context.Background(), deps, Options[string]{}, func(_ context.Context, n string) error {
		ran.Store(n, true)
		if n == "a" {
			return boom
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(res["a"], boom) {
		t.Errorf("a: %v, want boom", res["a"])
	}
	for _, n := range []string{"a1", "a2"} {
		if !errors.Is(res[n], ErrUpstream) {
			t.Errorf("%s: %v, want ErrUpstream", n, res[n])
		}
		if _, ok := ran.Load(n); ok {
			t.Errorf("%s ran after its dependency failed", n)
		}
	}
	for _, n := range []string{"b", "b1"} {
		if res[n] != nil {
			t.Errorf("%s: %v, want success", n, res[n])
		}
	}
	fails := Failures(res, func(a, b string) bool { return a < b })
	if len(fails) != 1 || fails[0].Node != "a" {
		t.Errorf("Failures = %v, want only the root cause a", fails)
	}
}

func TestWalkCancelLetsRunningFinish(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	deps := map[string][]string{"first": nil, "second": {"first"}}
	var opCtxErr error
	res, err := Walk(ctx, deps, Options[string]{}, func(opCtx context.Context, n string) error {
		if n == "first" {
			cancel()
			time.Sleep(10 * time.Millisecond)
			opCtxErr = opCtx.Err()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if opCtxErr != nil {
		t.Errorf("running operation saw its context cancelled: %v", opCtxErr)
	}
	if res["first"] != nil {
		t.Errorf("first: %v, want it to finish", res["first"])
	}
	if !errors.Is(res["second"], ErrInterrupted) {
		t.Errorf("second: %v, want ErrInterrupted", res["second"])
	}
}

// TestWalkCancelInterruptsDependents: what depends on a node the interrupt
// kept from starting was interrupted too, not failed: nothing failed.
func TestWalkCancelInterruptsDependents(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	deps := map[string][]string{"first": nil, "second": {"first"}, "third": {"second"}, "fourth": {"third", "first"}}
	res, err := Walk(ctx, deps, Options[string]{}, func(_ context.Context, n string) error {
		if n == "first" {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"second", "third", "fourth"} {
		if !errors.Is(res[n], ErrInterrupted) {
			t.Errorf("%s: %v, want ErrInterrupted", n, res[n])
		}
	}
	// A real failure still wins over an interrupt among the dependencies.
	ctx, cancel = context.WithCancel(context.Background())
	deps = map[string][]string{"bad": nil, "slow": nil, "after": {"bad", "slow"}}
	res, _ = Walk(ctx, deps, Options[string]{Parallelism: 1}, func(_ context.Context, n string) error {
		cancel()
		return errors.New("boom")
	})
	if !errors.Is(res["after"], ErrUpstream) {
		t.Errorf("after: %v, want ErrUpstream (a dependency failed)", res["after"])
	}
}

func TestWalkRejectsBadGraphs(t *testing.T) {
	noop := func(context.Context, string) error { return nil }
	if _, err := Walk(context.Background(), map[string][]string{"a": {"b"}, "b": {"a"}}, Options[string]{}, noop); err == nil {
		t.Error("cycle: no error")
	}
	if _, err := Walk(context.Background(), map[string][]string{"a": {"missing"}}, Options[string]{}, noop); err == nil {
		t.Error("missing dependency: no error")
	}
}

// Ready nodes start highest priority first; a node whose class is full
// does not hold up the others.
func TestWalkStartsByPriority(t *testing.T) {
	tests := []struct {
		name       string
		deps       map[string][]string
		priority   map[string][]float64
		class      map[string]string
		classLimit map[string]int
		want       []string
	}{
		{
			name:     "highest first",
			deps:     map[string][]string{"short": nil, "long": nil, "middle": nil},
			priority: map[string][]float64{"short": {1}, "long": {9}, "middle": {5}},
			want:     []string{"long", "middle", "short"},
		},
		{
			name:     "the first element that differs decides",
			deps:     map[string][]string{"a": nil, "b": nil, "c": nil},
			priority: map[string][]float64{"a": {5, 1}, "b": {5, 2}, "c": {4, 9}},
			want:     []string{"b", "a", "c"},
		},
		{
			name:     "a node ready later is ranked among those waiting",
			deps:     map[string][]string{"root": nil, "low": nil, "after-root": {"root"}},
			priority: map[string][]float64{"root": {9}, "low": {1}, "after-root": {5}},
			want:     []string{"root", "after-root", "low"},
		},
		{
			name:     "equal priority: the order they became ready",
			deps:     map[string][]string{"a": nil, "c": nil, "b": {"a"}},
			priority: map[string][]float64{"a": {2}, "b": {1}, "c": {1}},
			want:     []string{"a", "c", "b"},
		},
		{
			name:       "a full class does not block another",
			deps:       map[string][]string{"v1": nil, "v2": nil, "p1": nil},
			priority:   map[string][]float64{"v1": {9}, "v2": {8}, "p1": {1}},
			class:      map[string]string{"v1": "volume", "v2": "volume", "p1": "port"},
			classLimit: map[string]int{"volume": 1},
			// Two slots: v1 and p1 start together, in either order; v2
			// waits for v1's class slot although a global one is free.
			want: []string{"v1", "p1", "v2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			par := 1
			if tt.classLimit != nil {
				par = 2
			}
			opts := Options[string]{Parallelism: par, Priority: func(n string) []float64 { return tt.priority[n] }}
			if tt.class != nil {
				opts.Class = func(n string) string { return tt.class[n] }
				opts.ClassLimit = tt.classLimit
			}
			var mu sync.Mutex
			var order []string
			_, err := Walk(context.Background(), tt.deps, opts, func(_ context.Context, n string) error {
				mu.Lock()
				order = append(order, n)
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if tt.classLimit != nil && len(order) == 3 && order[0] == "p1" {
				order[0], order[1] = order[1], order[0] // started together
			}
			if fmt.Sprint(order) != fmt.Sprint(tt.want) {
				t.Errorf("started %v, want %v", order, tt.want)
			}
		})
	}
}

// When the caller's estimates move (PriorityVersion), nodes already
// waiting are ranked again: a node queued under an old guess does not
// keep a priority that newer nodes are compared against.
func TestWalkRanksWaitingNodesAgain(t *testing.T) {
	deps := map[string][]string{"root": nil, "stale": nil, "later": {"root"}}
	var version atomic.Uint64
	priority := func(n string) []float64 {
		switch n {
		case "root":
			return []float64{10}
		case "later":
			return []float64{5}
		}
		if version.Load() == 0 {
			return []float64{9} // the first guess
		}
		return []float64{1} // what the run measured
	}
	var mu sync.Mutex
	var order []string
	opts := Options[string]{Parallelism: 1, Priority: priority, PriorityVersion: version.Load}
	_, err := Walk(context.Background(), deps, opts, func(_ context.Context, n string) error {
		mu.Lock()
		order = append(order, n)
		mu.Unlock()
		if n == "root" {
			version.Add(1)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "[root later stale]"; fmt.Sprint(order) != want {
		t.Errorf("started %v, want %v", order, want)
	}
}

// Long nodes run no more at once than finishing them in the fewest
// rounds needs while short work is ready, and take every slot when none
// is.
func TestWalkLongNodesLeaveSlotsForShortWork(t *testing.T) {
	tests := []struct {
		name      string
		deps      map[string][]string
		wantFirst []string // the first four started, sorted
		wantPeak  int32    // the most nodes running at once
	}{
		{
			// 5 long nodes on 4 slots take two rounds, 3 at a time do
			// too: the fourth slot makes the dependency of the fifth.
			name: "a slot for the short work",
			deps: map[string][]string{
				"long1": nil, "long2": nil, "long3": nil, "long4": nil,
				"short": nil, "long5": {"short"},
			},
			wantFirst: []string{"long1", "long2", "long3", "short"},
			wantPeak:  4,
		},
		{
			name: "no short work ready: every slot",
			deps: map[string][]string{
				"long1": nil, "long2": nil, "long3": nil, "long4": nil, "long5": nil,
			},
			wantFirst: []string{"long1", "long2", "long3", "long4"},
			wantPeak:  4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isLong := func(n string) bool { return strings.HasPrefix(n, "long") }
			opts := Options[string]{
				Parallelism: 4,
				Long:        isLong,
				Priority: func(n string) []float64 {
					if isLong(n) {
						return []float64{9, -float64(n[len(n)-1])}
					}
					return []float64{1}
				},
			}
			var mu sync.Mutex
			var order []string
			var running, peak atomic.Int32
			_, err := Walk(context.Background(), tt.deps, opts, func(_ context.Context, n string) error {
				mu.Lock()
				order = append(order, n)
				mu.Unlock()
				now := running.Add(1)
				for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
				}
				if isLong(n) {
					time.Sleep(50 * time.Millisecond)
				} else {
					// Ends once the nodes started with it have said so
					// (or after a while, if none were), so none started
					// after it ends is counted among the first four.
					for deadline := time.Now().Add(time.Second); running.Load() < 4 && time.Now().Before(deadline); {
						time.Sleep(time.Millisecond)
					}
				}
				running.Add(-1)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			first := slices.Clone(order[:4])
			slices.Sort(first)
			if fmt.Sprint(first) != fmt.Sprint(tt.wantFirst) {
				t.Errorf("started first %v (all: %v), want %v", first, order, tt.wantFirst)
			}
			if peak.Load() != tt.wantPeak {
				t.Errorf("at most %d ran at once, want %d", peak.Load(), tt.wantPeak)
			}
		})
	}
}

// TestWalkBatches runs ready nodes of one batch key together in one slot
// (Options.Batch). With one slot, a node starts only while no other runs
// unless they share a batch: the test holds every started node until no
// other has started for a while, so each group below is what ran at once.
func TestWalkBatches(t *testing.T) {
	type group []string
	tests := []struct {
		name  string
		deps  map[string][]string
		prio  map[string]float64
		batch map[string]string // node -> key; max per key in max
		max   map[string]int
		cap   int // a cap on the class of every node, 0 none
		fail  map[string]bool
		want  []group
		// wantErr: nodes whose result is not nil, and which error.
		wantErr map[string]error
	}{
		{
			// p1 starts first and takes the next two ports by priority
			// (max 3); v1, ranked above the ports left, takes v2.
			name: "batches form by priority, max respected",
			deps: map[string][]string{"p1": nil, "p2": nil, "p3": nil, "p4": nil, "p5": nil, "v1": nil, "v2": nil, "x": nil},
			prio: map[string]float64{"p1": 5, "p2": 4, "p3": 3, "v1": 3.5, "p4": 2, "p5": 1, "v2": 0.5, "x": 0},
			batch: map[string]string{"p1": "port", "p2": "port", "p3": "port", "p4": "port", "p5": "port",
				"v1": "volume", "v2": "volume"},
			max:  map[string]int{"port": 3, "volume": 2},
			want: []group{{"p1", "p2", "p3"}, {"v1", "v2"}, {"p4", "p5"}, {"x"}},
		},
		{
			// Each member counts against its class's cap.
			name:  "class cap",
			deps:  map[string][]string{"p1": nil, "p2": nil, "p3": nil},
			prio:  map[string]float64{"p1": 3, "p2": 2, "p3": 1},
			batch: map[string]string{"p1": "port", "p2": "port", "p3": "port"},
			max:   map[string]int{"port": 5},
			cap:   2,
			want:  []group{{"p1", "p2"}, {"p3"}},
		},
		{
			// p2 fails alone: its batch's others succeed and release
			// their dependents; only p2's is upstream-failed.
			name: "one failure alone",
			deps: map[string][]string{"p1": nil, "p2": nil, "p3": nil,
				"s1": {"p1"}, "s2": {"p2"}, "s3": {"p3"}},
			prio:    map[string]float64{"p1": 3, "p2": 2, "p3": 1, "s1": 2, "s2": 1.5, "s3": 1},
			batch:   map[string]string{"p1": "port", "p2": "port", "p3": "port"},
			max:     map[string]int{"port": 3},
			fail:    map[string]bool{"p2": true},
			want:    []group{{"p1", "p2", "p3"}, {"s1"}, {"s3"}},
			wantErr: map[string]error{"p2": errBatchMember, "s2": ErrUpstream},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options[string]{
				Parallelism: 1,
				Priority:    func(n string) []float64 { return []float64{tt.prio[n]} },
				Batch:       func(n string) (string, int) { return tt.batch[n], tt.max[tt.batch[n]] },
			}
			if tt.cap > 0 {
				opts.ClassLimit = map[string]int{"": tt.cap}
			}
			groups, res := runHeld(t, context.Background(), tt.deps, opts, tt.fail, nil)
			if !slices.EqualFunc(groups, tt.want, func(a []string, b group) bool { return slices.Equal(a, b) }) {
				t.Errorf("ran together %v, want %v", groups, tt.want)
			}
			for n, err := range res {
				if want := tt.wantErr[n]; !errors.Is(err, want) || (want == nil && err != nil) {
					t.Errorf("%s: %v, want %v", n, err, want)
				}
			}
		})
	}
}

var errBatchMember = errors.New("this member fails")

// TestWalkBatchCancelled: a cancel while a batch runs lets all its
// members end with a context that is not cancelled; the nodes of its key
// still queued never start.
func TestWalkBatchCancelled(t *testing.T) {
	deps := map[string][]string{"p1": nil, "p2": nil, "p3": nil, "p4": nil}
	prio := map[string]float64{"p1": 4, "p2": 3, "p3": 2, "p4": 1}
	opts := Options[string]{
		Parallelism: 1,
		Priority:    func(n string) []float64 { return []float64{prio[n]} },
		Batch:       func(string) (string, int) { return "port", 2 },
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	groups, res := runHeld(t, ctx, deps, opts, nil, cancel)
	if want := [][]string{{"p1", "p2"}}; !slices.EqualFunc(groups, want, slices.Equal) {
		t.Errorf("ran %v, want %v", groups, want)
	}
	for n, want := range map[string]error{"p1": nil, "p2": nil, "p3": ErrInterrupted, "p4": ErrInterrupted} {
		if err := res[n]; !errors.Is(err, want) || (want == nil && err != nil) {
			t.Errorf("%s: %v, want %v", n, err, want)
		}
	}
}

// runHeld walks deps, holding each started node until no other has
// started for settle, and returns the groups of nodes that ran at once
// (sorted by name) in the order they started. fail says which fail;
// onFirst, if set, is called once the first group has started (before
// it is released); a member that then sees its context cancelled fails.
func runHeld(t *testing.T, ctx context.Context, deps map[string][]string, opts Options[string], fail map[string]bool, onFirst func()) ([][]string, map[string]error) {
	t.Helper()
	const settle = 200 * time.Millisecond
	type start struct {
		node    string
		ctx     context.Context
		release chan struct{}
	}
	starts := make(chan start)
	type outcome struct {
		res map[string]error
		err error
	}
	out := make(chan outcome, 1)
	go func() {
		res, err := Walk(ctx, deps, opts, func(ctx context.Context, n string) error {
			s := start{n, ctx, make(chan struct{})}
			starts <- s
			<-s.release
			if ctx.Err() != nil {
				return fmt.Errorf("%s ran with a cancelled context", n)
			}
			if fail[n] {
				return errBatchMember
			}
			return nil
		})
		out <- outcome{res, err}
	}()
	var groups [][]string
	for {
		var running []start
		select {
		case s := <-starts:
			running = append(running, s)
		case o := <-out:
			if o.err != nil {
				t.Fatal(o.err)
			}
			return groups, o.res
		case <-time.After(10 * time.Second):
			t.Fatal("the walk neither started a node nor ended")
		}
	settling:
		for {
			select {
			case s := <-starts:
				running = append(running, s)
			case <-time.After(settle):
				break settling
			}
		}
		var g []string
		for _, s := range running {
			g = append(g, s.node)
		}
		slices.Sort(g)
		groups = append(groups, g)
		if onFirst != nil && len(groups) == 1 {
			onFirst()
			time.Sleep(settle) // the walk sees the cancel while the batch runs
		}
		for _, s := range running {
			close(s.release)
		}
	}
}
