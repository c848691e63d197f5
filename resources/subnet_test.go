package resources_test

import (
	"context"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/resources/resourcestest"
	"github.com/fuelplan/fuelplan/specs"
)

// labNetwork creates a lab network and returns the IDs holding it.
func labNetwork(t *testing.T, c *resources.Cloud, name string) (*specs.Network, resourcestest.IDs) {
	t.Helper()
	n := &specs.Network{Meta: meta(specs.KindNetwork, name)}
	o, err := resources.Network{}.Create(context.Background(), c, lab, n, nil)
	if err != nil {
		t.Fatalf("create network: %v", err)
	}
	return n, resourcestest.IDs{n.Addr(): o.ID}
}

func TestSubnetLifecycle(t *testing.T) {
	t.Parallel()
	for _, mode := range tagModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			_, c := startTagMode(t, mode.creation)
			n, ids := labNetwork(t, c, "admin")
			ad := resources.Subnet{}
			s := &specs.Subnet{Meta: meta(specs.KindSubnet, "admin"), Network: n.Addr(), CIDR: "10.20.0.0/24",
				EnableDHCP: false, DNSNameservers: []string{"8.8.8.8", "1.1.1.1"}}

			created, err := ad.Create(ctx, c, lab, s, ids)
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			checkMarked(t, c, "subnets", created.ID, s.Addr())
			got := listOne(t, ad, c, nil, s.Addr(), s)
			if got == nil || got.ID != created.ID || !got.Owned {
				t.Fatalf("list: %+v", got)
			}
			// Neutron's defaults are read but are not drift: the spec
			// leaves the gateway and pools to it.
			for k, v := range map[string]string{"gateway": "10.20.0.1", "pools": "10.20.0.2-10.20.0.254",
				"cidr": "10.20.0.0/24", "enable_dhcp": "false", "dns": "8.8.8.8,1.1.1.1", "network": ids[n.Addr()]} {
				if got.Fields[k] != v {
					t.Errorf("field %s = %q, want %q", k, got.Fields[k], v)
				}
			}
			checkNoDrift(t, ad, s, got, ids)

			updates := []struct {
				field  string
				change func(*specs.Subnet)
			}{
				{"name", func(s *specs.Subnet) { s.Name = "lab1-pxe" }},
				{"pools", func(s *specs.Subnet) {
					s.AllocationPools = []specs.AllocationPool{{Start: "10.20.0.100", End: "10.20.0.120"}, {Start: "10.20.0.10", End: "10.20.0.20"}}
				}},
				{"gateway", func(s *specs.Subnet) { s.Gateway = "10.20.0.2" }},
				{"gateway", func(s *specs.Subnet) { s.Gateway, s.NoGateway = "", true }},
				{"enable_dhcp", func(s *specs.Subnet) { s.EnableDHCP = true }},
				{"dns", func(s *specs.Subnet) { s.DNSNameservers = []string{"1.1.1.1", "8.8.8.8"} }},
			}
			// Pools first: a gateway inside the default pool is refused.
			for _, u := range updates {
				before := ad.Desired(s).Fields[u.field]
				u.change(s)
				if d := resourcestest.Drift(ad.Desired(s), got, ids); len(d) == 0 {
					t.Fatalf("change of %s (from %q) is not drift", u.field, before)
				}
				if got, err = ad.Update(ctx, c, s, got, []string{u.field}, ids); err != nil {
					t.Fatalf("update %s: %v", u.field, err)
				}
				checkNoDrift(t, ad, s, listOne(t, ad, c, nil, s.Addr(), s), ids)
			}
			if got.Fields["gateway"] != "" {
				t.Errorf("gateway after no_gateway = %q, want none", got.Fields["gateway"])
			}
			checkDeleted(t, ad, c, got)
		})
	}
}

// TestSubnetCreateNoGateway: no_gateway sends gateway_ip null at create.
func TestSubnetCreateNoGateway(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := resourcestest.Admin(t)
	n, ids := labNetwork(t, c, "storage")
	s := &specs.Subnet{Meta: meta(specs.KindSubnet, "storage"), Network: n.Addr(), CIDR: "192.168.1.0/24", NoGateway: true}
	o, err := resources.Subnet{}.Create(ctx, c, lab, s, ids)
	if err != nil {
		t.Fatal(err)
	}
	if gw, ok := o.Fields["gateway"]; !ok || gw != "" {
		t.Errorf("gateway = %q (set %v), want none", gw, ok)
	}
	checkNoDrift(t, resources.Subnet{}, s, o, ids)
	// The network must be known first.
	if _, err := (resources.Subnet{}).Create(ctx, c, lab, s, resourcestest.IDs{}); err == nil {
		t.Error("create without the network's ID succeeded")
	}
}

func TestSubnetConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := resourcestest.Admin(t)
	n, ids := labNetwork(t, c, "admin")
	s := &specs.Subnet{Meta: meta(specs.KindSubnet, "admin"), Network: n.Addr(), CIDR: "10.20.0.0/24"}
	hand, err := subnets.Create(ctx, c.Network, subnets.CreateOpts{NetworkID: ids[n.Addr()], Name: s.Name,
		CIDR: "10.30.0.0/24", IPVersion: gophercloud.IPv4}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	got := listOne(t, resources.Subnet{}, c, nil, s.Addr(), s)
	if got == nil || got.ID != hand.ID || got.Owned {
		t.Errorf("list: %+v, want unowned %s at %s", got, hand.ID, s.Addr())
	}
}
