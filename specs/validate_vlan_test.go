package specs

import (
	"strings"
	"testing"
)

// TestVLANExpansionBounded: a few short lines could tag every VLAN ID on
// every NIC of thousands of slaves (a network, a subnet and, per slave, a
// port each); what VLANs expand to is bounded, with a message naming the
// line, before anything is built.
func TestVLANExpansionBounded(t *testing.T) {
	const head = "apiVersion: fuelplan/v1\nlab: big\nimages: [{name: cirros, existing: true}]\nflavors: [{name: small, existing: true}]\n" +
		"networks:\n  - {name: a, cidr: 10.0.0.0/24}\n  - {name: b, cidr: 10.0.1.0/24}\n  - {name: c, cidr: 10.0.2.0/24}\n" +
		"  - {name: \"p-{vlan}\", cidr: 10.1.0.0/24}\n  - {name: \"q-{vlan}\", cidr: 10.2.0.0/24}\n  - {name: \"r-{vlan}\", cidr: 10.3.0.0/24}\n"
	tests := []struct {
		name, spec, want string
	}{
		{"slaves times VLANs",
			"master: {flavor: small, image: cirros, ports: [{network: a}]}\n" +
				"slaves:\n  count: 100\n  name: \"s-{index}\"\n  flavor: small\n  image: cirros\n" +
				"  ports: [{network: b, vlans: [{network: \"p-{vlan}\", ids: 1-4094}]}]\n",
			"x.yaml:14:10: slaves.count: 100 slaves of 4097 objects each (server, ports, subports and trunks, volumes) make 409,700 objects; at most 100,000"},
		{"VLANs in all",
			"master:\n  flavor: small\n  image: cirros\n  ports:\n" +
				"    - {network: a, vlans: [{network: \"p-{vlan}\", ids: 1-4094}]}\n" +
				"    - {network: b, vlans: [{network: \"q-{vlan}\", ids: 1-4094}]}\n" +
				"    - {network: c, vlans: [{network: \"r-{vlan}\", ids: 1-4094}]}\n",
			"x.yaml:18:28: master.ports[2].vlans[0]: with this entry the NICs tag 12,282 VLANs in all; at most 8,192"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := Parse("x.yaml", []byte(head+tt.spec), nil)
			if got := diags.Error(); !strings.Contains(got, tt.want) {
				t.Errorf("got\n%s\nwant a line\n%s", got, tt.want)
			}
		})
	}
}
