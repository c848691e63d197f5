package simcloud_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"

	"github.com/fuelplan/fuelplan/simcloud"
)

// Real Zed's Cinder answers GET /v3/{project}/os-quota-sets/{project}?usage=true
// with limit, in_use and reserved per quota; a member asking for another
// project gets 403 "Policy doesn't allow volume_extension:quotas:show to be
// performed."
func TestCinderQuotaUsage(t *testing.T) {
	ctx := context.Background()
	w := simcloud.DefaultWorld()
	w.Quotas = map[string]int{"volumes": 3, "gigabytes": 10}
	c := start(t, simcloud.Config{World: w})
	vc := volumeClient(t, c.Member())
	for _, size := range []int{2, 5} {
		if _, err := volumes.Create(ctx, vc, volumes.CreateOpts{Size: size}, nil).Extract(); err != nil {
			t.Fatal(err)
		}
	}
	pid := "9c8b7a6d5e4f4a3b2c1d0e9f8a7b6c5d" // the default world's demo project
	u, err := quotasets.GetUsage(ctx, vc, pid).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if u.Volumes.Limit != 3 || u.Volumes.InUse != 2 || u.Gigabytes.Limit != 10 || u.Gigabytes.InUse != 7 {
		t.Errorf("got volumes %+v gigabytes %+v, want 3/2 and 10/7", u.Volumes, u.Gigabytes)
	}
	if u.Snapshots.Limit != -1 {
		t.Errorf("snapshots: got limit %d, want -1 (unlimited)", u.Snapshots.Limit)
	}
	_, err = quotasets.GetUsage(ctx, vc, "0123456789abcdef0123456789abcdef").Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		t.Fatalf("another project's quota as a member: got %v, want 403", err)
	}
}
