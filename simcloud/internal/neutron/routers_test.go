package neutron

import (
	"context"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
)

func TestRouterGateway(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	r := must[*routers.Router](t)(routers.Create(ctx, c.member, routers.CreateOpts{
		Name: "r", GatewayInfo: &routers.GatewayInfo{NetworkID: extNetID}}).Extract())
	gw := r.GatewayInfo
	// The gateway takes the first address of net04_ext's pool.
	if gw.NetworkID != extNetID || gw.EnableSNAT == nil || !*gw.EnableSNAT || len(gw.ExternalFixedIPs) != 1 ||
		gw.ExternalFixedIPs[0] != (routers.ExternalFixedIP{SubnetID: extSubnetID, IPAddress: "172.16.0.130"}) {
		t.Fatalf("gateway: %+v", gw)
	}
	if r.Status != "ACTIVE" || r.Distributed {
		t.Fatalf("router: %+v", r)
	}
	// Its port is Neutron's: the member does not list it, the admin does.
	if ps := must[[]ports.Port](t)(listPorts(c, c.member, ports.ListOpts{DeviceID: r.ID})); len(ps) != 0 {
		t.Fatalf("member sees gateway port: %+v", ps)
	}
	gwPorts := must[[]ports.Port](t)(listPorts(c, c.admin, ports.ListOpts{DeviceID: r.ID, DeviceOwner: "network:router_gateway"}))
	if len(gwPorts) != 1 {
		t.Fatalf("admin gateway ports: %+v", gwPorts)
	}
	// Clearing the gateway releases the port.
	got := must[*routers.Router](t)(routers.Update(ctx, c.member, r.ID, routers.UpdateOpts{GatewayInfo: &routers.GatewayInfo{}}).Extract())
	if got.GatewayInfo.NetworkID != "" || got.RevisionNumber != 2 {
		t.Fatalf("after clearing: %+v", got)
	}
	if ps := must[[]ports.Port](t)(listPorts(c, c.admin, ports.ListOpts{DeviceID: r.ID})); len(ps) != 0 {
		t.Fatalf("gateway port left: %+v", ps)
	}

	internal := must[*networks.Network](t)(networks.Create(ctx, c.member, networks.CreateOpts{Name: "n"}).Extract())
	tests := []struct {
		name   string
		gw     routers.GatewayInfo
		status int
		typ    string
	}{
		{"not an external network", routers.GatewayInfo{NetworkID: internal.ID}, 400, "BadRequest"},
		{"unknown network", routers.GatewayInfo{NetworkID: "nope"}, 404, "NetworkNotFound"},
		{"enable_snat by a member", routers.GatewayInfo{NetworkID: extNetID, EnableSNAT: ptr(false)}, 403, "PolicyNotAuthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := routers.Create(ctx, c.member, routers.CreateOpts{Name: "x", GatewayInfo: &tt.gw}).Extract()
			wantFault(t, err, tt.status, tt.typ)
		})
	}
	// Admin may pick the gateway address.
	ra := must[*routers.Router](t)(routers.Create(ctx, c.admin, routers.CreateOpts{Name: "ra", GatewayInfo: &routers.GatewayInfo{
		NetworkID: extNetID, ExternalFixedIPs: []routers.ExternalFixedIP{{IPAddress: "172.16.0.140"}}}}).Extract())
	if ra.GatewayInfo.ExternalFixedIPs[0].IPAddress != "172.16.0.140" {
		t.Fatalf("explicit gateway IP: %+v", ra.GatewayInfo)
	}
}

func TestRouterInterfaces(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	n, sn := memberNet(t, c, "10.20.0.0/24")
	_, sn2 := memberNet(t, c, "10.30.0.0/24")
	r := must[*routers.Router](t)(routers.Create(ctx, c.member, routers.CreateOpts{Name: "r"}).Extract())

	ifc := must[*routers.InterfaceInfo](t)(routers.AddInterface(ctx, c.member, r.ID, routers.AddInterfaceOpts{SubnetID: sn.ID}).Extract())
	if ifc.SubnetID != sn.ID || ifc.ID != r.ID || ifc.TenantID != "p-demo" {
		t.Fatalf("interface: %+v", ifc)
	}
	p := must[*ports.Port](t)(ports.Get(ctx, c.member, ifc.PortID).Extract())
	if p.DeviceOwner != "network:router_interface" || p.DeviceID != r.ID || p.FixedIPs[0].IPAddress != "10.20.0.1" || p.Status != "ACTIVE" {
		t.Fatalf("interface port: %+v", p)
	}
	// By port: the port's address becomes the router's.
	own := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: sn2.NetworkID, FixedIPs: []ports.IP{{IPAddress: "10.30.0.1"}}}).Extract())
	byPort := must[*routers.InterfaceInfo](t)(routers.AddInterface(ctx, c.member, r.ID, routers.AddInterfaceOpts{PortID: own.ID}).Extract())
	if byPort.PortID != own.ID || byPort.SubnetID != sn2.ID {
		t.Fatalf("interface by port: %+v", byPort)
	}

	r2 := must[*routers.Router](t)(routers.Create(ctx, c.member, routers.CreateOpts{Name: "r2"}).Extract())
	bound := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID, DeviceID: "srv-9"}).Extract())
	tests := []struct {
		name   string
		router string
		opts   routers.AddInterfaceOpts
		status int
		typ    string
	}{
		{"second interface on the subnet", r.ID, routers.AddInterfaceOpts{SubnetID: sn.ID}, 400, "BadRequest"},
		{"gateway IP taken by another router", r2.ID, routers.AddInterfaceOpts{SubnetID: sn.ID}, 409, "IpAddressAlreadyAllocated"},
		{"port in use", r2.ID, routers.AddInterfaceOpts{PortID: bound.ID}, 409, "PortInUse"},
		{"unknown subnet", r.ID, routers.AddInterfaceOpts{SubnetID: "nope"}, 404, "SubnetNotFound"},
		{"unknown port", r.ID, routers.AddInterfaceOpts{PortID: "nope"}, 404, "PortNotFound"},
		{"unknown router", "nope", routers.AddInterfaceOpts{SubnetID: sn.ID}, 404, "RouterNotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := routers.AddInterface(ctx, c.member, tt.router, tt.opts).Extract()
			wantFault(t, err, tt.status, tt.typ)
		})
	}

	wantFault(t, routers.Delete(ctx, c.member, r.ID).ExtractErr(), 409, "RouterInUse")
	_, err := routers.RemoveInterface(ctx, c.member, r2.ID, routers.RemoveInterfaceOpts{SubnetID: sn.ID}).Extract()
	wantFault(t, err, 404, "RouterInterfaceNotFoundForSubnet")
	_, err = routers.RemoveInterface(ctx, c.member, r2.ID, routers.RemoveInterfaceOpts{PortID: own.ID}).Extract()
	wantFault(t, err, 404, "RouterInterfaceNotFound")

	must[*routers.InterfaceInfo](t)(routers.RemoveInterface(ctx, c.member, r.ID, routers.RemoveInterfaceOpts{SubnetID: sn.ID}).Extract())
	must[*routers.InterfaceInfo](t)(routers.RemoveInterface(ctx, c.member, r.ID, routers.RemoveInterfaceOpts{PortID: own.ID}).Extract())
	if ps := must[[]ports.Port](t)(listPorts(c, c.member, ports.ListOpts{DeviceID: r.ID})); len(ps) != 0 {
		t.Fatalf("interface ports left: %+v", ps)
	}
	if err := routers.Delete(ctx, c.member, r.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	_, err = routers.Get(ctx, c.member, r.ID).Extract()
	wantFault(t, err, 404, "RouterNotFound")
}

func TestRouterExtraRoutes(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	_, sn := memberNet(t, c, "10.20.0.0/24")
	r := must[*routers.Router](t)(routers.Create(ctx, c.member, routers.CreateOpts{Name: "r"}).Extract())
	must[*routers.InterfaceInfo](t)(routers.AddInterface(ctx, c.member, r.ID, routers.AddInterfaceOpts{SubnetID: sn.ID}).Extract())
	_, err := routers.Update(ctx, c.member, r.ID, routers.UpdateOpts{Routes: &[]routers.Route{{DestinationCIDR: "10.99.0.0/16", NextHop: "192.168.1.1"}}}).Extract()
	wantFault(t, err, 400, "InvalidRoutes")
	got := must[*routers.Router](t)(routers.Update(ctx, c.member, r.ID, routers.UpdateOpts{Routes: &[]routers.Route{{DestinationCIDR: "10.99.0.0/16", NextHop: "10.20.0.5"}}}).Extract())
	if len(got.Routes) != 1 || got.Routes[0].NextHop != "10.20.0.5" {
		t.Fatalf("routes: %+v", got.Routes)
	}
}
