package engine_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// landLate plays a create a killed apply had in flight, committed by the
// cloud after destroy's read: real Neutron commits a POST whose client has
// gone away (probed on Zed: three port POSTs whose client gave up after
// 100 ms were all created; a port of a killed apply appeared two seconds
// after the kill, after destroy had read the lab). Just before the
// destroy's first DELETE whose path has one of paths goes out, land makes
// that object, on another connection.
type landLate struct {
	base  http.RoundTripper
	paths []string
	land  func() error
	once  sync.Once
	err   error
}

func (l *landLate) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodDelete && slices.ContainsFunc(l.paths, func(p string) bool { return strings.Contains(r.URL.Path, p) }) {
		l.once.Do(func() { l.err = l.land() })
	}
	return l.base.RoundTrip(r)
}

// destroyLanding destroys lab over a connection of its own on which land
// runs before the first DELETE of one of paths.
func destroyLanding(t *testing.T, h *harness, lab *specs.Lab, paths []string, land func() error) (*plan.Plan, *engine.Report, *rereads) {
	t.Helper()
	destroying, err := resources.Connect(context.Background(), resources.Target{CloudName: "sim", CloudsYAML: []byte(h.sim.CloudsYAML("sim", h.sim.Admin()))})
	if err != nil {
		t.Fatal(err)
	}
	// A transport of its own, its spare connections closed before the
	// simulated cloud is (which waits 5 s for a connection that never
	// sent a request).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	ll := &landLate{base: tr, paths: paths, land: land}
	destroying.Network.HTTPClient.Transport = ll
	p, st := h.plan(lab, engine.PlanOptions{Destroy: true})
	ap := h.applier()
	ap.Cloud = destroying
	// Long enough for a re-read on the simulated cloud, short enough
	// that a destroy without it fails the test quickly.
	ap.OpTimeout = 5 * time.Second
	heard := &rereads{}
	ap.Progress = heard
	rep, err := ap.Apply(context.Background(), lab, st, p)
	if err != nil {
		t.Fatal(err)
	}
	if ll.err != nil {
		t.Fatalf("the late object could not land: %v", ll.err)
	}
	return p, rep, heard
}

// rereads records what Progress hears of a destroy's re-reads.
type rereads struct {
	mu  sync.Mutex
	got []engine.Reread
}

func (p *rereads) Started(engine.Op)                                {}
func (p *rereads) Retrying(engine.Op, int, error)                   {}
func (p *rereads) Finished(engine.Op, time.Duration, string, error) {}
func (p *rereads) Reread(r engine.Reread) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = append(p.got, r)
}

// TestDestroyRereadsWhatLandedLate (issue 12): a port of the lab, marked
// in its description as a killed apply's create leaves it, lands on the
// admin subnet and in the lab's group after destroy read the lab. The
// subnet's and group's deletes answer 409 SubnetInUse / SecurityGroupInUse;
// the destroy reads the lab again, deletes the port, and ends with nothing
// of the lab left, saying what it found. Without the re-read those
// deletes retry until their timeout and the port, subnet, network and
// group stay.
func TestDestroyRereadsWhatLandedLate(t *testing.T) {
	h := newHarness(t)
	lab := h.lab(1)
	ctx := context.Background()
	const late = specs.Address("port.slave-01.admin")
	// What the dead apply got to: the lab without that port (nor the
	// server on it).
	h.apply(lab, engine.PlanOptions{Excludes: []string{string(late)}})
	rest, st := h.plan(lab, engine.PlanOptions{})
	c, ok := rest.Change(late)
	if !ok || c.Name == "" {
		t.Fatalf("plan after the partial apply has no create of %s: %+v", late, c)
	}
	subnet, _ := st.Live("subnet.admin")
	group, _ := st.Live("security_group.lab")
	land := func() error {
		_, err := ports.Create(ctx, h.cloud.Network, ports.CreateOpts{
			Name: c.Name, NetworkID: subnet.Fields["network"],
			FixedIPs:       []ports.IP{{SubnetID: subnet.ID}},
			SecurityGroups: &[]string{group.ID},
			Description:    "fuelplan lab=eng address=" + string(late),
		}).Extract()
		return err
	}

	p, rep, heard := destroyLanding(t, h, lab, []string{"/v2.0/subnets/", "/v2.0/security-groups/"}, land)
	if _, ok := p.Change(late); ok {
		t.Fatalf("destroy's plan has %s before it landed", late)
	}
	if err := rep.Err(); err != nil {
		t.Errorf("destroy: %v", err)
	}
	if left := leftovers(t, h.cloud, "eng-"); len(left) > 0 {
		t.Errorf("destroy left %v", left)
	}
	if n, want := rep.Done[engine.PhaseDestroy], len(p.Changes)+1; n != want {
		t.Errorf("%d deletes done, want the plan's %d and the late port", n, want)
	}
	var found []engine.Reread
	for _, r := range rep.Rereads {
		if len(r.Found) > 0 {
			found = append(found, r)
		}
	}
	if len(found) != 1 || len(found[0].Found) != 1 || found[0].Found[0] != late {
		t.Fatalf("re-reads %+v, want one that found %s", rep.Rereads, late)
	}
	if a := found[0].After; a != "subnet.admin" && a != "security_group.lab" {
		t.Errorf("re-read after %s, want after the subnet's or group's delete stayed in use", a)
	}
	want := "destroy: re-read the lab after " + string(found[0].After) + " stayed in use: 1 more object (port.slave-01.admin), deleting"
	if s := found[0].String(); s != want {
		t.Errorf("re-read says %q, want %q", s, want)
	}
	heard.mu.Lock()
	defer heard.mu.Unlock()
	if len(heard.got) != len(rep.Rereads) {
		t.Errorf("progress heard %d re-reads, the report has %d", len(heard.got), len(rep.Rereads))
	}
}

// TestDestroyRereadsAtItsEnd (issue 12): a network of the lab, marked in
// its description as a killed apply's create leaves it, lands after
// destroy read the lab. Nothing sits on it, so no delete answers "in use";
// the destroy's last read finds it and deletes it, saying so. Without that
// read the destroy succeeds and leaves the network.
func TestDestroyRereadsAtItsEnd(t *testing.T) {
	h := newHarness(t)
	lab := h.lab(1)
	const late = specs.Address("network.storage")
	// What the dead apply got to: the lab without that network (nor what
	// is on it: its subnet, ports and servers).
	h.apply(lab, engine.PlanOptions{Excludes: []string{string(late)}})
	rest, _ := h.plan(lab, engine.PlanOptions{})
	c, ok := rest.Change(late)
	if !ok || c.Name == "" {
		t.Fatalf("plan after the partial apply has no create of %s: %+v", late, c)
	}
	land := func() error {
		_, err := networks.Create(context.Background(), h.cloud.Network, networks.CreateOpts{
			Name: c.Name, Description: "fuelplan lab=eng address=" + string(late)}).Extract()
		return err
	}
	p, rep, heard := destroyLanding(t, h, lab, []string{"/v2.0/"}, land)
	if _, ok := p.Change(late); ok {
		t.Fatalf("destroy's plan has %s before it landed", late)
	}
	if err := rep.Err(); err != nil {
		t.Errorf("destroy: %v", err)
	}
	if left := leftovers(t, h.cloud, "eng-"); len(left) > 0 {
		t.Errorf("destroy left %v", left)
	}
	want := []engine.Reread{{Found: []specs.Address{late}}}
	if !reflect.DeepEqual(rep.Rereads, want) {
		t.Fatalf("re-reads %+v, want %+v", rep.Rereads, want)
	}
	if s, want := rep.Rereads[0].String(), "destroy: re-read the lab after its deletes: 1 more object (network.storage), deleting"; s != want {
		t.Errorf("re-read says %q, want %q", s, want)
	}
	heard.mu.Lock()
	defer heard.mu.Unlock()
	if !reflect.DeepEqual(heard.got, want) {
		t.Errorf("progress heard %+v, want %+v", heard.got, want)
	}
}

// TestRereadSays: a re-read's message names what it found (at most five
// addresses), or that it found nothing of the lab, or why it failed.
func TestRereadSays(t *testing.T) {
	t.Parallel()
	many := []specs.Address{"port.slave-01.admin", "port.slave-01.mgmt", "port.slave-01.public", "port.slave-01.storage",
		"port.slave-02.admin", "port.slave-02.mgmt", "server.slave-02"}
	for _, tc := range []struct {
		r    engine.Reread
		want string
	}{
		{engine.Reread{After: "subnet.admin"},
			"destroy: re-read the lab after subnet.admin stayed in use: no more objects of the lab (what holds it is not the lab's, or has not landed yet)"},
		{engine.Reread{After: "network.admin", Found: many},
			"destroy: re-read the lab after network.admin stayed in use: 7 more objects (port.slave-01.admin, port.slave-01.mgmt, port.slave-01.public, port.slave-01.storage, port.slave-02.admin, and 2 more), deleting"},
		{engine.Reread{Stopped: time.Date(2026, 12, 2, 7, 1, 2, 0, time.UTC)},
			"destroy: stopped while waiting for objects a killed run's requests may land until 07:01:02: what lands later needs another destroy"},
		{engine.Reread{After: "subnet.admin", Err: errors.New("read port: 503 Service Unavailable")},
			"destroy: re-read the lab after subnet.admin stayed in use: the read failed: read port: 503 Service Unavailable"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}

// endReads watches a destroy's requests: it counts the destroy's reads
// that follow its first DELETE (the reads at its end: no re-read runs
// during this destroy's walk, as no delete stays in use), by their list
// of the lab's tagged networks, notes when the last one went out, and
// lands an object (land) just after the first of them had its answer to
// the list of networks by name (which finds a half-marked network): a
// killed run's create committed after the read that would have ended the
// destroy.
type endReads struct {
	base http.RoundTripper
	land func() error
	// onRead, when set, hears each read at the end, by its number.
	onRead func(n int)

	mu       sync.Mutex
	deleting bool
	reads    int
	last     time.Time
	landed   bool
	landErr  error
}

func (e *endReads) RoundTrip(r *http.Request) (*http.Response, error) {
	q := r.URL.Query()
	networksOf := r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/v2.0/networks") && q.Has("project_id")
	e.mu.Lock()
	if r.Method == http.MethodDelete {
		e.deleting = true
	}
	read := 0
	if e.deleting && networksOf && q.Has("tags") {
		e.reads++
		e.last = time.Now()
		read = e.reads
	}
	land := e.deleting && networksOf && q.Has("name") && !e.landed
	e.landed = e.landed || land
	e.mu.Unlock()
	if read > 0 && e.onRead != nil {
		e.onRead(read)
	}
	resp, err := e.base.RoundTrip(r)
	if land && e.land != nil {
		// The read has its answer: what lands now, it did not see.
		e.landErr = e.land()
	}
	return resp, err
}

// destroyLandingLate applies lab without network.storage (what a killed
// apply got to), then destroys it over a connection of its own, with
// late (Applier.LateUntil, from when the destroy starts) and poll; the network lands, marked in its
// description as a killed apply's create leaves it, just after the
// destroy's first read at its end.
func destroyLandingLate(t *testing.T, late func() time.Time, poll time.Duration) (*harness, *engine.Report, *endReads) {
	return destroyLandingLateCtx(t, context.Background(), nil, late, poll)
}

// destroyLandingLateCtx is destroyLandingLate under ctx, onRead hearing
// the reads at the destroy's end.
func destroyLandingLateCtx(t *testing.T, ctx context.Context, onRead func(int), late func() time.Time, poll time.Duration) (*harness, *engine.Report, *endReads) {
	t.Helper()
	h := newHarness(t)
	lab := h.lab(1)
	const storage = specs.Address("network.storage")
	h.apply(lab, engine.PlanOptions{Excludes: []string{string(storage)}})
	rest, _ := h.plan(lab, engine.PlanOptions{})
	c, ok := rest.Change(storage)
	if !ok || c.Name == "" {
		t.Fatalf("plan after the partial apply has no create of %s: %+v", storage, c)
	}
	destroying, err := resources.Connect(context.Background(), resources.Target{CloudName: "sim", CloudsYAML: []byte(h.sim.CloudsYAML("sim", h.sim.Admin()))})
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	er := &endReads{base: tr, land: func() error {
		_, err := networks.Create(context.Background(), h.cloud.Network, networks.CreateOpts{
			Name: c.Name, Description: "fuelplan lab=eng address=" + string(storage)}).Extract()
		return err
	}, onRead: onRead}
	destroying.Network.HTTPClient.Transport = er
	p, st := h.plan(lab, engine.PlanOptions{Destroy: true})
	ap := h.applier()
	ap.Cloud = destroying
	ap.LateUntil, ap.LatePoll = late(), poll
	rep, err := ap.Apply(ctx, lab, st, p)
	if err != nil {
		t.Fatal(err)
	}
	if er.landErr != nil {
		t.Fatalf("the late network could not land: %v", er.landErr)
	}
	if !er.landed {
		t.Fatal("the destroy did not read the lab at its end")
	}
	return h, rep, er
}

// TestDestroyWaitsForLateLandings (issue 12): told that objects may land
// until a time (a killed apply's requests in flight; on Zed a router
// POST of a killed apply took 39.7 s and was committed 16 s after
// destroy's last read), a destroy keeps reading the lab at its end until
// then, and deletes the network that landed after its first read there.
// Without the wait the destroy ends at that read and leaves the network.
func TestDestroyWaitsForLateLandings(t *testing.T) {
	var until time.Time
	h, rep, er := destroyLandingLate(t, func() time.Time {
		until = time.Now().Add(1500 * time.Millisecond)
		return until
	}, 100*time.Millisecond)
	if err := rep.Err(); err != nil {
		t.Errorf("destroy: %v", err)
	}
	if left := leftovers(t, h.cloud, "eng-"); len(left) > 0 {
		t.Errorf("destroy left %v", left)
	}
	want := []engine.Reread{{Found: []specs.Address{"network.storage"}}}
	if !reflect.DeepEqual(rep.Rereads, want) {
		t.Errorf("re-reads %+v, want %+v", rep.Rereads, want)
	}
	er.mu.Lock()
	defer er.mu.Unlock()
	if er.last.Before(until) {
		t.Errorf("the destroy's last read went out at %s, before the %s it was told objects may land until",
			er.last.Format(time.StampMilli), until.Format(time.StampMilli))
	}
	// Waits of 100, 200, 400, 400, 400 ms to 1.5 s: about seven reads,
	// with the one after the find (within maxRereads+maxLateRereads).
	if er.reads > 16 {
		t.Errorf("%d reads at the destroy's end, want at most 16", er.reads)
	}
}

// TestDestroyWithoutLateUntilReadsOnce: a destroy not told of late
// landings (no killed run: the lab lock was free) reads the lab once at
// its end and does not wait; what lands after that read stays (the same
// destroy with LateUntil past does the same).
func TestDestroyWithoutLateUntilReadsOnce(t *testing.T) {
	for name, late := range map[string]func() time.Time{
		"zero": func() time.Time { return time.Time{} },
		"past": func() time.Time { return time.Now().Add(-time.Minute) },
	} {
		t.Run(name, func(t *testing.T) {
			h, rep, er := destroyLandingLate(t, late, 20*time.Millisecond)
			if err := rep.Err(); err != nil {
				t.Errorf("destroy: %v", err)
			}
			if er.reads != 1 {
				t.Errorf("%d reads at the destroy's end, want 1", er.reads)
			}
			if len(rep.Rereads) != 0 {
				t.Errorf("re-reads %+v, want none (the network landed after the only one)", rep.Rereads)
			}
			if left := leftovers(t, h.cloud, "eng-"); len(left) != 1 {
				t.Errorf("destroy left %v, want the network that landed after its read", left)
			}
		})
	}
}

// TestDestroyStoppedWhileWaitingSaysSo: a destroy stopped (Ctrl-C) while
// it waits for late landings stops waiting and says that what lands
// later needs another destroy.
func TestDestroyStoppedWhileWaitingSaysSo(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var until time.Time
	_, rep, _ := destroyLandingLateCtx(t, ctx, func(n int) {
		if n == 3 {
			cancel()
		}
	}, func() time.Time {
		until = time.Now().Add(time.Minute)
		return until
	}, 20*time.Millisecond)
	if n := len(rep.Rereads); n == 0 || !rep.Rereads[n-1].Stopped.Equal(until) {
		t.Fatalf("re-reads %+v, want the last to say it stopped waiting for what may land until %s", rep.Rereads, until)
	}
}
