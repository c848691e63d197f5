package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/engine/walk"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// Applier carries out plans.
type Applier struct {
	Cloud    *resources.Cloud
	Registry resources.Registry
	// Parallelism bounds operations in flight (default 10); KindLimits
	// cap some kinds further (default: DefaultKindLimits).
	Parallelism int
	KindLimits  map[string]int
	// OpTimeout bounds one operation with its retries and waits, for
	// every kind; per kind overrides in KindTimeouts. Unset, each kind's
	// registered Timeout (resources.Kind) applies.
	OpTimeout    time.Duration
	KindTimeouts map[specs.Kind]time.Duration
	Backoff      Backoff
	// Progress receives per-operation events; nil for none.
	Progress Progress
	// LateUntil, for a destroy, is until when objects of the lab may
	// still land that no read can have seen: the caller knows that a run
	// was killed with requests in flight (the session: it took the lab
	// lock over from a dead holder), and the cloud commits such requests
	// late. The destroy's read at its end is repeated until then (see
	// reread.go). Zero: no wait.
	LateUntil time.Time
	// LatePoll is the first wait between those reads; it doubles up to
	// four times that. Default DefaultLatePoll.
	LatePoll time.Duration
}

// DefaultKindLimits cap kinds below --parallelism by default: each
// registered kind's DefaultCap (resources.Kind).
var DefaultKindLimits = resources.DefaultCaps()

// Phase is what an operation does to its address.
type Phase string

const (
	PhaseCreate  Phase = "create"
	PhaseUpdate  Phase = "update"
	PhaseDestroy Phase = "destroy"
	// PhaseBarrier orders teardown by kind; it does nothing itself.
	PhaseBarrier Phase = "barrier"
)

// Op is one node of the apply graph.
type Op struct {
	Phase   Phase
	Address specs.Address
}

func (o Op) String() string { return string(o.Phase) + " " + string(o.Address) }

// Progress hears about operations as they run.
type Progress interface {
	Started(op Op)
	Retrying(op Op, attempt int, err error)
	Finished(op Op, elapsed time.Duration, id string, err error)
	// Reread is told that a destroy read the lab again after a delete
	// stayed in use, and what it found; the deletes of what it found
	// are operations like the plan's (Started, Finished), not counted
	// in the plan.
	Reread(r Reread)
}

// Report is the outcome of an apply.
type Report struct {
	// Results holds every operation's outcome (nil error on success).
	Results map[Op]error
	// Done counts successful operations by phase.
	Done map[Phase]int
	// Stopped is why the apply was stopped before its end, when a cause
	// was given (the lab lock lost); nil when it ran to its end or was
	// merely cancelled (Ctrl-C).
	Stopped error
	// Rereads are a destroy's re-reads of the lab after a delete stayed
	// in use (reread.go), in the order they happened; their deletes are
	// among Results.
	Rereads []Reread
}

// Failed lists the root-cause failures (walk.Failures), sorted by
// address, each naming its address once, grouped by kind, phase and cause.
func (r *Report) Failed() []error {
	fails := walk.Failures(r.Results, opLess)
	out := make([]error, 0, len(fails))
	// Failures of one kind, phase and cause are one entry: a quota that
	// refused 791 ports is one line, not 791.
	for _, g := range groupFailures(fails) {
		out = append(out, g)
	}
	return out
}

// Skipped counts the operations not started because one they depend on
// failed.
func (r *Report) Skipped() int {
	n := 0
	for op, err := range r.Results {
		if op.Phase != PhaseBarrier && errors.Is(err, walk.ErrUpstream) {
			n++
		}
	}
	return n
}

// Interrupted lists the operations an interrupt (Ctrl-C) kept from
// starting, sorted: what a run cut short left undone.
func (r *Report) Interrupted() []Op {
	var out []Op
	for op, err := range r.Results {
		if op.Phase != PhaseBarrier && errors.Is(err, walk.ErrInterrupted) {
			out = append(out, op)
		}
	}
	sort.Slice(out, func(i, j int) bool { return opLess(out[i], out[j]) })
	return out
}

// Err lists why the apply was stopped (Stopped), every root-cause
// failure with its address (go-multierror), then how many operations were
// skipped because of them or an interrupt.
func (r *Report) Err() error {
	var merr *multierror.Error
	if r.Stopped != nil {
		merr = multierror.Append(merr, fmt.Errorf("stopped: %w", r.Stopped))
	}
	for _, err := range r.Failed() {
		merr = multierror.Append(merr, err)
	}
	if skipped := r.Skipped(); skipped > 0 {
		merr = multierror.Append(merr, fmt.Errorf("%d operations not started because an operation they depend on failed", skipped))
	}
	if interrupted := len(r.Interrupted()); interrupted > 0 {
		merr = multierror.Append(merr, fmt.Errorf("interrupted: %d operations not started; run apply again to finish", interrupted))
	}
	if merr == nil {
		return nil
	}
	merr.ErrorFormat = listErrors
	return merr
}

// failureGroup is the failures of one kind and phase with one cause.
type failureGroup struct {
	kind     specs.Kind
	phase    Phase
	cause    string
	first    error // the first failure, said in full when it is alone
	addrs    []specs.Address
	notTried int
}

// Error says a lone failure as "ADDR: PHASE: cause", and a group as
// "791 ports: cause (first: ADDR, last: ADDR; 780 not tried after it)".
func (g *failureGroup) Error() string {
	if len(g.addrs) == 1 {
		return g.first.Error()
	}
	what := fmt.Sprintf("%d %ss", len(g.addrs), g.kind)
	if g.phase != PhaseCreate {
		what += " (" + string(g.phase) + ")"
	}
	tail := ""
	if g.notTried > 0 {
		tail = fmt.Sprintf("; %d not tried after the first refusal", g.notTried)
	}
	return fmt.Sprintf("%s: %s (first: %s, last: %s%s)", what, g.cause, g.addrs[0], g.addrs[len(g.addrs)-1], tail)
}

// groupFailures folds failures that share a kind, a phase and a cause (a
// quota that refused 791 ports is one line, not 791), in the order of
// their first address; creates not tried because of a kind's first
// refusal join that refusal's group.
func groupFailures(fails []walk.Result[Op]) []*failureGroup {
	var out []*failureGroup
	byKey := map[string]*failureGroup{}
	for _, f := range fails {
		err, notTried := f.Err, false
		var nt *NotTried
		if errors.As(err, &nt) {
			err, notTried = nt.Cause, true
		}
		full := resources.Humanize(err)
		// Adapters name the address already; say it once.
		if !strings.HasPrefix(full.Error(), string(f.Node.Address)+":") {
			full = fmt.Errorf("%s: %s: %w", f.Node.Address, f.Node.Phase, full)
		}
		cause := causeOf(f.Node.Address, f.Node.Phase, err)
		if notTried {
			cause = causeOf(nt.First, PhaseCreate, nt.Cause)
			full = f.Err
		}
		kind := BaseAddress(f.Node.Address).Kind()
		key := string(kind) + "\x00" + string(f.Node.Phase) + "\x00" + cause
		g := byKey[key]
		if g == nil {
			g = &failureGroup{kind: kind, phase: f.Node.Phase, cause: cause, first: full}
			byKey[key] = g
			out = append(out, g)
		}
		g.addrs = append(g.addrs, f.Node.Address)
		if notTried {
			g.notTried++
		}
	}
	return out
}

// causeOf is a failure's message without the address and phase that
// start it, so failures of one cause compare equal.
func causeOf(a specs.Address, phase Phase, err error) string {
	cause := resources.Humanize(err).Error()
	for _, prefix := range []string{string(a) + ": ", string(phase) + ": "} {
		cause = strings.TrimPrefix(cause, prefix)
	}
	return cause
}

func listErrors(es []error) string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = "  * " + e.Error()
	}
	return fmt.Sprintf("%d problem(s):\n%s", len(es), strings.Join(lines, "\n"))
}

func opLess(a, b Op) bool {
	if a.Address != b.Address {
		return specs.Less(a.Address, b.Address)
	}
	return a.Phase < b.Phase
}

// teardownRank orders deletes: a kind is deleted only after every kind
// ranked before it, as its registration (resources.Kind) says. A kind
// without one is an error, never rank 0: its leftovers would be deleted
// before the servers that use them.
func teardownRank(a specs.Address) (int, error) {
	k, ok := resources.KindOf(BaseAddress(a).Kind())
	if !ok || k.TeardownRank <= 0 {
		return 0, fmt.Errorf("%s: kind %q has no teardown rank registered", a, BaseAddress(a).Kind())
	}
	return k.TeardownRank, nil
}

// Graph turns a plan into operations and the order between them:
// creates and updates after their dependencies' creates and updates; a
// replaced object's create after its delete; deletes before the deletes
// of what they depend on. Deletes of objects the spec no longer has (whose
// dependencies only the cloud knows) go in teardown order by kind, through
// one barrier per rank, so a 1,000-slave teardown is not a million edges.
func Graph(lab *specs.Lab, p *plan.Plan) (map[Op][]Op, error) {
	deps, err := lab.Dependencies()
	if err != nil {
		return nil, err
	}
	g := map[Op][]Op{}
	applyOp := map[specs.Address]Op{}
	destroyed := map[specs.Address]bool{}
	for _, c := range p.Changes {
		switch c.Action {
		case plan.Create:
			applyOp[c.Address] = Op{PhaseCreate, c.Address}
		case plan.Update:
			applyOp[c.Address] = Op{PhaseUpdate, c.Address}
		case plan.Replace:
			applyOp[c.Address] = Op{PhaseCreate, c.Address}
			destroyed[c.Address] = true
		case plan.Delete:
			destroyed[c.Address] = true
		}
	}
	for a, op := range applyOp {
		var ds []Op
		for _, d := range deps[a] {
			if dop, ok := applyOp[d]; ok {
				ds = append(ds, dop)
			}
		}
		if op.Phase == PhaseCreate && destroyed[a] {
			ds = append(ds, Op{PhaseDestroy, a})
		}
		g[op] = ds
	}

	// Orphans by teardown rank, chained through barriers.
	orphansByRank := map[int][]Op{}
	rank := map[specs.Address]int{}
	maxRank := 0
	for a := range destroyed {
		r, err := teardownRank(a)
		if err != nil {
			return nil, err
		}
		rank[a] = r
		maxRank = max(maxRank, r)
		if _, inLab := lab.Resource(a); !inLab {
			orphansByRank[r] = append(orphansByRank[r], Op{PhaseDestroy, a})
		}
	}
	barrier := func(r int) Op { return Op{PhaseBarrier, specs.Address(fmt.Sprintf("teardown-rank-%d", r))} }
	hasBarrier := map[int]bool{}
	prev := -1
	for r := 0; r <= maxRank; r++ {
		if len(orphansByRank[r]) == 0 {
			continue
		}
		ds := append([]Op(nil), orphansByRank[r]...)
		if prev >= 0 {
			ds = append(ds, barrier(prev))
		}
		g[barrier(r)] = ds
		hasBarrier[r] = true
		prev = r
	}
	lastBarrierBelow := func(r int) (Op, bool) {
		for k := r - 1; k >= 0; k-- {
			if hasBarrier[k] {
				return barrier(k), true
			}
		}
		return Op{}, false
	}
	dependents := map[specs.Address][]specs.Address{}
	for a, ds := range deps {
		for _, d := range ds {
			dependents[d] = append(dependents[d], a)
		}
	}
	for a := range destroyed {
		var ds []Op
		if _, inLab := lab.Resource(a); inLab {
			for _, dep := range dependents[a] {
				if destroyed[dep] {
					ds = append(ds, Op{PhaseDestroy, dep})
				}
			}
		} else {
			// An object the spec dropped may still be held by one that
			// stays, until that one's update frees it (a port that is a
			// trunk's subport): its registration says by which kinds.
			kd, _ := resources.KindOf(BaseAddress(a).Kind())
			for _, k := range kd.ReleasedBy {
				for _, op := range applyOp {
					if op.Phase == PhaseUpdate && op.Address.Kind() == k {
						ds = append(ds, op)
					}
				}
			}
		}
		if b, ok := lastBarrierBelow(rank[a]); ok {
			ds = append(ds, b)
		}
		g[Op{PhaseDestroy, a}] = ds
	}
	for op := range g {
		sort.Slice(g[op], func(i, j int) bool { return opLess(g[op][i], g[op][j]) })
	}
	return g, nil
}

// ids is the address -> live ID table an apply keeps up to date.
type ids struct {
	mu sync.Mutex
	m  map[specs.Address]string
}

func (t *ids) ID(a specs.Address) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	id, ok := t.m[a]
	return id, ok
}

func (t *ids) set(a specs.Address, id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id == "" {
		delete(t.m, a)
		return
	}
	t.m[a] = id
}

// Apply carries out p against the cloud. The plan must have been built
// from st; ctx cancellation stops new operations and lets running ones end.
// A cancellation with a cause (context.WithCancelCause: the lab lock
// lost) is reported with that cause in Report.Stopped.
func (ap *Applier) Apply(ctx context.Context, lab *specs.Lab, st *State, p *plan.Plan) (*Report, error) {
	if len(p.Conflicts) > 0 {
		return nil, fmt.Errorf("the plan has %d conflict(s) with objects fuelplan does not own; resolve them first", len(p.Conflicts))
	}
	table := &ids{m: map[specs.Address]string{}}
	for a, objs := range st.owned {
		table.m[a] = objs[0].ID
	}
	for a, o := range st.found {
		table.m[a] = o.ID
	}
	for _, c := range p.Changes {
		if c.Action == plan.Replace {
			delete(table.m, c.Address) // its new ID is set when created
		}
	}
	var rr *rereader
	if p.Destroy {
		rr = newRereader(ctx, ap, lab, p, table)
	}
	results, done, err := ap.walk(ctx, lab, st, table, p, rr)
	if err != nil {
		return nil, err
	}
	rep := &Report{Results: results, Done: done}
	if rr != nil {
		rr.finish(rep)
	}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) && !errors.Is(cause, context.DeadlineExceeded) {
		rep.Stopped = cause
	}
	return rep, nil
}

// walk carries out p's operations along their graph and returns each
// one's outcome and the successes by phase. rr, for a destroy, hears the
// deletes that stay in use (and runs its own deletes through walk).
func (ap *Applier) walk(ctx context.Context, lab *specs.Lab, st *State, table *ids, p *plan.Plan, rr *rereader) (map[Op]error, map[Phase]int, error) {
	g, err := Graph(lab, p)
	if err != nil {
		return nil, nil, err
	}
	changes := map[specs.Address]plan.Change{}
	for _, c := range p.Changes {
		changes[c.Address] = c
	}
	limits := ap.KindLimits
	if limits == nil {
		limits = DefaultKindLimits
	}
	path := newCriticalPath(g)
	opts := walk.Options[Op]{
		Parallelism:     ap.Parallelism,
		Class:           func(o Op) string { return string(BaseAddress(o.Address).Kind()) },
		ClassLimit:      limits,
		Priority:        path.Priority,
		PriorityVersion: path.Version,
		Long:            path.Long,
		Batch:           batchOf,
	}
	var mu sync.Mutex
	done := map[Phase]int{}
	stops := &kindStops{first: map[specs.Kind]*NotTried{}}
	results, err := walk.Walk(ctx, g, opts, func(ctx context.Context, op Op) error {
		if op.Phase == PhaseBarrier {
			return nil
		}
		kind := BaseAddress(op.Address).Kind()
		if op.Phase == PhaseCreate {
			// The quota or policy that refused this kind's first create
			// refuses the rest: do not send them.
			if err := stops.stopped(kind); err != nil {
				return err
			}
		}
		start := time.Now()
		if ap.Progress != nil {
			ap.Progress.Started(op)
		}
		id, err := ap.run(ctx, lab, st, table, changes[op.Address], op, rr)
		elapsed := time.Since(start)
		if ap.Progress != nil {
			ap.Progress.Finished(op, elapsed, id, err)
		}
		if err == nil {
			path.Measured(op, elapsed)
			mu.Lock()
			done[op.Phase]++
			mu.Unlock()
		} else if op.Phase == PhaseCreate {
			stops.failed(op.Address, err)
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return results, done, nil
}

// batchOf puts the creates of a kind the cloud takes in bulk (Kind.Bulk)
// in one batch: the walker starts those ready together in one slot, so
// the adapter's bulk window gathers them into one request. Without it, at
// parallelism 10 with nine slots on server builds, ports went one slot at
// a time and nearly every bulk POST carried one port.
func batchOf(op Op) (string, int) {
	if op.Phase != PhaseCreate {
		return "", 0
	}
	k := BaseAddress(op.Address).Kind()
	if d, _ := resources.KindOf(k); d.Bulk > 1 {
		return "create " + string(k), d.Bulk
	}
	return "", 0
}

func (ap *Applier) timeout(k specs.Kind) time.Duration {
	if d, ok := ap.KindTimeouts[k]; ok {
		return d
	}
	if ap.OpTimeout > 0 {
		return ap.OpTimeout
	}
	d, _ := resources.KindOf(k)
	return d.Timeout // TestEveryKindIsRegistered: set for every kind with an adapter
}

func (ap *Applier) backoff() Backoff {
	if ap.Backoff.Initial > 0 {
		return ap.Backoff
	}
	return DefaultBackoff
}

// run performs one operation with retries and returns the object's ID.
func (ap *Applier) run(ctx context.Context, lab *specs.Lab, st *State, table *ids, c plan.Change, op Op, rr *rereader) (string, error) {
	base := BaseAddress(op.Address)
	ad, err := ap.Registry.Adapter(base.Kind())
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, ap.timeout(base.Kind()))
	defer cancel()
	onRetry := func(attempt int, err error) (bool, error) {
		if ap.Progress != nil {
			ap.Progress.Retrying(op, attempt+1, err)
		}
		return false, nil
	}
	switch op.Phase {
	case PhaseDestroy:
		live := st.byID(c.ID)
		if live == nil {
			live = &resources.Object{Kind: base.Kind(), Address: base, ID: c.ID, Name: c.Name, Owned: true}
		}
		// A destroy's delete that stays in use may be held by an object
		// the destroy never read: the rereader looks (reread.go).
		stuck := &inUseCounter{rr: rr, a: op.Address}
		err := retry(ctx, ap.backoff(), func(ctx context.Context) error { return ad.Delete(ctx, ap.Cloud, live) },
			func(attempt int, err error) (bool, error) {
				stuck.retried(err)
				return onRetry(attempt, err)
			})
		if err == nil && op.Address == base {
			if id, ok := table.ID(base); ok && id == c.ID {
				table.set(base, "")
			}
		}
		return c.ID, err

	case PhaseUpdate:
		r, _ := lab.Resource(base)
		live, _ := st.Live(base)
		var names []string
		for _, f := range c.Fields {
			if f.Name == resources.MarkField {
				if err := ap.completeMark(ctx, lab, live, onRetry); err != nil {
					return live.ID, err
				}
				continue
			}
			names = append(names, f.Name)
		}
		if len(names) == 0 {
			return live.ID, nil
		}
		var obj *resources.Object
		err := retry(ctx, ap.backoff(), func(ctx context.Context) error {
			var err error
			obj, err = ad.Update(ctx, ap.Cloud, r, live, names, table)
			return err
		}, onRetry)
		if err != nil {
			return live.ID, err
		}
		return obj.ID, nil

	default: // create
		r, _ := lab.Resource(base)
		var obj *resources.Object
		adopted, attempts := false, 0
		err := retry(ctx, ap.backoff(), func(ctx context.Context) error {
			if attempts++; attempts > 1 {
				// Only a retry looks for what a failed attempt left: the
				// plan's read found what earlier runs left.
				ctx = resources.RetriedCreate(ctx)
			}
			var err error
			obj, err = ad.Create(ctx, ap.Cloud, lab.Name, r, table)
			return err
		}, func(attempt int, err error) (bool, error) {
			onRetry(attempt, err)
			// The failed attempt may have created the object after all
			// (a timeout after Neutron committed it): adopt it if so,
			// rather than making a duplicate. It carries our mark.
			found, lerr := ap.findOwned(ctx, lab, st, ad, r)
			if lerr != nil || found == nil {
				return false, nil
			}
			obj, adopted = found, true
			return true, nil
		})
		if err != nil {
			return "", err
		}
		if adopted {
			// The attempt that made it may have stopped short of its last
			// steps (the tags, a description put back after tagging):
			// finish them, so the next plan is empty.
			if resources.HalfMarked(obj) {
				if err := ap.completeMark(ctx, lab, obj, onRetry); err != nil {
					return obj.ID, err
				}
			}
			if fields := updatable(ad, r, obj); len(fields) > 0 {
				err := retry(ctx, ap.backoff(), func(ctx context.Context) error {
					o, err := ad.Update(ctx, ap.Cloud, r, obj, fields, table)
					if err == nil {
						obj = o
					}
					return err
				}, onRetry)
				if err != nil {
					return obj.ID, err
				}
			}
		}
		table.set(base, obj.ID)
		return obj.ID, nil
	}
}

// completeMark puts the lab's tags on a HalfMarked object.
func (ap *Applier) completeMark(ctx context.Context, lab *specs.Lab, o *resources.Object, onRetry func(int, error) (bool, error)) error {
	return retry(ctx, ap.backoff(), func(ctx context.Context) error {
		return resources.CompleteMark(ctx, ap.Cloud, lab.Name, o)
	}, onRetry)
}

func (ap *Applier) findOwned(ctx context.Context, lab *specs.Lab, st *State, ad resources.Adapter, r specs.Resource) (*resources.Object, error) {
	objs, err := ad.List(ctx, ap.Cloud, resources.Query{Lab: lab.Name, Want: []specs.Resource{r}, Read: st})
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		if o.Owned && o.Address == r.Addr() && !forcesReplace(ad, r, o) {
			return o, nil
		}
	}
	return nil, nil
}

// updatable lists the plain fields, sorted, in which an object differs from
// the spec and which the API can change in place.
func updatable(ad resources.Adapter, r specs.Resource, o *resources.Object) []string {
	schema := ad.Schema()
	var out []string
	for n, want := range ad.Desired(r).Fields {
		if f, _ := schema.Lookup(n); !f.ForceNew && o.Fields[n] != want {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// forcesReplace reports whether an object differs from the spec in a
// field the API cannot change: such a leftover is not adopted (the next
// plan replaces it).
func forcesReplace(ad resources.Adapter, r specs.Resource, o *resources.Object) bool {
	schema := ad.Schema()
	for n, want := range ad.Desired(r).Fields {
		if f, _ := schema.Lookup(n); f.ForceNew && o.Fields[n] != want {
			return true
		}
	}
	return false
}

// byID finds an owned object by its ID.
func (s *State) byID(id string) *resources.Object {
	for _, objs := range s.owned {
		for _, o := range objs {
			if o.ID == id {
				return o
			}
		}
	}
	return nil
}
