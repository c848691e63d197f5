package specs

import (
	"strings"
	"testing"
)

const vlanSpec = `apiVersion: fuelplan/v1
lab: v
images: [{name: cirros, existing: true}]
flavors: [{name: small, existing: true}]
networks:
  - {name: admin, cidr: 10.20.0.0/24, dhcp: false}
  - {name: public, cidr: 172.16.0.0/24, dhcp: false}
  - {name: mgmt, cidr: 192.168.0.0/24, dhcp: false}
  - {name: "tenant-{vlan}", cidr: 10.40.0.0/24, dhcp: false}
master: {flavor: small, image: cirros, ports: [{network: admin}]}
slaves:
  count: 1
  flavor: small
  image: cirros
  ports:
    - {network: admin}
    - network: public
      mac: "aa:00:00:00:00:01"
      vlans:
        - {network: mgmt, id: 101}
        - {network: "tenant-{vlan}", ids: "1000-1001,1005"}
`

// TestCompileVLANModes: how each vlan_mode and each cloud builds the
// same NIC, and what the lab says about it.
func TestCompileVLANModes(t *testing.T) {
	all := Caps{Known: true, Trunk: true, VLANTransparent: true}
	tests := []struct {
		name        string
		mode        string // lab vlan_mode; "" = default (auto)
		caps        Caps
		trunk       bool // trunk.slave-01.public and the VLAN networks are built
		transparent bool // network.public is VLAN-transparent
		note, warn  string
	}{
		{"auto offline shows trunks", "", Caps{}, true, false, "", ""},
		{"auto with both", "", all, false, true, "a VLAN-transparent network, because the cloud's Neutron has the vlan-transparent extension", ""},
		{"auto without vlan-transparent", "", Caps{Known: true, Trunk: true}, true, false,
			"network.public carries VLANs 101, 1000-1001, 1005 (vlan_mode auto): trunks with one subport per VLAN, because the cloud's Neutron has no vlan-transparent extension and has the trunk extension", ""},
		{"auto without trunk", "", Caps{Known: true, VLANTransparent: true}, false, true, "VLAN-transparent network", ""},
		{"auto with neither", "", Caps{Known: true}, false, false, "",
			"network.public carries VLANs 101, 1000-1001, 1005 (vlan_mode auto), but the cloud's Neutron has neither"},
		{"trunk with both", "trunk", all, true, false, "", ""},
		{"trunk without trunk", "trunk", Caps{Known: true, VLANTransparent: true}, true, false, "", "has no trunk extension: creating the trunks will fail"},
		{"transparent offline", "transparent", Caps{}, false, true, "", ""},
		{"transparent without it", "transparent", Caps{Known: true, Trunk: true}, false, true, "", "has no vlan-transparent extension"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := vlanSpec
			if tt.mode != "" {
				text = strings.Replace(text, "lab: v\n", "lab: v\nvlan_mode: "+tt.mode+"\n", 1)
			}
			s, diags := Parse("lab.yaml", []byte(text), noEnv)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			lab, err := CompileFor(s, tt.caps)
			if err != nil {
				t.Fatal(err)
			}
			tr, hasTrunk := lab.Resource("trunk.slave-01.public")
			if hasTrunk != tt.trunk {
				t.Fatalf("trunk built: %v, want %v", hasTrunk, tt.trunk)
			}
			for _, a := range []Address{"network.mgmt", "network.tenant-1000", "network.tenant-1005", "port.slave-01.tenant-1001"} {
				if _, ok := lab.Resource(a); ok != tt.trunk {
					t.Errorf("%s built: %v, want %v", a, ok, tt.trunk)
				}
			}
			if _, ok := lab.Resource("network.tenant-1002"); ok {
				t.Error("network.tenant-1002 built: not in the range")
			}
			if hasTrunk {
				trunk := tr.(*Trunk)
				if trunk.Parent != "port.slave-01.public" || len(trunk.Subports) != 4 ||
					trunk.Subports[0] != (Subport{Port: "port.slave-01.mgmt", NetworkName: "mgmt", SegmentationID: 101}) {
					t.Errorf("trunk: %+v", trunk)
				}
				srv, _ := lab.Resource("server.slave-01")
				if !strings.Contains(strings.Join(addrs(srv.Deps()), " "), "trunk.slave-01.public") {
					t.Error("the server does not wait for its trunk")
				}
				sp, _ := lab.Resource("port.slave-01.mgmt")
				if sp.(*Port).MAC != "aa:00:00:00:00:01" {
					t.Errorf("subport MAC %q, want the parent's", sp.(*Port).MAC)
				}
			}
			nr, _ := lab.Resource("network.public")
			vt := nr.(*Network).VLANTransparent
			if (vt != nil && *vt) != tt.transparent {
				t.Errorf("network.public vlan_transparent %v, want %v", vt, tt.transparent)
			}
			if got := strings.Join(lab.Notes, "\n"); (tt.note == "") != (got == "") || !strings.Contains(got, tt.note) {
				t.Errorf("notes %q, want %q", got, tt.note)
			}
			if got := strings.Join(lab.Warnings, "\n"); (tt.warn == "") != (got == "") || !strings.Contains(got, tt.warn) {
				t.Errorf("warnings %q, want %q", got, tt.warn)
			}
			// The master has no VLANs and is built the same every way.
			if _, ok := lab.Resource("server.master"); !ok {
				t.Error("no master")
			}
		})
	}
}

func addrs(as []Address) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = string(a)
	}
	return out
}

// TestFuelLabVLANExample: the example builds Fuel's tagged layout over
// trunks: per slave, management and storage on the public NIC's trunk,
// the 31 tenant VLANs on the private NIC's.
func TestFuelLabVLANExample(t *testing.T) {
	t.Chdir("..")
	lab, diags := LoadLab("examples/fuel-lab-vlan.yaml", noEnv)
	if lab == nil || len(diags) != 0 {
		t.Fatalf("want no diagnostics, got %v", diags)
	}
	for _, tt := range []struct {
		trunk Address
		subs  int
		first Subport
	}{
		{"trunk.slave-02.public", 2, Subport{Port: "port.slave-02.mgmt", NetworkName: "mgmt", SegmentationID: 101}},
		{"trunk.slave-02.private", 31, Subport{Port: "port.slave-02.tenant-1000", NetworkName: "tenant-1000", SegmentationID: 1000}},
	} {
		r, ok := lab.Resource(tt.trunk)
		if !ok {
			t.Fatalf("no %s", tt.trunk)
		}
		tr := r.(*Trunk)
		if len(tr.Subports) != tt.subs || tr.Subports[0] != tt.first {
			t.Errorf("%s: %d subports, first %+v", tt.trunk, len(tr.Subports), tr.Subports[0])
		}
	}
	if _, ok := lab.Resource("network.tenant-1030"); !ok {
		t.Error("no network.tenant-1030")
	}
}
