package resources_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/attributestags"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/resources/resourcestest"
	"github.com/fuelplan/fuelplan/simcloud"
	"github.com/fuelplan/fuelplan/specs"
)

// Helpers shared by the Neutron adapters' tests.

const lab = "lab1"

// extNetID is net04_ext in the default simulated world.
const extNetID = "5e1c7a3e-9d0b-4c8e-9a51-0d4f6b2e8c71"

// tagModes are the two ways the mark goes on: in the create request
// (clouds with tag-creation) and straight after it (Zed, the default world).
var tagModes = []struct {
	name     string
	creation bool
}{{"tags after create", false}, {"tags in create", true}}

// startNeutron starts a cloud whose Neutron has the default world's
// extensions plus add, minus drop, and connects as admin.
func startNeutron(t *testing.T, add []string, drop ...string) (*simcloud.Cloud, *resources.Cloud) {
	t.Helper()
	w := simcloud.DefaultWorld()
	w.Extensions = slices.DeleteFunc(w.Extensions, func(e string) bool { return slices.Contains(drop, e) })
	w.Extensions = append(w.Extensions, add...)
	sim, err := simcloud.Start(simcloud.Config{World: w})
	if err != nil {
		t.Fatalf("start simulated cloud: %v", err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return sim, resourcestest.Connect(t, sim, sim.Admin())
}

// startTagMode starts the default cloud, with tag-creation when asked.
func startTagMode(t *testing.T, creation bool) (*simcloud.Cloud, *resources.Cloud) {
	t.Helper()
	if creation {
		return startNeutron(t, []string{"tag-creation"})
	}
	return startNeutron(t, nil)
}

func meta(k specs.Kind, name string) specs.Meta {
	return specs.Meta{Address: specs.NewAddress(k, name), Name: lab + "-" + name}
}

func ptr[T any](v T) *T { return &v }

// checkMarked asserts that the object in the cloud carries the lab's mark.
func checkMarked(t *testing.T, c *resources.Cloud, collection, id string, a specs.Address) {
	t.Helper()
	tags, err := attributestags.List(context.Background(), c.Network, collection, id).Extract()
	if err != nil {
		t.Fatalf("tags of %s %s: %v", collection, id, err)
	}
	slices.Sort(tags)
	want := []string{resources.AddrTag(a), resources.LabTag(lab)}
	slices.Sort(want)
	if !slices.Equal(tags, want) {
		t.Errorf("tags of %s = %q, want %q", a, tags, want)
	}
}

// checkNoDrift asserts that the live object matches the spec.
func checkNoDrift(t *testing.T, ad resources.Adapter, r specs.Resource, o *resources.Object, ids resourcestest.IDs) {
	t.Helper()
	if d := resourcestest.Drift(ad.Desired(r), o, ids); len(d) > 0 {
		t.Errorf("%s drifts from its spec: %q", r.Addr(), d)
	}
}

// listOne lists the kind wanting rs and returns the object at a.
func listOne(t *testing.T, ad resources.Adapter, c *resources.Cloud, read resourcestest.Snapshot, a specs.Address, rs ...specs.Resource) *resources.Object {
	t.Helper()
	objs, err := ad.List(context.Background(), c, resources.Query{Lab: lab, Want: rs, Read: read})
	if err != nil {
		t.Fatalf("list %s: %v", ad.Kind(), err)
	}
	return resourcestest.Find(objs, a)
}

// checkDeleted deletes live twice (the second finds it gone) and checks
// that Get then says ErrNotFound.
func checkDeleted(t *testing.T, ad resources.Adapter, c *resources.Cloud, live *resources.Object) {
	t.Helper()
	ctx := context.Background()
	for i := range 2 {
		if err := ad.Delete(ctx, c, live); err != nil {
			t.Fatalf("delete #%d of %s: %v", i+1, live.Address, err)
		}
	}
	if _, err := ad.Get(ctx, c, live.ID); !errors.Is(err, resources.ErrNotFound) {
		t.Errorf("get after delete: %v, want ErrNotFound", err)
	}
}

// TestNeutronReadPaged: a lab bigger than a page is read whole, and the
// rules of its groups too.
func TestNeutronReadPaged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, c := resourcestest.Admin(t)
	var want []specs.Resource
	for i := range 5 {
		n := &specs.Network{Meta: meta(specs.KindNetwork, fmt.Sprintf("net%d", i))}
		if _, err := (resources.Network{}).Create(ctx, c, lab, n, nil); err != nil {
			t.Fatal(err)
		}
		want = append(want, n)
	}
	sim.ResetRequests()
	objs, err := resources.Network{}.List(resources.WithNeutronPageLimit(ctx, 2), c, resources.Query{Lab: lab, Want: want})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range want {
		if o := resourcestest.Find(objs, r.Addr()); o == nil || !o.Owned {
			t.Errorf("%s not read", r.Addr())
		}
	}
	// Three pages of two: the last one short.
	if calls := sim.Requests()["GET /network/v2.0/networks"]; calls != 3 {
		t.Errorf("read took %d calls, want 3 pages", calls)
	}
}

// TestNeutronConflictBatches: names are asked for in batches, and only
// for wanted instances the lab's tag did not find.
func TestNeutronConflictBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, c := resourcestest.Admin(t)
	var want []specs.Resource
	for i := range 45 {
		want = append(want, &specs.Network{Meta: meta(specs.KindNetwork, fmt.Sprintf("net%02d", i))})
	}
	// The last one is someone else's.
	hand, err := networks.Create(ctx, c.Network, networks.CreateOpts{Name: "lab1-net44"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	sim.ResetRequests()
	objs, err := resources.Network{}.List(ctx, c, resources.Query{Lab: lab, Want: want})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objs[0].ID != hand.ID || objs[0].Owned || objs[0].Address != "network.net44" {
		t.Errorf("list = %+v, want the one conflict", objs)
	}
	// One tagged read, then 45 names in batches of at most 40.
	if calls := sim.Requests()["GET /network/v2.0/networks"]; calls != 3 {
		t.Errorf("read took %d calls, want 3", calls)
	}
}

// TestNeutronProjectScope: an admin sees every project's networks, but
// another project's network named like the lab's is no conflict.
func TestNeutronProjectScope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, admin := resourcestest.Admin(t)
	member := resourcestest.Connect(t, sim, sim.Member())
	n := &specs.Network{Meta: meta(specs.KindNetwork, "admin")}
	if _, err := networks.Create(ctx, member.Network, networks.CreateOpts{Name: n.Name}).Extract(); err != nil {
		t.Fatal(err)
	}
	// Nor is another project's network with this lab's mark the lab's.
	if _, err := (resources.Network{}).Create(ctx, member, lab, n, nil); err != nil {
		t.Fatal(err)
	}
	objs, err := resources.Network{}.List(ctx, admin, resources.Query{Lab: lab, Want: []specs.Resource{n}})
	if err != nil || len(objs) != 0 {
		t.Errorf("admin's list = %+v, %v; want nothing from the member's project", objs, err)
	}
	// The member sees its own (and, having found it, asks for no names).
	objs, err = resources.Network{}.List(ctx, member, resources.Query{Lab: lab, Want: []specs.Resource{n}})
	if err != nil || len(objs) != 1 || !objs[0].Owned {
		t.Errorf("member's list = %+v, %v; want its lab network", objs, err)
	}
}

// TestNeutronTagFailure: on a cloud that tags after create, a failed
// tagging deletes the new object, so nothing unmarked stays behind.
func TestNeutronTagFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, c := resourcestest.Admin(t)
	sim.InjectFaults(simcloud.Fault{Method: "PUT", Path: "/network/v2.0/networks/", Status: 503, Max: 1})
	n := &specs.Network{Meta: meta(specs.KindNetwork, "admin")}
	_, err := resources.Network{}.Create(ctx, c, lab, n, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "network.admin: create: tag new networks") {
		t.Fatalf("create with tagging failing: %v", err)
	}
	left, err := networks.List(c.Network, networks.ListOpts{Name: n.Name}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ns, _ := networks.ExtractNetworks(left); len(ns) != 0 {
		t.Errorf("unmarked network left behind: %+v", ns)
	}
}
