package waits_test

import (
	"strings"
	"testing"
	"time"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
	"github.com/fuelplan/fuelplan/waits"
)

const labYAML = `apiVersion: fuelplan/v1
lab: w
external_network: net04_ext
images:
  - {name: cirros, existing: true}
flavors:
  - {name: m1.small, existing: true}
networks:
  - {name: admin, cidr: 10.20.0.0/24, dhcp: false, router: true}
  - {name: public, cidr: 172.16.0.0/24, dhcp: false, router: true}
router: {name: router, external_gateway: true}
master:
  flavor: m1.small
  image: cirros
  ports:
    - {network: admin, fixed_ip: 10.20.0.2}
  floating_ip: true
slaves:
  count: 2
  name: slave-{index:02d}
  flavor: m1.small
  image: cirros
  ports:
    - {network: admin, mac: "AA:0a:14:00:{index+2:02x}:01"}
    - {network: public}
waits:
  - {name: api, type: http, url: "http://{{master.floating_ip}}:8000/api/version", timeout: 1h, interval: 30s}
  - {name: fixed, type: http, url: "http://{{ master.fixed_ip }}:8000/", status: 204}
  - {name: nodes, type: fuel-nodes, url: "http://{{master.ip}}:8000/api/nodes", username: admin, password: "${env:FUEL_PASSWORD}", after: [api, slaves]}
  - {name: ssh, type: tcp, address: "{{master.ip}}:22"}
  - {name: login, type: console, marker: "login:", after: [master]}
`

func compile(t *testing.T) *specs.Lab {
	t.Helper()
	env := func(k string) (string, bool) {
		if k == "FUEL_PASSWORD" {
			return password, true
		}
		return "", false
	}
	s, diags := specs.Parse("lab.yaml", []byte(labYAML), env)
	if diags.HasErrors() {
		t.Fatal(diags.Errors())
	}
	lab, err := specs.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	return lab
}

// live is a live state by address.
type live map[specs.Address]*resources.Object

func (l live) Live(a specs.Address) (*resources.Object, bool) { o, ok := l[a]; return o, ok }

func TestResolve(t *testing.T) {
	t.Parallel()
	lab := compile(t)
	applied := live{
		"floating_ip.master": {ID: "fip-1", Fields: resources.Fields{"floating_ip_address": "172.24.4.10"}},
		"port.master.admin":  {ID: "p-1", Fields: resources.Fields{"fixed_ip": "10.20.0.2"}},
		"server.master":      {ID: "srv-1"},
	}
	checks := waits.Resolve(lab, applied)
	by := map[string]waits.Check{}
	for _, c := range checks {
		by[string(c.Addr)] = c
	}
	for _, tc := range []struct {
		addr, got, want string
	}{
		{"wait.api", by["wait.api"].URL, "http://172.24.4.10:8000/api/version"},
		{"wait.fixed", by["wait.fixed"].URL, "http://10.20.0.2:8000/"},
		{"wait.nodes", by["wait.nodes"].URL, "http://172.24.4.10:8000/api/nodes"},
		{"wait.ssh", by["wait.ssh"].Address, "172.24.4.10:22"},
		{"wait.nodes MACs", strings.Join(by["wait.nodes"].MACs, ","), "aa:0a:14:00:03:01,aa:0a:14:00:04:01"},
		{"wait.nodes after", joinAddrs(by["wait.nodes"].After), "wait.api"},
		{"wait.login servers", by["wait.login"].Servers[0].ID, "srv-1"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.addr, tc.got, tc.want)
		}
	}
	if c := by["wait.api"]; c.Timeout != time.Hour || c.Interval != 30*time.Second || c.Status != 200 {
		t.Errorf("api timing/status = %s %s %d", c.Timeout, c.Interval, c.Status)
	}
	if c := by["wait.nodes"]; c.Count != 2 || c.Password.Reveal() != password || c.Username != "admin" {
		t.Errorf("nodes = count %d user %q", c.Count, c.Username)
	}
	for _, c := range checks {
		if c.Problem != "" {
			t.Errorf("%s: problem %s", c.Addr, c.Problem)
		}
	}
}

// TestResolveBeforeApply: on a cloud without the lab, what needs live
// addresses says so, and the rest still resolves.
func TestResolveBeforeApply(t *testing.T) {
	t.Parallel()
	checks := waits.Resolve(compile(t), live{})
	by := map[string]waits.Check{}
	for _, c := range checks {
		by[string(c.Addr)] = c
	}
	if p := by["wait.api"].Problem; !strings.Contains(p, "floating_ip.master is not on the cloud") {
		t.Errorf("api problem = %q", p)
	}
	if p := by["wait.login"].Problem; !strings.Contains(p, "server.master is not on the cloud") {
		t.Errorf("login problem = %q", p)
	}
	// The master's fixed IP is in the spec: it needs nothing live.
	if c := by["wait.fixed"]; c.Problem != "" || c.URL != "http://10.20.0.2:8000/" {
		t.Errorf("fixed = %+v", c)
	}
	rep := waits.Run(t.Context(), []waits.Check{by["wait.api"]}, waits.Options{})
	if err := rep.Err(); err == nil || !strings.Contains(err.Error(), "wait.api: url: {{master.floating_ip}}") {
		t.Errorf("report = %v", err)
	}
}

func joinAddrs(as []specs.Address) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = string(a)
	}
	return strings.Join(s, ",")
}
