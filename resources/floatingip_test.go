package resources_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/resources/resourcestest"
	"github.com/fuelplan/fuelplan/specs"
)

// reachableWorld makes two lab ports on a subnet attached to a router
// whose gateway is on the external network, so floating IPs can reach them.
func reachableWorld(t *testing.T, c *resources.Cloud) ([]*specs.Port, resourcestest.IDs) {
	t.Helper()
	ctx := context.Background()
	net, sub, _, ids := portWorld(t, c)
	ids[publicNet] = extNetID
	r := &specs.Router{Meta: meta(specs.KindRouter, "router"), ExternalNetwork: publicNet}
	ro, err := resources.Router{}.Create(ctx, c, lab, r, ids)
	if err != nil {
		t.Fatal(err)
	}
	ids[r.Addr()] = ro.ID
	ri := &specs.RouterInterface{Meta: specs.Meta{Address: "router_interface.admin"}, Router: r.Addr(), Subnet: sub.Addr()}
	if _, err := (resources.RouterInterface{}).Create(ctx, c, lab, ri, ids); err != nil {
		t.Fatal(err)
	}
	var ps []*specs.Port
	for _, name := range []string{"admin", "admin2"} {
		p := portSpec(name, net, sub)
		o, err := resources.Port{}.Create(ctx, c, lab, p, ids)
		if err != nil {
			t.Fatal(err)
		}
		ids[p.Addr()] = o.ID
		ps = append(ps, p)
	}
	return ps, ids
}

func TestFloatingIPLifecycle(t *testing.T) {
	t.Parallel()
	for _, mode := range tagModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			_, c := startTagMode(t, mode.creation)
			ps, ids := reachableWorld(t, c)
			ad := resources.FloatingIP{}
			f := &specs.FloatingIP{Meta: specs.Meta{Address: "floating_ip.master"}, Port: ps[0].Addr(),
				ExternalNetwork: publicNet, FixedAddress: "172.18.161.120"}
			created, err := ad.Create(ctx, c, lab, f, ids)
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			checkMarked(t, c, "floatingips", created.ID, f.Addr())
			got := listOne(t, ad, c, nil, f.Addr(), f)
			if got == nil || got.ID != created.ID || !got.Owned || got.Name != "172.18.161.120" {
				t.Fatalf("list: %+v", got)
			}
			for k, v := range map[string]string{"port": ids[ps[0].Addr()], "external_network": extNetID,
				"floating_ip_address": "172.18.161.120"} {
				if got.Fields[k] != v {
					t.Errorf("field %s = %q, want %q", k, got.Fields[k], v)
				}
			}
			checkNoDrift(t, ad, f, got, ids)

			// Re-association to another port is an update.
			f.Port = ps[1].Addr()
			if len(resourcestest.Drift(ad.Desired(f), got, ids)) == 0 {
				t.Fatal("a new port is not drift")
			}
			if got, err = ad.Update(ctx, c, f, got, []string{"port"}, ids); err != nil {
				t.Fatalf("update port: %v", err)
			}
			checkNoDrift(t, ad, f, listOne(t, ad, c, nil, f.Addr(), f), ids)
			if _, err := ad.Update(ctx, c, f, got, []string{"floating_ip_address"}, ids); err == nil {
				t.Error("update of the address succeeded; it forces a new floating IP")
			}
			checkDeleted(t, ad, c, got)
		})
	}
}

// TestFloatingIPConflict: floating IPs have no names; an unowned one is a
// conflict when the spec asks for its address.
func TestFloatingIPConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := resourcestest.Admin(t)
	ps, ids := reachableWorld(t, c)
	hand, err := floatingips.Create(ctx, c.Network, floatingips.CreateOpts{FloatingNetworkID: extNetID,
		FloatingIP: "172.18.161.130"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	// Someone else's address with no address asked for is no business of ours.
	if _, err := floatingips.Create(ctx, c.Network, floatingips.CreateOpts{FloatingNetworkID: extNetID}).Extract(); err != nil {
		t.Fatal(err)
	}
	fixed := &specs.FloatingIP{Meta: specs.Meta{Address: "floating_ip.master"}, Port: ps[0].Addr(),
		ExternalNetwork: publicNet, FixedAddress: "172.18.161.130"}
	anyAddr := &specs.FloatingIP{Meta: specs.Meta{Address: "floating_ip.slave"}, Port: ps[1].Addr(), ExternalNetwork: publicNet}
	objs, err := resources.FloatingIP{}.List(ctx, c, resources.Query{Lab: lab, Want: []specs.Resource{fixed, anyAddr}})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objs[0].ID != hand.ID || objs[0].Owned || objs[0].Address != fixed.Addr() {
		t.Errorf("list = %+v, want only %s, unowned at %s", objs, hand.ID, fixed.Addr())
	}
	// Creating it fails with Neutron's reason, under the address.
	_, err = resources.FloatingIP{}.Create(ctx, c, lab, fixed, ids)
	if err == nil || !strings.HasPrefix(err.Error(), "floating_ip.master: create: ") || !strings.Contains(err.Error(), "172.18.161.130") {
		t.Errorf("create of a taken address: %v", err)
	}
}

// TestNeutronLabRead reads a built lab's Neutron kinds the way the engine
// does (in build order, each seeing what came before) and counts the
// calls: one list per kind, whatever the lab's size.
func TestNeutronLabRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, c := resourcestest.Admin(t)
	ps, ids := reachableWorld(t, c)
	var want []specs.Resource
	for _, p := range ps {
		f := &specs.FloatingIP{Meta: specs.Meta{Address: specs.NewAddress(specs.KindFloatingIP, p.Addr().Name())},
			Port: p.Addr(), ExternalNetwork: publicNet}
		if _, err := (resources.FloatingIP{}).Create(ctx, c, lab, f, ids); err != nil {
			t.Fatal(err)
		}
		want = append(want, f)
	}
	g := specs.NewAddress(specs.KindSecurityGroup, "mgmt")
	ssh := rule(g, "ssh", func(r *specs.SecurityGroupRule) { r.Protocol, r.PortMin, r.PortMax = "tcp", 22, 22 })
	if _, err := (resources.SecurityGroupRule{}).Create(ctx, c, lab, ssh, ids); err != nil {
		t.Fatal(err)
	}

	sim.ResetRequests()
	reg := resources.Default()
	t.Cleanup(func() { _ = reg.Close() })
	read := resourcestest.Snapshot{}
	owned := 0
	for _, k := range specs.Kinds {
		ad, ok := reg[k]
		if !ok || k == specs.KindImage || k == specs.KindFlavor || k == specs.KindKeypair ||
			k == specs.KindServer || k == specs.KindVolume {
			continue
		}
		var w []specs.Resource
		switch k {
		case specs.KindExternalNetwork:
			w = []specs.Resource{extNet("public", "net04_ext")}
		case specs.KindFloatingIP:
			w = want
		}
		objs, err := ad.List(ctx, c, resources.Query{Lab: lab, Want: w, Read: read})
		if err != nil {
			t.Fatalf("list %s: %v", k, err)
		}
		read[k] = objs
		for _, o := range objs {
			if o.Owned {
				owned++
			}
		}
	}
	// network, subnet, router, interface, 2 groups, rules (ssh and 2
	// default egress, of which none is wanted here and none marked but
	// ssh), 2 ports, 2 floating IPs.
	if owned != 11 {
		t.Errorf("read %d owned objects, want 11: %v", owned, read)
	}
	wantCalls := map[string]int{
		"GET /network/v2.0/networks":             2, // the external network lookup, the lab's networks
		"GET /network/v2.0/subnets":              1,
		"GET /network/v2.0/routers":              1,
		"GET /network/v2.0/ports":                2, // router interfaces, the lab's ports
		"GET /network/v2.0/security-groups":      1,
		"GET /network/v2.0/security-group-rules": 1,
		"GET /network/v2.0/floatingips":          1,
		// One list even for a lab without trunks: a trunk the spec
		// dropped must still be found to be deleted.
		"GET /network/v2.0/trunks": 1,
	}
	got := sim.Requests()
	for k, n := range wantCalls {
		if got[k] != n {
			t.Errorf("%s: %d calls, want %d", k, got[k], n)
		}
	}
	total := 0
	for k, n := range got {
		if strings.HasPrefix(k, "GET /network/") {
			total += n
		}
	}
	if total != 10 {
		t.Errorf("%d Neutron calls in all, want 10: %v", total, got)
	}
}
