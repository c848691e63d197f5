package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/internal/lablock"
	"github.com/fuelplan/fuelplan/resources"
)

// The session's every use of the lab lock (internal/lablock) is in this
// file.

// locked runs fn holding the lab lock, then frees it. fn gets the lock to
// Guard the work that must stop when the lock is lost; it returns whether
// the lab is gone from the cloud (a destroy that left nothing): then the
// lock's anchor is removed too, so a destroyed lab leaves nothing of its
// own behind. A lock found held by a process of this host that is gone (a
// killed run) is taken over, saying so among the notices.
func (s *Session) locked(ctx context.Context, c *resources.Cloud, destroy bool, fn func(lock *lablock.Lock) (gone bool, err error)) (err error) {
	lock, err := lablock.Acquire(ctx, c, s.Lab.Name, lablock.Options{Wait: s.LockWait, Lease: s.LockLease, Progress: s.View.Notices()})
	if err != nil {
		return err
	}
	gone := false
	defer func() {
		release := lock.Release
		var stopped *lateWaitStopped
		switch {
		case gone:
			release = lock.Remove
		case errors.As(err, &stopped):
			// The killed run's requests may still land: the next run
			// must take its lock over again, and wait the rest.
			release = lock.GiveBack
		}
		rerr := release(context.WithoutCancel(ctx))
		switch {
		case rerr == nil:
		case errors.Is(rerr, lablock.ErrLost):
			// A lost lock is not released (it may be another's now). The
			// apply it stopped says so already; one lost after the work
			// ended is the outcome itself: the lab may be another run's.
			if lost := (&LockLostError{Destroy: destroy, Lost: rerr}); err == nil {
				err = lost
			} else if !errors.Is(err, lablock.ErrLost) {
				err = errors.Join(err, lost)
			}
		default:
			err = errors.Join(err, rerr)
		}
	}()
	gone, err = fn(lock)
	return err
}

// Unlock removes the lab's lock whoever holds it, for a holder known to be
// dead; it returns the holder it removed ("" when the lab was not locked).
func (s *Session) Unlock(ctx context.Context) (holder string, err error) {
	err = s.connected(ctx, func(c *resources.Cloud) error {
		holder, err = lablock.Unlock(ctx, c, s.Lab.Name)
		return err
	})
	return holder, err
}

// DefaultLateLandings is how long a destroy that took the lab lock over
// from a killed run keeps reading the lab for objects that run's requests
// still land, counted from when that run died: the cloud commits a create
// whose client has gone away, as late as it answers. Measured on the real
// Zed cloud: a killed apply's router POST took 39.7 s on a loaded Neutron
// and its router was committed 16 s after destroy's last read (before
// this wait); a minute covers that with a margin.
const DefaultLateLandings = 60 * time.Second

// awaitLanded holds an apply whose lock was taken over from a dead holder
// until that holder's requests can no longer land, before the apply reads
// the lab: a create the killed run had in flight, committed after the
// read, would be planned and created a second time (a duplicate carrying
// the same name and mark). It says so among the notices; Ctrl-C (ctx) or
// a lost lock ends the wait with nothing changed. No wait when the lock
// was free, or the minute is over.
func (s *Session) awaitLanded(ctx context.Context, lock *lablock.Lock) error {
	took, ok := lock.TookOver()
	if !ok {
		return nil
	}
	until := took.DeadBy().Add(s.lateLandings())
	wait := time.Until(until)
	if wait <= 0 {
		return nil
	}
	fmt.Fprintf(s.View.Notices(), "apply: the last run on this lab (%s) was killed at %s at the latest; waiting until %s for requests it left in flight to land, so nothing is created twice.\n",
		took.Holder, took.DeadBy().Format(time.TimeOnly), until.Format(time.TimeOnly))
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return &lateWaitStopped{until: until, err: ctx.Err()}
	case <-lock.Lost():
		return fmt.Errorf("lab lock lost while waiting for the killed run's requests to land (nothing was changed): %w", lock.Err())
	}
}

// lateWaitStopped is an apply stopped (Ctrl-C) while it waited for a
// killed run's requests to land: the lab lock goes back to the killed
// run, so that the next apply waits the rest.
type lateWaitStopped struct {
	until time.Time
	err   error
}

func (e *lateWaitStopped) Error() string {
	return fmt.Sprintf("stopped while waiting for the killed run's requests to land: nothing was changed; the lock stays the killed run's, so the next apply or destroy waits until %s too (%v)",
		e.until.Format(time.TimeOnly), e.err)
}
func (e *lateWaitStopped) Unwrap() error { return e.err }

// lateLandings is s.LateLandings, or DefaultLateLandings.
func (s *Session) lateLandings() time.Duration {
	if s.LateLandings > 0 {
		return s.LateLandings
	}
	return DefaultLateLandings
}

// lateUntil is, for a destroy whose lock was taken over from a dead
// holder, until when that holder's requests may still land (zero when
// the lock was free, or for an apply); say tells the user, among the
// notices, when that is still to come.
func (s *Session) lateUntil(lock *lablock.Lock, destroy bool) (until time.Time, say func()) {
	took, ok := lock.TookOver()
	if !destroy || !ok {
		return time.Time{}, func() {}
	}
	grace := s.lateLandings()
	poll := s.LatePoll
	if poll <= 0 {
		poll = engine.DefaultLatePoll
	}
	until = took.DeadBy().Add(grace)
	return until, func() {
		if time.Until(until) > 0 {
			fmt.Fprintf(s.View.Notices(), "destroy: the last run on this lab (%s) was killed, at %s at the latest; requests it left in flight may still land until %s: destroy reads the lab again at its end until then, every %s and less often, and deletes what lands.\n",
				took.Holder, took.DeadBy().Format(time.TimeOnly), until.Format(time.TimeOnly), poll)
		}
	}
}
