package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/engine/session"
	"github.com/fuelplan/fuelplan/preflight"
)

type checkOptions struct {
	cloudOptions
	phase string
}

func newCheckCmd(s *streams) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check [SPEC]",
		Short: "Find, before apply, what would make it fail or build a lab Fuel cannot use",
		Long: `Check reads the live cloud (as plan does, changing nothing) and runs the
preflight checks: local files (images, SSH keys), quotas against what the
plan would add, looked-up objects, flavor and volume sizes against their
images, the API extensions the spec relies on, Fuel's needs on the admin
network, nested VLANs, rights, and that every compute node an SSH patch
would reach answers, shows the host key known_hosts has for it and takes
the inventory's key (connect and log in only: nothing runs). Every finding
names its check, the spec position, what is wrong and how to fix it;
docs/checks.md lists the checks.

plan runs the same checks and prints them above the diff; apply refuses to
start on an error unless --skip-check NAME overrides that check.

Exit codes: 0 no errors (warnings allowed); 1 errors found or check failed.`,
		Example: `  fuelplan check examples/fuel-lab.yaml --cloud sim
  fuelplan check lab.yaml --cloud mycloud`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), s, specArg(args))
		},
	}
	o.cloudOptions.addFlags(cmd.Flags())
	cmd.Flags().StringVar(&o.phase, "phase", "", `the master's boot phase, as for apply: "install" or "installed" (docs/boot.md)`)
	return cmd
}

func (o *checkOptions) run(ctx context.Context, s *streams, path string) error {
	lab, err := loadLab(s, path)
	if err != nil {
		return err
	}
	rep, err := o.session(s, lab, path, readOnly).Check(ctx, session.Request{Phase: o.phase})
	if rep == nil {
		return err
	}
	printReport(s.out, rep, true)
	if rep.Errors() > 0 {
		return withCode(ExitError, nil)
	}
	return err
}

// printChecks prints a plan's findings and their summary, nothing when
// there are none (a clean plan stays as it was).
func printChecks(w io.Writer, p *plan.Plan) {
	if len(p.Checks) == 0 && len(p.SkippedChecks) == 0 {
		return
	}
	rep := &preflight.Report{Skipped: p.SkippedChecks}
	for _, c := range p.Checks {
		fmt.Fprintf(w, "%s: %s: [%s] %s\n    fix: %s\n", c.Position, c.Severity, c.Check, c.Message, c.Fix)
		rep.Findings = append(rep.Findings, preflight.Finding{Severity: preflight.Severity(c.Severity)})
	}
	fmt.Fprintln(w, rep.Summary())
}

// printReport prints every finding and the summary, and with quotas the
// file and quota lines first: check shows them all; plan and apply print nothing
// when nothing was found, so a clean plan stays as it was.
func printReport(w io.Writer, rep *preflight.Report, quotas bool) {
	if quotas {
		for _, f := range rep.Files {
			fmt.Fprintln(w, "file:", f)
		}
		for _, q := range rep.Quotas {
			fmt.Fprintln(w, "quota:", q)
		}
	} else if len(rep.Findings) == 0 && len(rep.Skipped) == 0 {
		return
	}
	for _, f := range rep.Findings {
		fmt.Fprintln(w, f)
	}
	fmt.Fprintln(w, rep.Summary())
}

// showFindings prints the findings a refusal carries (no plan could be
// made to show them above: a looked-up object is missing), on the error
// stream that the refusal itself goes to, and returns err.
func showFindings(s *streams, err error) error {
	var ce *session.CheckError
	if errors.As(err, &ce) && ce.Report != nil {
		printReport(s.err, ce.Report, false)
	}
	return err
}

// validSkips checks --skip-check names.
func validSkips(skip []string) error {
	for _, n := range skip {
		if !preflight.ValidCheck(n) {
			return fmt.Errorf("--skip-check %s: no such check; the checks are %v (docs/checks.md)", n, preflight.Checks)
		}
	}
	return nil
}
