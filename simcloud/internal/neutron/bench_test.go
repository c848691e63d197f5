package neutron

import (
	"context"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

// benchCloud is a cloud with n ports on one /22, the size of a large lab.
func benchCloud(b *testing.B, n int) (*testCloud, string) {
	b.Helper()
	c := newTestCloud(b, defaultConfig())
	ctx := context.Background()
	net, err := networks.Create(ctx, c.member, networks.CreateOpts{Name: "big"}).Extract()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := subnets.Create(ctx, c.member, subnets.CreateOpts{NetworkID: net.ID, CIDR: "10.0.0.0/22", IPVersion: gophercloud.IPv4}).Extract(); err != nil {
		b.Fatal(err)
	}
	for range n {
		if _, err := ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: net.ID}).Extract(); err != nil {
			b.Fatal(err)
		}
	}
	return c, net.ID
}

// BenchmarkPortListAllPages lists 1,000 ports in pages of 100, as a lab's
// refresh does.
func BenchmarkPortListAllPages(b *testing.B) {
	c, netID := benchCloud(b, 1000)
	b.ResetTimer()
	for b.Loop() {
		pages, err := ports.List(c.member, ports.ListOpts{NetworkID: netID, Limit: 100}).AllPages(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if ps, _ := ports.ExtractPorts(pages); len(ps) != 1001 { // + the DHCP port
			b.Fatalf("%d ports", len(ps))
		}
	}
}

// BenchmarkPortCreate creates ports on a network that already has 500.
func BenchmarkPortCreate(b *testing.B) {
	c, netID := benchCloud(b, 500)
	b.ResetTimer()
	for b.Loop() {
		p, err := ports.Create(context.Background(), c.member, ports.CreateOpts{NetworkID: netID}).Extract()
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := ports.Delete(context.Background(), c.member, p.ID).ExtractErr(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
