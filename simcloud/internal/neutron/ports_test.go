package neutron

import (
	"context"
	"regexp"
	"slices"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/portsbinding"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/portsecurity"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
)

type fullPort struct {
	ports.Port
	portsecurity.PortSecurityExt
	portsbinding.PortsBindingExt
}

func TestPortCreateDefaults(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	n, sn := memberNet(t, c, "10.20.0.0/24")
	var p fullPort
	if err := ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID, Name: "p"}).ExtractInto(&p); err != nil {
		t.Fatal(err)
	}
	// .1 is the gateway, .2 the DHCP port: the first free pool address is .3.
	if len(p.FixedIPs) != 1 || p.FixedIPs[0] != (ports.IP{SubnetID: sn.ID, IPAddress: "10.20.0.3"}) {
		t.Fatalf("fixed_ips: %+v", p.FixedIPs)
	}
	if !regexp.MustCompile(`^fa:16:3e(:[0-9a-f]{2}){3}$`).MatchString(p.MACAddress) {
		t.Fatalf("mac %q", p.MACAddress)
	}
	if p.Status != "DOWN" || !p.PortSecurityEnabled || !p.AdminStateUp || p.RevisionNumber != 1 {
		t.Fatalf("defaults: %+v", p)
	}
	def := defaultGroup(t, c.member)
	if len(p.SecurityGroups) != 1 || p.SecurityGroups[0] != def.ID {
		t.Fatalf("security groups %v, want the default group %s", p.SecurityGroups, def.ID)
	}
	// binding:* is operator knowledge: absent for a member, shown to admin.
	if p.HostID != "" || p.VIFType != "" {
		t.Fatalf("member sees binding: %+v", p.PortsBindingExt)
	}
	var ap fullPort
	if err := ports.Get(ctx, c.admin, p.ID).ExtractInto(&ap); err != nil {
		t.Fatal(err)
	}
	if ap.VIFType != "unbound" || ap.VNICType != "normal" {
		t.Fatalf("admin binding view: %+v", ap.PortsBindingExt)
	}
}

func TestPortExplicitAddresses(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	n, sn := memberNet(t, c, "10.20.0.0/24")
	first := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID, MACAddress: "fa:16:3e:00:00:01",
		FixedIPs: []ports.IP{{IPAddress: "10.20.0.10"}}}).Extract())
	if first.FixedIPs[0] != (ports.IP{SubnetID: sn.ID, IPAddress: "10.20.0.10"}) || first.MACAddress != "fa:16:3e:00:00:01" {
		t.Fatalf("explicit port: %+v", first)
	}
	tests := []struct {
		name   string
		opts   ports.CreateOptsBuilder
		status int
		typ    string
	}{
		{"duplicate IP", ports.CreateOpts{NetworkID: n.ID, FixedIPs: []ports.IP{{SubnetID: sn.ID, IPAddress: "10.20.0.10"}}}, 409, "IpAddressAlreadyAllocated"},
		{"duplicate IP in one request", ports.CreateOpts{NetworkID: n.ID, FixedIPs: []ports.IP{{IPAddress: "10.20.0.11"}, {IPAddress: "10.20.0.11"}}}, 409, "IpAddressAlreadyAllocated"},
		{"duplicate MAC", ports.CreateOpts{NetworkID: n.ID, MACAddress: "fa:16:3e:00:00:01"}, 409, "MacAddressInUse"},
		{"bad MAC", ports.CreateOpts{NetworkID: n.ID, MACAddress: "zz"}, 400, "HTTPBadRequest"},
		{"IP on no subnet", ports.CreateOpts{NetworkID: n.ID, FixedIPs: []ports.IP{{IPAddress: "192.168.9.9"}}}, 400, "InvalidIpForNetwork"},
		{"broadcast address", ports.CreateOpts{NetworkID: n.ID, FixedIPs: []ports.IP{{SubnetID: sn.ID, IPAddress: "10.20.0.255"}}}, 400, "InvalidIpForSubnet"},
		{"subnet of another network", ports.CreateOpts{NetworkID: extNetID, FixedIPs: []ports.IP{{SubnetID: sn.ID}}}, 403, "PolicyNotAuthorized"},
		{"unknown network", ports.CreateOpts{NetworkID: "nope"}, 404, "NetworkNotFound"},
		{"unknown attribute", rawOpts{"network_id": n.ID, "qos": "gold"}, 400, "HTTPBadRequest"},
		{"binding:host_id by a member", portsbinding.CreateOptsExt{CreateOptsBuilder: ports.CreateOpts{NetworkID: n.ID}, HostID: "node-1"}, 403, "PolicyNotAuthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ports.Create(ctx, c.member, tt.opts).Extract()
			wantFault(t, err, tt.status, tt.typ)
		})
	}
	// The same MAC on another network is fine.
	n2, _ := memberNet(t, c, "10.30.0.0/24")
	must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n2.ID, MACAddress: "fa:16:3e:00:00:01"}).Extract())
	// An address freed by a deleted port can be taken again.
	must[struct{}](t)(struct{}{}, ports.Delete(ctx, c.member, first.ID).ExtractErr())
	must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID, FixedIPs: []ports.IP{{IPAddress: "10.20.0.10"}}}).Extract())
}

func TestPortSecurityRules(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	n, _ := memberNet(t, c, "10.20.0.0/24")
	sg := must[*groups.SecGroup](t)(groups.Create(ctx, c.member, groups.CreateOpts{Name: "web"}).Extract())
	off := ptr(false)

	// Port security off: no default group, groups and address pairs refused.
	var p fullPort
	if err := ports.Create(ctx, c.member, portsecurity.PortCreateOptsExt{
		CreateOptsBuilder: ports.CreateOpts{NetworkID: n.ID}, PortSecurityEnabled: off}).ExtractInto(&p); err != nil {
		t.Fatal(err)
	}
	if p.PortSecurityEnabled || len(p.SecurityGroups) != 0 {
		t.Fatalf("port security off: %+v", p)
	}
	_, err := ports.Create(ctx, c.member, portsecurity.PortCreateOptsExt{
		CreateOptsBuilder: ports.CreateOpts{NetworkID: n.ID, SecurityGroups: &[]string{sg.ID}}, PortSecurityEnabled: off}).Extract()
	wantFault(t, err, 400, "PortSecurityAndIPRequiredForSecurityGroups")
	_, err = ports.Create(ctx, c.member, portsecurity.PortCreateOptsExt{
		CreateOptsBuilder: ports.CreateOpts{NetworkID: n.ID, AllowedAddressPairs: []ports.AddressPair{{IPAddress: "10.20.0.200"}}}, PortSecurityEnabled: off}).Extract()
	wantFault(t, err, 409, "AddressPairAndPortSecurityRequired")
	_, err = ports.Update(ctx, c.member, p.ID, ports.UpdateOpts{SecurityGroups: &[]string{sg.ID}}).Extract()
	wantFault(t, err, 400, "PortSecurityAndIPRequiredForSecurityGroups")

	// Port security on: disabling it while groups or pairs remain is a 409;
	// clearing both in the same request works.
	q := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID, SecurityGroups: &[]string{sg.ID},
		AllowedAddressPairs: []ports.AddressPair{{IPAddress: "10.20.0.200"}}}).Extract())
	if len(q.SecurityGroups) != 1 || q.SecurityGroups[0] != sg.ID || len(q.AllowedAddressPairs) != 1 {
		t.Fatalf("explicit groups/pairs: %+v", q)
	}
	// With both, Zed names the pairs first (seen on the real cloud).
	_, err = ports.Update(ctx, c.member, q.ID, portsecurity.PortUpdateOptsExt{UpdateOptsBuilder: ports.UpdateOpts{}, PortSecurityEnabled: off}).Extract()
	wantFault(t, err, 409, "AddressPairAndPortSecurityRequired")
	groupsOnly := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID, SecurityGroups: &[]string{sg.ID}}).Extract())
	_, err = ports.Update(ctx, c.member, groupsOnly.ID, portsecurity.PortUpdateOptsExt{UpdateOptsBuilder: ports.UpdateOpts{}, PortSecurityEnabled: off}).Extract()
	wantFault(t, err, 409, "PortSecurityPortHasSecurityGroup")
	_, err = ports.Update(ctx, c.member, q.ID, portsecurity.PortUpdateOptsExt{
		UpdateOptsBuilder: ports.UpdateOpts{SecurityGroups: &[]string{}}, PortSecurityEnabled: off}).Extract()
	wantFault(t, err, 409, "AddressPairAndPortSecurityRequired")
	if err := ports.Update(ctx, c.member, q.ID, portsecurity.PortUpdateOptsExt{
		UpdateOptsBuilder:   ports.UpdateOpts{SecurityGroups: &[]string{}, AllowedAddressPairs: &[]ports.AddressPair{}},
		PortSecurityEnabled: off}).ExtractInto(&p); err != nil {
		t.Fatal(err)
	}
	if p.PortSecurityEnabled || len(p.SecurityGroups) != 0 || len(p.AllowedAddressPairs) != 0 {
		t.Fatalf("after disabling: %+v", p)
	}
	// A network without port security gives its ports none by default.
	nps := must[*networks.Network](t)(networks.Create(ctx, c.member, portsecurity.NetworkCreateOptsExt{
		CreateOptsBuilder: networks.CreateOpts{Name: "pxe"}, PortSecurityEnabled: off}).Extract())
	if err := ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: nps.ID}).ExtractInto(&p); err != nil {
		t.Fatal(err)
	}
	if p.PortSecurityEnabled {
		t.Fatal("port did not inherit the network's port_security_enabled=false")
	}
	// Unknown or foreign groups are 404s.
	other := must[*groups.SecGroup](t)(groups.Create(ctx, c.other, groups.CreateOpts{Name: "theirs"}).Extract())
	_, err = ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID, SecurityGroups: &[]string{other.ID}}).Extract()
	wantFault(t, err, 404, "SecurityGroupNotFound")
}

func TestPortBindingByAdmin(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	n, _ := memberNet(t, c, "10.20.0.0/24")
	p := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID}).Extract())
	var got fullPort
	if err := ports.Update(ctx, c.admin, p.ID, portsbinding.UpdateOptsExt{
		UpdateOptsBuilder: ports.UpdateOpts{DeviceID: ptr("srv-1"), DeviceOwner: ptr("compute:nova")}, HostID: ptr("node-2")}).ExtractInto(&got); err != nil {
		t.Fatal(err)
	}
	if got.HostID != "node-2" || got.VIFType != "ovs" || got.Status != "ACTIVE" || got.RevisionNumber != 2 || got.DeviceID != "srv-1" {
		t.Fatalf("bound port: %+v", got)
	}
	_, err := ports.Update(ctx, c.member, p.ID, portsbinding.UpdateOptsExt{UpdateOptsBuilder: ports.UpdateOpts{}, HostID: ptr("node-3")}).Extract()
	wantFault(t, err, 403, "PolicyNotAuthorized")
	_, err = ports.Update(ctx, c.member, p.ID, portsbinding.UpdateOptsExt{UpdateOptsBuilder: ports.UpdateOpts{}, Profile: map[string]any{"x": 1}}).Extract()
	wantFault(t, err, 403, "PolicyNotAuthorized")
	_, err = ports.Update(ctx, c.member, p.ID, ports.UpdateOpts{MACAddress: ptr("fa:16:3e:00:00:09")}).Extract()
	wantFault(t, err, 403, "PolicyNotAuthorized")
	// A bound port keeps its MAC even for an admin (PortBound).
	_, err = ports.Update(ctx, c.admin, p.ID, ports.UpdateOpts{MACAddress: ptr("fa:16:3e:00:00:09")}).Extract()
	wantFault(t, err, 409, "PortBound")
}

func TestPortDelete(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	_, sn := memberNet(t, c, "10.20.0.0/24")
	r := must[*routers.Router](t)(routers.Create(ctx, c.member, routers.CreateOpts{Name: "r"}).Extract())
	ifc := must[*routers.InterfaceInfo](t)(routers.AddInterface(ctx, c.member, r.ID, routers.AddInterfaceOpts{SubnetID: sn.ID}).Extract())
	wantFault(t, ports.Delete(ctx, c.member, ifc.PortID).ExtractErr(), 409, "ServicePortInUse")
	wantFault(t, ports.Delete(ctx, c.member, "nope").ExtractErr(), 404, "PortNotFound")
}

func defaultGroup(t *testing.T, sc *gophercloud.ServiceClient) groups.SecGroup {
	t.Helper()
	pages, err := groups.List(sc, groups.ListOpts{Name: "default"}).AllPages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	gs, err := groups.ExtractGroups(pages)
	if err != nil || len(gs) != 1 {
		t.Fatalf("default group: %v %v", gs, err)
	}
	return gs[0]
}

// Neutron's AllowedAddressPairsMixin gives a pair without a MAC the
// port's own MAC (seen on Zed: the pair reads back with it), on create
// and on update (an admin may change the MAC); an explicit MAC is kept.
func TestAddressPairMACDefaultsToThePort(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	n, _ := memberNet(t, c, "10.20.0.0/24")
	p := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID, MACAddress: "fa:16:3e:00:00:07",
		AllowedAddressPairs: []ports.AddressPair{{IPAddress: "10.20.0.100"}, {IPAddress: "10.20.0.0/28", MACAddress: "fa:16:3e:00:00:99"}}}).Extract())
	want := []ports.AddressPair{{IPAddress: "10.20.0.100", MACAddress: "fa:16:3e:00:00:07"}, {IPAddress: "10.20.0.0/28", MACAddress: "fa:16:3e:00:00:99"}}
	if !slices.Equal(p.AllowedAddressPairs, want) {
		t.Fatalf("create: pairs %+v, want %+v", p.AllowedAddressPairs, want)
	}
	u := must[*ports.Port](t)(ports.Update(ctx, c.admin, p.ID, ports.UpdateOpts{MACAddress: ptr("fa:16:3e:00:00:08"),
		AllowedAddressPairs: &[]ports.AddressPair{{IPAddress: "10.20.0.101"}}}).Extract())
	if want := []ports.AddressPair{{IPAddress: "10.20.0.101", MACAddress: "fa:16:3e:00:00:08"}}; !slices.Equal(u.AllowedAddressPairs, want) {
		t.Fatalf("update: pairs %+v, want %+v", u.AllowedAddressPairs, want)
	}
}
