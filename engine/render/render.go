// Package render prints plans: a human view in the spirit of `terraform
// plan`, and a versioned JSON view. Both render the same plan value and
// neither computes anything, so what is printed is exactly what is saved.
package render

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/fuelplan/fuelplan/engine/plan"
)

// Text options.
type Text struct {
	// Color uses ANSI colours; callers set it only for a terminal without NO_COLOR.
	Color bool
}

const (
	green   = "\x1b[32m"
	yellow  = "\x1b[33m"
	red     = "\x1b[31m"
	magenta = "\x1b[35m"
	cyan    = "\x1b[36m"
	bold    = "\x1b[1m"
	reset   = "\x1b[0m"
)

func (t Text) paint(code, s string) string {
	if !t.Color {
		return s
	}
	return code + s + reset
}

func (t Text) glyph(a plan.Action) string {
	switch a {
	case plan.Create:
		return t.paint(green, "  +")
	case plan.Update:
		return t.paint(yellow, "  ~")
	case plan.Replace:
		return t.paint(magenta, "-/+")
	case plan.Delete:
		return t.paint(red, "  -")
	}
	return "   "
}

func headline(c plan.Change) string {
	switch c.Action {
	case plan.Create:
		return "will be created"
	case plan.Update:
		return "will be updated in place"
	case plan.Replace:
		return "must be replaced"
	case plan.Delete:
		return "will be deleted"
	}
	return "unchanged"
}

// unknown is printed for a value only the cloud will decide.
const unknown = "(known after apply)"

func quote(v string) string {
	if v == plan.Sensitive || v == "" {
		return v
	}
	return fmt.Sprintf("%q", v)
}

// value prints one value as what it is: numbers and booleans bare, lists
// as lists, strings quoted, a secret as (sensitive).
func value(typ, v string) string {
	if v == plan.Sensitive {
		return v
	}
	switch typ {
	case "number", "bool":
		return v
	case "list", "devices", "lines":
		items := splitList(typ, v)
		for i, it := range items {
			items[i] = fmt.Sprintf("%q", it)
		}
		return "[" + strings.Join(items, ", ") + "]"
	}
	return quote(v)
}

func splitList(typ, v string) []string {
	if v == "" {
		return []string{}
	}
	switch typ {
	case "devices":
		return strings.Split(v, ";")
	case "lines":
		return strings.Split(v, "\n")
	}
	return strings.Split(v, ",")
}

// absent reports a value the field does not have (a rule without ports, a
// network without an MTU); a create leaves such fields out. An empty list
// is a value: a port with no security groups.
func absent(f plan.FieldChange) bool {
	return f.After == "" && !f.AfterUnknown && f.Type != "list"
}

// after prints a field's new value; a value known only after apply is
// printed as what it will refer to, then unknown.
func after(f plan.FieldChange) string {
	switch {
	case !f.AfterUnknown:
		return value(f.Type, f.After)
	case f.After == "":
		return unknown
	}
	return value(f.Type, f.After) + " " + unknown
}

// device reads one block device, "iso=cdrom/ide/0", as a line:
// "iso   cdrom  bus ide  boot index 0". A layout too long for Nova's
// metadata is kept as its hash and shown as it is.
func device(d string) string {
	name, spec, ok := strings.Cut(d, "=")
	parts := strings.Split(spec, "/")
	if !ok || len(parts) != 3 {
		return d
	}
	bus := parts[1]
	if bus == "" {
		bus = "default"
	}
	boot := "not bootable"
	if parts[2] != "" && parts[2] != "-1" {
		boot = "boot index " + parts[2]
	}
	return fmt.Sprintf("%-8s %-6s bus %-8s %s", name, parts[0], bus, boot)
}

// multiline reports a type printed one item per line.
func multiline(typ string) bool { return typ == "devices" || typ == "lines" }

// lines writes a multi-line value (block devices, a patch's commands) one
// item per line; for a change, the items that go are marked -, those that
// come +.
func (t Text) lines(b *strings.Builder, g, name string, width int, f plan.FieldChange, create bool) {
	if f.Sensitive {
		fmt.Fprintf(b, "      %s %-*s = %s\n", g, width, name, plan.Sensitive)
		return
	}
	suffix := ""
	if f.ForcesReplace && !create {
		suffix = t.paint(red, " # forces replacement")
	}
	fmt.Fprintf(b, "      %s %-*s = [%s\n", g, width, name, suffix)
	item := func(s string) string { return s }
	if f.Type == "devices" {
		item = device
	}
	before, after := splitList(f.Type, f.Before), splitList(f.Type, f.After)
	for _, d := range before {
		if !slices.Contains(after, d) {
			fmt.Fprintf(b, "          %s %s\n", t.paint(red, "-"), item(d))
		}
	}
	for _, d := range after {
		mark := " "
		if !create && !slices.Contains(before, d) {
			mark = t.paint(green, "+")
		}
		fmt.Fprintf(b, "          %s %s\n", mark, item(d))
	}
	fmt.Fprintf(b, "        ]\n")
}

// Plan writes the human view of p.
func (t Text) Plan(w io.Writer, p *plan.Plan) error {
	var b strings.Builder
	if len(p.Changes) == 0 && len(p.Conflicts) == 0 {
		b.WriteString("No changes. The lab matches the spec.\n")
		t.warnings(&b, p)
		_, err := io.WriteString(w, b.String())
		return err
	}
	if len(p.Changes) > 0 {
		fmt.Fprintf(&b, "fuelplan will perform the following actions on lab %q:\n", p.Lab)
	}
	for _, c := range p.Changes {
		b.WriteString("\n")
		t.change(&b, c)
	}
	if len(p.Conflicts) > 0 {
		fmt.Fprintf(&b, "\nConflicts: fuelplan will not touch these objects, and apply refuses until they are resolved:\n")
		for _, c := range p.Conflicts {
			fmt.Fprintf(&b, "  %s %s [id=%s]: %s\n", t.paint(red, "!"), c.Address, c.ID, c.Message)
		}
	}
	s := p.Summary()
	fmt.Fprintf(&b, "\n%s %d to create, %d to update, %d to replace, %d to delete.\n",
		t.paint(bold, "Plan:"), s.Create, s.Update, s.Replace, s.Delete)
	t.warnings(&b, p)
	_, err := io.WriteString(w, b.String())
	return err
}

// Diff writes what changing a spec does (fuelplan diff): the destructive
// changes first, one line per root cause, then every change as plan shows
// it.
func (t Text) Diff(w io.Writer, title string, p *plan.Plan) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", t.paint(bold, title))
	if !p.HasChanges() {
		b.WriteString("\nNo changes: both versions build the same lab.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	if cs := Consequences(p); len(cs) > 0 {
		fmt.Fprintf(&b, "\n%s\n", t.paint(red, "Destructive changes:"))
		for _, c := range cs {
			fmt.Fprintf(&b, "  %s\n", c)
		}
	}
	b.WriteString("\nChanging the spec would:\n")
	for _, c := range p.Changes {
		b.WriteString("\n")
		t.change(&b, c)
	}
	s := p.Summary()
	fmt.Fprintf(&b, "\n%s %d to create, %d to update, %d to replace, %d to delete.\n",
		t.paint(bold, "Diff:"), s.Create, s.Update, s.Replace, s.Delete)
	t.warnings(&b, p)
	_, err := io.WriteString(w, b.String())
	return err
}

// change writes one resource's change.
func (t Text) change(b *strings.Builder, c plan.Change) {
	note := ""
	if c.Action == plan.Delete && len(c.Reasons) > 0 {
		rs := make([]string, len(c.Reasons))
		for i, r := range c.Reasons {
			rs[i] = r.String()
		}
		note = " (" + strings.Join(rs, "; ") + ")"
	}
	fmt.Fprintf(b, "  # %s %s%s\n", c.Address, headline(c), note)
	id := ""
	if c.ID != "" {
		id = " [id=" + c.ID + "]"
	}
	fmt.Fprintf(b, "%s %s %q%s\n", t.glyph(c.Action), c.Address, c.Name, id)
	width := 0
	for _, f := range c.Fields {
		width = max(width, len(f.Name))
	}
	for _, f := range c.Fields {
		switch {
		case c.Action == plan.Create && absent(f):
			// Nothing to say about a field without a value.
		case c.Action == plan.Create && multiline(f.Type):
			t.lines(b, t.paint(green, "+"), f.Name, width, f, true)
		case c.Action == plan.Create:
			fmt.Fprintf(b, "      %s %-*s = %s\n", t.paint(green, "+"), width, f.Name, after(f))
		case multiline(f.Type):
			t.lines(b, t.paint(yellow, "~"), f.Name, width, f, false)
		default:
			g := t.paint(yellow, "~")
			switch {
			case f.Before == "":
				g = t.paint(green, "+")
			case f.After == "" && !f.AfterUnknown:
				g = t.paint(red, "-")
			}
			line := fmt.Sprintf("      %s %-*s = %s -> %s", g, width, f.Name, orNull(f.Type, f.Before), afterOrNull(f))
			if f.AfterUnknown && f.After != "" && f.After == f.Before {
				// The same resource, recreated: only its ID changes.
				line = fmt.Sprintf("      %s %-*s = %s (gets a new ID)", g, width, f.Name, value(f.Type, f.After))
			}
			if f.ForcesReplace {
				line += t.paint(red, " # forces replacement")
			}
			b.WriteString(line + "\n")
		}
	}
	for _, n := range c.Notes {
		fmt.Fprintf(b, "      # %s\n", n)
	}
	if c.Action == plan.Replace {
		for _, r := range c.Reasons {
			// Forcing fields are marked on their lines already.
			if !r.Forced() {
				fmt.Fprintf(b, "      # %s\n", r)
			}
		}
	}
}

func orNull(typ, v string) string {
	if v == "" && typ != "list" {
		return "null"
	}
	return value(typ, v)
}

func afterOrNull(f plan.FieldChange) string {
	if f.After == "" && !f.AfterUnknown {
		return orNull(f.Type, "")
	}
	return after(f)
}

func (t Text) warnings(b *strings.Builder, p *plan.Plan) {
	for _, n := range p.Notes {
		fmt.Fprintf(b, "%s %s\n", t.paint(cyan, "Note:"), n)
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(b, "%s %s\n", t.paint(yellow, "Warning:"), w)
	}
}

// JSONPlan is the --json document: the plan and its summary. Its fields
// are documented in docs/plan-json.md; FormatVersion says which version.
type JSONPlan struct {
	*plan.Plan
	Summary    plan.Summary `json:"summary"`
	HasChanges bool         `json:"has_changes"`
}

// JSON writes p as indented JSON.
func JSON(w io.Writer, p *plan.Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(JSONPlan{Plan: p, Summary: p.Summary(), HasChanges: p.HasChanges()})
}
