package simcloud_test

import (
	"context"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/fuelplan/fuelplan/simcloud"
)

// Two clouds started afresh from the same world, a second apart, show the
// same seeded images: a read-only command (plan) starts the cloud without
// saving it, and the next command starts it again; a saved plan would
// otherwise see the world's image "changed" (its updated_at) in between.
func TestSeededWorldIsTheSameInEveryProcess(t *testing.T) {
	list := func() map[string][2]time.Time {
		cloud, err := simcloud.Start(simcloud.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer cloud.Close()
		cred := cloud.Member()
		pc, err := openstack.AuthenticatedClient(context.Background(), gophercloud.AuthOptions{
			IdentityEndpoint: cred.AuthURL, Username: cred.Username, Password: cred.Password,
			TenantName: cred.ProjectName, DomainName: cred.DomainName,
		})
		if err != nil {
			t.Fatal(err)
		}
		ic, err := openstack.NewImageV2(pc, gophercloud.EndpointOpts{})
		if err != nil {
			t.Fatal(err)
		}
		pages, err := images.List(ic, images.ListOpts{}).AllPages(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		all, err := images.ExtractImages(pages)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][2]time.Time{}
		for _, im := range all {
			out[im.ID] = [2]time.Time{im.CreatedAt, im.UpdatedAt}
		}
		return out
	}
	first := list()
	time.Sleep(1100 * time.Millisecond) // timestamps have one-second resolution
	second := list()
	if len(first) == 0 || len(first) != len(second) {
		t.Fatalf("images: %d then %d", len(first), len(second))
	}
	for id, ts := range first {
		if second[id] != ts {
			t.Errorf("image %s: created/updated %v in one process, %v in the next", id, ts, second[id])
		}
	}
}
