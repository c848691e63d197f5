package engine

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// PlanOptions shape a plan.
type PlanOptions struct {
	// Destroy plans the removal of everything the lab owns.
	Destroy bool
	// Targets limit the plan to these addresses and what they depend on;
	// Excludes drop these addresses and what depends on them. An address
	// matches itself and, as a prefix up to a dot, everything below it
	// ("server.slave-03" matches itself; "port.slave-03" matches its ports).
	Targets  []string
	Excludes []string
}

// MissingLookupError is an object the spec looks up (existing: true, the
// external network) that the cloud does not have: nothing that needs it
// can be planned. A destroy needs none, so it never has this error. Preflight's lookup check reports the same, with its
// position and fix; a caller that shows that finding need not show this.
type MissingLookupError struct {
	Address specs.Address
	Name    string
}

func (e *MissingLookupError) Error() string {
	return fmt.Sprintf("%s: no %s named %q in the cloud (it is looked up, never created)", e.Address, e.Address.Kind(), e.Name)
}

// BuildPlan compares the lab with the live state. It is pure: everything
// it needs was read before, so it is tested without a cloud.
func BuildPlan(lab *specs.Lab, st *State, reg resources.Registry, opts PlanOptions) (*plan.Plan, error) {
	p := &plan.Plan{
		FormatVersion: plan.FormatVersion,
		Lab:           lab.Name,
		Cloud:         lab.Cloud,
		SpecFile:      lab.File,
		SpecHash:      lab.Hash,
		Destroy:       opts.Destroy,
		Targets:       opts.Targets,
		Excludes:      opts.Excludes,
		Changes:       []plan.Change{},
	}
	order, err := lab.TopologicalOrder()
	if err != nil {
		return nil, err
	}
	res := newResolver(lab, st)
	var errs []error
	unmanaged := map[specs.Kind]bool{}

	for _, a := range order {
		r, _ := lab.Resource(a)
		ad, ok := reg[a.Kind()]
		if !ok {
			// A kind registered as no cloud object (a wait: a check run
			// after apply, package waits) has nothing to plan.
			if k, ok := resources.KindOf(a.Kind()); !ok || k.NotInCloud == "" {
				unmanaged[a.Kind()] = true
			}
			continue
		}
		if lk, ok := ad.(resources.Lookup); ok && lk.IsLookup(r) {
			o, found := st.found[a]
			if !found && opts.Destroy {
				// Destroy finds the lab's objects by their marks and
				// deletes them by ID: it needs no lookup, so one gone
				// from the cloud (an image deleted by hand, an external
				// network renamed) must not keep the lab from going.
				continue
			}
			if !found {
				errs = append(errs, &MissingLookupError{Address: a, Name: nameOf(r)})
				res.actions[a] = plan.Create // unknown to dependents
				continue
			}
			p.Observed = append(p.Observed, plan.Observation{Address: a, ID: o.ID, Revision: o.Revision})
			continue
		}
		if opts.Destroy {
			continue
		}
		live, exists := st.Live(a)
		blocked := false
		for _, c := range st.conflicts {
			if c.Address != a {
				continue
			}
			blocked = true
			msg := fmt.Sprintf("a %s named %q exists without lab %q's mark; fuelplan will not adopt or touch it: rename or delete it, or rename the lab's", a.Kind(), c.Name, lab.Name)
			if exists {
				msg = fmt.Sprintf("renaming the lab's %s %q to %q would take the name of a %s without lab %q's mark; fuelplan will not: rename or delete that one, or choose another name",
					a.Kind(), live.Name, c.Name, a.Kind(), lab.Name)
			}
			p.Conflicts = append(p.Conflicts, plan.Conflict{Address: a, Kind: a.Kind(), Name: c.Name, ID: c.ID, Message: msg})
		}
		if !exists {
			res.actions[a] = plan.Create
			if blocked {
				// Not created while the conflict stands: not a change
				// of the plan (its dependents still see it as to come).
				continue
			}
			d := ad.Desired(r)
			p.Changes = append(p.Changes, plan.Change{Address: a, Action: plan.Create, Name: nameOf(r), Fields: createFields(lab, a, ad.Schema(), d), Notes: notes(lab, d)})
			continue
		}
		p.Observed = append(p.Observed, plan.Observation{Address: a, ID: live.ID, Revision: live.Revision})
		d := ad.Desired(r)
		fields := res.diff(a, ad.Schema(), d, live)
		if resources.HalfMarked(live) {
			// A create of a killed apply, marked only in its description:
			// the lab's, with its tags still to put on.
			fields = append([]plan.FieldChange{{Name: resources.MarkField, Before: "description only", After: "tags"}}, fields...)
		}
		if len(fields) == 0 {
			res.actions[a] = plan.NoOp
			continue
		}
		c := plan.Change{Address: a, Action: plan.Update, Name: nameOf(r), ID: live.ID, Fields: fields, Notes: notes(lab, d)}
		for _, f := range fields {
			if f.ForcesReplace {
				c.Action = plan.Replace
				c.Reasons = append(c.Reasons, replaceReason(f, res.unknownRefs(d.Refs[f.Name])))
			}
		}
		if c.Action == plan.Replace && isProtected(r) {
			errs = append(errs, fmt.Errorf("%s: protected, but the change would replace it (%s)", a, joinReasons(c.Reasons)))
		}
		res.actions[a] = c.Action
		p.Changes = append(p.Changes, c)
	}

	// Owned objects the spec no longer has, duplicates, and, for destroy,
	// everything the lab owns.
	for a, objs := range st.owned {
		r, inLab := lab.Resource(a)
		for i, o := range objs {
			switch {
			case opts.Destroy && inLab && isProtected(r):
				if i == 0 {
					p.Warnings = append(p.Warnings, fmt.Sprintf("%s: protected: destroy leaves it in place", a))
					continue
				}
			case opts.Destroy && i == 0:
				p.Changes = append(p.Changes, plan.Change{Address: a, Action: plan.Delete, Name: o.Name, ID: o.ID})
				p.Observed = append(p.Observed, plan.Observation{Address: a, ID: o.ID, Revision: o.Revision})
				continue
			case !inLab && i == 0:
				p.Changes = append(p.Changes, plan.Change{Address: a, Action: plan.Delete, Name: o.Name, ID: o.ID,
					Reasons: []plan.Reason{{Cause: plan.CauseNotInSpec}}})
				p.Observed = append(p.Observed, plan.Observation{Address: a, ID: o.ID, Revision: o.Revision})
				continue
			case i == 0:
				continue
			}
			da := DuplicateAddress(a, o.ID)
			p.Changes = append(p.Changes, plan.Change{Address: da, Action: plan.Delete, Name: o.Name, ID: o.ID,
				Reasons: []plan.Reason{{Cause: plan.CauseDuplicate, Of: a, OfID: objs[0].ID}}})
			p.Observed = append(p.Observed, plan.Observation{Address: da, ID: o.ID, Revision: o.Revision})
		}
	}
	p.Notes = append(p.Notes, lab.Notes...)
	p.Warnings = append(p.Warnings, lab.Warnings...)
	for k := range unmanaged {
		p.Warnings = append(p.Warnings, fmt.Sprintf("%s resources are not managed by this version of fuelplan yet: they are left out of the plan", k))
	}
	sort.Strings(p.Warnings)

	if err := filterTargets(p, lab, opts); err != nil {
		errs = append(errs, err)
	}
	p.Sort()
	return p, errors.Join(errs...)
}

// notes are the desired object's notes, each masked whole when it holds a
// value from the environment (a command patch's password, say).
func notes(lab *specs.Lab, d resources.Desired) []string {
	var out []string
	for _, n := range d.Notes {
		if lab.MentionsEnv(n) {
			head, _, _ := strings.Cut(n, ": ")
			n = head + ": " + plan.Sensitive
		}
		out = append(out, n)
	}
	return out
}

// DuplicateAddress names an extra object implementing the same address.
func DuplicateAddress(a specs.Address, id string) specs.Address {
	short := id
	if len(short) > 8 {
		short = short[:8]
	}
	return specs.Address(fmt.Sprintf("%s~%s", a, short))
}

// BaseAddress strips a duplicate suffix.
func BaseAddress(a specs.Address) specs.Address {
	base, _, _ := strings.Cut(string(a), "~")
	return specs.Address(base)
}

// replaceReason says why a field forces replacement: its own value, or,
// when its value is known only after apply, the referenced resources
// (unknown) that get new IDs.
func replaceReason(f plan.FieldChange, unknown []specs.Address) plan.Reason {
	if f.AfterUnknown && len(unknown) > 0 {
		return plan.Reason{Cause: plan.CauseDependency, Field: f.Name, Dependencies: unknown}
	}
	return plan.Reason{Cause: plan.CauseField, Field: f.Name}
}

func joinReasons(rs []plan.Reason) string {
	ss := make([]string, len(rs))
	for i, r := range rs {
		ss[i] = r.String()
	}
	return strings.Join(ss, "; ")
}

func nameOf(r specs.Resource) string {
	if n, ok := r.(interface{ CloudName() string }); ok {
		return n.CloudName()
	}
	return ""
}

func isProtected(r specs.Resource) bool {
	if p, ok := r.(interface{ Protected() bool }); ok {
		return p.Protected()
	}
	return false
}

// matches reports whether pattern names the address or a prefix of it.
func matches(pattern string, a specs.Address) bool {
	s := string(BaseAddress(a))
	return s == pattern || strings.HasPrefix(s, pattern+".")
}

// filterTargets keeps targeted changes and their dependencies' changes,
// and drops excluded ones and their dependents', as Terraform does.
func filterTargets(p *plan.Plan, lab *specs.Lab, opts PlanOptions) error {
	if len(opts.Targets) == 0 && len(opts.Excludes) == 0 {
		return nil
	}
	deps, err := lab.Dependencies()
	if err != nil {
		return err
	}
	dependents := map[specs.Address][]specs.Address{}
	for a, ds := range deps {
		for _, d := range ds {
			dependents[d] = append(dependents[d], a)
		}
	}
	closure := func(start []specs.Address, edges map[specs.Address][]specs.Address) map[specs.Address]bool {
		seen := map[specs.Address]bool{}
		stack := append([]specs.Address(nil), start...)
		for len(stack) > 0 {
			a := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[a] {
				continue
			}
			seen[a] = true
			stack = append(stack, edges[a]...)
		}
		return seen
	}
	pick := func(patterns []string) ([]specs.Address, error) {
		var out []specs.Address
		for _, pat := range patterns {
			n := 0
			for _, a := range lab.Addresses() {
				if matches(pat, a) {
					out = append(out, a)
					n++
				}
			}
			for _, c := range p.Changes {
				if _, inLab := lab.Resource(BaseAddress(c.Address)); !inLab && matches(pat, c.Address) {
					out = append(out, c.Address)
					n++
				}
			}
			if n == 0 {
				return nil, fmt.Errorf("--target/--exclude %q matches no resource of the lab", pat)
			}
		}
		return out, nil
	}
	keep := func(specs.Address) bool { return true }
	if len(opts.Targets) > 0 {
		ts, err := pick(opts.Targets)
		if err != nil {
			return err
		}
		in := closure(ts, deps)
		keep = func(a specs.Address) bool { return in[a] || in[BaseAddress(a)] }
	}
	out := map[specs.Address]bool{}
	if len(opts.Excludes) > 0 {
		xs, err := pick(opts.Excludes)
		if err != nil {
			return err
		}
		out = closure(xs, dependents)
	}
	var kept []plan.Change
	for _, c := range p.Changes {
		if keep(c.Address) && !out[c.Address] && !out[BaseAddress(c.Address)] {
			kept = append(kept, c)
		}
	}
	if kept == nil {
		kept = []plan.Change{}
	}
	p.Changes = kept
	// A conflict is the plan's only as far as its resource is: an
	// excluded (or untargeted) one does not stop the apply of the rest.
	var conflicts []plan.Conflict
	for _, c := range p.Conflicts {
		if keep(c.Address) && !out[c.Address] {
			conflicts = append(conflicts, c)
		}
	}
	p.Conflicts = conflicts
	p.Warnings = append(p.Warnings, "the plan is partial (--target/--exclude): the rest of the lab may not match the spec")
	return nil
}
