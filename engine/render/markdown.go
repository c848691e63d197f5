package render

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/engine/render/topology"
	"github.com/fuelplan/fuelplan/specs"
)

// CommentLimit is the longest comment GitHub and GitLab accept, in
// characters.
const CommentLimit = 65536

// Markdown renders a plan for a pull-request comment: the summary first
// (counts, destructive changes, conflicts, warnings), the lab's picture
// with the changes marked, then the changes per kind in collapsed
// sections, kept under Limit characters with an honest note of what was
// left out.
type Markdown struct {
	// Title heads the comment: "fuelplan plan: lab `fuel`".
	Title string
	// Lab draws the picture; nil leaves it out.
	Lab *specs.Lab
	// Limit is the size limit in bytes (at most CommentLimit characters
	// then); 0 means CommentLimit.
	Limit int
}

// truncatedNote ends a comment that had to leave changes out; its length
// is reserved in the budget.
const truncatedNote = "\n> **Truncated** to fit a comment: %d of %d changes shown. `fuelplan plan` shows them all.\n"

// Plan writes p as markdown.
func (m Markdown) Plan(w io.Writer, p *plan.Plan) error {
	limit := m.Limit
	if limit <= 0 {
		limit = CommentLimit
	}
	var head bytes.Buffer
	m.summary(&head, p)
	if m.Lab != nil && (len(p.Changes) > 0 || len(p.Conflicts) > 0) {
		head.WriteString("\n```mermaid\n")
		if err := topology.Mermaid(&head, m.Lab, topology.FromPlan(p)); err != nil {
			return err
		}
		head.WriteString("```\n")
	}
	budget := limit - head.Len() - len(truncatedNote) - 20
	var body bytes.Buffer
	shown := 0
	for _, k := range kindsOf(p) {
		var changes []plan.Change
		for _, c := range p.Changes {
			if c.Address.Kind() == k {
				changes = append(changes, c)
			}
		}
		n := m.kindSection(&body, k, changes, budget-body.Len())
		shown += n
	}
	if _, err := w.Write(head.Bytes()); err != nil {
		return err
	}
	if body.Len() > 0 {
		fmt.Fprintf(w, "\n#### Changes by kind\n\n")
		if _, err := w.Write(body.Bytes()); err != nil {
			return err
		}
	}
	if shown < len(p.Changes) {
		fmt.Fprintf(w, truncatedNote, shown, len(p.Changes))
	}
	return nil
}

func (m Markdown) summary(b *bytes.Buffer, p *plan.Plan) {
	title := m.Title
	if title == "" {
		title = fmt.Sprintf("fuelplan plan: lab `%s`", p.Lab)
	}
	fmt.Fprintf(b, "### %s\n\n", title)
	s := p.Summary()
	switch {
	case !p.HasChanges() && len(p.Conflicts) == 0:
		b.WriteString("**No changes.** The lab matches the spec.\n")
	default:
		fmt.Fprintf(b, "**Plan: %d to create, %d to update, %d to replace, %d to delete.**\n", s.Create, s.Update, s.Replace, s.Delete)
	}
	if cs := Consequences(p); len(cs) > 0 {
		b.WriteString("\n**Destructive changes**\n\n")
		const most = 20
		for i, c := range cs {
			if i == most {
				fmt.Fprintf(b, "- … and %d more\n", len(cs)-most)
				break
			}
			fmt.Fprintf(b, "- `%s`: %s\n", c.Address, escapeMD(c.What))
		}
	}
	if len(p.Checks) > 0 {
		b.WriteString("\n**Preflight** (`fuelplan check`)\n\n")
		for _, c := range p.Checks {
			where := c.Position
			if where == "" {
				where = string(c.Address)
			}
			fmt.Fprintf(b, "- %s `%s`: %s", c.Severity, where, escapeMD(c.Message))
			if c.Fix != "" {
				fmt.Fprintf(b, " Fix: %s", escapeMD(c.Fix))
			}
			b.WriteString("\n")
		}
		if len(p.SkippedChecks) > 0 {
			fmt.Fprintf(b, "- skipped on purpose (`--skip-check`): %s\n", escapeMD(strings.Join(p.SkippedChecks, ", ")))
		}
	}
	if len(p.Conflicts) > 0 {
		fmt.Fprintf(b, "\n**Conflicts** (apply refuses until they are resolved)\n\n")
		for _, c := range p.Conflicts {
			fmt.Fprintf(b, "- `%s` [id `%s`]: %s\n", c.Address, c.ID, escapeMD(c.Message))
		}
	}
	if len(p.Warnings) > 0 {
		b.WriteString("\n**Warnings**\n\n")
		for _, w := range p.Warnings {
			fmt.Fprintf(b, "- %s\n", escapeMD(w))
		}
	}
}

// escapeMD keeps text from being read as markup or HTML in a comment.
func escapeMD(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;", "`", "'", "|", "\\|", "\n", " ").Replace(s)
}

// kindSection writes one kind's changes as a collapsed section holding a
// diff block, within budget bytes; it returns how many changes it shows.
func (m Markdown) kindSection(b *bytes.Buffer, k specs.Kind, changes []plan.Change, budget int) int {
	counts := map[plan.Action]int{}
	for _, c := range changes {
		counts[c.Action]++
	}
	var parts []string
	for _, a := range []plan.Action{plan.Create, plan.Update, plan.Replace, plan.Delete} {
		if counts[a] > 0 {
			parts = append(parts, fmt.Sprintf("%d to %s", counts[a], a.Word()))
		}
	}
	open := fmt.Sprintf("<details><summary><code>%s</code>: %s</summary>\n\n```diff\n", k, strings.Join(parts, ", "))
	const closing = "```\n\n</details>\n"
	if budget < len(open)+len(closing)+80 {
		return 0
	}
	var inner strings.Builder
	shown := 0
	for i, c := range changes {
		var one strings.Builder
		Text{}.change(&one, c)
		block := diffLines(one.String()) + "\n\n"
		left := len(changes) - i
		more := fmt.Sprintf("# … and %d more %s changes, over the comment size limit\n", left, k)
		if len(open)+inner.Len()+len(block)+len(more)+len(closing) > budget {
			inner.WriteString(more)
			break
		}
		inner.WriteString(block)
		shown++
	}
	b.WriteString(open)
	b.WriteString(inner.String())
	b.WriteString(closing)
	return shown
}

// diffLines moves each line's + or - to the first column, where the
// forges' diff highlighting looks for it.
func diffLines(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		t := strings.TrimLeft(l, " ")
		if t == "" || strings.HasPrefix(t, "-/+") {
			continue
		}
		if c := t[0]; c == '+' || c == '-' {
			pad := len(l) - len(t)
			lines[i] = string(c) + strings.Repeat(" ", pad) + t[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// kindsOf lists the kinds a plan changes, in build order.
func kindsOf(p *plan.Plan) []specs.Kind {
	has := map[specs.Kind]bool{}
	for _, c := range p.Changes {
		has[c.Address.Kind()] = true
	}
	var out []specs.Kind
	for _, k := range specs.Kinds {
		if has[k] {
			out = append(out, k)
		}
	}
	return out
}
