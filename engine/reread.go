package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// A destroy reads the lab once and deletes what it read. A create that a
// killed apply had in flight can land after that read: the cloud commits a
// request whose client has gone away (real Neutron does; seen on Zed, a
// port committed two seconds after the kill, after destroy's read). Such an
// object is the lab's (its tags, or its creation mark), but the destroy
// never saw it, and what it sits on (its subnet, network, security group)
// answers "in use" to every retry until the delete's timeout. So a delete
// that stays in use makes the destroy read the lab again and delete what
// the new read finds that the first did not; the blocked delete's own
// retries then go through. An object that lands late and holds nothing up
// (a network, a router) answers no delete "in use": a destroy whose
// deletes all went through reads the lab once more at its end and deletes
// what it finds, so "done" means the read found nothing of the lab left.
// The re-reads are bounded (maxRereads), and each that finds something is
// said (Progress.Reread, Report.Rereads).
//
// This is the engine's, not the session's: the engine decides what a
// retried operation means (a create's retry looks for what an earlier
// attempt made, as this looks for what an earlier process made), the
// re-read has to happen inside the walk while the blocked deletes are
// retrying, which only the applier sees, and every caller of Apply (the
// session, the end-to-end suite, the benchmarks) gets it. The engine still
// knows no OpenStack: "in use" is the class the resources layer gives an
// error, and which objects are the lab's is its reading of the marks
// (engine.Read, as plan and destroy read).

// rereadAfter is how many "in use" answers in a row a delete takes before
// it asks for a re-read: what the destroy itself is releasing (a port a
// deleted server still holds) clears within a few retries; an object the
// destroy never saw does not.
const rereadAfter = 3

// maxRereads bounds the re-reads of one destroy, the last one's included.
const maxRereads = 4

// A destroy told that objects may land late (Applier.LateUntil: a killed
// run's requests still in flight) does not stop at one read at its end:
// it reads the lab again every LatePoll (doubling up to maxLatePolls
// times that) until LateUntil has passed, and deletes what each read
// finds, so its last read comes after the last landing it was told of.
// Its re-reads are bounded by maxRereads+maxLateRereads.
const (
	// DefaultLatePoll is the first wait between the reads at the end.
	DefaultLatePoll = 5 * time.Second
	// maxLatePolls caps the backed-off wait at this many LatePolls.
	maxLatePolls = 4
	// maxLateRereads is how many more re-reads such a destroy may make:
	// a minute's wait at 5, 10, 20, 20 s is five reads; the rest is for
	// reads that find something (each is followed by another at once).
	maxLateRereads = 12
)

// Reread is one re-read of the lab by a destroy whose delete stayed in use.
type Reread struct {
	// After is the delete that stayed in use; "" for the read at the
	// destroy's end.
	After specs.Address
	// Found are the lab's objects the re-read found that the destroy had
	// not seen, by the address they are deleted under, sorted.
	Found []specs.Address
	// Err is why the re-read failed, if it did.
	Err error
	// Stopped, when set, is not a read: the destroy was stopped while it
	// waited for objects that may land until then.
	Stopped time.Time
}

// listedFound bounds how many addresses a Reread's message names.
const listedFound = 5

// String says what the re-read found: "destroy: re-read the lab after
// subnet.admin stayed in use: 1 more object (port.slave-01.admin)".
func (r Reread) String() string {
	if !r.Stopped.IsZero() {
		return "destroy: stopped while waiting for objects a killed run's requests may land until " +
			r.Stopped.Format(time.TimeOnly) + ": what lands later needs another destroy"
	}
	head := fmt.Sprintf("destroy: re-read the lab after %s stayed in use: ", r.After)
	if r.After == "" {
		head = "destroy: re-read the lab after its deletes: "
	}
	switch {
	case r.Err != nil:
		return head + "the read failed: " + r.Err.Error()
	case len(r.Found) == 0:
		return head + "no more objects of the lab (what holds it is not the lab's, or has not landed yet)"
	}
	names := make([]string, 0, listedFound+1)
	for i, a := range r.Found {
		if i == listedFound {
			names = append(names, fmt.Sprintf("and %d more", len(r.Found)-listedFound))
			break
		}
		names = append(names, string(a))
	}
	what := "objects"
	if len(r.Found) == 1 {
		what = "object"
	}
	return fmt.Sprintf("%s%d more %s (%s), deleting", head, len(r.Found), what, strings.Join(names, ", "))
}

// rereader runs one destroy's re-reads: at most one at a time, at most
// maxRereads in all, each in a goroutine of its own beside the walk (the
// blocked deletes keep retrying meanwhile), each deleting what it found
// through a walk of its own.
type rereader struct {
	ap *Applier
	// ctx is the apply's: no re-read starts once it is cancelled.
	ctx   context.Context
	lab   *specs.Lab
	opts  PlanOptions
	table *ids

	wg      sync.WaitGroup
	mu      sync.Mutex
	seen    map[string]bool        // IDs of objects the destroy deletes
	taken   map[specs.Address]bool // addresses of its operations
	rounds  int
	limit   int // maxRereads, more when objects may land late
	running bool
	rereads []Reread
	results map[Op]error
	done    int
}

func newRereader(ctx context.Context, ap *Applier, lab *specs.Lab, p *plan.Plan, table *ids) *rereader {
	r := &rereader{ap: ap, ctx: ctx, lab: lab, table: table,
		opts: PlanOptions{Destroy: true, Targets: p.Targets, Excludes: p.Excludes},
		seen: map[string]bool{}, taken: map[specs.Address]bool{}, results: map[Op]error{}, limit: maxRereads}
	if !ap.LateUntil.IsZero() {
		r.limit += maxLateRereads
	}
	for _, c := range p.Changes {
		r.taken[c.Address] = true
		if c.ID != "" {
			r.seen[c.ID] = true
		}
	}
	return r
}

// stuck is told that the delete of a has stayed in use: it starts a
// re-read beside the walk, unless one is running, the destroy was
// stopped, or the rounds are spent.
func (r *rereader) stuck(a specs.Address) {
	if !r.take() {
		return
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.round(a)
		r.release()
	}()
}

// take claims a round, if one may start now.
func (r *rereader) take() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running || r.rounds >= r.limit || r.ctx.Err() != nil {
		return false
	}
	r.running = true
	r.rounds++
	return true
}

func (r *rereader) release() {
	r.mu.Lock()
	r.running = false
	r.mu.Unlock()
}

// round reads the lab again, plans its destroy, and deletes the objects
// of that plan the destroy had not seen; it returns how many it found. The
// last read (after == "") says nothing when it finds nothing.
func (r *rereader) round(after specs.Address) int {
	st, err := Read(r.ctx, r.ap.Cloud, r.ap.Registry, r.lab)
	var p *plan.Plan
	if err == nil {
		p, err = BuildPlan(r.lab, st, r.ap.Registry, r.opts)
	}
	if err != nil {
		if r.ctx.Err() == nil {
			r.said(Reread{After: after, Err: resources.Humanize(err)})
		}
		return 0
	}
	extra := &plan.Plan{Destroy: true, Changes: []plan.Change{}}
	r.mu.Lock()
	for _, c := range p.Changes {
		if c.Action != plan.Delete || c.ID == "" || r.seen[c.ID] {
			continue
		}
		r.seen[c.ID] = true
		if r.taken[c.Address] {
			// The address the first read filed another object under:
			// this one is deleted as a duplicate of it.
			c.Address = DuplicateAddress(BaseAddress(c.Address), c.ID)
		}
		r.taken[c.Address] = true
		extra.Changes = append(extra.Changes, c)
	}
	r.mu.Unlock()
	extra.Sort()
	rr := Reread{After: after}
	for _, c := range extra.Changes {
		rr.Found = append(rr.Found, c.Address)
	}
	sort.Slice(rr.Found, func(i, j int) bool { return specs.Less(rr.Found[i], rr.Found[j]) })
	if len(extra.Changes) == 0 {
		if after != "" {
			r.said(rr)
		}
		return 0
	}
	r.said(rr)
	results, done, err := r.ap.walk(r.ctx, r.lab, st, r.table, extra, r)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		for _, c := range extra.Changes {
			r.results[Op{PhaseDestroy, c.Address}] = err
		}
		return len(extra.Changes)
	}
	for op, err := range results {
		if op.Phase != PhaseBarrier {
			r.results[op] = err
		}
	}
	r.done += done[PhaseDestroy]
	return len(extra.Changes)
}

// said records a re-read and tells the progress about it.
func (r *rereader) said(rr Reread) {
	r.mu.Lock()
	r.rereads = append(r.rereads, rr)
	r.mu.Unlock()
	if r.ap.Progress != nil {
		r.ap.Progress.Reread(rr)
	}
}

// finish lets the rounds end; then, when every delete went through, reads
// the lab once more and deletes what landed late (again, while a read
// finds something and rounds are left; and, until Applier.LateUntil,
// again after a wait). It adds what the rounds did to the destroy's
// report.
func (r *rereader) finish(rep *Report) {
	r.wg.Wait()
	poll := r.ap.LatePoll
	if poll <= 0 {
		poll = DefaultLatePoll
	}
	maxPoll := maxLatePolls * poll
	for r.allDone(rep.Results) && r.take() {
		found := r.round("")
		r.release()
		r.wg.Wait() // a round its deletes started
		if found > 0 {
			continue
		}
		wait := time.Until(r.ap.LateUntil)
		if wait <= 0 {
			break
		}
		if !r.sleep(min(wait, poll)) {
			r.said(Reread{Stopped: r.ap.LateUntil})
			break
		}
		poll = min(2*poll, maxPoll)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for op, err := range r.results {
		rep.Results[op] = err
	}
	rep.Done[PhaseDestroy] += r.done
	rep.Rereads = r.rereads
}

// sleep waits d; false when the destroy was stopped meanwhile.
func (r *rereader) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// allDone reports whether every operation of the destroy, the rounds'
// included, succeeded.
func (r *rereader) allDone(results map[Op]error) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range []map[Op]error{results, r.results} {
		for _, err := range m {
			if err != nil {
				return false
			}
		}
	}
	return true
}

// inUseCounter counts a delete's "in use" answers in a row and tells the
// rereader when they reach rereadAfter (and again after as many more).
type inUseCounter struct {
	rr *rereader
	a  specs.Address
	n  int
}

func (c *inUseCounter) retried(err error) {
	if c.rr == nil {
		return
	}
	if !errors.Is(err, resources.ErrInUse) {
		c.n = 0
		return
	}
	if c.n++; c.n >= rereadAfter {
		c.n = 0
		c.rr.stuck(c.a)
	}
}
