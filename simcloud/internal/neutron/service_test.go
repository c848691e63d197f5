package neutron

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

func TestExtensions(t *testing.T) {
	cfg := defaultConfig()
	cfg.Extensions = []string{"external-net", "net-mtu", "security-group"}
	c := newTestCloud(t, cfg)
	ctx := context.Background()
	pages, err := extensions.List(c.member).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, err := extensions.ExtractExtensions(pages)
	if err != nil {
		t.Fatal(err)
	}
	var aliases []string
	for _, e := range all {
		aliases = append(aliases, e.Alias)
	}
	if !slices.Equal(aliases, cfg.Extensions) {
		t.Fatalf("aliases %v", aliases)
	}
	e, err := extensions.Get(ctx, c.member, "net-mtu").Extract()
	if err != nil || e.Name != "Network MTU" {
		t.Fatalf("extension: %+v", e)
	}
	_, err = extensions.Get(ctx, c.member, "router").Extract()
	wantFault(t, err, 404, "HTTPNotFound")
	// Without "router" there are no routers or floating IPs.
	_, err = routers.List(c.member, routers.ListOpts{}).AllPages(ctx)
	wantFault(t, err, 404, "HTTPNotFound")
	_, err = floatingips.Create(ctx, c.member, floatingips.CreateOpts{FloatingNetworkID: extNetID}).Extract()
	wantFault(t, err, 404, "HTTPNotFound")
	// Without port-security, binding and allowed-address-pairs, those
	// attributes are unknown: absent from responses, 400 in requests.
	n := must[*networks.Network](t)(networks.Create(ctx, c.member, networks.CreateOpts{Name: "n"}).Extract())
	var p struct {
		ID           string
		PortSecurity *bool   `json:"port_security_enabled"`
		VNICType     *string `json:"binding:vnic_type"`
		Pairs        *[]any  `json:"allowed_address_pairs"`
	}
	if err := ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID}).ExtractInto(&p); err != nil {
		t.Fatal(err)
	}
	if p.ID == "" || p.PortSecurity != nil || p.VNICType != nil || p.Pairs != nil {
		t.Fatalf("extension attributes shown without their extension: %+v", p)
	}
	_, err = ports.Create(ctx, c.member, rawOpts{"network_id": n.ID, "port_security_enabled": false}).Extract()
	wantFault(t, err, 400, "HTTPBadRequest")
}

func TestQuotas(t *testing.T) {
	cfg := defaultConfig()
	cfg.Quotas = map[string]int{"network": 1, "port": 2, "router": 0}
	c := newTestCloud(t, cfg)
	ctx := context.Background()
	n := must[*networks.Network](t)(networks.Create(ctx, c.member, networks.CreateOpts{Name: "n"}).Extract())
	_, err := networks.Create(ctx, c.member, networks.CreateOpts{Name: "n2"}).Extract()
	wantFault(t, err, 409, "OverQuota")
	// The limit is per project.
	must[*networks.Network](t)(networks.Create(ctx, c.other, networks.CreateOpts{Name: "theirs"}).Extract())
	for range 2 {
		must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID}).Extract())
	}
	_, err = ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID}).Extract()
	wantFault(t, err, 409, "OverQuota")
	_, err = routers.Create(ctx, c.member, routers.CreateOpts{Name: "r"}).Extract()
	wantFault(t, err, 409, "OverQuota")
}

func TestPortsForNova(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	n, _ := memberNet(t, c, "10.20.0.0/24")
	p := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID}).Extract())

	tests := []struct {
		name    string
		project string
		port    string
		device  string
		want    error
	}{
		{"unknown port", "p-demo", "nope", "srv-1", simcore.ErrNotFound},
		{"another project's port", "p-other", p.ID, "srv-1", simcore.ErrForbidden},
		{"bind", "p-demo", p.ID, "srv-1", nil},
		{"same server again", "p-demo", p.ID, "srv-1", nil},
		{"another server", "p-demo", p.ID, "srv-2", simcore.ErrPortInUse},
	}
	for _, tt := range tests {
		if err := c.svc.BindPort(tt.project, tt.port, tt.device, "node-3"); !errors.Is(err, tt.want) {
			t.Fatalf("%s: got %v want %v", tt.name, err, tt.want)
		}
	}
	var bound fullPort
	if err := ports.Get(ctx, c.admin, p.ID).ExtractInto(&bound); err != nil {
		t.Fatal(err)
	}
	if bound.Status != "ACTIVE" || bound.HostID != "node-3" || bound.DeviceID != "srv-1" || bound.DeviceOwner != "compute:nova" {
		t.Fatalf("bound: %+v", bound)
	}
	view, ok := c.svc.Port(p.ID)
	if !ok || view.NetworkName != n.Name || view.MAC != p.MACAddress || !slices.Equal(view.FixedIPs, []string{"10.20.0.3"}) || len(view.FloatingIPs) != 0 {
		t.Fatalf("view: %+v", view)
	}
	c.svc.UnbindPort(p.ID, "srv-other") // not its device: no effect
	c.svc.UnbindPort(p.ID, "srv-1")
	if err := ports.Get(ctx, c.admin, p.ID).ExtractInto(&bound); err != nil {
		t.Fatal(err)
	}
	if bound.Status != "DOWN" || bound.HostID != "" || bound.DeviceID != "" {
		t.Fatalf("unbound: %+v", bound)
	}
	// A port bound to a server may still be deleted; the NIC is just gone.
	must[struct{}](t)(struct{}{}, c.svc.BindPort("p-demo", p.ID, "srv-1", "node-3"))
	must[struct{}](t)(struct{}{}, ports.Delete(ctx, c.member, p.ID).ExtractErr())
	if _, ok := c.svc.Port(p.ID); ok {
		t.Fatal("deleted port still described")
	}
	c.svc.UnbindPort(p.ID, "srv-1") // Nova cleaning up after the fact must not fail
}

func TestSnapshotRestore(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	n, sn := memberNet(t, c, "10.20.0.0/24")
	r := must[*routers.Router](t)(routers.Create(ctx, c.member, routers.CreateOpts{Name: "r", GatewayInfo: &routers.GatewayInfo{NetworkID: extNetID}}).Extract())
	must[*routers.InterfaceInfo](t)(routers.AddInterface(ctx, c.member, r.ID, routers.AddInterfaceOpts{SubnetID: sn.ID}).Extract())
	p := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID}).Extract())
	must[*floatingips.FloatingIP](t)(floatingips.Create(ctx, c.member, floatingips.CreateOpts{FloatingNetworkID: extNetID, PortID: p.ID}).Extract())

	snap := must[[]byte](t)(c.svc.Snapshot())
	again := must[[]byte](t)(c.svc.Snapshot())
	if !bytes.Equal(snap, again) {
		t.Fatal("snapshot is not deterministic")
	}
	// A fresh service restored from it serves the same cloud and snapshots
	// to the same bytes.
	fresh := newTestCloud(t, Config{})
	if err := fresh.svc.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if got := must[[]byte](t)(fresh.svc.Snapshot()); !bytes.Equal(got, snap) {
		t.Fatalf("restored snapshot differs:\n%s\n%s", got, snap)
	}
	got := must[*ports.Port](t)(ports.Get(ctx, fresh.member, p.ID).Extract())
	if got.FixedIPs[0] != p.FixedIPs[0] || got.MACAddress != p.MACAddress {
		t.Fatalf("restored port: %+v", got)
	}
	// Lists read the restored store too.
	if ps := must[[]ports.Port](t)(listPorts(fresh, fresh.member, ports.ListOpts{NetworkID: n.ID})); len(ps) != 3 {
		t.Fatalf("restored ports on the network: %d, want DHCP, router interface and the VM port", len(ps))
	}
	// And keeps allocating where the old one left off.
	next := must[*ports.Port](t)(ports.Create(ctx, fresh.member, ports.CreateOpts{NetworkID: n.ID}).Extract())
	if next.FixedIPs[0].IPAddress != "10.20.0.4" {
		t.Fatalf("allocation after restore: %+v", next.FixedIPs)
	}
	for _, bad := range []string{"{", `{"networks": null}`} {
		if err := fresh.svc.Restore([]byte(bad)); err == nil {
			t.Fatalf("restore accepted %q", bad)
		}
	}
}

func TestSeededExternalNetworkWithoutPool(t *testing.T) {
	c := newTestCloud(t, Config{ExternalNetworks: []ExternalNetwork{{
		ID: extNetID, Name: "public", ProjectID: "p-admin", SubnetID: extSubnetID, CIDR: "192.0.2.0/28", Gateway: "192.0.2.1"}}})
	ctx := context.Background()
	f := must[*floatingips.FloatingIP](t)(floatingips.Create(ctx, c.member, floatingips.CreateOpts{FloatingNetworkID: extNetID}).Extract())
	if f.FloatingIP != "192.0.2.2" {
		t.Fatalf("first floating IP %s, want 192.0.2.2", f.FloatingIP)
	}
	var n fullNetwork
	if err := networks.Get(ctx, c.member, extNetID).ExtractInto(&n); err != nil {
		t.Fatal(err)
	}
	if !n.External || n.Shared || n.MTU != 1500 || n.ProjectID != "p-admin" {
		t.Fatalf("seeded network: %+v", n)
	}
}

func TestVersionDiscovery(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	var v struct {
		Versions []struct {
			ID, Status string
			Links      []struct{ Href, Rel string }
		}
	}
	if _, err := c.member.Get(context.Background(), c.srv.URL+"/", &v, nil); err != nil {
		t.Fatal(err)
	}
	if len(v.Versions) != 1 || v.Versions[0].ID != "v2.0" || v.Versions[0].Links[0].Href != c.srv.URL+"/v2.0/" {
		t.Fatalf("versions: %+v", v)
	}
	var res struct{ Resources []struct{ Collection string } }
	if _, err := c.member.Get(context.Background(), c.member.ServiceURL(""), &res, nil); err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, r := range res.Resources {
		cols = append(cols, r.Collection)
	}
	if !slices.Contains(cols, "networks") || !slices.Contains(cols, "floatingips") {
		t.Fatalf("resources: %v", cols)
	}
}
