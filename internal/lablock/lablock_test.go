package lablock_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"

	"github.com/fuelplan/fuelplan/internal/lablock"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/resources/resourcestest"
)

func TestConcurrentHoldersTakeTurns(t *testing.T) {
	t.Parallel()
	_, c := resourcestest.Admin(t)
	ctx := context.Background()
	first, err := lablock.Acquire(ctx, c, "eng", lablock.Options{Holder: "first"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = lablock.Acquire(ctx, c, "eng", lablock.Options{Holder: "second"})
	var held *lablock.HeldError
	if !errors.As(err, &held) || held.Holder != "first" {
		t.Fatalf("second lock: %v, want held by first", err)
	}
	done := make(chan error, 1)
	go func() {
		l, err := lablock.Acquire(ctx, c, "eng", lablock.Options{Holder: "third", Wait: 10 * time.Second, Poll: 10 * time.Millisecond})
		if err == nil {
			err = l.Release(ctx)
		}
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := first.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("waiting lock: %v", err)
	}
}

// heldAnchor creates the anchor a holder left, as its description reads.
func heldAnchor(t *testing.T, c *resources.Cloud, lab, holder string, since time.Time) string {
	t.Helper()
	g, err := groups.Create(context.Background(), c.Network, groups.CreateOpts{
		Name:        lab + "-fuelplan-lock",
		Description: "fuelplan-lock held by " + holder + " since " + since.UTC().Format(time.RFC3339) + " lease 300",
	}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	return g.ID
}

func TestStaleLockIsReportedAndUnlocked(t *testing.T) {
	t.Parallel()
	_, c := resourcestest.Admin(t)
	ctx := context.Background()
	// A holder on another host that died an hour ago, as its anchor reads.
	id := heldAnchor(t, c, "eng", "ci@runner-7 pid 42", time.Now().Add(-time.Hour))
	_, err := lablock.Acquire(ctx, c, "eng", lablock.Options{Wait: time.Minute})
	var held *lablock.HeldError
	if !errors.As(err, &held) || !held.Stale || held.Holder != "ci@runner-7 pid 42" {
		t.Fatalf("stale lock: %v, want a stale HeldError naming ci@runner-7 pid 42", err)
	}
	if !strings.Contains(err.Error(), "fuelplan unlock") {
		t.Errorf("stale lock error %q does not say how to remove it", err)
	}
	holder, err := lablock.Unlock(ctx, c, "eng")
	if err != nil || holder != "ci@runner-7 pid 42" {
		t.Fatalf("unlock: %q, %v", holder, err)
	}
	if _, err := groups.Get(ctx, c.Network, id).Extract(); err == nil {
		t.Error("the stale anchor is still there after unlock")
	}
	l, err := lablock.Acquire(ctx, c, "eng", lablock.Options{})
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	if err := l.Remove(ctx); err != nil {
		t.Fatal(err)
	}
}

// deadPID is the PID of a process of this host that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// TestKilledRunsLock (issue 12 item 6): a lock whose holder is a process
// of this host that is gone is taken over at once, saying so; a lock held
// by a live process, or by another host, is refused with who holds it,
// since when, when the lease ends and `fuelplan unlock` as the way out.
func TestKilledRunsLock(t *testing.T) {
	t.Parallel()
	host, _ := os.Hostname()
	since := time.Now().Add(-time.Minute).Truncate(time.Second)
	tests := []struct {
		name     string
		holder   string
		takeover bool
	}{
		{"dead process on this host", fmt.Sprintf("ci@%s pid %d", host, deadPID(t)), true},
		{"live process on this host", fmt.Sprintf("ci@%s pid %d", host, os.Getppid()), false},
		{"process on another host", "ci@" + host + "-elsewhere pid 1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, c := resourcestest.Admin(t)
			ctx := context.Background()
			heldAnchor(t, c, "eng", tt.holder, since)
			var progress strings.Builder
			before := time.Now()
			l, err := lablock.Acquire(ctx, c, "eng", lablock.Options{Progress: &progress})
			if !tt.takeover {
				var held *lablock.HeldError
				if !errors.As(err, &held) || held.Holder != tt.holder || held.Stale {
					t.Fatalf("Acquire: %v, want a HeldError naming %s", err, tt.holder)
				}
				for _, want := range []string{tt.holder, "since " + since.Format(time.RFC3339),
					"lease until " + since.Add(5*time.Minute).Format(time.RFC3339), "`fuelplan unlock`"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Acquire: %v, want the dead holder's lock taken over", err)
			}
			took, ok := l.TookOver()
			if !ok || took.Holder != tt.holder || !took.Renewed.Equal(since) || took.Lease != lablock.DefaultLease ||
				took.At.Before(before) || took.At.After(time.Now()) {
				t.Errorf("TookOver() = %+v, %v; want %s's, renewed at %s, lease %s, taken over just now", took, ok, tt.holder, since, lablock.DefaultLease)
			}
			if !took.DeadBy().Equal(took.At) {
				t.Errorf("DeadBy() = %s, want the takeover's %s (its next renewal was not due yet)", took.DeadBy(), took.At)
			}
			if !strings.Contains(progress.String(), "Took over the lab lock held by "+tt.holder) {
				t.Errorf("progress %q does not say the lock was taken over from %s", progress.String(), tt.holder)
			}
			if _, err := lablock.Acquire(ctx, c, "eng", lablock.Options{Holder: "other"}); err == nil {
				t.Error("the taken-over lock is free for another holder")
			}
			if err := l.Release(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestFreeLockTookOverNothing: a lock taken free (the last run released
// it) reports no dead holder, so a destroy under it waits for nothing.
func TestFreeLockTookOverNothing(t *testing.T) {
	t.Parallel()
	_, c := resourcestest.Admin(t)
	l, err := lablock.Acquire(context.Background(), c, "eng", lablock.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Release(context.Background()) }()
	if took, ok := l.TookOver(); ok {
		t.Errorf("TookOver() = %+v on a free lock", took)
	}
}

// TestTakeoverDeadBy: a dead holder was alive at most until its next
// renewal was due (a third of its lease after the last), or the takeover
// if that is sooner.
func TestTakeoverDeadBy(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		took lablock.Takeover
		want time.Time
	}{
		{lablock.Takeover{Renewed: at.Add(-4 * time.Minute), Lease: 5 * time.Minute, At: at}, at.Add(-4*time.Minute + 100*time.Second)},
		{lablock.Takeover{Renewed: at.Add(-time.Minute), Lease: 5 * time.Minute, At: at}, at},
		{lablock.Takeover{At: at}, at},
	} {
		if got := tc.took.DeadBy(); !got.Equal(tc.want) {
			t.Errorf("%+v.DeadBy() = %s, want %s", tc.took, got, tc.want)
		}
	}
}

// TestLostLockCancelsGuard: when another holder takes the lock mid-run
// (here: an unlock, then a new holder), the heartbeat notices within a
// third of the lease and the guarded context is cancelled with the
// reason as its cause.
func TestLostLockCancelsGuard(t *testing.T) {
	t.Parallel()
	_, c := resourcestest.Admin(t)
	ctx := context.Background()
	l, err := lablock.Acquire(ctx, c, "eng", lablock.Options{Holder: "first", Lease: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	gctx, cancel := l.Guard(ctx)
	defer cancel()
	if _, err := lablock.Unlock(ctx, c, "eng"); err != nil {
		t.Fatal(err)
	}
	thief, err := lablock.Acquire(ctx, c, "eng", lablock.Options{Holder: "thief"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = thief.Release(ctx) }()
	select {
	case <-gctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the guarded context was not cancelled when the lock was lost")
	}
	cause := context.Cause(gctx)
	if !errors.Is(cause, lablock.ErrLost) || !strings.Contains(cause.Error(), "removed") {
		t.Fatalf("cause %v, want ErrLost saying the lock was removed", cause)
	}
	if err := l.Release(ctx); !errors.Is(err, lablock.ErrLost) {
		t.Errorf("Release of a lost lock: %v, want ErrLost (and the thief's lock untouched)", err)
	}
	if _, err := lablock.Acquire(ctx, c, "eng", lablock.Options{Holder: "third"}); err == nil {
		t.Error("the thief's lock was freed by the loser's Release")
	}
}

// TestLostLockNamesTheNewHolder: a holder that swapped the anchor under a
// live one (a takeover by description) is named in the cause.
func TestLostLockNamesTheNewHolder(t *testing.T) {
	t.Parallel()
	_, c := resourcestest.Admin(t)
	ctx := context.Background()
	l, err := lablock.Acquire(ctx, c, "eng", lablock.Options{Holder: "first", Lease: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	gctx, cancel := l.Guard(ctx)
	defer cancel()
	as, err := resources.ListLockAnchors(ctx, c, "eng-fuelplan-lock")
	if err != nil || len(as) != 1 {
		t.Fatalf("anchors %v, %v", as, err)
	}
	desc := "fuelplan-lock held by thief since " + time.Now().UTC().Format(time.RFC3339) + " lease 300"
	if _, err := groups.Update(ctx, c.Network, as[0].ID, groups.UpdateOpts{Description: &desc}).Extract(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the guarded context was not cancelled when the lock was taken")
	}
	if cause := context.Cause(gctx); !strings.Contains(cause.Error(), "thief took it") {
		t.Fatalf("cause %v, want it to name the thief", cause)
	}
}

// TestOneHolderAtATime: holders racing for a lock that does not exist
// yet (each may create an anchor) never hold it side by side.
func TestOneHolderAtATime(t *testing.T) {
	t.Parallel()
	_, c := resourcestest.Admin(t)
	ctx := context.Background()
	var mu sync.Mutex
	inside, most := 0, 0
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := lablock.Acquire(ctx, c, "race", lablock.Options{Holder: fmt.Sprintf("h%d", i), Wait: 30 * time.Second, Poll: 5 * time.Millisecond})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			inside++
			most = max(most, inside)
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
			mu.Lock()
			inside--
			mu.Unlock()
			if err := l.Release(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if most != 1 {
		t.Fatalf("%d holders at once, want 1", most)
	}
}
