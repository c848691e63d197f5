package cli

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/fuelplan/fuelplan/specs"
)

type graphOptions struct{ specPath string }

func newGraphCmd(s *streams) *cobra.Command {
	o := &graphOptions{}
	return &cobra.Command{
		Use:   "graph [SPEC]",
		Short: "Print the lab's resource dependency graph as Graphviz DOT",
		Long: `Graph compiles the spec and prints its resource DAG in DOT, one node per
resource address and one edge per dependency (dependency -> dependent). The
output is deterministic, so it can be kept under version control.`,
		Example: "  fuelplan graph examples/fuel-lab.yaml | dot -Tsvg > lab.svg",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Complete(args)
			return o.Run(s)
		},
	}
}

func (o *graphOptions) Complete(args []string) { o.specPath = specArg(args) }

func (o *graphOptions) Run(s *streams) error {
	spec, diags := specs.Load(o.specPath, os.LookupEnv)
	if diags.HasErrors() {
		diags.Sort()
		return withCode(ExitError, diags.Errors())
	}
	lab, err := specs.Compile(spec)
	if err != nil {
		return err
	}
	return lab.WriteDOT(s.out)
}
