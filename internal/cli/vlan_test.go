package cli

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/trunks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/vlantransparent"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/simcloud"
)

// vlanLab: two slaves whose public NIC carries mgmt (VLAN 101) and the
// tenant VLANs over trunks, and whose private NIC carries storage (VLAN
// 102) on a VLAN-transparent network.
const vlanLab = `apiVersion: fuelplan/v1
lab: vl
images:
  - {name: cirros, existing: true}
flavors:
  - {name: m1.small, existing: true}
networks:
  - {name: admin, cidr: 10.20.0.0/24, dhcp: false}
  - {name: public, cidr: 172.16.0.0/24, dhcp: false, vlan_mode: trunk}
  - {name: private, cidr: 10.30.0.0/24, dhcp: false, vlan_mode: transparent}
  - {name: mgmt, cidr: 192.168.0.0/24, dhcp: false}
  - {name: storage, cidr: 192.168.1.0/24, dhcp: false}
  - {name: "tenant-{vlan}", cidr: 10.40.0.0/24, dhcp: false}
master:
  flavor: m1.small
  image: cirros
  ports:
    - {network: admin, fixed_ip: 10.20.0.2}
slaves:
  count: 2
  flavor: m1.small
  image: cirros
  ports:
    - network: admin
    - network: public
      vlans:
        - {network: mgmt, id: 101}
        - {network: "tenant-{vlan}", ids: TENANTS}
    - network: private
      vlans:
        - {network: storage, id: 102}
`

// vlanEnv is a simulated cloud kept running across CLI invocations, and a
// client of it for changes made "by hand".
type vlanEnv struct {
	t     *testing.T
	dir   string
	cloud *resources.Cloud
}

func newVLANEnv(t *testing.T, world *simcloud.World) *vlanEnv {
	t.Setenv("NO_COLOR", "1")
	sim, err := simcloud.Start(simcloud.Config{World: world})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	dir := t.TempDir()
	yaml := sim.CloudsYAML("shared", sim.Admin())
	if err := os.WriteFile(filepath.Join(dir, "clouds.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OS_CLIENT_CONFIG_FILE", filepath.Join(dir, "clouds.yaml"))
	t.Setenv("OS_CLOUD", "shared")
	c, err := resources.Connect(context.Background(), resources.Target{CloudName: "shared", CloudsYAML: []byte(yaml)})
	if err != nil {
		t.Fatal(err)
	}
	return &vlanEnv{t: t, dir: dir, cloud: c}
}

func (e *vlanEnv) spec(tenants string) string {
	e.t.Helper()
	path := filepath.Join(e.dir, "lab.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(vlanLab, "TENANTS", tenants, 1)), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path
}

func (e *vlanEnv) run(want int, args ...string) string {
	e.t.Helper()
	code, out, errOut := run(e.t, args...)
	if code != want {
		e.t.Fatalf("fuelplan %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
	}
	return out + errOut
}

// trunks returns the lab's trunks by name, each with its subports as
// "network-name=VLAN" sorted.
func (e *vlanEnv) trunks() map[string]struct {
	ID   string
	Subs []string
} {
	e.t.Helper()
	ctx := context.Background()
	pages, err := trunks.List(e.cloud.Network, trunks.ListOpts{}).AllPages(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	ts, err := trunks.ExtractTrunks(pages)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]struct {
		ID   string
		Subs []string
	}{}
	for _, tr := range ts {
		parent, err := ports.Get(ctx, e.cloud.Network, tr.PortID).Extract()
		if err != nil {
			e.t.Fatal(err)
		}
		var subs []string
		for _, sp := range tr.Subports {
			p, err := ports.Get(ctx, e.cloud.Network, sp.PortID).Extract()
			if err != nil {
				e.t.Fatal(err)
			}
			// The guest's VLAN interfaces send with the NIC's MAC.
			if p.Name != "stray" && p.MACAddress != parent.MACAddress {
				e.t.Errorf("subport %s has MAC %s, its parent %s", p.Name, p.MACAddress, parent.MACAddress)
			}
			n, err := networks.Get(ctx, e.cloud.Network, p.NetworkID).Extract()
			if err != nil {
				e.t.Fatal(err)
			}
			subs = append(subs, n.Name+"="+strconv.Itoa(sp.SegmentationID))
		}
		sort.Strings(subs)
		out[tr.Name] = struct {
			ID   string
			Subs []string
		}{tr.ID, subs}
	}
	return out
}

// TestVLANLabLifecycle: trunks and a VLAN-transparent network apply, plan
// empty, a subport removed (and one added) by hand is planned back, a
// changed VLAN range updates the trunks in place, and destroy leaves
// nothing.
func TestVLANLabLifecycle(t *testing.T) {
	e := newVLANEnv(t, nil)
	ctx := context.Background()
	spec := e.spec("1000-1002")

	e.run(ExitOK, "apply", spec, "--auto-approve")
	wantSubs := []string{"vl-mgmt=101", "vl-tenant-1000=1000", "vl-tenant-1001=1001", "vl-tenant-1002=1002"}
	got := e.trunks()
	if len(got) != 2 || !slices.Equal(got["vl-slave-01-public"].Subs, wantSubs) || !slices.Equal(got["vl-slave-02-public"].Subs, wantSubs) {
		t.Fatalf("trunks after apply: %+v", got)
	}
	// The private network is VLAN-transparent; storage, carried on it as
	// it is, needs no network of its own.
	var nets []struct {
		networks.Network
		vlantransparent.TransparentExt
	}
	pages, err := networks.List(e.cloud.Network, networks.ListOpts{}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := networks.ExtractNetworksInto(pages, &nets); err != nil {
		t.Fatal(err)
	}
	for _, n := range nets {
		if n.Name == "vl-storage" {
			t.Errorf("network vl-storage was built though private carries it transparently")
		}
		if (n.Name == "vl-private") != n.VLANTransparent {
			t.Errorf("network %s: vlan_transparent %v", n.Name, n.VLANTransparent)
		}
	}
	if out := e.run(ExitOK, "plan", spec, "--detailed-exitcode"); !strings.Contains(out, "No changes. The lab matches the spec.") {
		t.Fatalf("plan after apply:\n%s", out)
	}

	// By hand: slave-01's trunk loses mgmt, slave-02's gains a stray port.
	tr1, tr2 := got["vl-slave-01-public"], got["vl-slave-02-public"]
	subs, err := trunks.GetSubports(ctx, e.cloud.Network, tr1.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	var mgmtPort string
	for _, sp := range subs {
		if sp.SegmentationID == 101 {
			mgmtPort = sp.PortID
		}
	}
	if _, err := trunks.RemoveSubports(ctx, e.cloud.Network, tr1.ID, trunks.RemoveSubportsOpts{
		Subports: []trunks.RemoveSubport{{PortID: mgmtPort}}}).Extract(); err != nil {
		t.Fatal(err)
	}
	var mgmtNet string
	for _, n := range nets {
		if n.Name == "vl-mgmt" {
			mgmtNet = n.ID
		}
	}
	stray, err := ports.Create(ctx, e.cloud.Network, ports.CreateOpts{Name: "stray", NetworkID: mgmtNet}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trunks.AddSubports(ctx, e.cloud.Network, tr2.ID, trunks.AddSubportsOpts{
		Subports: []trunks.Subport{{PortID: stray.ID, SegmentationType: "vlan", SegmentationID: 999}}}).Extract(); err != nil {
		t.Fatal(err)
	}
	out := e.run(ExitChanges, "plan", spec, "--detailed-exitcode")
	for _, want := range []string{"~ trunk.slave-01.public", "subports.slave-01.mgmt", "~ trunk.slave-02.public", "subports." + stray.ID} {
		if !strings.Contains(out, want) {
			t.Errorf("drift plan lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "-/+") {
		t.Errorf("drift plan replaces something:\n%s", out)
	}
	e.run(ExitOK, "apply", spec, "--auto-approve")
	got = e.trunks()
	if got["vl-slave-01-public"].ID != tr1.ID || !slices.Equal(got["vl-slave-01-public"].Subs, wantSubs) ||
		!slices.Equal(got["vl-slave-02-public"].Subs, wantSubs) {
		t.Fatalf("trunks after repair: %+v", got)
	}
	if err := ports.Delete(ctx, e.cloud.Network, stray.ID).ExtractErr(); err != nil {
		t.Fatalf("the stray port is still a subport: %v", err)
	}

	// The tenant range moves: 1000 goes, 1003 comes; the trunks stay.
	spec = e.spec("1001-1003")
	out = e.run(ExitChanges, "plan", spec, "--detailed-exitcode")
	for _, want := range []string{"~ trunk.slave-01.public", "+ network.tenant-1003", "- network.tenant-1000", "- port.slave-01.tenant-1000"} {
		if !strings.Contains(out, want) {
			t.Errorf("range plan lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "-/+") || strings.Contains(out, "server.") {
		t.Errorf("range plan touches servers or replaces something:\n%s", out)
	}
	e.run(ExitOK, "apply", spec, "--auto-approve")
	got = e.trunks()
	wantSubs = []string{"vl-mgmt=101", "vl-tenant-1001=1001", "vl-tenant-1002=1002", "vl-tenant-1003=1003"}
	if got["vl-slave-01-public"].ID != tr1.ID || got["vl-slave-02-public"].ID != tr2.ID ||
		!slices.Equal(got["vl-slave-01-public"].Subs, wantSubs) {
		t.Fatalf("trunks after the range change: %+v", got)
	}
	if out := e.run(ExitOK, "plan", spec, "--detailed-exitcode"); !strings.Contains(out, "No changes. The lab matches the spec.") {
		t.Fatalf("plan after the range change:\n%s", out)
	}

	// A new CIDR for the tenant networks replaces their subnets and the
	// subport ports on them; Neutron cannot delete a port while it is a
	// subport, nor re-point a subport, so the trunks are replaced too,
	// on the same parent port: the servers stay.
	text, err := os.ReadFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(spec, []byte(strings.Replace(string(text), "10.40.0.0/24", "10.41.0.0/24", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out = e.run(ExitChanges, "plan", spec, "--detailed-exitcode")
	for _, want := range []string{"-/+ trunk.slave-01.public", "-/+ port.slave-01.tenant-1001", "-/+ subnet.tenant-1001"} {
		if !strings.Contains(out, want) {
			t.Errorf("CIDR plan lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "server.") || strings.Contains(out, "port.slave-01.public") {
		t.Errorf("CIDR plan touches the servers or their NICs:\n%s", out)
	}
	e.run(ExitOK, "apply", spec, "--auto-approve")
	if out := e.run(ExitOK, "plan", spec, "--detailed-exitcode"); !strings.Contains(out, "No changes. The lab matches the spec.") {
		t.Fatalf("plan after the CIDR change:\n%s", out)
	}
	if got := e.trunks(); !slices.Equal(got["vl-slave-02-public"].Subs, wantSubs) {
		t.Fatalf("trunks after the CIDR change: %+v", got)
	}

	e.run(ExitOK, "destroy", spec, "--auto-approve")
	if left := e.trunks(); len(left) != 0 {
		t.Fatalf("trunks left after destroy: %+v", left)
	}
	left, err := ports.List(e.cloud.Network, ports.ListOpts{Tags: resources.LabTag("vl")}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ps, _ := ports.ExtractPorts(left); len(ps) != 0 {
		t.Fatalf("%d ports left after destroy", len(ps))
	}
}

// TestVLANModeAuto: with each extension missing from the world, auto
// takes the other way, and with neither the plan warns, naming the
// network and the fix.
func TestVLANModeAuto(t *testing.T) {
	tests := []struct {
		name    string
		drop    []string
		want    []string
		notWant []string
	}{
		{"both", nil,
			[]string{"Note: network.public carries VLANs 101, 1000-1001 (vlan_mode auto): a VLAN-transparent network, because the cloud's Neutron has the vlan-transparent extension",
				"vlan_transparent", "+ network.public"},
			[]string{"trunk."}},
		{"no vlan-transparent", []string{"vlan-transparent"},
			[]string{"Note: network.public carries VLANs 101, 1000-1001 (vlan_mode auto): trunks with one subport per VLAN, because the cloud's Neutron has no vlan-transparent extension and has the trunk extension",
				"+ trunk.slave-01.public", "+ port.slave-01.tenant-1001"},
			nil},
		{"no trunk", []string{"trunk", "trunk-details"},
			[]string{"a VLAN-transparent network, because the cloud's Neutron has the vlan-transparent extension"},
			[]string{"trunk."}},
		{"neither", []string{"trunk", "trunk-details", "vlan-transparent"},
			[]string{"Warning: network.public carries VLANs 101, 1000-1001 (vlan_mode auto), but the cloud's Neutron has neither the vlan-transparent nor the trunk extension",
				"the trunk service plugin (neutron.conf service_plugins += trunk) or VLAN-transparent networks (ml2 vlan_transparent = true)"},
			[]string{"trunk.", "network.mgmt", "network.tenant-"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := simcloud.DefaultWorld()
			w.Extensions = slices.DeleteFunc(slices.Clone(w.Extensions), func(a string) bool { return slices.Contains(tt.drop, a) })
			e := newVLANEnv(t, w)
			text := strings.Replace(vlanLab, "TENANTS", "1000-1001", 1)
			text = strings.Replace(text, ", vlan_mode: trunk}", "}", 1)
			text = strings.Replace(text, "    - network: private\n      vlans:\n        - {network: storage, id: 102}\n", "    - network: private\n", 1)
			spec := filepath.Join(e.dir, "lab.yaml")
			if err := os.WriteFile(spec, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			out := e.run(ExitChanges, "plan", spec, "--detailed-exitcode")
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("plan lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("plan has %q:\n%s", w, out)
				}
			}
		})
	}
}
