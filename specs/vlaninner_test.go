package specs

import (
	"strconv"
	"strings"
	"testing"
)

// TestInnerVLANs: over a VLAN-transparent carrier, each tagged network
// (a pattern's too) is listed once with its mtu and the mtu's position;
// over trunks the tagged networks are built, and none is listed.
func TestInnerVLANs(t *testing.T) {
	text := strings.Replace(vlanSpec, "  - {name: mgmt, cidr: 192.168.0.0/24, dhcp: false}\n",
		"  - name: mgmt\n    cidr: 192.168.0.0/24\n    mtu: 1446\n", 1)
	for _, tt := range []struct {
		caps Caps
		want []string
	}{
		{Caps{Known: true, VLANTransparent: true}, []string{
			"network.public mgmt 1446 lab.yaml:10:10",
			"network.public tenant-1000 0 lab.yaml:11:5",
			"network.public tenant-1001 0 lab.yaml:11:5",
			"network.public tenant-1005 0 lab.yaml:11:5",
		}},
		{Caps{Known: true, Trunk: true}, nil},
	} {
		s, diags := Parse("lab.yaml", []byte(text), noEnv)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		lab, err := CompileFor(s, tt.caps)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, iv := range lab.InnerVLANs() {
			got = append(got, strings.Join([]string{string(iv.Carrier), iv.Network, strconv.Itoa(iv.MTU), iv.At.String()}, " "))
		}
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("caps %+v: got\n%s\nwant\n%s", tt.caps, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
		}
	}
}
