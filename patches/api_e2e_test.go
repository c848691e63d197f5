package patches_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/internal/sshx"
	"github.com/fuelplan/fuelplan/resources"
)

// putGroupsBack undoes an api patch by hand: port security on, the lab's
// group back, as an operator (or a script) might.
func (e *env) putGroupsBack(portID string, groups []string) {
	e.t.Helper()
	opts := ports.UpdateOpts{SecurityGroups: &groups}
	body, _ := opts.ToPortUpdateMap()
	body["port"].(map[string]any)["port_security_enabled"] = true
	if _, err := e.cloud.Network.Put(context.Background(), e.cloud.Network.ServiceURL("ports", portID), body, nil, &gophercloud.RequestOpts{OkCodes: []int{200}}); err != nil {
		e.t.Fatal(err)
	}
}

// On the simulated cloud (Neutron with port-security) auto takes the API:
// port security goes off with the port's groups, the next plan is clean
// (the port does not put its spec's groups back), and undoing it by hand
// shows as the patch's drift, not the port's.
func TestAllowDHCPByAPI(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, method string
		member       bool
	}{
		{"auto", "auto", false},
		{"api", "api", false},
		// A member may turn port security off on the lab's own networks.
		{"auto as member", "auto", true},
	} {
		method := tc.method
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, sshx.Config{}, nil)
			if tc.member {
				member, err := resources.Connect(context.Background(), resources.Target{CloudName: "sim", CloudsYAML: []byte(e.sim.CloudsYAML("sim", e.sim.Member()))})
				if err != nil {
					t.Fatal(err)
				}
				e.cloud = member
			}
			lab := e.lab("patches:\n  - {name: master-dhcp, type: allow-dhcp-server, port: master.admin, method: " + method + "}\n")
			reason := "method api"
			if method == "auto" {
				reason = "auto: Neutron has the port-security extension"
			}

			p, _ := e.mustPlan(lab, engine.PlanOptions{Targets: []string{"patch.master-dhcp"}})
			want := "~ patch.master-dhcp state: needed: api (" + reason + "); port.master.admin is made by this apply -> in place"
			if got := changes(p); !slices.Contains(got, want) {
				t.Fatalf("first plan lacks %q:\n%s", want, strings.Join(got, "\n"))
			}
			e.mustApply(lab, engine.PlanOptions{})
			_, st := e.mustPlan(lab, engine.PlanOptions{})
			port := e.port(st, "port.master.admin")
			if port.PortSecurity == nil || *port.PortSecurity || len(port.SecurityGroups) != 0 {
				t.Fatalf("master.admin after apply: port security %v, groups %v; want off, none", port.PortSecurity, port.SecurityGroups)
			}
			if p, _ := e.mustPlan(lab, engine.PlanOptions{}); len(p.Changes) != 0 {
				t.Fatalf("plan after apply (the port must not fight the patch):\n%s", strings.Join(changes(p), "\n"))
			}
			slave := e.port(st, "port.slave-01.admin")
			if len(slave.SecurityGroups) != 1 {
				t.Errorf("slave-01.admin (no patch) groups %v, want the lab's", slave.SecurityGroups)
			}

			e.putGroupsBack(port.ID, slave.SecurityGroups)
			p, _ = e.mustPlan(lab, engine.PlanOptions{})
			want = "~ patch.master-dhcp state: needed: api (" + reason + "); port security is on -> in place"
			if got := changes(p); !slices.Equal(got, []string{want}) {
				t.Fatalf("plan after undoing the patch:\n%s\nwant %s", strings.Join(got, "\n"), want)
			}
		})
	}
}

// With method ssh the port keeps the spec's groups, and losing them is the
// port's drift: the decision of who owns port security goes both ways.
func TestSSHPatchLeavesPortSecurityToPort(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sshx.Config{}, nil)
	lab := e.lab(`patches:
  - {name: master-dhcp, type: allow-dhcp-server, port: master.admin, method: ssh, host: node-1}
inventory:
  node-1: {address: 127.0.0.1, key_file: /nonexistent/key, known_hosts: /nonexistent/known_hosts}
`)
	e.mustApply(lab, engine.PlanOptions{Excludes: []string{"patch"}})
	_, st := e.mustPlan(lab, engine.PlanOptions{})
	port := e.port(st, "port.master.admin")
	if port.PortSecurity == nil || !*port.PortSecurity || len(port.SecurityGroups) != 1 {
		t.Fatalf("master.admin: port security %v, groups %v; want on, the lab's", port.PortSecurity, port.SecurityGroups)
	}
	e.putGroupsBack(port.ID, []string{})
	p, _ := e.mustPlan(lab, engine.PlanOptions{})
	got := changes(p)
	want := "~ port.master.admin security_groups:  -> security_group.lab"
	if !slices.Contains(got, want) {
		t.Errorf("plan lacks %q:\n%s", want, strings.Join(got, "\n"))
	}
	// The SSH side cannot work here (no known_hosts): that is the patch's state,
	// not a failed plan.
	if !slices.ContainsFunc(got, func(s string) bool {
		return strings.HasPrefix(s, "~ patch.master-dhcp state: unknown: ssh (method ssh): ") && strings.Contains(s, "known_hosts: open /nonexistent/known_hosts")
	}) {
		t.Errorf("plan lacks the patch's unknown state:\n%s", strings.Join(got, "\n"))
	}
}

// Without admin rights a patch cannot find its port's hypervisor; the plan
// says so and how to fix it (name the host).
func TestNotAdminNeedsHost(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sshx.Config{}, nil)
	member, err := resources.Connect(context.Background(), resources.Target{CloudName: "sim", CloudsYAML: []byte(e.sim.CloudsYAML("sim", e.sim.Member()))})
	if err != nil {
		t.Fatal(err)
	}
	e.cloud = member
	lab := e.lab(`patches:
  - {name: master-dhcp, type: allow-dhcp-server, port: master.admin, method: ssh}
inventory:
  node-1: {address: 127.0.0.1, key_file: /nonexistent/key, known_hosts: /nonexistent/known_hosts}
`)
	e.mustApply(lab, engine.PlanOptions{Excludes: []string{"patch"}})
	p, _ := e.mustPlan(lab, engine.PlanOptions{})
	want := "~ patch.master-dhcp state: unknown: ssh (method ssh): " + resources.ErrNotAdmin.Error() + " -> in place"
	if got := changes(p); !slices.Equal(got, []string{want}) {
		t.Fatalf("plan:\n%s\nwant %s", strings.Join(got, "\n"), want)
	}
	rep, _ := e.apply(lab, engine.PlanOptions{})
	if err := rep.Err(); err == nil || !strings.Contains(err.Error(), "name it with `host:` in the patch") {
		t.Errorf("apply: err = %v, want the not-admin hint", err)
	}
}
