package engine_test

// Table tests of the apply ordering (engine.Graph) from plan literals: no
// cloud. Only Graph's public behaviour is used (which operation must
// finish before which), so a change of its representation touches
// applyOrder alone.

import (
	"fmt"
	"testing"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/specs"
)

// applyOrder returns Graph's operations and whether one must finish
// before another starts (a path of dependencies, barriers included).
func applyOrder(t *testing.T, lab *specs.Lab, p *plan.Plan) (ops map[engine.Op]bool, before func(a, b engine.Op) bool) {
	t.Helper()
	g, err := engine.Graph(lab, p)
	if err != nil {
		t.Fatal(err)
	}
	ops = map[engine.Op]bool{}
	for op, deps := range g {
		ops[op] = true
		for _, d := range deps {
			if _, ok := g[d]; !ok {
				t.Errorf("%s depends on %s, which is not in the graph", op, d)
			}
		}
	}
	before = func(a, b engine.Op) bool {
		seen := map[engine.Op]bool{}
		stack := append([]engine.Op(nil), g[b]...)
		for len(stack) > 0 {
			op := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if op == a {
				return true
			}
			if !seen[op] {
				seen[op] = true
				stack = append(stack, g[op]...)
			}
		}
		return false
	}
	return ops, before
}

func op(phase engine.Phase, a string) engine.Op {
	return engine.Op{Phase: phase, Address: specs.Address(a)}
}

func changes(action plan.Action, as ...string) []plan.Change {
	var out []plan.Change
	for _, a := range as {
		out = append(out, plan.Change{Address: specs.Address(a), Action: action})
	}
	return out
}

func TestGraphOrder(t *testing.T) {
	t.Parallel()
	const (
		create  = engine.PhaseCreate
		update  = engine.PhaseUpdate
		destroy = engine.PhaseDestroy
	)
	type pair struct{ first, then engine.Op }
	tests := []struct {
		name    string
		changes []plan.Change
		// ops are every operation apart from teardown barriers.
		ops []engine.Op
		// ordered pairs must run in this order; unordered pairs may run
		// in parallel (neither waits for the other).
		ordered   []pair
		unordered []pair
	}{
		{
			name:    "creates after their dependencies, independent ones in parallel",
			changes: changes(plan.Create, "network.admin", "network.mgmt", "subnet.admin", "port.slave-01.admin", "server.slave-01"),
			ops: []engine.Op{op(create, "network.admin"), op(create, "network.mgmt"), op(create, "subnet.admin"),
				op(create, "port.slave-01.admin"), op(create, "server.slave-01")},
			ordered: []pair{
				{op(create, "network.admin"), op(create, "subnet.admin")},
				{op(create, "subnet.admin"), op(create, "port.slave-01.admin")},
				{op(create, "port.slave-01.admin"), op(create, "server.slave-01")},
				{op(create, "network.admin"), op(create, "server.slave-01")},
			},
			unordered: []pair{
				{op(create, "network.admin"), op(create, "network.mgmt")},
				{op(create, "network.mgmt"), op(create, "server.slave-01")},
			},
		},
		{
			name:    "an update waits for its dependencies' changes only",
			changes: append(changes(plan.Update, "network.admin", "server.slave-01"), changes(plan.Create, "subnet.admin")...),
			ops:     []engine.Op{op(update, "network.admin"), op(update, "server.slave-01"), op(create, "subnet.admin")},
			ordered: []pair{{op(update, "network.admin"), op(create, "subnet.admin")}},
			unordered: []pair{
				{op(update, "network.admin"), op(update, "server.slave-01")},
				{op(create, "subnet.admin"), op(update, "server.slave-01")},
			},
		},
		{
			name:    "a replace deletes before it creates; dependents are deleted first and created after",
			changes: changes(plan.Replace, "subnet.mgmt", "port.slave-01.mgmt", "server.slave-01"),
			ops: []engine.Op{op(destroy, "subnet.mgmt"), op(create, "subnet.mgmt"), op(destroy, "port.slave-01.mgmt"),
				op(create, "port.slave-01.mgmt"), op(destroy, "server.slave-01"), op(create, "server.slave-01")},
			ordered: []pair{
				{op(destroy, "subnet.mgmt"), op(create, "subnet.mgmt")},
				{op(destroy, "server.slave-01"), op(destroy, "port.slave-01.mgmt")},
				{op(destroy, "port.slave-01.mgmt"), op(destroy, "subnet.mgmt")},
				{op(create, "subnet.mgmt"), op(create, "port.slave-01.mgmt")},
				{op(create, "port.slave-01.mgmt"), op(create, "server.slave-01")},
			},
		},
		{
			name:    "destroy deletes dependents before what they depend on",
			changes: changes(plan.Delete, "network.admin", "subnet.admin", "port.slave-01.admin", "server.slave-01", "network.mgmt"),
			ops: []engine.Op{op(destroy, "network.admin"), op(destroy, "subnet.admin"), op(destroy, "port.slave-01.admin"),
				op(destroy, "server.slave-01"), op(destroy, "network.mgmt")},
			ordered: []pair{
				{op(destroy, "server.slave-01"), op(destroy, "port.slave-01.admin")},
				{op(destroy, "port.slave-01.admin"), op(destroy, "subnet.admin")},
				{op(destroy, "subnet.admin"), op(destroy, "network.admin")},
			},
			unordered: []pair{{op(destroy, "network.admin"), op(destroy, "network.mgmt")}},
		},
		{
			name: "objects the spec dropped are torn down by kind: servers, then ports, then networks",
			changes: changes(plan.Delete, "server.slave-03", "port.slave-03.admin", "port.slave-03.mgmt",
				"port.slave-01.admin~zz-dup-0", "network.old"),
			ops: []engine.Op{op(destroy, "server.slave-03"), op(destroy, "port.slave-03.admin"), op(destroy, "port.slave-03.mgmt"),
				op(destroy, "port.slave-01.admin~zz-dup-0"), op(destroy, "network.old")},
			ordered: []pair{
				{op(destroy, "server.slave-03"), op(destroy, "port.slave-03.admin")},
				{op(destroy, "server.slave-03"), op(destroy, "port.slave-01.admin~zz-dup-0")},
				{op(destroy, "port.slave-03.mgmt"), op(destroy, "network.old")},
				{op(destroy, "port.slave-01.admin~zz-dup-0"), op(destroy, "network.old")},
			},
			unordered: []pair{{op(destroy, "port.slave-03.admin"), op(destroy, "port.slave-03.mgmt")}},
		},
		{
			name: "a dropped object is deleted before a replaced one of a later rank",
			changes: append(changes(plan.Delete, "server.slave-03"),
				changes(plan.Replace, "subnet.mgmt", "port.slave-01.mgmt", "server.slave-01")...),
			ordered: []pair{
				{op(destroy, "server.slave-03"), op(destroy, "subnet.mgmt")},
				{op(destroy, "server.slave-03"), op(create, "subnet.mgmt")},
				{op(destroy, "server.slave-01"), op(destroy, "port.slave-01.mgmt")},
			},
		},
	}
	lab := dataLab(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ops, before := applyOrder(t, lab, &plan.Plan{Changes: tc.changes})
			if tc.ops != nil {
				want := map[engine.Op]bool{}
				for _, o := range tc.ops {
					want[o] = true
					if !ops[o] {
						t.Errorf("no operation %s", o)
					}
				}
				for o := range ops {
					if !want[o] && o.Phase != engine.PhaseBarrier {
						t.Errorf("unexpected operation %s", o)
					}
				}
			}
			for _, p := range tc.ordered {
				if !before(p.first, p.then) {
					t.Errorf("%s does not wait for %s", p.then, p.first)
				}
				if before(p.then, p.first) {
					t.Errorf("%s waits for %s: a cycle", p.first, p.then)
				}
			}
			for _, p := range tc.unordered {
				if before(p.first, p.then) || before(p.then, p.first) {
					t.Errorf("%s and %s are ordered; want them in parallel", p.first, p.then)
				}
			}
		})
	}
}

// The graph is the same on every call: no map order leaks into it.
func TestGraphDeterministic(t *testing.T) {
	t.Parallel()
	lab := dataLab(t)
	p := &plan.Plan{Changes: append(changes(plan.Delete, "server.slave-03", "port.slave-03.admin", "network.old"),
		changes(plan.Replace, "subnet.mgmt", "port.slave-01.mgmt", "port.slave-02.mgmt", "server.slave-01", "server.slave-02")...)}
	first := ""
	for i := 0; i < 20; i++ {
		g, err := engine.Graph(lab, p)
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(g) // fmt prints maps sorted by key
		if i == 0 {
			first = got
		} else if got != first {
			t.Fatalf("run %d: graph differs:\n%s\nvs\n%s", i, got, first)
		}
	}
}
