package nova

import (
	"context"
	"fmt"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// BenchmarkListDetail lists 500 servers in pages of 100, as a lab of many
// slaves polled by fuelplan would; it watches for accidental quadratic
// work in filtering, sorting and marker lookup.
func BenchmarkListDetail(b *testing.B) {
	c := newCloud(b, nil)
	cl := c.client("member", "2.90")
	ctx := context.Background()
	for i := range 500 {
		if _, err := servers.Create(ctx, cl, servers.CreateOpts{Name: fmt.Sprintf("s-%03d", i), ImageRef: imageID,
			FlavorRef: "1", Networks: "none"}, nil).Extract(); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		p, err := servers.List(cl, servers.ListOpts{Limit: 100}).AllPages(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if ss, _ := servers.ExtractServers(p); len(ss) != 500 {
			b.Fatalf("%d servers", len(ss))
		}
	}
}
