package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/fuelplan/fuelplan/engine/render/topology"
	"github.com/fuelplan/fuelplan/specs"
)

// graphOptions are `fuelplan graph`'s.
type graphOptions struct {
	format   string
	specPath string
}

func newGraphCmd(s *streams) *cobra.Command {
	o := &graphOptions{}
	cmd := &cobra.Command{
		Use:   "graph [SPEC]",
		Short: "Print the lab as a picture: its resource DAG (DOT) or its topology (Mermaid)",
		Long: `Graph compiles the spec and prints a picture of the lab, deterministically, so
it can be kept under version control:

  --format dot      the resource DAG in Graphviz DOT, one node per resource
                    address and one edge per dependency (dependency -> dependent)
  --format mermaid  the lab's topology as a Mermaid flowchart (external
                    network, router, networks, master, slaves; more than 8
                    slaves are drawn as ranges), the picture plan --format
                    markdown puts in pull-request comments`,
		Example: "  fuelplan graph examples/fuel-lab.yaml | dot -Tsvg > lab.svg\n  fuelplan graph --format mermaid examples/fuel-lab.yaml",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Complete(args)
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(s)
		},
	}
	cmd.Flags().StringVar(&o.format, "format", "dot", "dot (the resource DAG) or mermaid (the topology)")
	return cmd
}

func (o *graphOptions) Complete(args []string) { o.specPath = specArg(args) }

func (o *graphOptions) Validate() error {
	switch o.format {
	case "dot", "mermaid":
		return nil
	}
	return fmt.Errorf("--format: want dot or mermaid, got %q", o.format)
}

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
	if o.format == "mermaid" {
		return topology.Mermaid(s.out, lab, nil)
	}
	return lab.WriteDOT(s.out)
}
