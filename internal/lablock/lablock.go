// Package lablock is the lab lock: one apply or destroy of a lab at a
// time, across operators and CI jobs. The lock lives on the cloud, not in
// a local file, so everyone sees the same lock. Its anchor is a small
// security group owned by the lab (cheap, with a description and a
// revision_number); taking and renewing it is a compare-and-swap on the
// description (resources.SwapLockAnchor: Neutron's If-Match), and a held
// lock's lease is renewed by a heartbeat. The anchor is found by its name
// and the "fuelplan-lock" description prefix, not by tags: Neutron before
// 2024.2 cannot tag in the create request, and an anchor must be findable
// from the moment it exists.
//
// This package holds the protocol; the Neutron calls are in resources.
package lablock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

const (
	lockTag        = "fuelplan-lock"
	lockFree       = "fuelplan-lock free"
	lockHeldPrefix = "fuelplan-lock held by "
)

// DefaultLease is how long a lock stays valid without renewal; a holder
// renews it every third of that while it runs.
const DefaultLease = 5 * time.Minute

// Options tune Acquire.
type Options struct {
	// Wait is how long to wait for a lock another holder has; 0 fails at once.
	Wait time.Duration
	// Lease defaults to DefaultLease.
	Lease time.Duration
	// Holder describes who holds the lock; default "user@host pid N",
	// which lets a later run on the same host take over the lock of a
	// process that is gone.
	Holder string
	// Progress, when set, hears that the lock is being waited for or
	// taken over.
	Progress io.Writer
	// Poll is the wait between attempts (default 2s).
	Poll time.Duration
}

// HeldError says who holds the lock, since when and until when.
type HeldError struct {
	Lab, Holder string
	Since       time.Time
	// Until is when the lease ends unless renewed (zero when unknown).
	Until time.Time
	Stale bool
}

func (e *HeldError) Error() string {
	if e.Stale {
		return fmt.Sprintf("lab %q is locked by %s since %s, and the lease has expired: if that run is dead, remove the lock with `fuelplan unlock`",
			e.Lab, e.Holder, e.Since.Format(time.RFC3339))
	}
	until := ""
	if !e.Until.IsZero() {
		until = ", lease until " + e.Until.Format(time.RFC3339)
	}
	return fmt.Sprintf("lab %q is locked by %s since %s%s: another apply or destroy is running (wait for it with --lock-timeout); if that run is dead, remove the lock with `fuelplan unlock`",
		e.Lab, e.Holder, e.Since.Format(time.RFC3339), until)
}

// ErrLost is what a LostError is: errors.Is(err, ErrLost) tells a run
// stopped because its lock went away.
var ErrLost = errors.New("the lab lock was lost")

// LostError says why a held lock was lost.
type LostError struct {
	Lab    string
	Reason string
}

func (e *LostError) Error() string {
	return fmt.Sprintf("lab %q: the lab lock was lost while this run held it: %s", e.Lab, e.Reason)
}

func (e *LostError) Is(target error) bool { return target == ErrLost }

// Lock is a held lab lock.
type Lock struct {
	cloud  *resources.Cloud
	lab    string
	id     string
	holder string
	lease  time.Duration

	// took is the dead holder this lock was taken over from, if it was.
	took *Takeover

	mu      sync.Mutex
	rev     int
	renewed time.Time
	lostErr *LostError
	lost    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

// Takeover is what a lock taken over from a dead holder knew of it: the
// run that held it was killed, and requests it had in flight may still be
// committed by the cloud after the takeover.
type Takeover struct {
	// Holder is the dead run, "user@host pid N".
	Holder string
	// Renewed is its last sign of life: the last lease it wrote (taking
	// or renewing the lock). Zero when the lock did not say.
	Renewed time.Time
	// Lease is the lease it wrote; a live holder renews every third of it.
	Lease time.Duration
	// At is when the lock was taken over: the holder was dead by then.
	At time.Time
}

// DeadBy is the latest moment the dead holder can have been alive: the
// takeover, or, sooner, when its next renewal was due (a live holder
// would have written it; the lock is taken over only from a holder that
// wrote none since).
func (t Takeover) DeadBy() time.Time {
	if t.Renewed.IsZero() || t.Lease <= 0 {
		return t.At
	}
	if due := t.Renewed.Add(t.Lease / 3); due.Before(t.At) {
		return due
	}
	return t.At
}

// TookOver returns the dead holder this lock was taken over from; false
// when the lock was free (the last run ended cleanly, or was unlocked).
func (l *Lock) TookOver() (Takeover, bool) {
	if l.took == nil {
		return Takeover{}, false
	}
	return *l.took, true
}

func lockName(lab string) string { return specs.LockName(lab) }

func defaultHolder() string {
	u := "unknown"
	if cu, err := user.Current(); err == nil {
		u = cu.Username
	}
	h, _ := os.Hostname()
	return fmt.Sprintf("%s@%s pid %d", u, h, os.Getpid())
}

// holderProcess is how defaultHolder names a process: user@host pid N.
var holderProcess = regexp.MustCompile(`^\S+@(\S+) pid (\d+)$`)

// deadHere reports whether holder names a process of this host that no
// longer runs: its lock is a killed run's, and nobody will renew it.
func deadHere(holder string) bool {
	m := holderProcess.FindStringSubmatch(holder)
	if m == nil {
		return false
	}
	host, _ := os.Hostname()
	pid, err := strconv.Atoi(m[2])
	if m[1] != host || err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	// Signal 0 checks that the process exists; ESRCH: no such process.
	// (EPERM means it exists under another user: not dead.)
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// parseHeld reads "fuelplan-lock held by HOLDER since T lease S".
func parseHeld(desc string) (holder string, since time.Time, lease time.Duration, ok bool) {
	rest, ok := strings.CutPrefix(desc, lockHeldPrefix)
	if !ok {
		return "", time.Time{}, 0, false
	}
	i := strings.LastIndex(rest, " since ")
	if i < 0 {
		return rest, time.Time{}, 0, true
	}
	holder, tail := rest[:i], rest[i+len(" since "):]
	ts, leaseS, _ := strings.Cut(tail, " lease ")
	since, _ = time.Parse(time.RFC3339, ts)
	secs, _ := strconv.Atoi(leaseS)
	return holder, since, time.Duration(secs) * time.Second, true
}

func heldDescription(holder string, since time.Time, lease time.Duration) string {
	d := fmt.Sprintf("%s%s since %s lease %d", lockHeldPrefix, holder, since.UTC().Format(time.RFC3339), int(lease.Seconds()))
	if len(d) > 255 { // Neutron's description limit
		d = d[:255]
	}
	return d
}

// anchors lists the lab's lock anchors (groups with its lock name and a
// lock description).
func anchors(ctx context.Context, c *resources.Cloud, lab string) ([]resources.LockAnchor, error) {
	all, err := resources.ListLockAnchors(ctx, c, lockName(lab))
	if err != nil {
		return nil, fmt.Errorf("read the lab lock: %w", err)
	}
	var out []resources.LockAnchor
	for _, a := range all {
		if strings.HasPrefix(a.Description, lockTag) {
			out = append(out, a)
		}
	}
	return out, nil
}

// first is the anchor with the smallest ID: the one every racer agrees on.
func first(as []resources.LockAnchor) resources.LockAnchor {
	best := as[0]
	for _, a := range as[1:] {
		if a.ID < best.ID {
			best = a
		}
	}
	return best
}

// findOrCreateAnchors returns the lab's lock anchors, creating one if
// there is none. Creators racing may make one each: Acquire copes.
func findOrCreateAnchors(ctx context.Context, c *resources.Cloud, lab string) ([]resources.LockAnchor, error) {
	as, err := anchors(ctx, c, lab)
	if err != nil || len(as) > 0 {
		return as, err
	}
	if _, err := resources.CreateLockAnchor(ctx, c, lockName(lab), lockFree); err != nil {
		return nil, fmt.Errorf("create the lab lock: %w", err)
	}
	return anchors(ctx, c, lab)
}

// heldOf returns the first anchor that says it is held, if any.
func heldOf(as []resources.LockAnchor) (resources.LockAnchor, bool) {
	for _, a := range as {
		if _, _, _, ok := parseHeld(a.Description); ok {
			return a, true
		}
	}
	return resources.LockAnchor{}, false
}

// rivalHeld reports whether an anchor other than id says it is held: two
// creators racing made two anchors, and another holder took the other.
// Of two holders that swapped at once, the later one's check sees the
// earlier one's anchor held, so they never both keep the lock.
func rivalHeld(ctx context.Context, c *resources.Cloud, lab, id string) (bool, []resources.LockAnchor, error) {
	as, err := anchors(ctx, c, lab)
	if err != nil {
		return false, nil, err
	}
	var others []resources.LockAnchor
	for _, a := range as {
		if a.ID != id {
			others = append(others, a)
		}
	}
	_, held := heldOf(others)
	return held, others, nil
}

// raced reports whether a swap lost to another writer (or the anchor vanished).
func raced(err error) bool {
	return errors.Is(err, resources.ErrRevisionChanged) || errors.Is(err, resources.ErrNotFound)
}

// Acquire takes the lab lock, waiting up to o.Wait for another holder. A
// lock whose holder is a process of this host that is gone (a killed run)
// is taken over at once, saying so on o.Progress.
func Acquire(ctx context.Context, c *resources.Cloud, lab string, o Options) (*Lock, error) {
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.Holder == "" {
		o.Holder = defaultHolder()
	}
	if o.Poll <= 0 {
		o.Poll = 2 * time.Second
	}
	deadline := time.Now().Add(o.Wait)
	announced := false
	for {
		as, err := findOrCreateAnchors(ctx, c, lab)
		if err != nil {
			return nil, err
		}
		a, isHeld := heldOf(as)
		if !isHeld {
			a = first(as)
		}
		var held *HeldError
		holder, since, lease, _ := parseHeld(a.Description)
		if isHeld {
			held = &HeldError{Lab: lab, Holder: holder, Since: since, Stale: lease > 0 && time.Since(since) > lease}
			if lease > 0 && !since.IsZero() {
				held.Until = since.Add(lease)
			}
		}
		takeover := isHeld && holder != o.Holder && deadHere(holder)
		if !isHeld || takeover {
			now := time.Now()
			got, err := resources.SwapLockAnchor(ctx, c, a.ID, a.Revision, heldDescription(o.Holder, now, o.Lease))
			if raced(err) {
				continue // lost the race (or the anchor vanished): look again
			}
			if err != nil {
				return nil, fmt.Errorf("take the lab lock: %w", err)
			}
			rival, others, err := rivalHeld(ctx, c, lab, a.ID)
			if err != nil || rival {
				// Another holder took a second anchor first: give ours back.
				_, _ = resources.SwapLockAnchor(ctx, c, a.ID, got.Revision, lockFree)
				if err != nil {
					return nil, err
				}
				held = &HeldError{Lab: lab, Holder: "another holder (a second lock anchor)", Since: now}
			} else {
				for _, other := range others {
					_ = resources.DeleteLockAnchor(ctx, c, other.ID) // a racing creator's spare
				}
				if takeover && o.Progress != nil {
					fmt.Fprintf(o.Progress, "Took over the lab lock held by %s since %s: that process is no longer running on this host.\n",
						holder, since.Format(time.RFC3339))
				}
				l := &Lock{cloud: c, lab: lab, id: a.ID, holder: o.Holder, lease: o.Lease, rev: got.Revision, renewed: now,
					lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
				if takeover {
					l.took = &Takeover{Holder: holder, Renewed: since, Lease: lease, At: now}
				}
				go l.heartbeat()
				return l, nil
			}
		}
		if held.Stale || time.Now().After(deadline) {
			return nil, held
		}
		if o.Progress != nil && !announced {
			fmt.Fprintf(o.Progress, "Waiting for the lab lock held by %s...\n", held.Holder)
			announced = true
		}
		t := time.NewTimer(o.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// Lost is closed when the lock is lost: another holder took it, it was
// removed (fuelplan unlock), or the lease ran out unrenewed.
func (l *Lock) Lost() <-chan struct{} { return l.lost }

// Err says why the lock was lost (a *LostError); nil while it is held.
func (l *Lock) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lostErr == nil {
		return nil
	}
	return l.lostErr
}

// Guard returns a context that is cancelled, with the *LostError as its
// cause, when the lock is lost: work done under the lock stops as on
// Ctrl-C instead of carrying on unprotected. Call the CancelFunc when done.
func (l *Lock) Guard(ctx context.Context) (context.Context, context.CancelFunc) {
	gctx, cancel := context.WithCancelCause(ctx)
	stop := make(chan struct{})
	go func() {
		select {
		case <-l.lost:
			cancel(l.Err())
		case <-stop:
		case <-gctx.Done():
		}
	}()
	var once sync.Once
	return gctx, func() {
		once.Do(func() { close(stop) })
		cancel(context.Canceled)
	}
}

// heartbeat renews the lease every third of it until Release, and notes
// the lock lost when the anchor changed under it (another holder, an
// unlock) or no renewal succeeded for a whole lease.
func (l *Lock) heartbeat() {
	defer close(l.done)
	t := time.NewTicker(l.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.lease/3)
		reason := l.renew(ctx)
		cancel()
		if reason != "" {
			l.mu.Lock()
			l.lostErr = &LostError{Lab: l.lab, Reason: reason}
			l.mu.Unlock()
			close(l.lost)
			return
		}
	}
}

// renew swaps in a fresh lease; it returns why the lock is lost, or "".
func (l *Lock) renew(ctx context.Context) string {
	l.mu.Lock()
	rev := l.rev
	l.mu.Unlock()
	now := time.Now()
	got, err := resources.SwapLockAnchor(ctx, l.cloud, l.id, rev, heldDescription(l.holder, now, l.lease))
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err == nil:
		l.rev, l.renewed = got.Revision, now
		return ""
	case raced(err):
		// The renewal's own deadline may be spent: ask with a fresh one.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		return l.whoTookIt(wctx)
	case time.Since(l.renewed) > l.lease:
		return fmt.Sprintf("the lease could not be renewed for %s (another run may take the lock): %v",
			time.Since(l.renewed).Round(time.Millisecond), resources.Humanize(err))
	}
	return "" // one failed renewal: the next may succeed within the lease
}

// whoTookIt describes the anchor's state after a lost swap.
func (l *Lock) whoTookIt(ctx context.Context) string {
	as, err := anchors(ctx, l.cloud, l.lab)
	if err != nil {
		return "its anchor changed under it"
	}
	for _, a := range as {
		if a.ID != l.id {
			continue
		}
		if h, since, _, ok := parseHeld(a.Description); ok && h != l.holder {
			return fmt.Sprintf("%s took it at %s", h, since.Format(time.RFC3339))
		}
		return "it was released by someone else (fuelplan unlock?)"
	}
	return "it was removed (fuelplan unlock?)"
}

func (l *Lock) stopHeartbeat() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	<-l.done
}

// Release frees the lock. A lock lost meanwhile is not touched (it may be
// another's now) and Release returns why it was lost.
func (l *Lock) Release(ctx context.Context) error {
	l.stopHeartbeat()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lostErr != nil {
		return l.lostErr
	}
	if _, err := resources.SwapLockAnchor(ctx, l.cloud, l.id, l.rev, lockFree); err != nil {
		return fmt.Errorf("release the lab lock: %w", err)
	}
	return nil
}

// GiveBack ends a lock taken over from a dead holder that did nothing
// under it (an apply stopped while it waited for the dead holder's
// requests to land): it writes the dead holder's lock back as it was, so
// that the next run takes it over again and knows, as this one did, when
// that holder died. A lock not taken over is released.
func (l *Lock) GiveBack(ctx context.Context) error {
	if l.took == nil {
		return l.Release(ctx)
	}
	l.stopHeartbeat()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lostErr != nil {
		return l.lostErr
	}
	since := l.took.Renewed
	if since.IsZero() {
		since = l.took.At
	}
	if _, err := resources.SwapLockAnchor(ctx, l.cloud, l.id, l.rev, heldDescription(l.took.Holder, since, l.took.Lease)); err != nil {
		return fmt.Errorf("give the lab lock back: %w", err)
	}
	return nil
}

// Remove releases the lock by deleting its anchor, for destroy: a
// destroyed lab leaves nothing behind.
func (l *Lock) Remove(ctx context.Context) error {
	l.stopHeartbeat()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lostErr != nil {
		return l.lostErr
	}
	if err := resources.DeleteLockAnchor(ctx, l.cloud, l.id); err != nil {
		return fmt.Errorf("remove the lab lock: %w", err)
	}
	return nil
}

// Unlock removes the lab's lock whoever holds it, for a holder that died.
// It returns the holder it removed ("" when the lock was free).
func Unlock(ctx context.Context, c *resources.Cloud, lab string) (string, error) {
	as, err := anchors(ctx, c, lab)
	if err != nil {
		return "", err
	}
	var holders []string
	for _, a := range as {
		if h, _, _, ok := parseHeld(a.Description); ok {
			holders = append(holders, h)
		}
		if err := resources.DeleteLockAnchor(ctx, c, a.ID); err != nil {
			return "", fmt.Errorf("remove the lab lock: %w", err)
		}
	}
	return strings.Join(holders, ", "), nil
}
