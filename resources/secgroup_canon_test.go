package resources

import "testing"

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
}
