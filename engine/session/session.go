// Package session carries out one command on one lab: plan, confirm,
// apply or destroy under the lab lock, the saved-plan check, the master's
// boot phase and the readiness waits. It makes every decision and reports
// typed outcomes; the CLI parses flags, answers the confirm callback and
// prints what the View hears. It speaks to the cloud only through the
// engine and the resources layer (no OpenStack client of its own).
package session

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
	"github.com/fuelplan/fuelplan/waits"
)

// View hears what a session does, to show it. Its methods are called from
// the session's goroutine, except the engine.Progress and the writers,
// which hear parallel operations and must be safe for concurrent use.
type View interface {
	// Planned shows a fresh plan, before it is confirmed. A saved plan
	// was shown when it was made and is not shown again.
	Planned(p *plan.Plan) error
	// Applying is told the operations are about to start; the Progress
	// it returns hears each of them until Applied.
	Applying(p *plan.Plan) engine.Progress
	// Applied is told the operations ended (all of them or not: rep
	// says), before the session returns.
	Applied(p *plan.Plan, rep *engine.Report)
	// Waiting is told the readiness checks start; the writer hears their
	// progress.
	Waiting(checks int) io.Writer
	// Waited is told every check is ready.
	Waited(rep *waits.Report)
	// Notices hears the rest: waiting for the lab lock, upload progress.
	Notices() io.Writer
}

// Connect opens the cloud a session works on; the closer releases it
// (the simulated cloud saves its state file there).
type Connect func(ctx context.Context) (*resources.Cloud, func() error, error)

// Confirm asks whether to carry out a plan; false declines it. A nil
// Confirm approves every plan (--auto-approve).
type Confirm func(p *plan.Plan) (bool, error)

// Session is one command's work on a lab.
type Session struct {
	// Lab is the compiled spec, as written (Phase is applied by the
	// session).
	Lab *specs.Lab
	// CloudName is the name of the cloud, recorded in plans.
	CloudName string
	Connect   Connect
	// Registry defaults to resources.Default(), opened and closed with
	// each connection.
	Registry resources.Registry
	View     View
	Confirm  Confirm
	// LockWait is how long to wait for the lab lock another run holds.
	LockWait time.Duration
	// Parallelism bounds operations in flight; KindLimits cap some kinds
	// further, on top of engine.DefaultKindLimits.
	Parallelism int
	KindLimits  map[string]int
	// LockLease is how long the lab lock stays valid unrenewed; zero is
	// lablock.DefaultLease. A lock lost is noticed within a third of it.
	LockLease time.Duration
	// LateLandings is how long after a killed run died the cloud may
	// still commit requests it had in flight, for a destroy that took
	// the lab lock over from it; zero is DefaultLateLandings. LatePoll is
	// the first wait between the destroy's reads meanwhile; zero is
	// engine.DefaultLatePoll.
	LateLandings time.Duration
	LatePoll     time.Duration
	// WaitHTTP, when set, gives the HTTP client of the waits, asked once
	// connected: the simulated cloud's, which reaches its lab networks
	// (its Fuel master). nil, or a nil client: the waits' default.
	WaitHTTP func() *http.Client

	// defaults are the default adapters, open while connected (their
	// SSH pool is closed with the connection) when Registry is nil. A
	// Session runs one command at a time.
	defaults resources.Registry
}

// ErrDeclined is returned when Confirm declined the plan: nothing changed.
var ErrDeclined = errors.New("cancelled: nothing was changed")

// registry is the adapters of the open connection: s.Registry, or the
// defaults connected opened for it.
func (s *Session) registry() resources.Registry {
	if s.Registry == nil {
		return s.defaults
	}
	return s.Registry
}

// kindLimits are the defaults with the session's caps on top.
func (s *Session) kindLimits() map[string]int {
	out := map[string]int{}
	for k, v := range engine.DefaultKindLimits {
		out[k] = v
	}
	for k, v := range s.KindLimits {
		out[k] = v
	}
	return out
}

// connected runs fn with the cloud open, then closes it.
func (s *Session) connected(ctx context.Context, fn func(c *resources.Cloud) error) (err error) {
	c, closeCloud, err := s.Connect(ctx)
	if err != nil {
		return err
	}
	defer func() { err = joinClose(err, closeCloud()) }()
	if s.Registry == nil {
		s.defaults = resources.Default()
		defer func() {
			err = joinClose(err, s.defaults.Close())
			s.defaults = nil
		}()
	}
	return fn(c)
}

func joinClose(err, cerr error) error {
	if cerr == nil {
		return err
	}
	if err == nil {
		return cerr
	}
	return &closeError{err: err, cerr: cerr}
}

// closeError keeps the command's error first (and errors.As-able), with
// the failed close after it.
type closeError struct{ err, cerr error }

func (e *closeError) Error() string {
	return e.err.Error() + " (and closing the cloud: " + e.cerr.Error() + ")"
}
func (e *closeError) Unwrap() error { return e.err }
