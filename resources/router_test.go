package resources_test

import (
	"context"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/resources/resourcestest"
	"github.com/fuelplan/fuelplan/specs"
)

var publicNet = specs.NewAddress(specs.KindExternalNetwork, "public")

func TestRouterLifecycle(t *testing.T) {
	t.Parallel()
	for _, mode := range tagModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			_, c := startTagMode(t, mode.creation)
			ids := resourcestest.IDs{publicNet: extNetID}
			ad := resources.Router{}
			r := &specs.Router{Meta: meta(specs.KindRouter, "router"), ExternalNetwork: publicNet}
			created, err := ad.Create(ctx, c, lab, r, ids)
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			checkMarked(t, c, "routers", created.ID, r.Addr())
			got := listOne(t, ad, c, nil, r.Addr(), r)
			if got == nil || got.ID != created.ID || !got.Owned || got.Fields["external_network"] != extNetID {
				t.Fatalf("list: %+v", got)
			}
			checkNoDrift(t, ad, r, got, ids)

			updates := []struct {
				field  string
				change func(*specs.Router)
				gw     string
			}{
				{"name", func(r *specs.Router) { r.Name = "lab1-gw" }, extNetID},
				{"external_network", func(r *specs.Router) { r.ExternalNetwork = "" }, ""},
				{"external_network", func(r *specs.Router) { r.ExternalNetwork = publicNet }, extNetID},
			}
			for _, u := range updates {
				u.change(r)
				if len(resourcestest.Drift(ad.Desired(r), got, ids)) == 0 {
					t.Fatalf("change of %s is not drift", u.field)
				}
				if got, err = ad.Update(ctx, c, r, got, []string{u.field}, ids); err != nil {
					t.Fatalf("update %s: %v", u.field, err)
				}
				reread := listOne(t, ad, c, nil, r.Addr(), r)
				checkNoDrift(t, ad, r, reread, ids)
				if reread.Fields["external_network"] != u.gw {
					t.Errorf("after %s: gateway %q, want %q", u.field, reread.Fields["external_network"], u.gw)
				}
			}
			checkDeleted(t, ad, c, got)
		})
	}
}

func TestRouterConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := resourcestest.Admin(t)
	r := &specs.Router{Meta: meta(specs.KindRouter, "router")}
	hand, err := routers.Create(ctx, c.Network, routers.CreateOpts{Name: r.Name}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	got := listOne(t, resources.Router{}, c, nil, r.Addr(), r)
	if got == nil || got.ID != hand.ID || got.Owned {
		t.Errorf("list: %+v, want unowned %s", got, hand.ID)
	}
}

// TestRouterInterfaces: interfaces of the lab's router are read in one
// call, and take the wanted address that matches their subnet, or one
// derived from router and subnet when the spec no longer has them.
func TestRouterInterfaces(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, c := resourcestest.Admin(t)
	ids := resourcestest.IDs{publicNet: extNetID}
	read := resourcestest.Snapshot{}
	// Two lab subnets and the router, read as the engine reads them.
	var subs []*specs.Subnet
	for i, name := range []string{"admin", "public"} {
		n, nids := labNetwork(t, c, name)
		ids[n.Addr()] = nids[n.Addr()]
		s := &specs.Subnet{Meta: meta(specs.KindSubnet, name), Network: n.Addr(), CIDR: []string{"10.20.0.0/24", "172.16.0.0/24"}[i]}
		o, err := resources.Subnet{}.Create(ctx, c, lab, s, ids)
		if err != nil {
			t.Fatal(err)
		}
		ids[s.Addr()] = o.ID
		read[specs.KindSubnet] = append(read[specs.KindSubnet], o)
		subs = append(subs, s)
	}
	r := &specs.Router{Meta: meta(specs.KindRouter, "router"), ExternalNetwork: publicNet}
	ro, err := resources.Router{}.Create(ctx, c, lab, r, ids)
	if err != nil {
		t.Fatal(err)
	}
	ids[r.Addr()] = ro.ID
	read[specs.KindRouter] = []*resources.Object{ro}

	ad := resources.RouterInterface{}
	var ifs []*specs.RouterInterface
	for _, s := range subs {
		ri := &specs.RouterInterface{Meta: specs.Meta{Address: specs.NewAddress(specs.KindRouterInterface, "if-"+s.Addr().Name())},
			Router: r.Addr(), Subnet: s.Addr()}
		o, err := ad.Create(ctx, c, lab, ri, ids)
		if err != nil {
			t.Fatalf("create %s: %v", ri.Addr(), err)
		}
		if !o.Owned || o.Address != ri.Addr() || o.Fields["router"] != ro.ID || o.Fields["subnet"] != ids[s.Addr()] {
			t.Errorf("created %+v", o)
		}
		checkNoDrift(t, ad, ri, o, ids)
		ifs = append(ifs, ri)
	}

	// The spec keeps only the first interface.
	sim.ResetRequests()
	objs, err := ad.List(ctx, c, resources.Query{Lab: lab, Want: []specs.Resource{ifs[0]}, Read: read})
	if err != nil {
		t.Fatal(err)
	}
	if calls := sim.Requests()["GET /network/v2.0/ports"]; calls != 1 {
		t.Errorf("list made %d port list calls, want 1", calls)
	}
	if len(objs) != 2 {
		t.Fatalf("list returned %d interfaces, want 2 (the gateway port is not one): %+v", len(objs), objs)
	}
	kept := resourcestest.Find(objs, ifs[0].Addr())
	if kept == nil || !kept.Owned {
		t.Fatalf("kept interface not found: %+v", objs)
	}
	checkNoDrift(t, ad, ifs[0], kept, ids)
	dropped := resourcestest.Find(objs, "router_interface.router.public")
	if dropped == nil || !dropped.Owned {
		t.Fatalf("dropped interface not found at its derived address: %+v %+v", objs[0], objs[1])
	}

	// Without the lab's router read, nothing is listed (nor asked).
	none, err := ad.List(ctx, c, resources.Query{Lab: lab, Want: []specs.Resource{ifs[0]}, Read: resourcestest.Snapshot{}})
	if err != nil || len(none) != 0 {
		t.Errorf("list without routers = %v, %v", none, err)
	}

	checkDeleted(t, ad, c, dropped)
	// The subnet can go now that nothing uses it.
	if err := (resources.Subnet{}).Delete(ctx, c, &resources.Object{ID: ids[subs[1].Addr()]}); err != nil {
		t.Errorf("delete detached subnet: %v", err)
	}
	// A router still holding an interface cannot be deleted; the engine
	// deletes interfaces first.
	if err := (resources.Router{}).Delete(ctx, c, ro); err == nil {
		t.Error("router with an interface deleted")
	}
	checkDeleted(t, ad, c, kept)
	if err := (resources.Router{}).Delete(ctx, c, ro); err != nil {
		t.Errorf("delete router: %v", err)
	}
	// An interface of a router that is gone is gone too.
	if err := ad.Delete(ctx, c, kept); err != nil {
		t.Errorf("delete interface of deleted router: %v", err)
	}
}
