package neutron

import (
	"context"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

func TestSubnetDefaults(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	n, sn := memberNet(t, c, "10.20.0.0/24")
	if sn.GatewayIP != "10.20.0.1" || !sn.EnableDHCP || sn.IPVersion != 4 || sn.NetworkID != n.ID ||
		len(sn.AllocationPools) != 1 || sn.AllocationPools[0] != (subnets.AllocationPool{Start: "10.20.0.2", End: "10.20.0.254"}) {
		t.Fatalf("unexpected defaults: %+v", sn)
	}
	got := must[*networks.Network](t)(networks.Get(ctx, c.member, n.ID).Extract())
	if len(got.Subnets) != 1 || got.Subnets[0] != sn.ID {
		t.Fatalf("network subnets: %v", got.Subnets)
	}
	// The DHCP agent's port takes the first pool address.
	dhcp := must[[]ports.Port](t)(listPorts(c, c.member, ports.ListOpts{NetworkID: n.ID, DeviceOwner: "network:dhcp"}))
	if len(dhcp) != 1 || dhcp[0].FixedIPs[0].IPAddress != "10.20.0.2" {
		t.Fatalf("dhcp port: %+v", dhcp)
	}
}

func TestSubnetOptions(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	n := must[*networks.Network](t)(networks.Create(ctx, c.member, networks.CreateOpts{Name: "n"}).Extract())
	tests := []struct {
		name      string
		opts      subnets.CreateOpts
		gateway   string
		pools     []subnets.AllocationPool
		dhcpPorts int
	}{
		{"no gateway: the pool is the whole range",
			subnets.CreateOpts{CIDR: "10.1.0.0/24", GatewayIP: ptr(""), EnableDHCP: ptr(false)},
			"", []subnets.AllocationPool{{Start: "10.1.0.1", End: "10.1.0.254"}}, 0},
		{"gateway in the middle splits the pool",
			subnets.CreateOpts{CIDR: "10.2.0.0/29", GatewayIP: ptr("10.2.0.3"), EnableDHCP: ptr(false)},
			"10.2.0.3", []subnets.AllocationPool{{Start: "10.2.0.1", End: "10.2.0.2"}, {Start: "10.2.0.4", End: "10.2.0.6"}}, 0},
		{"explicit pools, DNS and routes",
			subnets.CreateOpts{CIDR: "10.3.0.0/24", AllocationPools: []subnets.AllocationPool{{Start: "10.3.0.100", End: "10.3.0.120"}},
				DNSNameservers: []string{"8.8.8.8"}, HostRoutes: []subnets.HostRoute{{DestinationCIDR: "10.9.0.0/16", NextHop: "10.3.0.5"}}},
			"10.3.0.1", []subnets.AllocationPool{{Start: "10.3.0.100", End: "10.3.0.120"}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.NetworkID, tt.opts.IPVersion = n.ID, gophercloud.IPv4
			sn := must[*subnets.Subnet](t)(subnets.Create(ctx, c.member, tt.opts).Extract())
			if sn.GatewayIP != tt.gateway || len(sn.AllocationPools) != len(tt.pools) {
				t.Fatalf("got gateway %q pools %v", sn.GatewayIP, sn.AllocationPools)
			}
			for i := range tt.pools {
				if sn.AllocationPools[i] != tt.pools[i] {
					t.Fatalf("pool %d: got %v want %v", i, sn.AllocationPools[i], tt.pools[i])
				}
			}
			if len(tt.opts.DNSNameservers) > 0 && (len(sn.DNSNameservers) != 1 || len(sn.HostRoutes) != 1) {
				t.Fatalf("dns/routes not kept: %+v", sn)
			}
			dhcp := must[[]ports.Port](t)(listPorts(c, c.member, ports.ListOpts{FixedIPs: []ports.FixedIPOpts{{SubnetID: sn.ID}}, DeviceOwner: "network:dhcp"}))
			if len(dhcp) != tt.dhcpPorts {
				t.Fatalf("dhcp ports on subnet: %d, want %d", len(dhcp), tt.dhcpPorts)
			}
		})
	}
}

func TestSubnetRejects(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	n, _ := memberNet(t, c, "10.20.0.0/24")
	other := must[*networks.Network](t)(networks.Create(ctx, c.other, networks.CreateOpts{Name: "o"}).Extract())
	pool := func(s, e string) []subnets.AllocationPool { return []subnets.AllocationPool{{Start: s, End: e}} }
	tests := []struct {
		name   string
		opts   subnets.CreateOptsBuilder
		status int
		typ    string
	}{
		{"invalid cidr", subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.0.0.0/33", IPVersion: 4}, 400, "HTTPBadRequest"},
		{"overlaps a subnet on the network", subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.20.0.128/25", IPVersion: 4}, 400, "InvalidInput"},
		{"pool outside the cidr", subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.5.0.0/24", IPVersion: 4, AllocationPools: pool("10.5.0.10", "10.5.1.10")}, 400, "OutOfBoundsAllocationPool"},
		{"pool end before start", subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.5.0.0/24", IPVersion: 4, AllocationPools: pool("10.5.0.10", "10.5.0.5")}, 400, "InvalidAllocationPool"},
		{"pool holds the gateway", subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.5.0.0/24", IPVersion: 4, AllocationPools: pool("10.5.0.1", "10.5.0.9")}, 409, "GatewayConflictWithAllocationPools"},
		{"overlapping pools", subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.5.0.0/24", IPVersion: 4,
			AllocationPools: []subnets.AllocationPool{{Start: "10.5.0.10", End: "10.5.0.20"}, {Start: "10.5.0.15", End: "10.5.0.30"}}}, 409, "OverlappingAllocationPools"},
		{"gateway outside the cidr", subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.5.0.0/24", IPVersion: 4, GatewayIP: ptr("10.6.0.1")}, 400, "BadRequest"},
		{"ipv6", subnets.CreateOpts{NetworkID: n.ID, CIDR: "fd00::/64", IPVersion: 6}, 400, "HTTPBadRequest"},
		{"missing ip_version", subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.5.0.0/24"}, 400, "HTTPBadRequest"},
		{"unknown network", subnets.CreateOpts{NetworkID: "nope", CIDR: "10.5.0.0/24", IPVersion: 4}, 404, "NetworkNotFound"},
		{"another project's network", subnets.CreateOpts{NetworkID: other.ID, CIDR: "10.5.0.0/24", IPVersion: 4}, 404, "NetworkNotFound"},
		{"unknown attribute", rawOpts{"network_id": n.ID, "cidr": "10.5.0.0/24", "ip_version": 4, "vlan": 3}, 400, "HTTPBadRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := subnets.Create(ctx, c.member, tt.opts).Extract()
			wantFault(t, err, tt.status, tt.typ)
		})
	}
}

func TestSubnetDeleteInUse(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	n, sn := memberNet(t, c, "10.20.0.0/24")
	p := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID}).Extract())
	wantFault(t, subnets.Delete(ctx, c.member, sn.ID).ExtractErr(), 409, "SubnetInUse")
	must[struct{}](t)(struct{}{}, ports.Delete(ctx, c.member, p.ID).ExtractErr())

	// A router interface holds the subnet too.
	r := must[*routers.Router](t)(routers.Create(ctx, c.member, routers.CreateOpts{Name: "r"}).Extract())
	must[*routers.InterfaceInfo](t)(routers.AddInterface(ctx, c.member, r.ID, routers.AddInterfaceOpts{SubnetID: sn.ID}).Extract())
	wantFault(t, subnets.Delete(ctx, c.member, sn.ID).ExtractErr(), 409, "SubnetInUse")
	must[*routers.InterfaceInfo](t)(routers.RemoveInterface(ctx, c.member, r.ID, routers.RemoveInterfaceOpts{SubnetID: sn.ID}).Extract())

	// Only the DHCP port remains: the subnet goes, and the DHCP address with it.
	must[struct{}](t)(struct{}{}, subnets.Delete(ctx, c.member, sn.ID).ExtractErr())
	left := must[[]ports.Port](t)(listPorts(c, c.admin, ports.ListOpts{NetworkID: n.ID}))
	if len(left) != 0 {
		t.Fatalf("ports left after the last subnet went: %+v", left)
	}
}

func TestSubnetUpdate(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	_, sn := memberNet(t, c, "10.20.0.0/24")
	got := must[*subnets.Subnet](t)(subnets.Update(ctx, c.member, sn.ID, subnets.UpdateOpts{
		Name: ptr("renamed"), DNSNameservers: &[]string{"1.1.1.1"}, EnableDHCP: ptr(false)}).Extract())
	if got.Name != "renamed" || len(got.DNSNameservers) != 1 || got.EnableDHCP || got.RevisionNumber != 2 {
		t.Fatalf("update: %+v", got)
	}
	_, err := subnets.Update(ctx, c.member, sn.ID, subnets.UpdateOpts{
		AllocationPools: []subnets.AllocationPool{{Start: "10.20.0.1", End: "10.20.0.50"}}}).Extract()
	wantFault(t, err, 409, "GatewayConflictWithAllocationPools")
	// A rejected update changes nothing, not even the valid parts.
	_, err = subnets.Update(ctx, c.member, sn.ID, subnets.UpdateOpts{Name: ptr("again"), DNSNameservers: &[]string{"not-an-ip"}}).Extract()
	wantFault(t, err, 400, "HTTPBadRequest")
	if now := must[*subnets.Subnet](t)(getSubnet(c, sn.ID)); now.Name != "renamed" || now.RevisionNumber != 2 {
		t.Fatalf("after a rejected update: %+v", now)
	}
}

// TestDefaultAllocationUsesFirstSubnet: a port without fixed_ips gets its
// address from the network's first subnet (creation order, not id order),
// so which subnet a lab's port lands on does not depend on random IDs.
func TestDefaultAllocationUsesFirstSubnet(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	for i := range 8 {
		n := must[*networks.Network](t)(networks.Create(ctx, c.member, networks.CreateOpts{Name: "n"}).Extract())
		first := must[*subnets.Subnet](t)(subnets.Create(ctx, c.member, subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.1.0.0/24", IPVersion: 4, EnableDHCP: ptr(false)}).Extract())
		must[*subnets.Subnet](t)(subnets.Create(ctx, c.member, subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.2.0.0/24", IPVersion: 4, EnableDHCP: ptr(false)}).Extract())
		p := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID}).Extract())
		if p.FixedIPs[0].SubnetID != first.ID {
			t.Fatalf("network %d: port on %s, want the first subnet %s", i, p.FixedIPs[0].SubnetID, first.ID)
		}
		if got := must[*networks.Network](t)(networks.Get(ctx, c.member, n.ID).Extract()); got.Subnets[0] != first.ID {
			t.Fatalf("network %d: subnets %v do not start with the first one", i, got.Subnets)
		}
	}
}
