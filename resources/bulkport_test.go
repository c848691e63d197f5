package resources_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// Ports created at about the same time go to Neutron in one bulk create
// (a cloud without tag-creation, as Zed: marked by description in the
// bulk request, tagged one by one after), and come out as single creates
// would: marked, with their own names and addresses.
func TestPortCreatesGoInBulk(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, c := startTagMode(t, false)
	net, sub, _, ids := portWorld(t, c)
	const n = 8
	specsOf := make([]*specs.Port, n)
	for i := range specsOf {
		specsOf[i] = portSpec(fmt.Sprintf("p%d", i), net, sub)
		specsOf[i].FixedIP = fmt.Sprintf("10.20.0.%d", 10+i)
	}
	sim.ResetRequests()
	made := make([]*resources.Object, n)
	for i, err := range concurrently(n, func(i int) (err error) {
		made[i], err = resources.Port{}.Create(ctx, c, lab, specsOf[i], ids)
		return err
	}) {
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	got := sim.Requests()
	if posts := got["POST /network/v2.0/ports"]; posts >= n/2 {
		t.Errorf("%d ports created at once with %d POSTs, want them in bulk", n, posts)
	}
	if tags := got["PUT /network/v2.0/ports/{id}/tags"]; tags != n {
		t.Errorf("%d PUTs of tags, want one per port (%d)", tags, n)
	}
	for i, o := range made {
		checkMarked(t, c, "ports", o.ID, specsOf[i].Addr())
		p, err := ports.Get(ctx, c.Network, o.ID).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != specsOf[i].Name || len(p.FixedIPs) != 1 || p.FixedIPs[0].IPAddress != specsOf[i].FixedIP {
			t.Errorf("port %d: %s %v, want %s on %s", i, p.Name, p.FixedIPs, specsOf[i].Name, specsOf[i].FixedIP)
		}
	}
}

// A bulk create fails as a whole when one port is bad (real Zed: 409
// IpAddressAlreadyAllocated for the whole request, nothing made): each
// port is then created alone, so the bad one fails with its own error
// and the others are made.
func TestBulkPortFailureFallsBackToSingle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, c := startTagMode(t, false)
	net, sub, _, ids := portWorld(t, c)
	const n = 6
	specsOf := make([]*specs.Port, n)
	for i := range specsOf {
		specsOf[i] = portSpec(fmt.Sprintf("p%d", i), net, sub)
		specsOf[i].FixedIP = fmt.Sprintf("10.20.0.%d", 10+i)
	}
	specsOf[3].FixedIP = "10.20.0.10" // port 0's
	sim.ResetRequests()
	made := make([]*resources.Object, n)
	errs := concurrently(n, func(i int) (err error) {
		made[i], err = resources.Port{}.Create(ctx, c, lab, specsOf[i], ids)
		return err
	})
	failed := 0
	for i, err := range errs {
		if err == nil {
			checkMarked(t, c, "ports", made[i].ID, specsOf[i].Addr())
			continue
		}
		failed++
		if !strings.Contains(err.Error(), "IpAddressAlreadyAllocated") && !strings.Contains(err.Error(), "already allocated") {
			t.Errorf("create %d: %v, want the address conflict", i, err)
		}
		if i != 0 && i != 3 {
			t.Errorf("create %d failed: %v; only port 0 or 3 may", i, err)
		}
	}
	if failed != 1 {
		t.Errorf("%d creates failed, want exactly one of the two ports on 10.20.0.10", failed)
	}
	if got := sim.Requests()["POST /network/v2.0/ports"]; got <= n {
		t.Errorf("%d POSTs: want a failed bulk create and then %d single ones", got, n)
	}
}

// Real Zed's bulk create drops an item's allowed address pairs (probed:
// the port comes back, and stays, with none; the simulated Neutron does
// the same), so a port with pairs is created alone and keeps them, while
// the ports without go in bulk.
func TestPortWithAddressPairsIsCreatedAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, c := startTagMode(t, false)
	net, sub, _, ids := portWorld(t, c)
	const n = 6
	specsOf := make([]*specs.Port, n)
	for i := range specsOf {
		specsOf[i] = portSpec(fmt.Sprintf("p%d", i), net, sub)
		specsOf[i].FixedIP = fmt.Sprintf("10.20.0.%d", 10+i)
	}
	specsOf[2].AllowedAddressPairs = []specs.AddressPair{{IP: "10.20.0.100"}}
	sim.ResetRequests()
	made := make([]*resources.Object, n)
	for i, err := range concurrently(n, func(i int) (err error) {
		made[i], err = resources.Port{}.Create(ctx, c, lab, specsOf[i], ids)
		return err
	}) {
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	if posts := sim.Requests()["POST /network/v2.0/ports"]; posts >= n-1 {
		t.Errorf("%d ports created at once with %d POSTs, want those without pairs in bulk", n, posts)
	}
	for i, o := range made {
		p, err := ports.Get(ctx, c.Network, o.ID).Extract()
		if err != nil {
			t.Fatal(err)
		}
		want := len(specsOf[i].AllowedAddressPairs)
		if len(p.AllowedAddressPairs) != want {
			t.Errorf("port %d has address pairs %+v, want %d", i, p.AllowedAddressPairs, want)
		}
	}
}
