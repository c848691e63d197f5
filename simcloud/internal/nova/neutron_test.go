package nova

import (
	"context"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/portsbinding"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/fuelplan/fuelplan/simcloud/internal/glance"
	"github.com/fuelplan/fuelplan/simcloud/internal/neutron"
	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// TestWithRealNeutron wires Nova to the real simulated Neutron: a port
// made through the Neutron API is bound by a server boot, shows up in the
// server's addresses, and is released when the delete completes.
func TestWithRealNeutron(t *testing.T) {
	ctx := context.Background()
	knobs := simcore.NewKnobs()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(d time.Duration) { t := t0.Add(d); knobs.SetNow(func() time.Time { return t }) }
	at(0)
	knobs.SetDeleteTime(5 * time.Second)
	nt := neutron.New(neutron.Config{Knobs: knobs})
	nv := New(Config{Knobs: knobs, Ports: nt,
		Images:      glance.New(glance.Config{Images: []glance.Image{{ID: imageID, Name: "fuel-6.0", Visibility: "public"}}}),
		Hypervisors: []string{"node-1"}, Flavors: []Flavor{{ID: "1", Name: "m1.small", VCPUs: 1, RAM: 512, Disk: 20, Public: true}}})
	netURL, novaURL := serve(t, nt), serve(t, nv)
	net := func(as string) *gophercloud.ServiceClient {
		return &gophercloud.ServiceClient{ProviderClient: &gophercloud.ProviderClient{TokenID: "t"},
			Endpoint: netURL + "/v2.0/", MoreHeaders: map[string]string{"X-Test-As": as}}
	}
	c := &cloud{svc: nv, knobs: knobs, url: novaURL, t0: t0}
	mem := c.client("member", "2.90")

	n, err := networks.Create(ctx, net("member"), networks.CreateOpts{Name: "admin"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := subnets.Create(ctx, net("member"), subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.20.0.0/24", IPVersion: gophercloud.IPv4}).Extract(); err != nil {
		t.Fatal(err)
	}
	p, err := ports.Create(ctx, net("member"), ports.CreateOpts{NetworkID: n.ID, Name: "fuel-admin"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	id := boot(t, mem, "fuel-master", p.ID)

	var bound struct {
		ports.Port
		portsbinding.PortsBindingExt
	}
	if err := ports.Get(ctx, net("admin"), p.ID).ExtractInto(&bound); err != nil {
		t.Fatal(err)
	}
	if bound.DeviceID != id || bound.DeviceOwner != "compute:nova" || bound.HostID != "node-1" {
		t.Errorf("bound port: device %q owner %q host %q", bound.DeviceID, bound.DeviceOwner, bound.HostID)
	}
	s := get(t, mem, id)
	addrs, _ := s.Addresses["admin"].([]any)
	if len(addrs) != 1 || addrs[0].(map[string]any)["addr"] != p.FixedIPs[0].IPAddress || addrs[0].(map[string]any)["OS-EXT-IPS-MAC:mac_addr"] != p.MACAddress {
		t.Errorf("addresses %v, want the port's %s %s", s.Addresses, p.FixedIPs[0].IPAddress, p.MACAddress)
	}
	// The same port cannot go to a second server.
	_, err = servers.Create(ctx, mem, servers.CreateOpts{Name: "dup", ImageRef: imageID, FlavorRef: "1",
		Networks: []servers.Network{{Port: p.ID}}}, nil).Extract()
	if !gophercloud.ResponseCodeIs(err, 409) {
		t.Errorf("second server on a bound port: %v, want 409", err)
	}

	if err := servers.Delete(ctx, mem, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	at(5 * time.Second)
	// Without a Nova request, Settle (called by the core before Neutron
	// requests) completes the delete and frees the port.
	nv.Settle()
	if err := ports.Get(ctx, net("admin"), p.ID).ExtractInto(&bound); err != nil {
		t.Fatal(err)
	}
	if bound.DeviceID != "" || bound.HostID != "" {
		t.Errorf("port after the server is gone: device %q host %q", bound.DeviceID, bound.HostID)
	}
	if _, err := servers.Get(ctx, mem, id).Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("after delete time: %v, want 404", err)
	}
}
