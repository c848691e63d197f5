package render

import (
	"fmt"
	"strings"

	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/specs"
)

// Consequences says in one sentence per root cause what a plan destroys:
// "subnet.admin: cidr forces replacement, which replaces subnet.admin, 5
// ports and 3 servers". A root is a change replaced for a field of its
// own; what is replaced only because it refers to a root (or to one of
// its dependents) is counted under it. Deletes follow, one line each.
// Destructive changes come first in every view, so a reviewer sees them
// before anything else.
func Consequences(p *plan.Plan) []Consequence {
	byAddr := map[specs.Address]plan.Change{}
	dependents := map[specs.Address][]specs.Address{}
	var roots []plan.Change
	for _, c := range p.Changes {
		byAddr[c.Address] = c
		if c.Action != plan.Replace {
			continue
		}
		own := false
		for _, r := range c.Reasons {
			switch r.Cause {
			case plan.CauseField:
				own = true
			case plan.CauseDependency:
				for _, d := range r.Dependencies {
					dependents[d] = append(dependents[d], c.Address)
				}
			}
		}
		if own {
			roots = append(roots, c)
		}
	}
	var out []Consequence
	for _, root := range roots {
		seen := map[specs.Address]bool{root.Address: true}
		queue := []specs.Address{root.Address}
		for len(queue) > 0 {
			a := queue[0]
			queue = queue[1:]
			for _, d := range dependents[a] {
				if !seen[d] {
					seen[d] = true
					queue = append(queue, d)
				}
			}
		}
		var fields []string
		for _, r := range root.Reasons {
			if r.Cause == plan.CauseField {
				fields = append(fields, r.Field)
			}
		}
		out = append(out, Consequence{root.Address, fmt.Sprintf("%s %s replacement, which replaces %s",
			strings.Join(fields, ", "), forces(len(fields)), countByKind(root.Address, seen))})
	}
	for _, c := range p.Changes {
		if c.Action == plan.Delete {
			why := "deleted"
			if len(c.Reasons) > 0 {
				why = "deleted (" + c.Reasons[0].String() + ")"
			}
			out = append(out, Consequence{c.Address, why})
		}
	}
	return out
}

// Consequence is one line of what a plan destroys.
type Consequence struct {
	Address specs.Address
	What    string
}

func (c Consequence) String() string { return string(c.Address) + ": " + c.What }

func forces(n int) string {
	if n == 1 {
		return "forces"
	}
	return "force"
}

// countByKind lists the root itself, then the others counted by kind in
// build order: "subnet.admin, 5 ports and 3 servers".
func countByKind(root specs.Address, set map[specs.Address]bool) string {
	count := map[specs.Kind]int{}
	for a := range set {
		if a != root {
			count[a.Kind()]++
		}
	}
	parts := []string{string(root)}
	for _, k := range specs.Kinds {
		if n := count[k]; n > 0 {
			parts = append(parts, plural(n, string(k)))
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// plural: "1 port", "5 ports", "2 router_interfaces".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "s") {
		return fmt.Sprintf("%d %ses", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
