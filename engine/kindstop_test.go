package engine_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/simcloud"
)

// TestQuotaStopsTheKind: once Neutron refuses a port for the quota, apply
// sends no further port creates, and the summary says the refusal once
// for all the ports it cost, with the first and last address.
//
// With the defaults, ready port creates run batched (up to 50 in a slot,
// one bulk request each): the 161 ports may all be in flight when the
// first refusal comes back, a few bulk requests refused whole, so none
// is left to be "not tried". With ports capped at 10 in flight, the
// rest are not tried.
func TestQuotaStopsTheKind(t *testing.T) {
	t.Run("defaults", func(t *testing.T) { testQuotaStopsTheKind(t, nil, false) })
	t.Run("ports capped", func(t *testing.T) { testQuotaStopsTheKind(t, map[string]int{"port": 10}, true) })
}

func testQuotaStopsTheKind(t *testing.T, caps map[string]int, wantNotTried bool) {
	w := simcloud.DefaultWorld()
	for k := range w.Quotas {
		w.Quotas[k] = -1
	}
	const quota = 10
	w.Quotas["port"] = quota
	sim, err := simcloud.Start(simcloud.Config{World: w})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	c, err := resources.Connect(context.Background(), resources.Target{CloudName: "sim", CloudsYAML: []byte(sim.CloudsYAML("sim", sim.Admin()))})
	if err != nil {
		t.Fatal(err)
	}
	reg := resources.Default()
	t.Cleanup(func() { _ = reg.Close() })
	h := &harness{t: t, sim: sim, cloud: c, reg: reg, dir: t.TempDir()}

	lab := h.lab(40) // 4 ports a slave: 160 and the master's, against a quota of 10
	p, st := h.plan(lab, engine.PlanOptions{})
	ports := 0
	for _, ch := range p.Changes {
		if strings.HasPrefix(string(ch.Address), "port.") {
			ports++
		}
	}
	sim.ResetRequests()
	ap := h.applier()
	ap.KindLimits = caps
	rep, err := ap.Apply(context.Background(), lab, st, p)
	if err != nil {
		t.Fatal(err)
	}
	sent := sim.Requests()["POST /network/v2.0/ports"]
	// The quota's worth succeed; at most the port creates already in
	// flight when the first refusal came back fail with it.
	if sent > quota+ap.Parallelism {
		t.Errorf("%d port creates sent for a quota of %d (parallelism %d): the kind did not stop", sent, quota, ap.Parallelism)
	}
	msg := rep.Err().Error()
	re := regexp.MustCompile(`(?m)^  \* (\d+) ports: HTTP 409 OverQuota: Quota exceeded for resources: \['port'\]\. \(POST /network/v2\.0/ports\) \(first: port\.[^,]+, last: port\.[^;)]+(; (\d+) not tried after the first refusal)?\)$`)
	m := re.FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("no grouped port line in:\n%s", msg)
	}
	if wantNotTried && m[3] == "" {
		t.Errorf("with ports capped at 10 in flight, no port create was left not tried:\n%s", msg)
	}
	if strings.Count(msg, "OverQuota") != 1 {
		t.Errorf("the quota refusal is said more than once:\n%s", msg)
	}
	// Router interfaces take ports of the quota too, so how many of the
	// lab's ports fit varies with the order: every port not created is in
	// the one group.
	created := 0
	for op, err := range rep.Results {
		if op.Phase == engine.PhaseCreate && strings.HasPrefix(string(op.Address), "port.") && err == nil {
			created++
		}
	}
	if created > quota {
		t.Errorf("%d ports created over a quota of %d", created, quota)
	}
	if want := ports - created; m[1] != strconv.Itoa(want) {
		t.Errorf("group counts %s ports, want %d (planned %d, created %d)\n%s", m[1], want, ports, created, msg)
	}
	t.Logf("%d port creates planned, %d sent; summary:\n%s", ports, sent, msg)
}
