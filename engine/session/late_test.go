package session_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/session"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// noticed is a recorder whose notices are kept.
type noticed struct {
	*recorder
	mu  sync.Mutex
	buf strings.Builder
}

func (n *noticed) Notices() io.Writer { return n }
func (n *noticed) Write(b []byte) (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.buf.Write(b)
}
func (n *noticed) String() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.buf.String()
}

// landOnRead lands an object just after the n-th list of networks by
// name (each read of the lab makes one; it finds a half-marked network)
// had its answer: a create a killed run had in flight, committed by the
// cloud after that read.
type landOnRead struct {
	base  http.RoundTripper
	n     int
	land  func() error
	mu    sync.Mutex
	lists int
	err   error
}

func (l *landOnRead) RoundTrip(r *http.Request) (*http.Response, error) {
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
		l.err = l.land()
	}
	return resp, err
}

// killedRun leaves the lab lock as a killed run leaves it: held by a
// process of this host that is gone, its lease renewed a moment ago.
func killedRun(t *testing.T, f *fixture) string {
	t.Helper()
	return killedRunSince(t, f, time.Now(), 300*time.Second)
}

// killedRunSince is killedRun whose last lease (of lease) was written at
// since: the run died by since + lease/3, when its renewal was due.
func killedRunSince(t *testing.T, f *fixture, since time.Time, lease time.Duration) string {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	holder := fmt.Sprintf("ci@%s pid %d", host, cmd.Process.Pid)
	desc := "fuelplan-lock held by " + holder + " since " + since.UTC().Format(time.RFC3339) + fmt.Sprintf(" lease %d", int(lease.Seconds()))
	ctx := context.Background()
	pages, err := groups.List(f.cloud.Network, groups.ListOpts{Name: specs.LockName(f.lab.Name)}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gs, err := groups.ExtractGroups(pages)
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) == 0 {
		_, err = groups.Create(ctx, f.cloud.Network, groups.CreateOpts{Name: specs.LockName(f.lab.Name), Description: desc}).Extract()
	} else {
		_, err = groups.Update(ctx, f.cloud.Network, gs[0].ID, groups.UpdateOpts{Description: &desc}).Extract()
	}
	if err != nil {
		t.Fatal(err)
	}
	return holder
}

// destroyAfter destroys f's lab through a session whose cloud lands the
// lab's storage network (marked in its description, as a killed apply's
// create leaves it) after its n-th read of the lab; it returns the notices.
func destroyAfter(t *testing.T, f *fixture, n int) string {
	t.Helper()
	const storage = specs.Address("network.storage")
	landing, err := resources.Connect(context.Background(), resources.Target{CloudName: "sim", CloudsYAML: []byte(f.sim.CloudsYAML("sim", f.sim.Admin()))})
	if err != nil {
		t.Fatal(err)
	}
	base := f.cloud.Network.HTTPClient.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	lr := &landOnRead{base: base, n: n, land: func() error {
		_, err := networks.Create(context.Background(), landing.Network, networks.CreateOpts{
			Name: "eng-storage", Description: "fuelplan lab=eng address=" + string(storage)}).Extract()
		return err
	}}
	f.cloud.Network.HTTPClient.Transport = lr
	defer func() { f.cloud.Network.HTTPClient.Transport = base }()
	v := &noticed{recorder: &recorder{}}
	s := f.session(v)
	s.LateLandings, s.LatePoll = 1500*time.Millisecond, 20*time.Millisecond
	if _, err := s.Apply(context.Background(), session.Request{Options: engine.PlanOptions{Destroy: true}}); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if lr.err != nil || lr.lists < n {
		t.Fatalf("the late network did not land (%d reads): %v", lr.lists, lr.err)
	}
	return v.String()
}

// labNetworks lists the networks left whose names start with the lab's.
func labNetworks(t *testing.T, f *fixture) []string {
	t.Helper()
	pages, err := networks.List(f.cloud.Network, networks.ListOpts{}).AllPages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	all, err := networks.ExtractNetworks(pages)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range all {
		if strings.HasPrefix(n.Name, "eng-") {
			out = append(out, n.Name)
		}
	}
	return out
}

// TestDestroyAfterKilledRunWaitsForItsRequests (issue 12): a destroy that
// takes the lab lock over from a killed run says so, and keeps reading
// the lab until that run's requests can no longer land (here 1.5 s; a
// minute by default, for a router POST of a killed apply that took 39.7 s
// on Zed): the storage network that lands after its read at the end is
// deleted. Also when the plan is empty (the killed run had made nothing
// yet). Without a killed run (the lock was free) the destroy does not
// wait, says nothing of it, and what lands after its last read stays.
func TestDestroyAfterKilledRunWaitsForItsRequests(t *testing.T) {
	// The plan's read is the 1st, the read at the destroy's end the 2nd.
	for _, tc := range []struct {
		name          string
		applied, dead bool
	}{
		{"partial lab, killed run", true, true},
		{"nothing made yet, killed run", false, true},
		{"partial lab, lock free", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			if tc.applied {
				f.apply(t, session.Request{Options: engine.PlanOptions{Excludes: []string{"network.storage"}}})
			}
			holder := ""
			if tc.dead {
				holder = killedRun(t, f)
			}
			said := destroyAfter(t, f, 2)
			left := labNetworks(t, f)
			if !tc.dead {
				if strings.Contains(said, "was killed") {
					t.Errorf("notices %q speak of a killed run; the lock was free", said)
				}
				if len(left) != 1 || left[0] != "eng-storage" {
					t.Errorf("networks left %v, want the one that landed after the destroy's read (no wait)", left)
				}
				return
			}
			want := "destroy: the last run on this lab (" + holder + ") was killed, at "
			if !strings.Contains(said, want) || !strings.Contains(said, "every 20ms and less often, and deletes what lands") {
				t.Errorf("notices %q do not say %q and how it waits", said, want)
			}
			if len(left) > 0 {
				t.Errorf("destroy left networks %v", left)
			}
		})
	}
}
