package engine

import (
	"context"
	"fmt"

	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// Plan reads the live cloud and plans the changes that bring it to lab.
// The state is returned for Apply, which needs the live objects.
func Plan(ctx context.Context, c *resources.Cloud, reg resources.Registry, lab *specs.Lab, opts PlanOptions) (*plan.Plan, *State, error) {
	st, err := Read(ctx, c, reg, lab)
	if err != nil {
		return nil, nil, resources.Humanize(err)
	}
	p, err := BuildPlan(lab, st, reg, opts)
	if err != nil {
		return p, st, err
	}
	return p, st, nil
}

// Moved compares what a saved plan observed with a fresh plan's
// observations and lists, one per line, every object that changed since:
// "port.slave-02.admin revision 7 -> 9", "server.master is gone",
// "network.storage appeared (id ...)".
func Moved(saved, fresh *plan.Plan) []string {
	was := map[string]plan.Observation{}
	for _, o := range saved.Observed {
		was[string(o.Address)] = o
	}
	now := map[string]plan.Observation{}
	for _, o := range fresh.Observed {
		now[string(o.Address)] = o
	}
	var out []string
	for _, o := range saved.Observed {
		n, ok := now[string(o.Address)]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s is gone (was id %s)", o.Address, o.ID))
		case n.ID != o.ID:
			out = append(out, fmt.Sprintf("%s is another object now (id %s -> %s)", o.Address, o.ID, n.ID))
		case n.Revision != o.Revision:
			out = append(out, fmt.Sprintf("%s revision %s -> %s", o.Address, o.Revision, n.Revision))
		}
	}
	for _, n := range fresh.Observed {
		if _, ok := was[string(n.Address)]; !ok {
			out = append(out, fmt.Sprintf("%s appeared (id %s)", n.Address, n.ID))
		}
	}
	return out
}
