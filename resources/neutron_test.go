package resources_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/attributestags"

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
