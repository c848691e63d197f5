package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/engine/render"
	"github.com/fuelplan/fuelplan/engine/session"
	"github.com/fuelplan/fuelplan/specs"
)

type planOptions struct {
	cloudOptions
	out              string
	json             bool
	format           string
	detailedExitcode bool
	targets          []string
	excludes         []string
	phase            string
	skipChecks       []string

	specPath string
}

func newPlanCmd(s *streams) *cobra.Command {
	o := &planOptions{}
	cmd := &cobra.Command{
		Use:   "plan [SPEC]",
		Short: "Show what apply would change in the live cloud",
		Long: `Plan compiles the spec, reads the lab's objects from the live cloud (found by
the ownership tags fuelplan puts on everything it creates; there is no local
state file) and prints every change apply would make: + create, ~ update in
place, -/+ replace (with the field that forces it), - delete. Objects that use
a lab resource's name but are not the lab's are reported as conflicts and
never touched.

Exit codes: 0 success (with --detailed-exitcode: no changes); 1 error;
2 with --detailed-exitcode: changes present.`,
		Example: `  fuelplan plan examples/fuel-lab.yaml --cloud sim
  fuelplan plan lab.yaml --out lab.plan          # review, then: fuelplan apply lab.plan
  fuelplan plan lab.yaml --json | jq .summary
  fuelplan plan lab.yaml --target server.slave-03`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Complete(args)
			return o.Run(cmd.Context(), s)
		},
	}
	o.cloudOptions.addFlags(cmd.Flags())
	cmd.Flags().StringVar(&o.out, "out", "", "save the plan to `FILE`, for 'fuelplan apply FILE' (in the spec's folder or above it; an existing FILE must be a saved plan)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the plan as JSON (format: docs/plan-json.md); the same as --format json")
	cmd.Flags().StringVar(&o.format, "format", "text", "text, json, or markdown (for a pull-request comment: summary, a picture of the lab, changes per kind)")
	cmd.Flags().BoolVar(&o.detailedExitcode, "detailed-exitcode", false, "exit 2 when there are changes, 0 when none")
	cmd.Flags().StringArrayVar(&o.targets, "target", nil, "plan only ADDR and what it depends on (repeatable)")
	cmd.Flags().StringArrayVar(&o.excludes, "exclude", nil, "leave out ADDR and what depends on it (repeatable)")
	cmd.Flags().StringVar(&o.phase, "phase", "", `the master's boot phase, as for apply: "install" or "installed" (docs/boot.md)`)
	cmd.Flags().StringArrayVar(&o.skipChecks, "skip-check", nil, "leave out the findings of preflight check NAME; a plan saved with --out records it and apply honours it (repeatable; docs/checks.md)")
	return cmd
}

func (o *planOptions) Complete(args []string) { o.specPath = specArg(args) }

func (o *planOptions) Run(ctx context.Context, s *streams) error {
	if err := validSkips(o.skipChecks); err != nil {
		return err
	}
	lab, err := loadLab(s, o.specPath)
	if err != nil {
		return err
	}
	p, err := o.session(s, lab, o.specPath, readOnly).Plan(ctx, session.Request{
		Options:    engine.PlanOptions{Targets: o.targets, Excludes: o.excludes},
		Phase:      o.phase,
		SkipChecks: o.skipChecks,
	})
	if err != nil {
		return showFindings(s, err)
	}
	if o.out != "" {
		// Apply refuses a saved plan whose spec is elsewhere; say so now.
		if insideFolderOf(o.out, o.specPath) != nil {
			return fmt.Errorf("--out %s: save the plan in the spec's folder or above it (apply refuses a plan whose spec lies outside the plan file's folder)", o.out)
		}
		// Only a plan is replaced: --out lab.yaml must not eat the spec.
		if data, err := head(o.out, 4096); err == nil && !plan.IsPlanFile(data) {
			return fmt.Errorf("--out %s: the file exists and is not a saved plan; refusing to overwrite it", o.out)
		}
	}
	format := o.format
	if o.json {
		format = "json"
	}
	if err := printPlanAs(s.out, p, lab, format, s.noColor); err != nil {
		return err
	}
	if o.out != "" {
		if err := plan.Save(o.out, p); err != nil {
			return err
		}
		fmt.Fprintf(s.err, "Plan saved to %s: apply it with `fuelplan apply %s`.\n", o.out, o.out)
	}
	if o.detailedExitcode && (p.HasChanges() || len(p.Conflicts) > 0) {
		return withCode(ExitChanges, nil)
	}
	return nil
}

// printPlanAs prints p as text, json or markdown (with lab's picture).
func printPlanAs(w io.Writer, p *plan.Plan, lab *specs.Lab, format string, noColor bool) error {
	switch format {
	case "json":
		return render.JSON(w, p)
	case "markdown":
		title := fmt.Sprintf("fuelplan plan: lab `%s`", p.Lab)
		if p.Cloud != "" {
			title += fmt.Sprintf(" on cloud `%s`", p.Cloud)
		}
		return render.Markdown{Title: title, Lab: lab}.Plan(w, p)
	case "text":
		// The checks come above the diff: they say whether apply can start.
		printChecks(w, p)
		return render.Text{Color: useColor(w, noColor)}.Plan(w, p)
	}
	return fmt.Errorf("--format: want text, json or markdown, got %q", format)
}
