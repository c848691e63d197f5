package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"

	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// resolver answers, while the planner walks the DAG in order, what each
// address will be after apply: its live ID, or unknown when it is created
// or replaced.
type resolver struct {
	lab     *specs.Lab // which values came from the environment
	state   *State
	actions map[specs.Address]plan.Action
	// addrOf maps live IDs back to addresses, to print references readably.
	addrOf map[string]specs.Address
}

func newResolver(lab *specs.Lab, s *State) *resolver {
	r := &resolver{lab: lab, state: s, actions: map[specs.Address]plan.Action{}, addrOf: map[string]specs.Address{}}
	for a, objs := range s.owned {
		for _, o := range objs {
			r.addrOf[o.ID] = a
		}
	}
	for a, o := range s.found {
		r.addrOf[o.ID] = a
	}
	return r
}

// id returns the ID an address will have, and false when it is not known
// before apply.
func (r *resolver) id(a specs.Address) (string, bool) {
	switch r.actions[a] {
	case plan.Create, plan.Replace:
		return "", false
	}
	o, ok := r.state.Live(a)
	if !ok {
		return "", false
	}
	return o.ID, true
}

// show renders a live value that may hold IDs as the addresses they are.
func (r *resolver) show(v string) string {
	if v == "" {
		return v
	}
	parts := strings.Split(v, ",")
	for i, p := range parts {
		if a, ok := r.addrOf[p]; ok {
			parts[i] = string(a)
		}
	}
	return strings.Join(parts, ",")
}

// unknownRefs returns the addresses among as whose IDs are known only
// after apply (created or replaced), sorted.
func (r *resolver) unknownRefs(as []specs.Address) []specs.Address {
	var out []specs.Address
	for _, a := range as {
		if _, ok := r.id(a); !ok {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func joinAddrs(as []specs.Address) string {
	ss := make([]string, len(as))
	for i, a := range as {
		ss[i] = string(a)
	}
	sort.Strings(ss)
	return strings.Join(ss, ",")
}

// fieldNames is every field the desired side sets, sorted.
func fieldNames(d resources.Desired) []string {
	var ns []string
	for n := range d.Fields {
		ns = append(ns, n)
	}
	for n := range d.Refs {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// diff compares one desired instance with its live object. It returns the
// fields that differ, each marked when it forces replacement; references
// to objects that will be replaced count as differing.
func (r *resolver) diff(a specs.Address, schema resources.Schema, d resources.Desired, live *resources.Object) []plan.FieldChange {
	var out []plan.FieldChange
	add := func(name, before, after string, unknown bool) {
		f, _ := schema.Lookup(name)
		fc := plan.FieldChange{Name: name, Before: before, After: after, AfterUnknown: unknown, ForcesReplace: f.ForceNew, Sensitive: f.Sensitive, Type: string(f.Type)}
		if !f.Sensitive && (r.lab.FromEnv(after) || r.lab.FromEnv(before)) {
			// The field holds an ${env:} value: the live side is
			// the same kind of secret, from an earlier apply.
			fc.Sensitive, fc.AfterSHA256 = true, envHash(a, name, after)
		}
		if fc.Sensitive {
			fc.Before, fc.After = maskNonEmpty(fc.Before), maskNonEmpty(fc.After)
		}
		out = append(out, fc)
	}
	for _, n := range fieldNames(d) {
		if want, ok := d.Fields[n]; ok {
			if got := live.Fields[n]; got != want {
				add(n, got, want, false)
			}
			continue
		}
		addrs := d.Refs[n]
		ids := make([]string, 0, len(addrs))
		known := true
		for _, a := range addrs {
			id, ok := r.id(a)
			if !ok {
				known = false
				break
			}
			ids = append(ids, id)
		}
		got := live.Fields[n]
		if !known {
			add(n, r.show(got), joinAddrs(addrs), true)
			if f, _ := schema.Lookup(n); f.FollowsReplace && got != "" {
				out[len(out)-1].ForcesReplace = true
			}
			continue
		}
		sort.Strings(ids)
		if want := strings.Join(ids, ","); got != want {
			add(n, r.show(got), joinAddrs(addrs), false)
		}
	}
	// Keyed families the spec sets ("ports.admin", "metadata.role"): a live
	// key the spec does not have is a difference too (a NIC on a network
	// the spec dropped). Families the spec leaves alone are not compared.
	for _, fam := range families(schema) {
		if !setsFamily(d, fam) {
			continue
		}
		var extra []string
		for n := range live.Fields {
			if strings.HasPrefix(n, fam) {
				if _, ok := d.Fields[n]; ok {
					continue
				}
				if _, ok := d.Refs[n]; ok {
					continue
				}
				extra = append(extra, n)
			}
		}
		sort.Strings(extra)
		for _, n := range extra {
			add(n, r.show(live.Fields[n]), "", false)
		}
	}
	return out
}

func maskNonEmpty(v string) string {
	if v == "" {
		return ""
	}
	return plan.Sensitive
}

// families returns the prefixes ("ports.") of the schema's keyed families.
func families(s resources.Schema) []string {
	var out []string
	for _, f := range s {
		if p, ok := strings.CutSuffix(f.Name, ".*"); ok {
			out = append(out, p+".")
		}
	}
	return out
}

func setsFamily(d resources.Desired, prefix string) bool {
	for n := range d.Fields {
		if strings.HasPrefix(n, prefix) {
			return true
		}
	}
	for n := range d.Refs {
		if strings.HasPrefix(n, prefix) {
			return true
		}
	}
	return false
}

// createFields lists every field of a create, references as addresses.
func createFields(lab *specs.Lab, a specs.Address, schema resources.Schema, d resources.Desired) []plan.FieldChange {
	var out []plan.FieldChange
	for _, n := range fieldNames(d) {
		f, _ := schema.Lookup(n)
		v, ok := d.Fields[n]
		if !ok {
			v = joinAddrs(d.Refs[n])
		}
		fc := plan.FieldChange{Name: n, After: v, Sensitive: f.Sensitive, Type: string(f.Type)}
		if !f.Sensitive && lab.FromEnv(v) {
			fc.Sensitive, fc.AfterSHA256 = true, envHash(a, n, v)
		}
		if fc.Sensitive {
			fc.After = maskNonEmpty(fc.After)
		}
		out = append(out, fc)
	}
	return out
}

// envHash is what a plan keeps of a value from the environment: enough
// to see that it changed, salted with where it goes so that equal values
// in two fields do not show as equal. A short value can still be guessed
// from its hash by trying them all; a plan file is not for publishing.
func envHash(a specs.Address, field, v string) string {
	if v == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("fuelplan env\x00" + string(a) + "\x00" + field + "\x00" + v))
	return hex.EncodeToString(sum[:])
}
