package session_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/engine/session"
	"github.com/fuelplan/fuelplan/internal/lablock"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/simcloud"
	"github.com/fuelplan/fuelplan/specs"
	"github.com/fuelplan/fuelplan/waits"
)

// recorder is a View that keeps what it heard; its Progress can cancel
// the apply after some operations, as Ctrl-C would.
type recorder struct {
	mu          sync.Mutex
	planned     int
	applied     []*engine.Report
	finished    int
	cancelAfter int
	cancel      context.CancelFunc
	// onStart, when set, runs once, as the first operation starts; then
	// every starting operation waits for hold (when set) to close.
	onStart func()
	started sync.Once
	hold    chan struct{}
}

func (r *recorder) Planned(*plan.Plan) error {
	r.mu.Lock()
	r.planned++
	r.mu.Unlock()
	return nil
}
func (r *recorder) Applying(*plan.Plan) engine.Progress { return r }
func (r *recorder) Applied(_ *plan.Plan, rep *engine.Report) {
	r.mu.Lock()
	r.applied = append(r.applied, rep)
	r.mu.Unlock()
}
func (r *recorder) Waiting(int) io.Writer { return io.Discard }
func (r *recorder) Waited(*waits.Report)  {}
func (r *recorder) Notices() io.Writer    { return io.Discard }
func (r *recorder) Started(engine.Op) {
	if r.onStart != nil {
		r.started.Do(r.onStart)
	}
	if r.hold != nil {
		<-r.hold
	}
}
func (r *recorder) Retrying(engine.Op, int, error) {}
func (r *recorder) Reread(engine.Reread)           {}
func (r *recorder) Finished(engine.Op, time.Duration, string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.finished++
	if r.cancel != nil && r.finished == r.cancelAfter {
		r.cancel()
	}
}

type fixture struct {
	sim   *simcloud.Cloud
	cloud *resources.Cloud
	lab   *specs.Lab
}

// newFixture starts a simulated cloud (real HTTP, through gophercloud)
// and compiles the engine's test lab with one slave.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	sim, err := simcloud.Start(simcloud.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	c, err := resources.Connect(context.Background(), resources.Target{CloudName: "sim", CloudsYAML: []byte(sim.CloudsYAML("sim", sim.Admin()))})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "engine", "lab.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "lab.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), "count: SLAVES", "count: 1", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	lab, diags := specs.LoadLab(path, func(string) (string, bool) { return "", false })
	if diags.HasErrors() {
		t.Fatal(diags.Errors())
	}
	return &fixture{sim: sim, cloud: c, lab: lab}
}

func (f *fixture) session(v session.View) *session.Session {
	return &session.Session{
		Lab: f.lab, CloudName: "sim", View: v,
		Connect: func(context.Context) (*resources.Cloud, func() error, error) {
			return f.cloud, func() error { return nil }, nil
		},
	}
}

func (f *fixture) apply(t *testing.T, req session.Request) {
	t.Helper()
	if _, err := f.session(&recorder{}).Apply(context.Background(), req); err != nil {
		t.Fatal(err)
	}
}

// TestOutcomesAreTyped: every way an apply or destroy stops short comes
// back as a value the caller can switch on, never as text to match.
func TestOutcomesAreTyped(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, f *fixture, s *session.Session) (context.Context, session.Request)
		check func(t *testing.T, err error, f *fixture)
	}{
		{
			name: "declined",
			setup: func(t *testing.T, f *fixture, s *session.Session) (context.Context, session.Request) {
				s.Confirm = func(*plan.Plan) (bool, error) { return false, nil }
				return context.Background(), session.Request{}
			},
			check: func(t *testing.T, err error, f *fixture) {
				if !errors.Is(err, session.ErrDeclined) {
					t.Fatalf("got %v, want ErrDeclined", err)
				}
				p, err := f.session(&recorder{}).Plan(context.Background(), session.Request{})
				if err != nil || p.Summary().Create == 0 {
					t.Errorf("a declined plan changed the cloud: %v, %+v", err, p.Summary())
				}
			},
		},
		{
			name: "conflict",
			setup: func(t *testing.T, f *fixture, s *session.Session) (context.Context, session.Request) {
				if _, err := networks.Create(context.Background(), f.cloud.Network, networks.CreateOpts{Name: "eng-admin"}).Extract(); err != nil {
					t.Fatal(err)
				}
				return context.Background(), session.Request{}
			},
			check: func(t *testing.T, err error, f *fixture) {
				var ce *session.ConflictError
				if !errors.As(err, &ce) || ce.Conflicts != 1 {
					t.Fatalf("got %v, want a ConflictError with 1 conflict", err)
				}
			},
		},
		{
			name: "failed destroy",
			setup: func(t *testing.T, f *fixture, s *session.Session) (context.Context, session.Request) {
				f.apply(t, session.Request{})
				f.sim.InjectFaults(simcloud.Fault{Method: "DELETE", Path: "/compute/v2.1/servers", Status: 403})
				return context.Background(), session.Request{Options: engine.PlanOptions{Destroy: true}}
			},
			check: func(t *testing.T, err error, f *fixture) {
				var ie *session.IncompleteError
				if !errors.As(err, &ie) || !ie.Destroy || len(ie.Failed) != 2 || len(ie.Interrupted) != 0 {
					t.Fatalf("got %#v, want an IncompleteError of a destroy with the 2 servers failed", err)
				}
			},
		},
		{
			name: "interrupted",
			setup: func(t *testing.T, f *fixture, s *session.Session) (context.Context, session.Request) {
				ctx, cancel := context.WithCancel(context.Background())
				t.Cleanup(cancel)
				s.View = &recorder{cancelAfter: 3, cancel: cancel}
				s.Parallelism = 1
				return ctx, session.Request{}
			},
			check: func(t *testing.T, err error, f *fixture) {
				var ie *session.IncompleteError
				if !errors.As(err, &ie) || ie.Destroy || len(ie.Failed) != 0 || ie.Skipped != 0 || len(ie.Interrupted) == 0 {
					t.Fatalf("got %#v, want an IncompleteError with only operations not started", err)
				}
			},
		},
		{
			// What a second holder's takeover writes: the lock anchor's
			// description swapped to it while this apply runs.
			name: "lock lost",
			setup: func(t *testing.T, f *fixture, s *session.Session) (context.Context, session.Request) {
				// Servers take a while to build: an apply that went on
				// after losing its lock would run for the whole build.
				f.sim.Knobs().SetBuildTime(20 * time.Second)
				s.LockLease = 1500 * time.Millisecond
				// The operations starting meanwhile are held until the
				// loss is surely seen (a heartbeat is a third of the
				// lease): the walk alone decides what starts after.
				hold := make(chan struct{})
				s.View = &recorder{hold: hold, onStart: func() {
					defer time.AfterFunc(3*time.Second, func() { close(hold) })
					ctx := context.Background()
					as, err := resources.ListLockAnchors(ctx, f.cloud, f.lab.Name+"-fuelplan-lock")
					if err != nil || len(as) != 1 {
						t.Errorf("lock anchors %v, %v", as, err)
						return
					}
					desc := "fuelplan-lock held by second since " + time.Now().UTC().Format(time.RFC3339) + " lease 300"
					if _, err := groups.Update(ctx, f.cloud.Network, as[0].ID, groups.UpdateOpts{Description: &desc}).Extract(); err != nil {
						t.Error(err)
					}
				}}
				return context.Background(), session.Request{}
			},
			check: func(t *testing.T, err error, f *fixture) {
				var le *session.LockLostError
				if !errors.As(err, &le) || !errors.Is(err, lablock.ErrLost) || le.Destroy || le.Undone == nil {
					t.Fatalf("got %#v, want a LockLostError of an apply with what it left undone", err)
				}
				var ie *session.IncompleteError
				if errors.As(err, &ie) {
					t.Errorf("a lost lock came back as an IncompleteError too: %v", err)
				}
				if !strings.Contains(err.Error(), "second took it") {
					t.Errorf("error %q does not say who took the lock", err)
				}
			},
		},
		{
			name: "saved plan after destroy",
			setup: func(t *testing.T, f *fixture, s *session.Session) (context.Context, session.Request) {
				f.apply(t, session.Request{})
				saved, err := f.session(&recorder{}).Plan(context.Background(), session.Request{Options: engine.PlanOptions{Destroy: true}})
				if err != nil {
					t.Fatal(err)
				}
				f.apply(t, session.Request{Options: engine.PlanOptions{Destroy: true}})
				return context.Background(), session.Request{Saved: saved}
			},
			check: func(t *testing.T, err error, f *fixture) {
				var se *session.StalePlanError
				if !errors.As(err, &se) || len(se.Moved) == 0 {
					t.Fatalf("got %v, want a StalePlanError naming what moved", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			s := f.session(&recorder{})
			ctx, req := tt.setup(t, f, s)
			start := time.Now()
			_, err := s.Apply(ctx, req)
			// A hang detector (servers build for 20 s in "lock lost"),
			// not a speed target.
			if elapsed := time.Since(start); elapsed > 15*time.Second {
				t.Errorf("apply ran %v", elapsed)
			}
			tt.check(t, err, f)
		})
	}
}
