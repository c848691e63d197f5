package engine_test

import (
	"strings"
	"testing"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/specs"
)

// Deletes of objects the spec no longer has go in the teardown order the
// kinds' registrations give; a kind without one is an error, not rank 0.
func TestTeardownOrderFromRegistrations(t *testing.T) {
	t.Parallel()
	lab, diags := specs.LoadLab("../examples/minimal.yaml", func(string) (string, bool) { return "", false })
	if lab == nil {
		t.Fatal(diags)
	}
	del := func(as ...specs.Address) *plan.Plan {
		p := &plan.Plan{}
		for _, a := range as {
			p.Changes = append(p.Changes, plan.Change{Address: a, Action: plan.Delete, ID: string(a)})
		}
		return p
	}
	tests := []struct {
		name   string
		plan   *plan.Plan
		before [][2]specs.Address // first deleted before second
		err    string
	}{
		{"servers, then ports, then networks", del("network.old", "port.old.admin", "server.old"),
			[][2]specs.Address{{"server.old", "port.old.admin"}, {"port.old.admin", "network.old"}, {"server.old", "network.old"}}, ""},
		{"floating IPs before subnets, routers before networks", del("network.old", "router.old", "subnet.old", "floating_ip.old"),
			[][2]specs.Address{{"floating_ip.old", "subnet.old"}, {"subnet.old", "router.old"}, {"router.old", "network.old"}}, ""},
		{"trunks after servers, before their ports", del("port.old.admin", "trunk.old.admin", "server.old"),
			[][2]specs.Address{{"server.old", "trunk.old.admin"}, {"trunk.old.admin", "port.old.admin"}}, ""},
		{"unregistered kind", del("network.old", "server_group.old"), nil, `server_group.old: kind "server_group" has no teardown rank registered`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, err := engine.Graph(lab, tt.plan)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("want error %q, got %v", tt.err, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, pair := range tt.before {
				first, then := engine.Op{Phase: engine.PhaseDestroy, Address: pair[0]}, engine.Op{Phase: engine.PhaseDestroy, Address: pair[1]}
				if !dependsOn(g, then, first) {
					t.Errorf("%s does not wait for %s", then, first)
				}
				if dependsOn(g, first, then) {
					t.Errorf("%s waits for %s", first, then)
				}
			}
		})
	}
}

// dependsOn reports whether op waits, directly or not, for dep.
func dependsOn(g map[engine.Op][]engine.Op, op, dep engine.Op) bool {
	seen := map[engine.Op]bool{}
	stack := []engine.Op{op}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, d := range g[n] {
			if d == dep {
				return true
			}
			if !seen[d] {
				seen[d] = true
				stack = append(stack, d)
			}
		}
	}
	return false
}
