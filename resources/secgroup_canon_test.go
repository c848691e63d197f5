package resources

import (
	"testing"

	"github.com/fuelplan/fuelplan/specs"
)

// The spellings Neutron accepts for one rule must compare equal, or an
// adopted or re-read rule would show as drift and be replaced for nothing.
func TestRuleCanonicalForms(t *testing.T) {
	t.Parallel()
	prefixes := []struct{ in, want string }{
		{"", ""},
		{"0.0.0.0/0", ""},
		{"::/0", ""},
		{"10.1.2.3/8", "10.0.0.0/8"},
		{"192.168.0.5", "192.168.0.5/32"},
		{"2001:db8::1/64", "2001:db8::/64"},
		{"2001:db8::1", "2001:db8::1/128"},
		{"not-an-ip", "not-an-ip"},
	}
	for _, tc := range prefixes {
		if got := canonicalPrefix(tc.in); got != tc.want {
			t.Errorf("canonicalPrefix(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	protocols := []struct{ in, want string }{
		{"", ""}, {"any", ""}, {"ANY", ""}, {"0", ""},
		{"tcp", "tcp"}, {"TCP", "tcp"}, {"6", "tcp"},
		{"17", "udp"}, {"1", "icmp"}, {"icmpv6", "ipv6-icmp"}, {"58", "ipv6-icmp"},
		{"112", "vrrp"}, {"vrrp", "vrrp"}, {"47", "gre"}, {"253", "253"},
	}
	for _, tc := range protocols {
		if got := canonicalProtocol(tc.in); got != tc.want {
			t.Errorf("canonicalProtocol(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Real Zed stores a rule sent with ports 1-65535 with null bounds (for
	// tcp, udp, sctp, dccp and numbered protocols alike): the spec's full
	// range must read as no range, or every plan replaces the rule.
	ranges := []struct {
		min, max         int
		wantMin, wantMax string
	}{
		{1, 65535, "", ""},
		{0, 0, "", ""},
		{22, 22, "22", "22"},
		{1, 1000, "1", "1000"},
		{2, 65535, "2", "65535"},
		{65535, 65535, "65535", "65535"},
	}
	for _, tc := range ranges {
		f := ruleContent(&specs.SecurityGroupRule{Direction: "ingress", Protocol: "tcp", PortMin: tc.min, PortMax: tc.max})
		if f["port_min"] != tc.wantMin || f["port_max"] != tc.wantMax {
			t.Errorf("ports %d-%d: port_min %q, port_max %q; want %q, %q", tc.min, tc.max, f["port_min"], f["port_max"], tc.wantMin, tc.wantMax)
		}
	}
}
