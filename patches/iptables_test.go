package patches

import (
	"reflect"
	"testing"
)

func TestChainName(t *testing.T) {
	t.Parallel()
	tests := []struct{ id, want string }{
		{"c439e856-3a1f-4b6e-9a0d-2f4c1b7e8d90", "neutron-openvswi-oc439e856-3"},
		{"0123456789", "neutron-openvswi-o0123456789"},
		{"short", "neutron-openvswi-oshort"},
	}
	for _, tt := range tests {
		if got := ChainName(tt.id); got != tt.want {
			t.Errorf("ChainName(%q) = %q, want %q", tt.id, got, tt.want)
		}
		if len(ChainName(tt.id)) > 28 {
			t.Errorf("ChainName(%q) longer than iptables' 28 characters", tt.id)
		}
	}
}

// agentChain is a port's egress chain as the OVS hybrid agent writes it
// (Queens and later: with comments).
const agentChain = `-N neutron-openvswi-oc439e856-3
-A neutron-openvswi-oc439e856-3 -s 0.0.0.0/32 -d 255.255.255.255/32 -p udp -m udp --sport 68 --dport 67 -m comment --comment "Allow DHCP client traffic." -j RETURN
-A neutron-openvswi-oc439e856-3 -j neutron-openvswi-sc439e856-3
-A neutron-openvswi-oc439e856-3 -p udp -m udp --sport 68 --dport 67 -m comment --comment "Allow DHCP client traffic." -j RETURN
-A neutron-openvswi-oc439e856-3 -p udp -m udp --sport 67 --dport 68 -m comment --comment "Prevent DHCP Spoofing by VM." -j DROP
-A neutron-openvswi-oc439e856-3 -m state --state RELATED,ESTABLISHED -m comment --comment "Direct packets associated with a known session to the RETURN chain." -j RETURN
-A neutron-openvswi-oc439e856-3 -m state --state INVALID -m comment --comment "Drop packets that appear related to an existing connection (e.g. TCP ACK/FIN) but do not have an entry in the conntrack table." -j DROP
-A neutron-openvswi-oc439e856-3 -m comment --comment "Send unmatched traffic to the fallback chain." -j neutron-openvswi-sg-fallback
`

func TestDHCPDrops(t *testing.T) {
	t.Parallel()
	const chain = "neutron-openvswi-oc439e856-3"
	tests := []struct {
		name string
		out  string
		want []string // the Line of each rule found
	}{
		{"agent chain with comments", agentChain, []string{
			`-A neutron-openvswi-oc439e856-3 -p udp -m udp --sport 67 --dport 68 -m comment --comment "Prevent DHCP Spoofing by VM." -j DROP`}},
		{"old agent, no comment", "-N " + chain + "\n-A " + chain + " -p udp -m udp --sport 67 --dport 68 -j DROP\n", []string{
			"-A " + chain + " -p udp -m udp --sport 67 --dport 68 -j DROP"}},
		{"twice after two resyncs", "-A " + chain + " -p udp -m udp --sport 67 --dport 68 -j DROP\n-A " + chain + " -p udp -m udp --sport 67 --dport 68 -j DROP\n", []string{
			"-A " + chain + " -p udp -m udp --sport 67 --dport 68 -j DROP", "-A " + chain + " -p udp -m udp --sport 67 --dport 68 -j DROP"}},
		{"removed", "-N " + chain + "\n-A " + chain + " -j RETURN\n", nil},
		{"another port's chain", "-A neutron-openvswi-o11111111-2 -p udp -m udp --sport 67 --dport 68 -j DROP\n", nil},
		{"client direction is not the rule", "-A " + chain + " -p udp -m udp --sport 68 --dport 67 -j DROP\n", nil},
		{"narrower rule left alone", "-A " + chain + " -s 10.20.0.2/32 -p udp -m udp --sport 67 --dport 68 -j DROP\n", nil},
		{"accept is not drop", "-A " + chain + " -p udp -m udp --sport 67 --dport 68 -j RETURN\n", nil},
		{"tcp", "-A " + chain + " -p tcp -m tcp --sport 67 --dport 68 -j DROP\n", nil},
		{"policy lines only", "-P INPUT ACCEPT\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules, err := ParseRules(tt.out)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range DHCPDrops(rules, chain) {
				got = append(got, r.Line)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestParseRulesErrors(t *testing.T) {
	t.Parallel()
	for _, out := range []string{`-A c -m comment --comment "open`, "-A"} {
		if _, err := ParseRules(out); err == nil {
			t.Errorf("ParseRules(%q): no error", out)
		}
	}
}

func TestDeleteCommand(t *testing.T) {
	t.Parallel()
	rules, err := ParseRules(agentChain)
	if err != nil {
		t.Fatal(err)
	}
	drops := DHCPDrops(rules, "neutron-openvswi-oc439e856-3")
	if len(drops) != 1 {
		t.Fatalf("%d drops", len(drops))
	}
	want := `iptables -w -D neutron-openvswi-oc439e856-3 -p udp -m udp --sport 67 --dport 68 -m comment --comment 'Prevent DHCP Spoofing by VM.' -j DROP`
	if got := DeleteCommand(drops[0]); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	r := Rule{Chain: "c", Spec: []string{"-m", "comment", "--comment", `it's "x"`}}
	if got, want := DeleteCommand(r), `iptables -w -D c -m comment --comment 'it'\''s "x"'`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestChoose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method  string
		portSec bool
		want    string
	}{
		{Auto, true, API},
		{Auto, false, SSH},
		{"", true, API},
		{API, true, API},
		{API, false, API},
		{SSH, true, SSH},
		{SSH, false, SSH},
	}
	for _, tt := range tests {
		c := Choose(tt.method, tt.portSec)
		if c.Method != tt.want || c.Reason == "" {
			t.Errorf("Choose(%q, %v) = %+v, want method %s with a reason", tt.method, tt.portSec, c, tt.want)
		}
	}
}
