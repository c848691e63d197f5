package neutron

import (
	"context"
	"net/http"
	"net/netip"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
)

// TestAllocationMatchesAWalk drives creates, deletes, address changes and
// explicit addresses through the API and checks after each create that
// the port got the lowest address no port holds, found here by walking
// every port as the simulator did before it kept an index (real Neutron
// hands out the lowest free address of the pools too), and that a freed
// MAC or address can be taken again while a held one cannot.
func TestAllocationMatchesAWalk(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	net, sn := memberNet(t, c, "10.9.0.0/26")
	lowestFree := func() string {
		all, err := listPorts(c, c.admin, ports.ListOpts{NetworkID: net.ID})
		if err != nil {
			t.Fatal(err)
		}
		used := map[string]bool{}
		for _, p := range all {
			for _, f := range p.FixedIPs {
				used[f.IPAddress] = true
			}
		}
		for _, pl := range sn.AllocationPools {
			a, e := netip.MustParseAddr(pl.Start), netip.MustParseAddr(pl.End)
			for ; !e.Less(a); a = a.Next() {
				if !used[a.String()] {
					return a.String()
				}
			}
		}
		return ""
	}
	create := func() ports.Port {
		want := lowestFree()
		p := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: net.ID}).Extract())
		if got := p.FixedIPs[0].IPAddress; got != want {
			t.Fatalf("port got %s, the lowest free address is %s", got, want)
		}
		return *p
	}
	var made []ports.Port
	for range 12 {
		made = append(made, create())
	}
	// Free addresses below the low mark, in the middle and at the top.
	for _, i := range []int{7, 2, 11} {
		if err := ports.Delete(ctx, c.member, made[i].ID).ExtractErr(); err != nil {
			t.Fatal(err)
		}
	}
	for range 4 {
		made = append(made, create())
	}
	// Move a port to an explicit address; its old one is free again.
	moved := made[4]
	to := []ports.IP{{SubnetID: sn.ID, IPAddress: "10.9.0.60"}}
	if _, err := ports.Update(ctx, c.member, moved.ID, ports.UpdateOpts{FixedIPs: to}).Extract(); err != nil {
		t.Fatal(err)
	}
	made = append(made, create(), create())
	_, err := ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: net.ID, FixedIPs: to}).Extract()
	wantFault(t, err, http.StatusConflict, "IpAddressAlreadyAllocated")

	// A MAC is unique on its network until its port is gone.
	mac := made[0].MACAddress
	_, err = ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: net.ID, MACAddress: mac}).Extract()
	wantFault(t, err, http.StatusConflict, "MacAddressInUse")
	if err := ports.Delete(ctx, c.member, made[0].ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	p := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: net.ID, MACAddress: mac}).Extract())
	if p.MACAddress != mac {
		t.Errorf("MAC %s, want %s", p.MACAddress, mac)
	}
	// A restored store is indexed afresh.
	snap, err := c.svc.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.svc.Restore(snap); err != nil {
		t.Fatal(err)
	}
	_, err = ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: net.ID, MACAddress: mac}).Extract()
	wantFault(t, err, http.StatusConflict, "MacAddressInUse")
	create()
}
