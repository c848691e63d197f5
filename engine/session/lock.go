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
		if gone {
			release = lock.Remove
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

// lateUntil is, for a destroy whose lock was taken over from a dead
// holder, until when that holder's requests may still land (zero when
// the lock was free, or for an apply); say tells the user, among the
// notices, when that is still to come.
func (s *Session) lateUntil(lock *lablock.Lock, destroy bool) (until time.Time, say func()) {
	took, ok := lock.TookOver()
	if !destroy || !ok {
		return time.Time{}, func() {}
	}
	grace := s.LateLandings
	if grace <= 0 {
		grace = DefaultLateLandings
	}
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
