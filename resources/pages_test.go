package resources_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// TestListDecodesAsGet: lists decode each page once into the adapters'
// own views (pages.go); Get still reads an object through gophercloud's
// Extract. Both must give the same live object, field for field: a view
// that missed or misread a field (a wrong JSON key, Nova's image "" of a
// server booted from a volume, a flavor copied at boot) would differ here.
// Ports are read in pages of one, so every page but the last follows
// ports_links.
func TestListDecodesAsGet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := newServerLab(t)
	want := masterSpec()
	if _, err := (resources.Server{}).Create(ctx, l.c, "lab1", want, l.ids); err != nil {
		t.Fatalf("create: %v", err)
	}
	// A second server, booted from a volume: Nova shows its image as "".
	fromVolume := masterSpec()
	fromVolume.Address = specs.NewAddress(specs.KindServer, "other")
	fromVolume.Name, fromVolume.Image, fromVolume.Ports = "lab1-other", "", nil
	vol := volumeSpec("other", "boot", 1, cirrosAddr)
	v, err := resources.Volume{}.Create(ctx, l.c, "lab1", vol, l.ids)
	if err != nil {
		t.Fatal(err)
	}
	l.ids[vol.Addr()] = v.ID
	fromVolume.BlockDevices = []specs.BlockDevice{{Volume: vol.Addr(), DeviceType: "disk", BootIndex: 0}}
	other, err := resources.Server{}.Create(ctx, l.c, "lab1", fromVolume, l.ids)
	if err != nil {
		t.Fatalf("create from a volume: %v", err)
	}
	raw, err := servers.Get(ctx, l.c.Compute, other.ID).Extract()
	if err != nil || raw.Image != nil {
		t.Fatalf("the volume-booted server's image = %v (%v), want none", raw.Image, err)
	}

	check := func(ad resources.Adapter, objs []*resources.Object, n int) {
		t.Helper()
		if len(objs) != n {
			t.Fatalf("%s: listed %d objects, want %d", ad.Kind(), len(objs), n)
		}
		for _, o := range objs {
			got, err := ad.Get(ctx, l.c, o.ID)
			if err != nil {
				t.Fatalf("get %s %s: %v", ad.Kind(), o.ID, err)
			}
			if o.Name != got.Name || o.Status != got.Status || o.Revision != got.Revision || !reflect.DeepEqual(o.Fields, got.Fields) {
				t.Errorf("%s %s listed as\n%+v\nread by Get as\n%+v", ad.Kind(), o.ID, o, got)
			}
		}
	}
	servs, err := resources.Server{}.List(ctx, l.c, resources.Query{Lab: "lab1", Want: []specs.Resource{want, fromVolume}})
	if err != nil {
		t.Fatal(err)
	}
	check(resources.Server{}, servs, 2)
	if servs[0].Fields["image"] == "" && servs[1].Fields["image"] == "" {
		t.Errorf("no listed server has its image: %+v", servs)
	}

	portSpecs := []specs.Resource{
		&specs.Port{Meta: specs.Meta{Address: adminPort, Name: "lab1-" + adminPort.Name()}},
		&specs.Port{Meta: specs.Meta{Address: storagePort, Name: "lab1-" + storagePort.Name()}},
	}
	l.sim.ResetRequests()
	ps, err := resources.Port{}.List(resources.WithNeutronPageLimit(ctx, 1), l.c, resources.Query{Lab: "lab1", Want: portSpecs})
	if err != nil {
		t.Fatal(err)
	}
	check(resources.Port{}, ps, 2)
	if n := l.sim.Requests()["GET /network/v2.0/ports"]; n < 3 {
		t.Errorf("ports read in %d calls, want pages of one", n)
	}
	vs, err := resources.Volume{}.List(ctx, l.c, resources.Query{Lab: "lab1", Want: []specs.Resource{vol}})
	if err != nil {
		t.Fatal(err)
	}
	check(resources.Volume{}, vs, 1)
}
