package engine_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// landLate plays a create a killed apply had in flight, committed by the
// cloud after destroy's read: real Neutron commits a POST whose client has
// gone away (on Zed, a port of a killed apply appeared two seconds after
// the kill, after destroy had read the lab). Just before the destroy's
// first delete of a subnet or security group goes out, land makes that
// object, on another connection.
type landLate struct {
	base http.RoundTripper
	land func() error
	once sync.Once
	err  error
}

func (l *landLate) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodDelete && (strings.Contains(r.URL.Path, "/v2.0/subnets/") || strings.Contains(r.URL.Path, "/v2.0/security-groups/")) {
		l.once.Do(func() { l.err = l.land() })
	}
	return l.base.RoundTrip(r)
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

	destroying, err := resources.Connect(ctx, resources.Target{CloudName: "sim", CloudsYAML: []byte(h.sim.CloudsYAML("sim", h.sim.Admin()))})
	if err != nil {
		t.Fatal(err)
	}
	ll := &landLate{base: http.DefaultTransport, land: land}
	destroying.Network.HTTPClient.Transport = ll
	p, st := h.plan(lab, engine.PlanOptions{Destroy: true})
	if _, ok := p.Change(late); ok {
		t.Fatalf("destroy's plan has %s before it landed", late)
	}
	ap := h.applier()
	ap.Cloud = destroying
	// Long enough for the re-read on the simulated cloud, short enough
	// that a destroy without it fails the test quickly.
	ap.OpTimeout = 5 * time.Second
	heard := &rereads{}
	ap.Progress = heard
	rep, err := ap.Apply(ctx, lab, st, p)
	if err != nil {
		t.Fatal(err)
	}
	if ll.err != nil {
		t.Fatalf("the late port could not land: %v", ll.err)
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
		{engine.Reread{After: "subnet.admin", Err: errors.New("read port: 503 Service Unavailable")},
			"destroy: re-read the lab after subnet.admin stayed in use: the read failed: read port: 503 Service Unavailable"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}
