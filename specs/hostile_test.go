package specs

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// The hostile inputs of issue 13, item 1: each is the worst spec of its
// kind that fits under MaxSize, built by repeating one line.

const hostileHead = `apiVersion: fuelplan/v1
lab: big
images: [{name: cirros, existing: true}]
flavors: [{name: small, existing: true}]
master: {flavor: small, image: cirros, ports: [{network: n0, fixed_ip: 10.0.0.5}]}
`

// fill repeats line(i) after head, then ends with tail, making the spec
// as large as it may be.
func fill(head string, line func(i int) string, tail ...string) []byte {
	var b strings.Builder
	b.WriteString(head)
	end := strings.Join(tail, "")
	for i := 0; ; i++ {
		l := line(i)
		if b.Len()+len(l)+len(end) > MaxSize {
			b.WriteString(end)
			return []byte(b.String())
		}
		b.WriteString(l)
	}
}

// hostileSpecs are the worst inputs: the old checks were quadratic in
// each of them, or produced a diagnostic per pair.
func hostileSpecs() map[string][]byte {
	return map[string][]byte{
		// Every pool overlaps every other (the 4,000 pools: 18 s, 2.3 GB).
		"overlapping-pools": fill(hostileHead+"networks:\n  - name: n0\n    cidr: 10.0.0.0/8\n    allocation_pools:\n",
			func(i int) string { return "      - {start: 10.0.1.1, end: 10.9.9.9}\n" }),
		// Every network has the same CIDR (3,000 of them: 30 s, 4.5 million lines).
		"same-cidr-networks": fill(hostileHead+"networks:\n",
			func(i int) string { return fmt.Sprintf("  - {name: n%d, cidr: 10.0.0.0/24}\n", i) }),
		// Disjoint pools given in descending order, each looked up by the fixed IP.
		"disjoint-pools": fill(hostileHead+"networks:\n  - name: n0\n    cidr: 10.0.0.0/8\n    allocation_pools:\n",
			func(i int) string {
				a := 0xffff - i
				return fmt.Sprintf("      - {start: 10.%d.%d.1, end: 10.%d.%d.9}\n", a>>8, a&0xff, a>>8, a&0xff)
			}),
		// One security group, every rule the same.
		"duplicate-rules": fill(hostileHead+"networks: [{name: n0, cidr: 10.0.0.0/24}]\nsecurity_groups:\n  - name: g\n    rules:\n",
			func(i int) string { return "      - {protocol: tcp, ports: 22}\n" }),
		// The most objects slaves may expand to: 4,096 slaves with a port
		// on each of 23 networks, 98,304 objects (a few more fail).
		"widest-slaves": func() []byte {
			var b strings.Builder
			b.WriteString("apiVersion: fuelplan/v1\nlab: big\nimages: [{name: cirros, existing: true}]\nflavors: [{name: small, existing: true}]\nmaster: {flavor: small, image: cirros}\nnetworks:\n")
			for i := range 23 {
				fmt.Fprintf(&b, "  - {name: n%d, cidr: 10.%d.0.0/16}\n", i, i)
			}
			b.WriteString("slaves: {count: 4096, name: \"s-{index}\", flavor: small, image: cirros}\n")
			return []byte(b.String())
		}(),
		// As many YAML nodes as bytes allow.
		"many-nodes": fill(hostileHead+"networks: [{name: n0, cidr: 10.0.0.0/24, dns_nameservers: [",
			func(i int) string { return "1," }, "1]}]\n"),
	}
}

// TestHostileSpecsBounded: the worst specs under the limit give a
// bounded number of diagnostics, each of one kind capped with a count.
func TestHostileSpecsBounded(t *testing.T) {
	for name, data := range hostileSpecs() {
		t.Run(name, func(t *testing.T) {
			_, diags := Parse("hostile.yaml", data, nil)
			if len(diags) > 50 {
				t.Fatalf("%d diagnostics, want at most 50; first: %v", len(diags), diags[0])
			}
		})
	}
}

// TestOverlapsReportedOncePerNetwork: 300 networks with one CIDR are 299
// overlaps (not 44,850 pairs), shown as 10 lines and a count.
func TestOverlapsReportedOncePerNetwork(t *testing.T) {
	var b strings.Builder
	b.WriteString(hostileHead + "networks:\n")
	for i := range 300 {
		fmt.Fprintf(&b, "  - {name: n%d, cidr: 10.0.0.0/24}\n", i)
	}
	_, diags := Parse("nets.yaml", []byte(b.String()), nil)
	if len(diags) != maxPerKind {
		t.Fatalf("%d diagnostics, want %d:\n%v", len(diags), maxPerKind, diags)
	}
	last := diags[len(diags)-1].String()
	if want := `nets.yaml:17:23: networks[10].cidr: 10.0.0.0/24 overlaps network "n0" (10.0.0.0/24) (and 289 more like it)`; last != want {
		t.Errorf("last diagnostic\n got %s\nwant %s", last, want)
	}
}

func TestPoolOverlapsAndFixedIPInPool(t *testing.T) {
	var b strings.Builder
	b.WriteString(hostileHead + "networks:\n  - name: n0\n    cidr: 10.0.0.0/16\n    allocation_pools:\n")
	// Disjoint pools in descending order, then one overlapping two of them.
	for i := 200; i >= 10; i-- {
		fmt.Fprintf(&b, "      - {start: 10.0.%d.1, end: 10.0.%d.9}\n", i, i)
	}
	b.WriteString("      - {start: 10.0.150.5, end: 10.0.151.5}\n")
	_, diags := Parse("pools.yaml", []byte(b.String()), nil)
	got := diags.Error()
	for _, want := range []string{
		"pools.yaml:201:9: networks[0].allocation_pools[191]: pool 10.0.150.5-10.0.151.5 overlaps pool 10.0.150.1-10.0.150.9",
		"pools.yaml:59:9: networks[0].allocation_pools[49]: pool 10.0.151.1-10.0.151.9 overlaps pool 10.0.150.5-10.0.151.5",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if len(diags) != 2 {
		t.Errorf("%d diagnostics, want 2:\n%s", len(diags), got)
	}
	// The master's fixed IP 10.0.0.5 is outside every pool; 10.0.150.7 is in two.
	b.Reset()
	b.WriteString(strings.Replace(hostileHead, "10.0.0.5", "10.0.150.7", 1) +
		"networks:\n  - name: n0\n    cidr: 10.0.0.0/16\n    allocation_pools:\n")
	for i := 200; i >= 10; i-- {
		fmt.Fprintf(&b, "      - {start: 10.0.%d.1, end: 10.0.%d.9}\n", i, i)
	}
	_, diags = Parse("pools.yaml", []byte(b.String()), nil)
	if got := diags.Error(); !strings.Contains(got, "10.0.150.7 is inside allocation pool 10.0.150.1-10.0.150.9") {
		t.Errorf("fixed IP inside a pool not reported:\n%s", got)
	}
}

// TestSizeLimit: a spec larger than MaxSize is refused before it is
// parsed, and reading stops at the limit (a spec named /dev/zero).
func TestSizeLimit(t *testing.T) {
	big := append([]byte("# "), make([]byte, MaxSize)...)
	for i := range big[2:] {
		big[2+i] = 'x'
	}
	_, diags := Parse("big.yaml", big, nil)
	if len(diags) != 1 || diags[0].String() != "big.yaml: larger than the spec size limit of 1048576 bytes (1 MiB)" {
		t.Errorf("oversized spec: %v", diags)
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		_, diags = Load("/dev/zero", nil)
		if len(diags) != 1 || !strings.Contains(diags[0].Message, "size limit") {
			t.Errorf("/dev/zero: %v", diags)
		}
	}
}

// BenchmarkValidateHostile validates each worst-case spec of the largest
// accepted size (MaxSize), and the largest expansion validation accepts.
// B/op is every byte allocated, an upper bound of the peak heap; README
// "Performance" has the figures, with the peak RSS of `fuelplan validate`.
func BenchmarkValidateHostile(b *testing.B) {
	specs := hostileSpecs()
	for _, name := range []string{"overlapping-pools", "same-cidr-networks", "disjoint-pools", "duplicate-rules", "many-nodes", "widest-slaves"} {
		data := specs[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for range b.N {
				Parse("hostile.yaml", data, nil)
			}
		})
	}
}

// TestMessagesQuoteOnlyTheirValue (issue 13, items 2 and 7): a message
// quotes the value it is about, cut short, and never the file around it;
// types are strict; positions survive the node limit.
func TestMessagesQuoteOnlyTheirValue(t *testing.T) {
	const keyBody = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"
	huge := strings.Repeat("a", 900_000)
	// Rules decoded past the node limit used to be validated empty:
	// ": : duplicate rule ... (same as line 0)".
	nodes := hostileHead + "networks: [{name: n0, cidr: 10.0.0.0/24, dns_nameservers: [" + strings.Repeat("1,", 199_990) +
		"1]}]\nsecurity_groups:\n  - name: g\n    rules:\n" + strings.Repeat("      - {protocol: tcp}\n", 20)
	tests := []struct {
		name    string
		spec    string
		want    []string // substrings of the diagnostics
		notWant []string
	}{
		{"private key as spec", "-----BEGIN OPENSSH PRIVATE KEY-----\n" + keyBody + "\n-----END OPENSSH PRIVATE KEY-----\n",
			[]string{"x.yaml:1:1: spec: expected a mapping, got a scalar"}, []string{keyBody, "PRIVATE"}},
		{"huge scalar", "lab: " + huge + "\n",
			[]string{`lab: invalid lab name "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"... (900000 bytes)`}, []string{huge[:100]}},
		{"huge key", hostileHead + "networks: [{name: n0, cidr: 10.0.0.0/24}]\n? " + huge + "\n: 1\n",
			[]string{`"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"... (900000 bytes): unknown field`}, []string{huge[:100]}},
		{"quoted integer", hostileHead + "networks: [{name: n0, cidr: 10.0.0.0/24, mtu: \"1500\"}]\n",
			[]string{`networks[0].mtu: expected an integer, got the quoted string "1500"`}, nil},
		{"quoted boolean", hostileHead + "networks: [{name: n0, cidr: 10.0.0.0/24, dhcp: \"true\"}]\n",
			[]string{`networks[0].dhcp: expected true or false, got the quoted string "true"`}, nil},
		{"integer as a list", hostileHead + "networks: [{name: n0, cidr: 10.0.0.0/24, mtu: [1]}]\n",
			[]string{`networks[0].mtu: expected an integer, got a list`}, []string{"expected a string"}},
		{"past the node limit", nodes,
			[]string{"document too large or too deeply nested"}, []string{": : ", "line 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := Parse("x.yaml", []byte(tt.spec), nil)
			got := diags.Error()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("want %q in:\n%.2000s", w, got)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("%q quoted in:\n%.2000s", w[:min(len(w), 40)], got)
				}
			}
			for _, d := range diags {
				if d.Pos.Line == 0 {
					t.Errorf("diagnostic without a position: %s", d)
				}
				if len(d.String()) > 400 {
					t.Errorf("a %d-byte diagnostic", len(d.String()))
				}
			}
		})
	}
}

// TestEnvKeepsTypedFields: an ${env:} reference is how an integer or a
// boolean comes from the environment, strict types notwithstanding.
func TestEnvKeepsTypedFields(t *testing.T) {
	env := func(name string) (string, bool) { return map[string]string{"MTU": "1400", "DHCP": "false"}[name], true }
	s, diags := Parse("x.yaml", []byte(hostileHead+"networks: [{name: n0, cidr: 10.0.0.0/24, mtu: \"${env:MTU}\", dhcp: \"${env:DHCP}\"}]\n"), env)
	if s == nil {
		t.Fatal(diags)
	}
	n := s.Doc.Networks[0]
	if n.MTU.V != 1400 || n.DHCP.V || !n.DHCP.Set {
		t.Errorf("mtu %d dhcp %v", n.MTU.V, n.DHCP.V)
	}
}

// TestPortNamesCollideAfterTemplating (issue 13, item 7): a port is named
// <server>-<network> in the cloud, so a server and a network with dashes
// can make two ports one name.
func TestPortNamesCollideAfterTemplating(t *testing.T) {
	spec := `apiVersion: fuelplan/v1
lab: big
images: [{name: cirros, existing: true}]
flavors: [{name: small, existing: true}]
networks: [{name: n0, cidr: 10.0.0.0/24}, {name: x-n0, cidr: 10.0.1.0/24}]
master: {flavor: small, image: cirros, cloud_name: big-slave-1-x, ports: [{network: n0}]}
slaves: {count: 1, name: "slave-{index}", flavor: small, image: cirros, ports: [{network: x-n0}]}
`
	_, diags := Parse("x.yaml", []byte(spec), nil)
	want := `x.yaml:7:81: slaves.ports[0]: slave-1's port on network "x-n0" is named "big-slave-1-x-n0" in the cloud, as is master's port on network "n0": rename a server or a network`
	if got := diags.Error(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestSlaveExpansionBounded: a short template times the largest count
// could ask for millions of objects (a 60 KB spec made 4 million ports);
// the objects slaves expand to are bounded.
func TestSlaveExpansionBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: fuelplan/v1\nlab: big\nimages: [{name: cirros, existing: true}]\nflavors: [{name: small, existing: true}]\nmaster: {flavor: small, image: cirros}\nnetworks:\n")
	for i := range 30 {
		fmt.Fprintf(&b, "  - {name: n%d, cidr: 10.0.%d.0/24}\n", i, i)
	}
	b.WriteString("slaves: {count: 4096, name: \"s-{index}\", flavor: small, image: cirros}\n")
	_, diags := Parse("x.yaml", []byte(b.String()), nil)
	want := "x.yaml:37:17: slaves.count: 4096 slaves of 31 objects each (server, ports, subports and trunks, volumes) make 126,976 objects; at most 100,000"
	if got := diags.Error(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
