package engine

import (
	"slices"
	"strings"

	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// Converged is the live state a cloud would hold with lab applied exactly:
// every managed object owned and marked, its fields as the spec wants them,
// references resolved to IDs ("id-ADDRESS"); lookups found by name. It is
// how `fuelplan diff` asks the planner what a spec change does without a
// cloud, and how the planner's tests start from a built lab.
func Converged(lab *specs.Lab, reg resources.Registry) []*resources.Object {
	id := func(a specs.Address) string { return "id-" + string(a) }
	var out []*resources.Object
	for _, a := range lab.Addresses() {
		r, _ := lab.Resource(a)
		ad, ok := reg[a.Kind()]
		if !ok {
			continue // not a cloud object (waits)
		}
		o := &resources.Object{Kind: a.Kind(), Address: a, ID: id(a), Revision: "1", Fields: resources.Fields{}}
		if n, ok := r.(interface{ CloudName() string }); ok {
			o.Name = n.CloudName()
		}
		if lk, ok := ad.(resources.Lookup); ok && lk.IsLookup(r) {
			out = append(out, o) // found by name, not owned
			continue
		}
		o.Owned = true
		d := ad.Desired(r)
		for n, v := range d.Fields {
			o.Fields[n] = v
		}
		for n, as := range d.Refs {
			ids := make([]string, len(as))
			for i, ref := range as {
				ids[i] = id(ref)
			}
			o.Fields[n] = resources.JoinSorted(ids)
		}
		out = append(out, o)
	}
	return out
}

// SpecDiff plans next against a cloud holding prev, applied and converged:
// what changing the spec from prev to next does, field by field, with
// replacements propagated to what depends on them, and no cloud needed.
// Changes carry no IDs (there is no cloud to name them). A patch whose
// commands changed shows them as a "commands" field: the cloud cannot,
// since a patch's live state is only whether it is in place.
func SpecDiff(prev, next *specs.Lab, reg resources.Registry) (*plan.Plan, error) {
	var objs []*resources.Object
	for _, o := range Converged(prev, reg) {
		if !o.Owned {
			// A lookup stays a lookup only where next still looks it up;
			// otherwise it is nothing the lab has.
			r, ok := next.Resource(o.Address)
			lk, isLookup := reg[o.Kind].(resources.Lookup)
			if !ok || !isLookup || !lk.IsLookup(r) {
				continue
			}
		}
		objs = append(objs, o)
	}
	st, err := NewState(next, reg, objs...)
	if err != nil {
		return nil, err
	}
	p, err := BuildPlan(next, st, reg, PlanOptions{})
	if err != nil {
		return p, err
	}
	p.Observed = nil
	for i := range p.Changes {
		p.Changes[i].ID = ""
	}
	for _, a := range next.Addresses() {
		if a.Kind() != specs.KindPatch {
			continue
		}
		r, _ := next.Resource(a)
		old, ok := prev.Resource(a)
		ad := reg[a.Kind()]
		if !ok || ad == nil {
			continue
		}
		before, after := notes(prev, ad.Desired(old)), notes(next, ad.Desired(r))
		if slices.Equal(before, after) {
			continue
		}
		f := plan.FieldChange{Name: "commands", Before: strings.Join(before, "\n"), After: strings.Join(after, "\n"), Type: "lines"}
		if i := slices.IndexFunc(p.Changes, func(c plan.Change) bool { return c.Address == a }); i >= 0 {
			p.Changes[i].Fields = append(p.Changes[i].Fields, f)
			continue
		}
		p.Changes = append(p.Changes, plan.Change{Address: a, Action: plan.Update, Name: nameOf(r), Fields: []plan.FieldChange{f}})
	}
	p.Sort()
	return p, nil
}
