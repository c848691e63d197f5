package resources_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/resources/resourcestest"
	"github.com/fuelplan/fuelplan/specs"
)

func TestNetworkLifecycle(t *testing.T) {
	t.Parallel()
	for _, mode := range tagModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			sim, c := startTagMode(t, mode.creation)
			ad := resources.Network{}
			n := &specs.Network{Meta: meta(specs.KindNetwork, "admin"), Description: "PXE", MTU: ptr(1400),
				PortSecurity: ptr(true), VLANTransparent: ptr(true)}

			created, err := ad.Create(ctx, c, lab, n, nil)
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			if !created.Owned || created.Address != n.Addr() {
				t.Errorf("created: owned %v address %q", created.Owned, created.Address)
			}
			checkMarked(t, c, "networks", created.ID, n.Addr())
			checkNoDrift(t, ad, n, created, nil)

			// A built lab is read with one list call.
			sim.ResetRequests()
			got := listOne(t, ad, c, nil, n.Addr(), n)
			if got == nil || got.ID != created.ID || !got.Owned {
				t.Fatalf("list: got %+v, want owned %s", got, created.ID)
			}
			if calls := sim.Requests()["GET /network/v2.0/networks"]; calls != 1 {
				t.Errorf("list made %d network list calls, want 1", calls)
			}
			want := resources.Fields{"name": "lab1-admin", "description": "PXE", "mtu": "1400",
				"port_security": "true", "vlan_transparent": "true"}
			for k, v := range want {
				if got.Fields[k] != v {
					t.Errorf("field %s = %q, want %q", k, got.Fields[k], v)
				}
			}
			checkNoDrift(t, ad, n, got, nil)

			updates := []struct {
				field  string
				change func(*specs.Network)
			}{
				{"name", func(n *specs.Network) { n.Name = "lab1-pxe" }},
				{"description", func(n *specs.Network) { n.Description = "the PXE network" }},
				{"mtu", func(n *specs.Network) { n.MTU = ptr(1300) }},
				{"port_security", func(n *specs.Network) { n.PortSecurity = ptr(false) }},
			}
			for _, u := range updates {
				u.change(n)
				rev := got.Revision
				if got, err = ad.Update(ctx, c, n, got, []string{u.field}, nil); err != nil {
					t.Fatalf("update %s: %v", u.field, err)
				}
				if got.Revision == rev {
					t.Errorf("update %s: revision stayed %s", u.field, rev)
				}
				reread := listOne(t, ad, c, nil, n.Addr(), n)
				checkNoDrift(t, ad, n, reread, nil)
			}
			if _, err := ad.Update(ctx, c, n, got, []string{"vlan_transparent"}, nil); err == nil {
				t.Error("update of vlan_transparent succeeded; Neutron cannot change it")
			}
			checkDeleted(t, ad, c, got)
		})
	}
}

// TestNetworkConflict: objects with a wanted name but without this lab's
// mark are conflicts; the lab's own are found by tag, not by name.
func TestNetworkConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := resourcestest.Admin(t)
	ad := resources.Network{}
	mine := &specs.Network{Meta: meta(specs.KindNetwork, "admin")}
	other := &specs.Network{Meta: meta(specs.KindNetwork, "storage")}
	foreign := &specs.Network{Meta: meta(specs.KindNetwork, "public")}
	if _, err := ad.Create(ctx, c, lab, mine, nil); err != nil {
		t.Fatal(err)
	}
	// Someone else's network named like one of ours, and another lab's.
	hand, err := networks.Create(ctx, c.Network, networks.CreateOpts{Name: other.Name}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	otherLab, err := ad.Create(ctx, c, "lab2", foreign, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A network with a name no wanted instance uses is not read at all.
	if _, err := networks.Create(ctx, c.Network, networks.CreateOpts{Name: "unrelated"}).Extract(); err != nil {
		t.Fatal(err)
	}
	objs, err := ad.List(ctx, c, resources.Query{Lab: lab, Want: []specs.Resource{mine, other, foreign}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, o := range objs {
		got[o.ID] = string(o.Address) + " owned=" + boolString(o.Owned)
	}
	if len(objs) != 3 {
		t.Errorf("list returned %d objects, want 3: %v", len(objs), got)
	}
	for id, want := range map[string]string{
		hand.ID:     "network.storage owned=false",
		otherLab.ID: "network.public owned=false",
	} {
		if got[id] != want {
			t.Errorf("object %s = %q, want %q", id, got[id], want)
		}
	}
	if o := resourcestest.Find(objs, mine.Addr()); o == nil || !o.Owned {
		t.Errorf("own network not found owned: %+v", o)
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// TestNetworkExtensionsMissing: what the cloud's Neutron cannot do is
// refused before any request, with the reason.
func TestNetworkExtensionsMissing(t *testing.T) {
	t.Parallel()
	_, c := startNeutron(t, nil, "vlan-transparent", "net-mtu-writable", "port-security")
	ad := resources.Network{}
	cases := []struct {
		name string
		net  *specs.Network
		want string
	}{
		{"vlan_transparent", &specs.Network{Meta: meta(specs.KindNetwork, "a"), VLANTransparent: ptr(true)}, "vlan-transparent"},
		{"mtu", &specs.Network{Meta: meta(specs.KindNetwork, "b"), MTU: ptr(1400)}, "net-mtu-writable"},
		{"port_security", &specs.Network{Meta: meta(specs.KindNetwork, "c"), PortSecurity: ptr(false)}, "port-security"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ad.Create(context.Background(), c, lab, tc.net, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), string(tc.net.Addr())+": create:") {
				t.Errorf("create: %v, want an error naming %s", err, tc.want)
			}
		})
	}
	// Without them, a plain network still works.
	plain := &specs.Network{Meta: meta(specs.KindNetwork, "plain")}
	o, err := ad.Create(context.Background(), c, lab, plain, nil)
	if err != nil {
		t.Fatalf("create plain: %v", err)
	}
	checkNoDrift(t, ad, plain, o, nil)
}
