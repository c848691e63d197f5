package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/fuelplan/fuelplan/specs"
)

// defaultSpec is the spec file commands read when none is named.
const defaultSpec = "fuelplan.yaml"

func specArg(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return defaultSpec
}

type validateOptions struct{ specPath string }

func newValidateCmd(s *streams) *cobra.Command {
	o := &validateOptions{}
	return &cobra.Command{
		Use:   "validate [SPEC]",
		Short: "Check a spec and report every problem as FILE:LINE:COL: message",
		Long: `Validate decodes and checks a spec without talking to any cloud.
It prints every problem found, one per line, as FILE:LINE:COL: message, and
exits 1 when there is any error; warnings alone exit 0. SPEC defaults to
./fuelplan.yaml.`,
		Example: `  fuelplan validate examples/fuel-lab.yaml
  fuelplan validate            # ./fuelplan.yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Complete(args)
			return o.Run(s)
		},
	}
}

func (o *validateOptions) Complete(args []string) { o.specPath = specArg(args) }

func (o *validateOptions) Run(s *streams) error {
	spec, diags := specs.Load(o.specPath, os.LookupEnv)
	diags.Sort()
	for _, d := range diags {
		fmt.Fprintln(s.out, d)
	}
	if diags.HasErrors() {
		return withCode(ExitError, nil)
	}
	lab, err := specs.Compile(spec)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "%s: valid: lab %q, %d resources\n", o.specPath, lab.Name, lab.Len())
	return nil
}
