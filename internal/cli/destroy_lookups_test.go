package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/fuelplan/fuelplan/resources"
)

// TestDestroyWithoutLookups: destroy finds the lab's objects by their
// marks, so it needs none of the objects the spec looks up. A lab whose
// image or flavor was deleted from the cloud (`openstack image delete`,
// `openstack flavor delete`: Glance and Nova let both go while servers
// use them), or whose external network no longer has its name (renamed
// by the cloud's admin: on the real Zed cloud a delete of an external
// network that a router's gateway is on fails with 409 "There are one or
// more ports still in use on the network", a rename succeeds and the
// gateway stays), is destroyed whole, without an error about the lookup
// (destroy refused with "no image named ... (it is looked up, never
// created)").
func TestDestroyWithoutLookups(t *testing.T) {
	for _, tc := range []struct {
		name string
		gone func(t *testing.T, c *resources.Cloud)
	}{
		{"image", deleteImage},
		{"flavor", deleteFlavor},
		{"external_network", renameExternalNetwork},
		{"all", func(t *testing.T, c *resources.Cloud) {
			deleteImage(t, c)
			deleteFlavor(t, c)
			renameExternalNetwork(t, c)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, c := sharedSim(t)
			spec := writeLab(t, t.TempDir(), 2)
			sh := []string{"--cloud", "shared"}
			if code, out, errOut := run(t, append([]string{"apply", spec, "--auto-approve"}, sh...)...); code != ExitOK {
				t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
			}
			if n := labObjects(t, c); n == 0 {
				t.Fatal("apply left no object with the lab's mark: nothing to destroy")
			}
			tc.gone(t, c)

			code, out, errOut := run(t, append([]string{"destroy", spec, "--auto-approve"}, sh...)...)
			if code != ExitOK {
				t.Fatalf("destroy: exit %d\n%s%s", code, out, errOut)
			}
			if all := out + errOut; strings.Contains(all, "looked up") || strings.Contains(all, "Error") {
				t.Errorf("destroy spoke of the missing lookup as a problem:\n%s", all)
			}
			if !strings.Contains(out, "Destroy finished") {
				t.Errorf("destroy did not say it finished:\n%s", out)
			}
			if n := labObjects(t, c); n != 0 {
				t.Errorf("destroy left %d object(s) with the lab's mark", n)
			}
			if n := lockGroups(t, c); n != 0 {
				t.Errorf("destroy left %d lock group(s)", n)
			}
		})
	}
}

// labObjects counts the objects of lab "eng" on the cloud, every kind the
// end-to-end inventory lists: by tag, or by name where a kind has none.
func labObjects(t *testing.T, c *resources.Cloud) int {
	t.Helper()
	q := resources.InventoryQuery{Tag: resources.LabTag("eng"), NamePrefix: "eng-"}
	n := 0
	for _, k := range resources.Kinds() {
		if k.Inventory == nil {
			continue
		}
		objs, err := k.Inventory(context.Background(), c, q)
		if err != nil {
			t.Fatalf("inventory of %s: %v", k.Kind, err)
		}
		n += len(objs)
	}
	return n
}

func deleteImage(t *testing.T, c *resources.Cloud) {
	t.Helper()
	ctx := context.Background()
	pages, err := images.List(c.Image, images.ListOpts{Name: "cirros"}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, err := images.ExtractImages(pages)
	if err != nil || len(all) != 1 {
		t.Fatalf("image cirros: %d found, %v", len(all), err)
	}
	if err := images.Delete(ctx, c.Image, all[0].ID).ExtractErr(); err != nil {
		t.Fatalf("delete image cirros: %v", err)
	}
}

func deleteFlavor(t *testing.T, c *resources.Cloud) {
	t.Helper()
	ctx := context.Background()
	pages, err := flavors.ListDetail(c.Compute, flavors.ListOpts{AccessType: flavors.AllAccess}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, err := flavors.ExtractFlavors(pages)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range all {
		if f.Name == "m1.small" {
			if err := flavors.Delete(ctx, c.Compute, f.ID).ExtractErr(); err != nil {
				t.Fatalf("delete flavor m1.small: %v", err)
			}
			return
		}
	}
	t.Fatal("no flavor m1.small")
}

func renameExternalNetwork(t *testing.T, c *resources.Cloud) {
	t.Helper()
	ctx := context.Background()
	pages, err := networks.List(c.Network, networks.ListOpts{Name: "net04_ext"}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, err := networks.ExtractNetworks(pages)
	if err != nil || len(all) != 1 {
		t.Fatalf("network net04_ext: %d found, %v", len(all), err)
	}
	name := "net04_ext-retired"
	if _, err := networks.Update(ctx, c.Network, all[0].ID, networks.UpdateOpts{Name: &name}).Extract(); err != nil {
		t.Fatalf("rename net04_ext: %v", err)
	}
}
