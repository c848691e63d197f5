// Package plan is the plan as data: what fuelplan would do to one lab and
// why. It holds no clients and no secrets, so it can be printed, saved to a
// file and loaded again; rendering lives in package render.
package plan

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/fuelplan/fuelplan/specs"
)

// FormatVersion is the version of the saved and --json plan format.
// It changes only when a field's meaning changes or a field is removed.
// Version 2 made unknown values (FieldChange.AfterUnknown) and reasons
// (Reason) typed; version 1 wrote them as text inside strings.
const FormatVersion = "2"

// Action is what a change does. Its value is its glyph in the text plan.
type Action string

const (
	NoOp    Action = " "
	Create  Action = "+"
	Update  Action = "~"
	Replace Action = "-/+" // delete, then create
	Delete  Action = "-"
	// Read is a lookup of something the lab uses but never manages.
	Read Action = "<="
)

// Word is the action as a word, for summaries and JSON.
func (a Action) Word() string {
	switch a {
	case Create:
		return "create"
	case Update:
		return "update"
	case Replace:
		return "replace"
	case Delete:
		return "delete"
	case Read:
		return "read"
	default:
		return "no-op"
	}
}

// MarshalText writes the word, so JSON plans say "create", not "+".
func (a Action) MarshalText() ([]byte, error) { return []byte(a.Word()), nil }

// UnmarshalText reads the word back; an unknown word is an error (a
// damaged plan), not a no-op.
func (a *Action) UnmarshalText(b []byte) error {
	for _, c := range []Action{NoOp, Create, Update, Replace, Delete, Read} {
		if c.Word() == string(b) {
			*a = c
			return nil
		}
	}
	return errors.New("unknown action")
}

func (a Action) valid() bool {
	switch a {
	case NoOp, Create, Update, Replace, Delete, Read:
		return true
	}
	return false
}

// Sensitive is printed in place of a secret value.
const Sensitive = "(sensitive)"

// FieldChange is one field of a change. For a create Before is empty; for a
// delete After is empty. Values are canonical strings (lists joined,
// references as the address they point to), so output is deterministic.
//
// A value that came from the environment (${env:} in the spec) is
// sensitive wherever it lands: Before and After are masked, and
// AfterSHA256 (a hash salted with the address and field) lets a saved
// plan tell that the environment changed without holding the value.
type FieldChange struct {
	Name   string `json:"name"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	// AfterUnknown says the value the cloud will hold is known only after
	// apply: After names the resources the field will refer to, and at
	// least one of them is created or replaced, so gets a new ID.
	AfterUnknown  bool   `json:"after_unknown,omitempty"`
	ForcesReplace bool   `json:"forces_replace,omitempty"`
	Sensitive     bool   `json:"sensitive,omitempty"`
	AfterSHA256   string `json:"after_sha256,omitempty"`
	// Type says how Before and After read: "" a string, "number",
	// "bool", "list" (items joined by ","), "devices" (block devices,
	// "name=type/bus/boot_index" joined by ";"). The values stay strings.
	Type string `json:"type,omitempty"`
}

// Cause is why a change replaces or deletes an object.
type Cause string

const (
	// CauseField: Field differs and the API cannot change it in place.
	CauseField Cause = "field"
	// CauseDependency: Field refers to Dependencies, which are replaced
	// or created anew and so get new IDs, and the API cannot change it in
	// place: the replace propagates to this object.
	CauseDependency Cause = "dependency"
	// CauseNotInSpec: the lab owns the object but its spec no longer has it.
	CauseNotInSpec Cause = "not_in_spec"
	// CauseDuplicate: an extra object implementing Of, whose kept object
	// is OfID, left by an interrupted apply.
	CauseDuplicate Cause = "duplicate"
)

// Reason is one typed reason for a replace or a delete. Which fields are
// set depends on Cause; String words it for people.
type Reason struct {
	Cause        Cause           `json:"cause"`
	Field        string          `json:"field,omitempty"`
	Dependencies []specs.Address `json:"dependencies,omitempty"`
	Of           specs.Address   `json:"of,omitempty"`
	OfID         string          `json:"of_id,omitempty"`
}

// String words the reason: "cidr forces replacement", "subnet forces
// replacement (subnet.mgmt is replaced or recreated)", "not in the spec
// any more", "duplicate of port.x (ID), left by an interrupted apply".
func (r Reason) String() string {
	switch r.Cause {
	case CauseField:
		return r.Field + " forces replacement"
	case CauseDependency:
		verb := "is"
		if len(r.Dependencies) > 1 {
			verb = "are"
		}
		ds := make([]string, len(r.Dependencies))
		for i, d := range r.Dependencies {
			ds[i] = string(d)
		}
		return fmt.Sprintf("%s forces replacement (%s %s replaced or recreated)", r.Field, strings.Join(ds, ", "), verb)
	case CauseNotInSpec:
		return "not in the spec any more"
	case CauseDuplicate:
		return fmt.Sprintf("duplicate of %s (%s), left by an interrupted apply", r.Of, r.OfID)
	}
	return string(r.Cause)
}

// Forced reports whether the reason is a field that forces replacement
// (its own value or a dependency's new ID), which the field list shows.
func (r Reason) Forced() bool { return r.Cause == CauseField || r.Cause == CauseDependency }

// Change is what happens to one resource.
type Change struct {
	Address specs.Address `json:"address"`
	Action  Action        `json:"action"`
	// Name is the object's name in the cloud; ID its live ID (empty for a create).
	Name string `json:"name,omitempty"`
	ID   string `json:"id,omitempty"`
	// Fields: for create, every field the spec sets; for update and
	// replace, the fields that differ; for delete, none.
	Fields []FieldChange `json:"fields,omitempty"`
	// Notes are what the change does that no field shows: the commands a
	// patch runs on compute nodes ("check, run over SSH on node-1 by plan
	// and apply: ...").
	Notes []string `json:"notes,omitempty"`
	// Reasons say why a replace or delete happens: the fields that force
	// replacement, the spec no longer having the object, a duplicate.
	Reasons []Reason `json:"reasons,omitempty"`
}

// Conflict is an object that blocks the lab: it has a lab resource's name
// but not the lab's ownership mark, so fuelplan will not touch it.
type Conflict struct {
	Address specs.Address `json:"address"`
	Kind    specs.Kind    `json:"kind"`
	Name    string        `json:"name"`
	ID      string        `json:"id"`
	Message string        `json:"message"`
}

// Observation records one live object the plan was computed from, so a
// saved plan can tell whether the cloud moved since.
type Observation struct {
	Address  specs.Address `json:"address"`
	ID       string        `json:"id"`
	Revision string        `json:"revision,omitempty"`
}

// Plan is every change for one lab.
type Plan struct {
	FormatVersion string `json:"format_version"`
	Lab           string `json:"lab"`
	Cloud         string `json:"cloud,omitempty"`
	SpecFile      string `json:"spec_file,omitempty"`
	SpecHash      string `json:"spec_hash,omitempty"`
	// Destroy is set for a plan that removes the whole lab.
	Destroy bool `json:"destroy,omitempty"`
	// Phase is the master's boot phase the plan was made for (apply --phase).
	Phase string `json:"phase,omitempty"`
	// Targets and Excludes are the --target/--exclude the plan was made with.
	Targets   []string      `json:"targets,omitempty"`
	Excludes  []string      `json:"excludes,omitempty"`
	Changes   []Change      `json:"changes"`
	Conflicts []Conflict    `json:"conflicts,omitempty"`
	Observed  []Observation `json:"observed,omitempty"`
	// Notes say what was decided for this cloud and why (vlan_mode auto).
	Notes    []string `json:"notes,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	// Checks are the preflight findings (package preflight) the plan was
	// made with; SkippedChecks the checks overridden with --skip-check.
	Checks        []Check  `json:"checks,omitempty"`
	SkippedChecks []string `json:"skipped_checks,omitempty"`
}

// Check is one preflight finding as a plan records it.
type Check struct {
	Check    string        `json:"check"`
	Severity string        `json:"severity"`
	Address  specs.Address `json:"address,omitempty"`
	Position string        `json:"position"`
	Message  string        `json:"message"`
	Fix      string        `json:"fix"`
}

// Summary counts changes by action.
type Summary struct {
	Create  int `json:"create"`
	Update  int `json:"update"`
	Replace int `json:"replace"`
	Delete  int `json:"delete"`
}

// Summary counts the plan's changes.
func (p *Plan) Summary() Summary {
	var s Summary
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			s.Create++
		case Update:
			s.Update++
		case Replace:
			s.Replace++
		case Delete:
			s.Delete++
		}
	}
	return s
}

// HasChanges reports whether applying the plan would change the cloud.
func (p *Plan) HasChanges() bool {
	s := p.Summary()
	return s.Create+s.Update+s.Replace+s.Delete > 0
}

// Sort puts changes, conflicts and observations in address order
// (specs.Less), the order every renderer uses.
func (p *Plan) Sort() {
	sort.SliceStable(p.Changes, func(i, j int) bool { return specs.Less(p.Changes[i].Address, p.Changes[j].Address) })
	sort.SliceStable(p.Conflicts, func(i, j int) bool { return specs.Less(p.Conflicts[i].Address, p.Conflicts[j].Address) })
	sort.SliceStable(p.Observed, func(i, j int) bool { return specs.Less(p.Observed[i].Address, p.Observed[j].Address) })
}

// Change returns the change for an address.
func (p *Plan) Change(a specs.Address) (Change, bool) {
	for _, c := range p.Changes {
		if c.Address == a {
			return c, true
		}
	}
	return Change{}, false
}
