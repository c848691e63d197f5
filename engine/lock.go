package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/fuelplan/fuelplan/resources"
)

// The lab lock lives on the cloud, not in a local file, so two operators or
// two CI jobs see the same lock. Its anchor is a small security group
// owned by the lab (cheap, taggable, with a description and a
// revision_number); taking and renewing it is a compare-and-swap with
// Neutron's If-Match: revision_number=N, so a lost race gets 412. The
// anchor is found by its name and the "fuelplan-lock" description prefix,
// not by tags: Neutron before 2024.2 cannot tag in the create request, and
// an anchor must be findable from the moment it exists.

const (
	lockTag        = "fuelplan-lock"
	lockFree       = "fuelplan-lock free"
	lockHeldPrefix = "fuelplan-lock held by "
)

// DefaultLease is how long a lock stays valid without renewal; a holder
// renews it every third of that while it runs.
const DefaultLease = 5 * time.Minute

// LockOptions tune AcquireLock.
type LockOptions struct {
	// Wait is how long to wait for a lock another holder has; 0 fails at once.
	Wait time.Duration
	// Lease defaults to DefaultLease.
	Lease time.Duration
	// Holder describes who holds the lock; default user@host pid N.
	Holder string
	// Progress, when set, hears that the lock is being waited for.
	Progress io.Writer
	// Poll is the wait between attempts (default 2s).
	Poll time.Duration
}

// Lock is a held lab lock.
type Lock struct {
	cloud  *resources.Cloud
	id     string
	holder string
	lease  time.Duration

	mu      sync.Mutex
	rev     int
	lostErr error
	stop    chan struct{}
	done    chan struct{}
}

// LockHeldError says who holds the lock.
type LockHeldError struct {
	Lab, Holder string
	Since       time.Time
	Stale       bool
}

func (e *LockHeldError) Error() string {
	if e.Stale {
		return fmt.Sprintf("lab %q is locked by %s since %s, and the lease has expired: if that run is dead, remove the lock with `fuelplan unlock`",
			e.Lab, e.Holder, e.Since.Format(time.RFC3339))
	}
	return fmt.Sprintf("lab %q is locked by %s since %s: another apply or destroy is running (wait for it with --lock-timeout)",
		e.Lab, e.Holder, e.Since.Format(time.RFC3339))
}

type anchor struct {
	ID          string   `json:"id"`
	Description string   `json:"description"`
	Revision    int      `json:"revision_number"`
	Tags        []string `json:"tags"`
}

func lockName(lab string) string { return lab + "-fuelplan-lock" }

func defaultHolder() string {
	u := "unknown"
	if cu, err := user.Current(); err == nil {
		u = cu.Username
	}
	h, _ := os.Hostname()
	return fmt.Sprintf("%s@%s pid %d", u, h, os.Getpid())
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

func listAnchors(ctx context.Context, c *resources.Cloud, lab string) ([]anchor, error) {
	q := url.Values{"name": {lockName(lab)}}
	if c.ProjectID != "" {
		q.Set("project_id", c.ProjectID) // an admin sees every project's groups
	}
	u := c.Network.ServiceURL("security-groups") + "?" + q.Encode()
	var body struct {
		Groups []anchor `json:"security_groups"`
	}
	if _, err := c.Network.Get(ctx, u, &body, nil); err != nil {
		return nil, fmt.Errorf("read the lab lock: %w", err)
	}
	var out []anchor
	for _, a := range body.Groups {
		if strings.HasPrefix(a.Description, lockTag) {
			out = append(out, a)
		}
	}
	return out, nil
}

// findOrCreateAnchor returns the lab's lock anchor, creating it if needed.
// Two creators racing may both create one: the anchor with the smallest
// ID wins and the loser deletes its own.
func findOrCreateAnchor(ctx context.Context, c *resources.Cloud, lab string) (anchor, error) {
	as, err := listAnchors(ctx, c, lab)
	if err != nil {
		return anchor{}, err
	}
	if len(as) == 0 {
		body := map[string]any{"security_group": map[string]any{
			"name":        lockName(lab),
			"description": lockFree,
		}}
		var created struct {
			Group anchor `json:"security_group"`
		}
		if _, err := c.Network.Post(ctx, c.Network.ServiceURL("security-groups"), body, &created, nil); err != nil {
			return anchor{}, fmt.Errorf("create the lab lock: %w", err)
		}
		if as, err = listAnchors(ctx, c, lab); err != nil {
			return anchor{}, err
		}
		if len(as) == 0 {
			as = []anchor{created.Group}
		}
		best := as[0]
		for _, a := range as[1:] {
			if a.ID < best.ID {
				best = a
			}
		}
		if best.ID != created.Group.ID {
			_, _ = c.Network.Delete(ctx, c.Network.ServiceURL("security-groups", created.Group.ID), nil)
		}
		return best, nil
	}
	best := as[0]
	for _, a := range as[1:] {
		if a.ID < best.ID {
			best = a
		}
	}
	return best, nil
}

// swap sets the anchor's description if its revision is still rev.
func swap(ctx context.Context, c *resources.Cloud, id string, rev int, desc string) (anchor, error) {
	body := map[string]any{"security_group": map[string]any{"description": desc}}
	var out struct {
		Group anchor `json:"security_group"`
	}
	opts := &gophercloud.RequestOpts{OkCodes: []int{200}}
	if c.HasExtension("revision-if-match") {
		opts.MoreHeaders = map[string]string{"If-Match": fmt.Sprintf("revision_number=%d", rev)}
	}
	_, err := c.Network.Put(ctx, c.Network.ServiceURL("security-groups", id), body, &out, opts)
	return out.Group, err
}

// AcquireLock takes the lab lock, waiting up to o.Wait for another holder.
func AcquireLock(ctx context.Context, c *resources.Cloud, lab string, o LockOptions) (*Lock, error) {
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
		a, err := findOrCreateAnchor(ctx, c, lab)
		if err != nil {
			return nil, err
		}
		var held *LockHeldError
		if holder, since, lease, ok := parseHeld(a.Description); ok {
			held = &LockHeldError{Lab: lab, Holder: holder, Since: since, Stale: lease > 0 && time.Since(since) > lease}
		} else {
			now := time.Now()
			got, err := swap(ctx, c, a.ID, a.Revision, heldDescription(o.Holder, now, o.Lease))
			switch {
			case err == nil:
				l := &Lock{cloud: c, id: a.ID, holder: o.Holder, lease: o.Lease, rev: got.Revision,
					stop: make(chan struct{}), done: make(chan struct{})}
				go l.heartbeat()
				return l, nil
			case gophercloud.ResponseCodeIs(err, 412), gophercloud.ResponseCodeIs(err, 404):
				// Lost the race (or the anchor vanished): look again.
				continue
			default:
				return nil, fmt.Errorf("take the lab lock: %w", err)
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

// heartbeat renews the lease every third of it until Release.
func (l *Lock) heartbeat() {
	defer close(l.done)
	t := time.NewTicker(l.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.mu.Lock()
			got, err := swap(context.Background(), l.cloud, l.id, l.rev, heldDescription(l.holder, time.Now(), l.lease))
			if err == nil {
				l.rev = got.Revision
			} else if gophercloud.ResponseCodeIs(err, 412) || gophercloud.ResponseCodeIs(err, 404) {
				l.lostErr = errors.New("the lab lock was taken away while this run held it (fuelplan unlock?)")
			}
			l.mu.Unlock()
		}
	}
}

func (l *Lock) stopHeartbeat() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	<-l.done
}

// Release frees the lock.
func (l *Lock) Release(ctx context.Context) error {
	l.stopHeartbeat()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lostErr != nil {
		return l.lostErr
	}
	if _, err := swap(ctx, l.cloud, l.id, l.rev, lockFree); err != nil {
		return fmt.Errorf("release the lab lock: %w", err)
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
	_, err := l.cloud.Network.Delete(ctx, l.cloud.Network.ServiceURL("security-groups", l.id), nil)
	if err != nil && !gophercloud.ResponseCodeIs(err, 404) {
		return fmt.Errorf("remove the lab lock: %w", err)
	}
	return nil
}

// Unlock removes the lab's lock whoever holds it, for a holder that died.
// It returns the holder it removed ("" when the lock was free).
func Unlock(ctx context.Context, c *resources.Cloud, lab string) (string, error) {
	as, err := listAnchors(ctx, c, lab)
	if err != nil {
		return "", err
	}
	var holders []string
	for _, a := range as {
		if h, _, _, ok := parseHeld(a.Description); ok {
			holders = append(holders, h)
		}
		if _, err := c.Network.Delete(ctx, c.Network.ServiceURL("security-groups", a.ID), nil); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			return "", fmt.Errorf("remove the lab lock: %w", err)
		}
	}
	return strings.Join(holders, ", "), nil
}
