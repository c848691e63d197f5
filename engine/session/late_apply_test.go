package session_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/engine/session"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// lateCreate is a create a killed run left in flight: the lab's storage
// network (marked in its description only, as a killed apply's create
// leaves it), committed by the cloud once, at the first of: the n-th read
// of the lab has had its answer (a list of networks by name, one per
// read), or the moment at (while the killed run's requests may still
// land). Without a wait the apply's read comes first, so the network
// lands just after it; after the wait, the network landed before it.
type lateCreate struct {
	base  http.RoundTripper
	n     int
	once  sync.Once
	land  func() error
	mu    sync.Mutex
	lists int
	err   error
}

func (l *lateCreate) landNow() {
	l.once.Do(func() {
		err := l.land()
		l.mu.Lock()
		l.err = err
		l.mu.Unlock()
	})
}

func (l *lateCreate) RoundTrip(r *http.Request) (*http.Response, error) {
	q := r.URL.Query()
	byName := r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/v2.0/networks") && q.Has("project_id") && q.Has("name")
	l.mu.Lock()
	if byName {
		l.lists++
	}
	now := byName && l.lists == l.n
	l.mu.Unlock()
	resp, err := l.base.RoundTrip(r)
	if now {
		l.landNow()
	}
	return resp, err
}

// storageNetworks counts the networks named as the lab's storage network.
func storageNetworks(t *testing.T, f *fixture) int {
	t.Helper()
	n := 0
	for _, name := range labNetworks(t, f) {
		if name == "eng-storage" {
			n++
		}
	}
	return n
}

// TestApplyAfterKilledRunWaitsForItsRequests (issue 12): an apply that
// takes the lab lock over from a killed run waits, saying so, until that
// run's requests can no longer land (here 2 s after its death; a minute
// by default, for a router POST of a killed apply that took 39.7 s on
// Zed) before it reads the lab: the storage network the killed run had in
// flight, committed after an immediate read would have been made, is then
// read and owned, not created a second time (a duplicate with the same
// name and mark). A saved plan is checked against the read after the
// wait: it would create the network that landed, so it is refused. No
// wait when the lock was free, or when the killed run died over that
// time ago.
func TestApplyAfterKilledRunWaitsForItsRequests(t *testing.T) {
	const grace = 2 * time.Second
	const storage = specs.Address("network.storage")
	for _, tc := range []struct {
		name  string
		saved bool
		// dead: the killed run's last lease was written so long ago
		// (0: none, the lock is free).
		dead time.Duration
		wait bool
	}{
		{name: "killed run", dead: time.Nanosecond, wait: true},
		{name: "killed run, saved plan", saved: true, dead: time.Nanosecond, wait: true},
		{name: "lock free"},
		{name: "killed run long dead", dead: 20 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.apply(t, session.Request{Options: engine.PlanOptions{Excludes: []string{string(storage)}}})
			v := &noticed{recorder: &recorder{}}
			s := f.session(v)
			s.LateLandings = grace
			req := session.Request{}
			if tc.saved {
				saved, err := s.Plan(context.Background(), req)
				if err != nil {
					t.Fatal(err)
				}
				req.Saved = saved
			}
			holder := ""
			switch {
			case tc.dead == time.Nanosecond:
				holder = killedRun(t, f)
			case tc.dead > 0:
				// Renewed 20 s ago with a 30 s lease: dead 10 s ago, over
				// the grace, and its lease still runs (it is taken over).
				holder = killedRunSince(t, f, time.Now().Add(-tc.dead), 30*time.Second)
			}

			landing, err := resources.Connect(context.Background(), resources.Target{CloudName: "sim", CloudsYAML: []byte(f.sim.CloudsYAML("sim", f.sim.Admin()))})
			if err != nil {
				t.Fatal(err)
			}
			base := f.cloud.Network.HTTPClient.Transport
			if base == nil {
				base = http.DefaultTransport
			}
			// A saved plan's check reads the lab before the lock: the
			// read under the lock is the 2nd.
			n := 1
			if tc.saved {
				n = 2
			}
			if !tc.wait {
				// Nothing in flight (no killed run, or one dead for
				// longer than its requests can take): nothing lands.
				n = -1
			}
			lc := &lateCreate{base: base, n: n, land: func() error {
				_, err := networks.Create(context.Background(), landing.Network, networks.CreateOpts{
					Name: "eng-storage", Description: "fuelplan lab=eng address=" + string(storage)}).Extract()
				return err
			}}
			f.cloud.Network.HTTPClient.Transport = lc
			defer func() { f.cloud.Network.HTTPClient.Transport = base }()
			if tc.wait {
				// The killed run died (no later than) now; its requests
				// land before its death + grace, here halfway.
				timer := time.AfterFunc(grace/2, lc.landNow)
				defer timer.Stop()
			}

			start := time.Now()
			res, err := s.Apply(context.Background(), req)
			took := time.Since(start)
			said := v.String()
			lc.mu.Lock()
			lerr := lc.err
			lc.mu.Unlock()
			if lerr != nil {
				t.Fatalf("the late network did not land: %v", lerr)
			}

			waited := strings.Contains(said, "was killed")
			if !tc.wait {
				if err != nil {
					t.Fatalf("apply: %v", err)
				}
				if holder != "" && !strings.Contains(said, "Took over the lab lock held by "+holder) {
					t.Errorf("notices %q: the killed run's lock was not taken over", said)
				}
				if waited {
					t.Errorf("notices %q speak of waiting for a killed run; want no wait", said)
				}
				if took >= grace {
					t.Errorf("apply took %s; want no wait of %s", took, grace)
				}
				if got := storageNetworks(t, f); got != 1 {
					t.Errorf("%d storage networks, want 1", got)
				}
				return
			}
			want := "apply: the last run on this lab (" + holder + ") was killed at "
			if !strings.Contains(said, want) || !strings.Contains(said, "for requests it left in flight to land, so nothing is created twice") {
				t.Errorf("notices %q do not say %q and why it waits", said, want)
			}
			if i, j := strings.Index(said, "Took over the lab lock"), strings.Index(said, want); i < 0 || j < i {
				t.Errorf("notices %q: want the takeover said before the wait", said)
			}
			if tc.saved {
				var stale *session.StalePlanError
				if !errors.As(err, &stale) {
					t.Fatalf("saved plan applied after the late network landed: err %v, want a *StalePlanError", err)
				}
			} else {
				if err != nil {
					t.Fatalf("apply: %v", err)
				}
				for _, c := range res.Plan.Changes {
					if c.Address == storage && c.Action == plan.Create {
						t.Errorf("apply planned to create %s, which the killed run had in flight", storage)
					}
				}
			}
			if got := storageNetworks(t, f); got != 1 {
				t.Errorf("%d storage networks after the apply, want 1 (the one that landed late)", got)
			}
		})
	}
}

// TestApplyWaitingForKilledRunStopsOnCtrlC: the wait of an apply after a
// killed run (here as long as the default minute) ends at Ctrl-C, with an
// error that says so, before the lab is read: nothing is created.
func TestApplyWaitingForKilledRunStopsOnCtrlC(t *testing.T) {
	f := newFixture(t)
	f.apply(t, session.Request{Options: engine.PlanOptions{Excludes: []string{"network.storage"}}})
	holder := killedRun(t, f)
	v := &noticed{recorder: &recorder{}}
	s := f.session(v)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Ctrl-C once the apply says it waits.
		for ctx.Err() == nil && !strings.Contains(v.String(), "waiting until") {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	_, err := s.Apply(ctx, session.Request{})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("apply: %v, want a stop that says nothing was changed", err)
	}
	if took := time.Since(start); took >= session.DefaultLateLandings {
		t.Errorf("apply took %s: Ctrl-C did not end its wait", took)
	}
	if got := storageNetworks(t, f); got != 0 {
		t.Errorf("%d storage networks after a stopped wait, want 0", got)
	}
	if v.planned != 0 {
		t.Errorf("a plan was shown (%d) before the wait ended", v.planned)
	}
	// The lock went back to the killed run: the next apply takes it over
	// again and waits the rest of its time.
	v2 := &noticed{recorder: &recorder{}}
	s2 := f.session(v2)
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go func() {
		for ctx2.Err() == nil && !strings.Contains(v2.String(), "waiting until") {
			time.Sleep(10 * time.Millisecond)
		}
		cancel2()
	}()
	if _, err := s2.Apply(ctx2, session.Request{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("next apply: %v, want it stopped while it waits", err)
	}
	if want := "apply: the last run on this lab (" + holder + ") was killed at "; !strings.Contains(v2.String(), want) {
		t.Errorf("next apply's notices %q do not say %q", v2.String(), want)
	}
}
