package engine_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// dieAfterPortCreate plays a process killed right after its first port
// create came back: from then on no request of it reaches the cloud (the
// tags, the undo of a failed tagging: nothing).
type dieAfterPortCreate struct {
	base http.RoundTripper
	die  context.CancelFunc // ends the dead process's apply
	mu   sync.Mutex
	dead bool
}

var errDead = errors.New("the process is dead")

func (d *dieAfterPortCreate) RoundTrip(r *http.Request) (*http.Response, error) {
	d.mu.Lock()
	dead := d.dead
	d.mu.Unlock()
	if dead {
		return nil, errDead
	}
	resp, err := d.base.RoundTrip(r)
	if err == nil && r.Method == http.MethodPost && resp.StatusCode == http.StatusCreated && strings.HasSuffix(r.URL.Path, "/v2.0/ports") {
		d.mu.Lock()
		d.dead = true
		d.mu.Unlock()
		d.die()
	}
	return resp, err
}

// TestHalfMarkedPortIsTheLabs (issue 12 item 2): an apply killed between
// a port's create and its tagging (the default simulated world has no
// tag-creation, as Zed) leaves a port marked only in its description.
// The next plan owns it (no "+" for it, no "-/+" for its server, only its
// mark to finish), and destroy straight after the kill leaves nothing
// carrying the lab's names.
func TestHalfMarkedPortIsTheLabs(t *testing.T) {
	h := newHarness(t)
	lab := h.lab(1)
	ctx := context.Background()

	// The apply that dies, on a connection of its own.
	dying, err := resources.Connect(ctx, resources.Target{CloudName: "sim", CloudsYAML: []byte(h.sim.CloudsYAML("sim", h.sim.Admin()))})
	if err != nil {
		t.Fatal(err)
	}
	dctx, die := context.WithCancel(ctx)
	defer die()
	dying.Network.HTTPClient.Transport = &dieAfterPortCreate{base: http.DefaultTransport, die: die}
	p, st := h.plan(lab, engine.PlanOptions{})
	ap := h.applier()
	ap.Cloud = dying
	// Operations running at the kill retry their dead connection until
	// their timeout (a real kill ends them at once).
	ap.OpTimeout = time.Second
	if _, err := ap.Apply(dctx, lab, st, p); err != nil {
		t.Fatal(err)
	}
	var half []ports.Port
	all, err := ports.List(h.cloud.Network, ports.ListOpts{}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := ports.ExtractPorts(all)
	for _, pt := range ps {
		if strings.HasPrefix(pt.Description, "fuelplan lab=eng ") && len(pt.Tags) == 0 {
			half = append(half, pt)
		}
	}
	if len(half) == 0 {
		t.Fatal("no half-marked port after the kill: the test's kill missed the window")
	}
	again, _ := h.plan(lab, engine.PlanOptions{})
	for _, pt := range half {
		addr := specs.Address(strings.TrimPrefix(pt.Description, "fuelplan lab=eng address="))
		c, ok := again.Change(addr)
		if !ok || c.Action != plan.Update || len(c.Fields) == 0 || c.Fields[0].Name != resources.MarkField {
			t.Errorf("plan after the kill: %s is %+v, want an update of its mark", addr, c)
		}
		server := specs.NewAddress(specs.KindServer, strings.Split(strings.TrimPrefix(string(addr), "port."), ".")[0])
		if c, ok := again.Change(server); ok && c.Action != plan.Create {
			t.Errorf("plan after the kill: %s is %v, want it created (never replaced over a port of its own)", server, c.Action)
		}
	}

	h.apply(lab, engine.PlanOptions{Destroy: true})
	left := leftovers(t, h.cloud, "eng-")
	if len(left) > 0 {
		t.Fatalf("destroy after the kill left %v", left)
	}
}

// leftovers lists the Neutron objects whose name starts with prefix.
func leftovers(t *testing.T, c *resources.Cloud, prefix string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	add := func(kind, id, name string) {
		if strings.HasPrefix(name, prefix) {
			out = append(out, kind+" "+name+" "+id)
		}
	}
	np, err := networks.List(c.Network, networks.ListOpts{}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ns, _ := networks.ExtractNetworks(np)
	for _, n := range ns {
		add("network", n.ID, n.Name)
	}
	sp, _ := subnets.List(c.Network, subnets.ListOpts{}).AllPages(ctx)
	ss, _ := subnets.ExtractSubnets(sp)
	for _, s := range ss {
		add("subnet", s.ID, s.Name)
	}
	pp, _ := ports.List(c.Network, ports.ListOpts{}).AllPages(ctx)
	ps, _ := ports.ExtractPorts(pp)
	for _, p := range ps {
		add("port", p.ID, p.Name)
	}
	gp, _ := groups.List(c.Network, groups.ListOpts{}).AllPages(ctx)
	gs, _ := groups.ExtractGroups(gp)
	for _, g := range gs {
		add("security group", g.ID, g.Name)
	}
	return out
}
