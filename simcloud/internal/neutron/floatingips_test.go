package neutron

import (
	"context"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
)

func TestFloatingIPAllocation(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	f := must[*floatingips.FloatingIP](t)(floatingips.Create(ctx, c.member, floatingips.CreateOpts{FloatingNetworkID: extNetID}).Extract())
	if f.FloatingIP != "172.16.0.130" || f.Status != "DOWN" || f.PortID != "" || f.RouterID != "" || f.ProjectID != "p-demo" {
		t.Fatalf("floating IP: %+v", f)
	}
	internal := must[*networks.Network](t)(networks.Create(ctx, c.member, networks.CreateOpts{Name: "n"}).Extract())
	tests := []struct {
		name   string
		opts   floatingips.CreateOpts
		status int
		typ    string
	}{
		{"address picked by a member", floatingips.CreateOpts{FloatingNetworkID: extNetID, FloatingIP: "172.16.0.150"}, 403, "PolicyNotAuthorized"},
		{"not an external network", floatingips.CreateOpts{FloatingNetworkID: internal.ID}, 400, "BadRequest"},
		{"unknown network", floatingips.CreateOpts{FloatingNetworkID: "nope"}, 404, "NetworkNotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := floatingips.Create(ctx, c.member, tt.opts).Extract()
			wantFault(t, err, tt.status, tt.typ)
		})
	}
	fa := must[*floatingips.FloatingIP](t)(floatingips.Create(ctx, c.admin, floatingips.CreateOpts{FloatingNetworkID: extNetID, FloatingIP: "172.16.0.150"}).Extract())
	if fa.FloatingIP != "172.16.0.150" {
		t.Fatalf("explicit address: %+v", fa)
	}
	_, err := floatingips.Create(ctx, c.admin, floatingips.CreateOpts{FloatingNetworkID: extNetID, FloatingIP: "172.16.0.150"}).Extract()
	wantFault(t, err, 409, "IpAddressAlreadyAllocated")
	// The external network cannot go while floating IPs hold addresses on it.
	wantFault(t, networks.Delete(ctx, c.admin, extNetID).ExtractErr(), 409, "NetworkInUse")
	// Deleting releases the address for the next allocation.
	must[struct{}](t)(struct{}{}, floatingips.Delete(ctx, c.member, f.ID).ExtractErr())
	again := must[*floatingips.FloatingIP](t)(floatingips.Create(ctx, c.member, floatingips.CreateOpts{FloatingNetworkID: extNetID}).Extract())
	if again.FloatingIP != "172.16.0.130" {
		t.Fatalf("address not reused: %s", again.FloatingIP)
	}
}

func TestFloatingIPAssociation(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	n, sn := memberNet(t, c, "10.20.0.0/24")
	p := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID}).Extract())
	f := must[*floatingips.FloatingIP](t)(floatingips.Create(ctx, c.member, floatingips.CreateOpts{FloatingNetworkID: extNetID}).Extract())
	associate := func() error {
		_, err := floatingips.Update(ctx, c.member, f.ID, floatingips.UpdateOpts{PortID: &p.ID}).Extract()
		return err
	}

	// No router at all, then a router without a gateway, then one with a
	// gateway but no interface on the port's subnet: never reachable.
	wantFault(t, associate(), 404, "ExternalGatewayForFloatingIPNotFound")
	r := must[*routers.Router](t)(routers.Create(ctx, c.member, routers.CreateOpts{Name: "r"}).Extract())
	must[*routers.InterfaceInfo](t)(routers.AddInterface(ctx, c.member, r.ID, routers.AddInterfaceOpts{SubnetID: sn.ID}).Extract())
	wantFault(t, associate(), 404, "ExternalGatewayForFloatingIPNotFound")
	must[*routers.Router](t)(routers.Update(ctx, c.member, r.ID, routers.UpdateOpts{GatewayInfo: &routers.GatewayInfo{NetworkID: extNetID}}).Extract())

	if err := associate(); err != nil {
		t.Fatal(err)
	}
	got := must[*floatingips.FloatingIP](t)(floatingips.Get(ctx, c.member, f.ID).Extract())
	if got.PortID != p.ID || got.FixedIP != p.FixedIPs[0].IPAddress || got.RouterID != r.ID || got.Status != "ACTIVE" || got.RevisionNumber != 2 {
		t.Fatalf("associated: %+v", got)
	}
	// The port shows it to Nova.
	view, ok := c.svc.Port(p.ID)
	if !ok || len(view.FloatingIPs) != 1 || view.FloatingIPs[0] != f.FloatingIP {
		t.Fatalf("port view: %+v", view)
	}
	// Filter by port.
	pages, err := floatingips.List(c.member, floatingips.ListOpts{PortID: p.ID}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fs, err := floatingips.ExtractFloatingIPs(pages); err != nil || len(fs) != 1 || fs[0].ID != f.ID {
		t.Fatalf("list by port: %+v %v", fs, err)
	}

	// What the association depends on cannot be taken away.
	_, err = routers.RemoveInterface(ctx, c.member, r.ID, routers.RemoveInterfaceOpts{SubnetID: sn.ID}).Extract()
	wantFault(t, err, 409, "RouterInterfaceInUseByFloatingIP")
	_, err = routers.Update(ctx, c.member, r.ID, routers.UpdateOpts{GatewayInfo: &routers.GatewayInfo{}}).Extract()
	wantFault(t, err, 409, "RouterExternalGatewayInUseByFloatingIp")
	second := must[*floatingips.FloatingIP](t)(floatingips.Create(ctx, c.member, floatingips.CreateOpts{FloatingNetworkID: extNetID}).Extract())
	_, err = floatingips.Update(ctx, c.member, second.ID, floatingips.UpdateOpts{PortID: &p.ID}).Extract()
	wantFault(t, err, 409, "FloatingIPPortAlreadyAssociated")
	_, err = floatingips.Update(ctx, c.member, second.ID, floatingips.UpdateOpts{PortID: &p.ID, FixedIP: "10.20.0.99"}).Extract()
	wantFault(t, err, 400, "BadRequest")

	// Disassociate (port_id null), then the interface may go.
	got = must[*floatingips.FloatingIP](t)(floatingips.Update(ctx, c.member, f.ID, floatingips.UpdateOpts{PortID: new(string)}).Extract())
	if got.PortID != "" || got.FixedIP != "" || got.RouterID != "" || got.Status != "DOWN" {
		t.Fatalf("disassociated: %+v", got)
	}
	must[*routers.InterfaceInfo](t)(routers.RemoveInterface(ctx, c.member, r.ID, routers.RemoveInterfaceOpts{SubnetID: sn.ID}).Extract())
}

func TestFloatingIPCreateAssociatedAndPortDelete(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	n, sn := memberNet(t, c, "10.20.0.0/24")
	r := must[*routers.Router](t)(routers.Create(ctx, c.member, routers.CreateOpts{Name: "r", GatewayInfo: &routers.GatewayInfo{NetworkID: extNetID}}).Extract())
	must[*routers.InterfaceInfo](t)(routers.AddInterface(ctx, c.member, r.ID, routers.AddInterfaceOpts{SubnetID: sn.ID}).Extract())
	p := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID}).Extract())
	f := must[*floatingips.FloatingIP](t)(floatingips.Create(ctx, c.member, floatingips.CreateOpts{FloatingNetworkID: extNetID, PortID: p.ID}).Extract())
	if f.PortID != p.ID || f.RouterID != r.ID {
		t.Fatalf("created associated: %+v", f)
	}
	// Deleting the port disassociates the floating IP, which stays allocated.
	must[struct{}](t)(struct{}{}, ports.Delete(ctx, c.member, p.ID).ExtractErr())
	got := must[*floatingips.FloatingIP](t)(floatingips.Get(ctx, c.member, f.ID).Extract())
	if got.PortID != "" || got.Status != "DOWN" {
		t.Fatalf("after port delete: %+v", got)
	}
}
