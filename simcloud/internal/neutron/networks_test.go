package neutron

import (
	"context"
	"net/http"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/external"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/mtu"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/portsecurity"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/vlantransparent"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

// fullNetwork is a network with the extension attributes the simulator shows.
type fullNetwork struct {
	networks.Network
	external.NetworkExternalExt
	mtu.NetworkMTUExt
	portsecurity.PortSecurityExt
}

// rawOpts sends an arbitrary body through gophercloud, for inputs its typed
// options cannot express (unknown attributes, nulls).
type rawOpts map[string]any

func (o rawOpts) ToNetworkCreateMap() (map[string]any, error) {
	return map[string]any{"network": map[string]any(o)}, nil
}
func (o rawOpts) ToNetworkUpdateMap() (map[string]any, error) {
	return map[string]any{"network": map[string]any(o)}, nil
}
func (o rawOpts) ToSubnetCreateMap() (map[string]any, error) {
	return map[string]any{"subnet": map[string]any(o)}, nil
}
func (o rawOpts) ToPortCreateMap() (map[string]any, error) {
	return map[string]any{"port": map[string]any(o)}, nil
}
func (o rawOpts) ToPortUpdateMap() (map[string]any, error) {
	return map[string]any{"port": map[string]any(o)}, nil
}

func TestNetworkCreateDefaults(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	var n fullNetwork
	if err := networks.Create(ctx, c.member, networks.CreateOpts{Name: "admin-net"}).ExtractInto(&n); err != nil {
		t.Fatal(err)
	}
	if n.Name != "admin-net" || n.ProjectID != "p-demo" || n.TenantID != "p-demo" || !n.AdminStateUp ||
		n.Status != "ACTIVE" || n.Shared || n.External || n.MTU != DefaultMTU || !n.PortSecurityEnabled ||
		n.RevisionNumber != 1 || n.CreatedAt.IsZero() || len(n.Subnets) != 0 || n.Tags == nil {
		t.Fatalf("unexpected defaults: %+v", n)
	}
	var got fullNetwork
	if err := networks.Get(ctx, c.member, n.ID).ExtractInto(&got); err != nil {
		t.Fatal(err)
	}
	if got.ID != n.ID || got.MTU != n.MTU {
		t.Fatalf("get: %+v", got)
	}
}

func TestNetworkCreateOptions(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	opts := external.CreateOptsExt{
		CreateOptsBuilder: portsecurity.NetworkCreateOptsExt{
			CreateOptsBuilder:   mtu.CreateOptsExt{CreateOptsBuilder: networks.CreateOpts{Name: "n"}, MTU: 1400},
			PortSecurityEnabled: ptr(false),
		},
		External: ptr(true),
	}
	var n fullNetwork
	if err := networks.Create(context.Background(), c.admin, opts).ExtractInto(&n); err != nil {
		t.Fatal(err)
	}
	if n.MTU != 1400 || n.PortSecurityEnabled || !n.External {
		t.Fatalf("options not applied: %+v", n)
	}
}

func TestNetworkCreateRejects(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	tests := []struct {
		name   string
		opts   networks.CreateOptsBuilder
		status int
		typ    string
	}{
		{"unknown attribute", rawOpts{"name": "x", "colour": "blue"}, 400, "HTTPBadRequest"},
		{"vlan_transparent without the extension",
			vlantransparent.CreateOptsExt{CreateOptsBuilder: networks.CreateOpts{Name: "x"}, VLANTransparent: ptr(true)}, 400, "HTTPBadRequest"},
		{"mtu above the maximum", mtu.CreateOptsExt{CreateOptsBuilder: networks.CreateOpts{Name: "x"}, MTU: 9000}, 400, "InvalidInput"},
		{"mtu below 68", mtu.CreateOptsExt{CreateOptsBuilder: networks.CreateOpts{Name: "x"}, MTU: 10}, 400, "HTTPBadRequest"},
		{"shared by a member", networks.CreateOpts{Name: "x", Shared: ptr(true)}, 403, "PolicyNotAuthorized"},
		{"external by a member", external.CreateOptsExt{CreateOptsBuilder: networks.CreateOpts{Name: "x"}, External: ptr(true)}, 403, "PolicyNotAuthorized"},
		{"another project", networks.CreateOpts{Name: "x", ProjectID: "p-other"}, 400, "HTTPBadRequest"},
		{"wrong type", rawOpts{"name": 7}, 400, "HTTPBadRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := networks.Create(context.Background(), c.member, tt.opts).Extract()
			wantFault(t, err, tt.status, tt.typ)
		})
	}
	// Nothing was created by the rejected requests.
	all := must[[]networks.Network](t)(listNetworks(c, c.admin, networks.ListOpts{}))
	if len(all) != 1 {
		t.Fatalf("rejected creates left %d networks", len(all))
	}
}

func TestNetworkVLANTransparentWhenEnabled(t *testing.T) {
	cfg := defaultConfig()
	cfg.Extensions = append(append([]string{}, DefaultExtensions...), "vlan-transparent")
	c := newTestCloud(t, cfg)
	var n struct {
		networks.Network
		vlantransparent.TransparentExt
	}
	opts := vlantransparent.CreateOptsExt{CreateOptsBuilder: networks.CreateOpts{Name: "x"}, VLANTransparent: ptr(true)}
	if err := networks.Create(context.Background(), c.member, opts).ExtractInto(&n); err != nil {
		t.Fatal(err)
	}
	if !n.VLANTransparent {
		t.Fatal("vlan_transparent not set")
	}
}

func TestNetworkVisibility(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	mine := must[*networks.Network](t)(networks.Create(ctx, c.member, networks.CreateOpts{Name: "mine"}).Extract())
	theirs := must[*networks.Network](t)(networks.Create(ctx, c.other, networks.CreateOpts{Name: "theirs"}).Extract())

	_, err := networks.Get(ctx, c.member, theirs.ID).Extract()
	wantFault(t, err, 404, "NetworkNotFound")
	wantFault(t, networks.Delete(ctx, c.member, theirs.ID).ExtractErr(), 404, "NetworkNotFound")
	_, err = networks.Get(ctx, c.member, "no-such-id").Extract()
	wantFault(t, err, 404, "NetworkNotFound")

	names := func(ns []networks.Network) map[string]bool {
		m := map[string]bool{}
		for _, n := range ns {
			m[n.Name] = true
		}
		return m
	}
	seen := names(must[[]networks.Network](t)(listNetworks(c, c.member, networks.ListOpts{})))
	if !seen["mine"] || !seen["net04_ext"] || seen["theirs"] || len(seen) != 2 {
		t.Fatalf("member sees %v", seen)
	}
	seen = names(must[[]networks.Network](t)(listNetworks(c, c.admin, networks.ListOpts{})))
	if !seen["mine"] || !seen["theirs"] || !seen["net04_ext"] {
		t.Fatalf("admin sees %v", seen)
	}
	// A member cannot change the external network it can see.
	_, err = networks.Update(ctx, c.member, extNetID, networks.UpdateOpts{Name: ptr("x")}).Extract()
	wantFault(t, err, 403, "PolicyNotAuthorized")
	_ = mine
}

func TestNetworkDelete(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	n, sn := memberNet(t, c, "10.20.0.0/24")
	p := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID}).Extract())

	wantFault(t, networks.Delete(ctx, c.member, n.ID).ExtractErr(), http.StatusConflict, "NetworkInUse")
	if err := ports.Delete(ctx, c.member, p.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	// Only the DHCP port is left: it goes with the network, as do subnets.
	if err := networks.Delete(ctx, c.member, n.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	left := must[[]ports.Port](t)(listPorts(c, c.admin, ports.ListOpts{NetworkID: n.ID}))
	if len(left) != 0 {
		t.Fatalf("ports left: %+v", left)
	}
	_, err := getSubnet(c, sn.ID)
	wantFault(t, err, 404, "SubnetNotFound")
}

func TestSharedNetwork(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	shared := must[*networks.Network](t)(networks.Create(ctx, c.admin, networks.CreateOpts{Name: "shared", Shared: ptr(true)}).Extract())
	sn := must[*subnets.Subnet](t)(subnets.Create(ctx, c.admin, subnets.CreateOpts{NetworkID: shared.ID, CIDR: "10.50.0.0/24", IPVersion: 4}).Extract())
	// Members see it and its subnets, and may plug ports into it...
	must[*networks.Network](t)(networks.Get(ctx, c.member, shared.ID).Extract())
	must[*subnets.Subnet](t)(subnets.Get(ctx, c.member, sn.ID).Extract())
	p := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: shared.ID}).Extract())
	if p.ProjectID != "p-demo" {
		t.Fatalf("port owner %s", p.ProjectID)
	}
	// ...taking addresses from the pools, not choosing them.
	_, err := ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: shared.ID, FixedIPs: []ports.IP{{IPAddress: "10.50.0.77"}}}).Extract()
	wantFault(t, err, 403, "PolicyNotAuthorized")
	// ...but not change it, nor add subnets or ports to the external one.
	_, err = networks.Update(ctx, c.member, shared.ID, networks.UpdateOpts{Name: ptr("x")}).Extract()
	wantFault(t, err, 403, "PolicyNotAuthorized")
	_, err = subnets.Create(ctx, c.member, subnets.CreateOpts{NetworkID: shared.ID, CIDR: "10.51.0.0/24", IPVersion: 4}).Extract()
	wantFault(t, err, 403, "PolicyNotAuthorized")
	_, err = ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: extNetID}).Extract()
	wantFault(t, err, 403, "PolicyNotAuthorized")
	// The external network's subnet is not shared: hidden from members.
	_, err = subnets.Get(ctx, c.member, extSubnetID).Extract()
	wantFault(t, err, 404, "SubnetNotFound")
}
