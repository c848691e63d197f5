package specs

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func loadFuelLab(t *testing.T) *Lab {
	t.Helper()
	lab, diags := LoadLab("../examples/fuel-lab.yaml", noEnv)
	if lab == nil || len(diags) != 0 {
		t.Fatalf("fuel-lab: %v", diags)
	}
	return lab
}

// TestCompileDeps checks the edges the design asks for, on the Fuel lab.
func TestCompileDeps(t *testing.T) {
	t.Parallel()
	lab := loadFuelLab(t)
	deps, err := lab.Dependencies()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr Address
		want []Address
	}{
		{"subnet.admin", []Address{"network.admin"}},
		{"router.router", []Address{"external_network.net04_ext"}},
		{"router_interface.admin", []Address{"subnet.admin", "router.router"}},
		{"port.slave-02.storage", []Address{"network.storage", "subnet.storage", "security_group.lab"}},
		{"volume.master.iso", []Address{"image.fuel-6.1"}},
		{"volume.master.disk", nil},
		{"server.master", []Address{"flavor.master", "port.master.admin", "volume.master.disk", "volume.master.iso"}},
		{"floating_ip.master", []Address{"external_network.net04_ext", "router_interface.admin", "port.master.admin"}},
		{"patch.master-dhcp", []Address{"port.master.admin", "server.master"}},
		{"wait.fuel-api", []Address{"server.master"}},
		{"wait.slaves-discovered", []Address{"server.slave-01", "server.slave-02", "wait.fuel-api"}},
	}
	for _, tt := range tests {
		got := deps[tt.addr]
		want := slices.Clone(tt.want)
		slices.SortFunc(want, func(a, b Address) int {
			if Less(a, b) {
				return -1
			}
			return 1
		})
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s depends on %v, want %v", tt.addr, got, want)
		}
	}
}

// TestCompileInstances checks cloud names, NIC order, patterns and the
// original lab's figures in the compiled instances.
func TestCompileInstances(t *testing.T) {
	t.Parallel()
	lab := loadFuelLab(t)
	get := func(a Address) Resource {
		r, ok := lab.Resource(a)
		if !ok {
			t.Fatalf("no %s", a)
		}
		return r
	}
	if lab.Name != "fuel" || lab.Cloud != "openstack" || len(lab.Hash) != 64 {
		t.Errorf("lab header: %q %q %q", lab.Name, lab.Cloud, lab.Hash)
	}
	names := map[Address]string{
		"router.router": "fuel-router", "server.master": "fuel-master", "server.slave-01": "fuel-slave-01",
		"network.admin": "fuel-admin", "flavor.slave": "fuel-slave", "image.fuel-6.1": "fuel-6.1-432",
		"external_network.net04_ext": "net04_ext", "port.slave-02.mgmt": "fuel-slave-02-mgmt",
	}
	for a, want := range names {
		if got := get(a).(interface{ CloudName() string }).CloudName(); got != want {
			t.Errorf("%s: cloud name %q, want %q", a, got, want)
		}
	}
	s1 := get("server.slave-01").(*Server)
	if want := []Address{"port.slave-01.admin", "port.slave-01.public", "port.slave-01.storage", "port.slave-01.mgmt"}; !slices.Equal(s1.Ports, want) {
		t.Errorf("slave-01 NICs %v, want %v (network order)", s1.Ports, want)
	}
	if s1.Role != "slave" || s1.Index != 1 {
		t.Errorf("slave-01 role/index %q/%d", s1.Role, s1.Index)
	}
	p := get("port.slave-01.admin").(*Port)
	if p.MAC != "aa:0a:14:00:03:01" || p.FixedIP != "10.20.0.3" {
		t.Errorf("slave-01 admin port %s %s, want the original's aa:0a:14:00:03:01 10.20.0.3", p.MAC, p.FixedIP)
	}
	if p := get("port.slave-02.mgmt").(*Port); p.MAC != "aa:0a:14:00:04:04" || p.FixedIP != "" {
		t.Errorf("slave-02 mgmt port %s %q", p.MAC, p.FixedIP)
	}
	m := get("server.master").(*Server)
	if len(m.BlockDevices) != 2 || m.BlockDevices[0].DeviceType != "cdrom" || m.BlockDevices[0].BootIndex != 0 || m.BlockDevices[1].BootIndex != 1 || m.Image != "" {
		t.Errorf("master block devices %+v", m.BlockDevices)
	}
	if f := get("flavor.slave").(*Flavor); f.VCPUs != 2 || f.RAM != 2548 || f.Disk != 5 || f.Ephemeral != 100 {
		t.Errorf("flavor fuel-slave %+v", f)
	}
	if sn := get("subnet.admin").(*Subnet); sn.EnableDHCP || sn.CIDR != "10.20.0.0/24" || sn.Gateway != "10.20.0.1" {
		t.Errorf("subnet admin %+v", sn)
	}
	if im := get("image.ipxe").(*Image); im.File != "../examples/images/ipxe.iso" || im.DiskFormat != "iso" {
		t.Errorf("image ipxe %+v (file resolves against the spec's folder)", im)
	}
	if w := get("wait.slaves-discovered").(*Wait); w.Count != 2 || w.Password.Reveal() != "admin" {
		t.Errorf("wait slaves-discovered count %d", w.Count)
	}
}

// Rule addresses come from the rule's content, so reordering rules does
// not rename (and so replace) them.
func TestRuleAddressesIgnoreOrder(t *testing.T) {
	t.Parallel()
	spec := func(rules string) []Address {
		src := "apiVersion: fuelplan/v1\nlab: t\nnetworks: [{name: lan, cidr: 10.0.0.0/24}]\n" +
			"flavors: [{name: f, existing: true}]\nimages: [{name: i, existing: true}]\n" +
			"master: {flavor: f, image: i}\nsecurity_groups:\n  - name: g\n    rules:\n" + rules
		lab, diags := parseCompile(t, src, nil)
		if lab == nil {
			t.Fatal(diags)
		}
		var out []Address
		for _, a := range lab.Addresses() {
			if a.Kind() == KindSecurityGroupRule {
				out = append(out, a)
			}
		}
		return out
	}
	a := spec("      - {protocol: tcp, ports: \"22\"}\n      - {protocol: icmp, remote_ip: 10.0.0.0/8}\n      - {name: web, protocol: tcp, ports: 80-81}\n")
	b := spec("      - {name: web, protocol: tcp, ports: 80-81}\n      - {protocol: icmp, remote_ip: 10.0.0.0/8}\n      - {protocol: tcp, ports: \"22\"}\n")
	if !slices.Equal(a, b) || len(a) != 3 {
		t.Fatalf("rule addresses depend on order:\n%v\n%v", a, b)
	}
	if !slices.Contains(a, "security_group_rule.g.ingress-ipv4-tcp-22") || !slices.Contains(a, "security_group_rule.g.web") {
		t.Errorf("unexpected rule addresses %v", a)
	}
}

func parseCompile(t *testing.T, src string, env map[string]string) (*Lab, Diagnostics) {
	t.Helper()
	s, diags := Parse("t.yaml", []byte(src), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if s == nil {
		return nil, diags
	}
	lab, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	return lab, diags
}

// Values from the environment are secrets: they never appear in a
// diagnostic, in JSON, or in %v output.
func TestSecretsNeverEchoed(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-very-secret"
	const secretIP = "10.99.88.77"
	env := map[string]string{"PW": secret, "NOTINT": secret, "UD": secret, "IP": secretIP, "MAC": "01:99:88:77:66:55"}
	src := `apiVersion: fuelplan/v1
lab: t
networks:
  - {name: lan, cidr: 10.0.0.0/24, mtu: "${env:NOTINT}", gateway: "${env:PW}"}
flavors: [{name: f, existing: true}]
images: [{name: i, existing: true}]
master:
  flavor: f
  image: i
  user_data: {content: "${env:UD}", sensitive: true}
  ports: [{network: lan, fixed_ip: "${env:IP}", mac: "${env:MAC}"}]
waits:
  - {name: w, type: tcp, address: "{{master.ip}}:22", password: "${env:PW}"}
`
	_, diags := parseCompile(t, src, env)
	if !diags.HasErrors() {
		t.Fatal("want errors for the bad mtu and gateway")
	}
	out := diags.Error()
	if strings.Contains(out, secret) || strings.Contains(out, secretIP) || strings.Contains(out, "99:88:77") ||
		!strings.Contains(out, "(value from environment)") || strings.Count(out, "\n") < 3 {
		t.Fatalf("diagnostics must not echo an env value:\n%s", out)
	}

	ok := strings.Replace(src, `mtu: "${env:NOTINT}", gateway: "${env:PW}"`, "dhcp: true", 1)
	ok = strings.Replace(ok, `  ports: [{network: lan, fixed_ip: "${env:IP}", mac: "${env:MAC}"}]`+"\n", "", 1)
	lab, diags := parseCompile(t, ok, env)
	if lab == nil {
		t.Fatal(diags)
	}
	for _, a := range []Address{"server.master", "wait.w"} {
		r, _ := lab.Resource(a)
		j, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(j), secret) || strings.Contains(fmt.Sprintf("%v %+v %#v", r, r, r), secret) {
			t.Errorf("%s leaks the secret: %s", a, j)
		}
	}
	srv, _ := lab.Resource("server.master")
	if got := srv.(*Server).SensitiveUserData.Reveal(); got != secret {
		t.Errorf("sensitive user data = %q, want the env value", got)
	}
	w, _ := lab.Resource("wait.w")
	if got := w.(*Wait).Password.Reveal(); got != secret {
		t.Errorf("wait password = %q, want the env value", got)
	}
}

// Every example must validate cleanly and compile.
func TestExamples(t *testing.T) {
	t.Parallel()
	for _, f := range []string{"fuel-lab.yaml", "fuel-lab-gre.yaml", "minimal.yaml"} {
		lab, diags := LoadLab("../examples/"+f, noEnv)
		if lab == nil || len(diags) != 0 {
			t.Errorf("%s: %v", f, diags)
		}
	}
}
