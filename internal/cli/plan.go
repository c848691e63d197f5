package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/engine/render"
	"github.com/fuelplan/fuelplan/resources"
)

type planOptions struct {
	cloudOptions
	out              string
	json             bool
	detailedExitcode bool
	noColor          bool
	targets          []string
	excludes         []string
	phase            string
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
			return o.run(cmd, s, specArg(args))
		},
	}
	o.cloudOptions.addFlags(cmd.Flags())
	cmd.Flags().StringVar(&o.out, "out", "", "save the plan to FILE, for `fuelplan apply FILE` (in the spec's folder or above it; an existing FILE must be a saved plan)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the plan as JSON (format: docs/plan-json.md)")
	cmd.Flags().BoolVar(&o.detailedExitcode, "detailed-exitcode", false, "exit 2 when there are changes, 0 when none")
	cmd.Flags().BoolVar(&o.noColor, "no-color", false, "never colour the output (NO_COLOR is honoured too)")
	cmd.Flags().StringArrayVar(&o.targets, "target", nil, "plan only ADDR and what it depends on (repeatable)")
	cmd.Flags().StringArrayVar(&o.excludes, "exclude", nil, "leave out ADDR and what depends on it (repeatable)")
	cmd.Flags().StringVar(&o.phase, "phase", "", `the master's boot phase, as for apply: "install" or "installed" (docs/boot.md)`)
	return cmd
}

func (o *planOptions) run(cmd *cobra.Command, s *streams, path string) (err error) {
	ctx := cmd.Context()
	lab, err := loadLab(s, path)
	if err != nil {
		return err
	}
	if lab, err = withPhase(lab, o.phase); err != nil {
		return err
	}
	cloud, closeCloud, err := o.connect(ctx, lab, path, readOnly)
	if err != nil {
		return err
	}
	defer func() { err = joinClose(err, closeCloud()) }()
	reg := resources.Default()
	defer func() { err = joinClose(err, reg.Close()) }()
	p, _, err := engine.Plan(ctx, cloud, reg, lab, engine.PlanOptions{Targets: o.targets, Excludes: o.excludes})
	if err != nil {
		return err
	}
	p.Cloud, p.Phase = o.name(lab), o.phase
	if o.out != "" {
		// Apply refuses a saved plan whose spec is elsewhere; say so now.
		if insideFolderOf(o.out, path) != nil {
			return fmt.Errorf("--out %s: save the plan in the spec's folder or above it (apply refuses a plan whose spec lies outside the plan file's folder)", o.out)
		}
		// Only a plan is replaced: --out lab.yaml must not eat the spec.
		if data, err := head(o.out, 4096); err == nil && !plan.IsPlanFile(data) {
			return fmt.Errorf("--out %s: the file exists and is not a saved plan; refusing to overwrite it", o.out)
		}
	}
	if err := printPlan(s.out, p, o.json, o.noColor); err != nil {
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

func printPlan(w io.Writer, p *plan.Plan, asJSON, noColor bool) error {
	if asJSON {
		return render.JSON(w, p)
	}
	return render.Text{Color: useColor(w, noColor)}.Plan(w, p)
}

// useColor: only on a terminal, never with NO_COLOR or --no-color.
func useColor(w io.Writer, noColor bool) bool {
	if noColor || os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func joinClose(err, cerr error) error {
	if cerr == nil {
		return err
	}
	if err == nil {
		return cerr
	}
	return fmt.Errorf("%w (and closing the cloud: %v)", err, cerr)
}
