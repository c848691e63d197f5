package cli

import (
	"context"

	"github.com/spf13/cobra"
)

type waitOptions struct {
	cloudOptions
	specPath string
}

func newWaitCmd(s *streams) *cobra.Command {
	o := &waitOptions{}
	cmd := &cobra.Command{
		Use:   "wait [SPEC]",
		Short: "Wait until the lab is ready: run the spec's readiness checks",
		Long: `Wait runs the spec's waits against the lab as it is on the cloud: an HTTP URL
answering a status (Fuel's API), Fuel discovering the slaves (matched by the MACs
of their admin ports), a TCP port accepting connections, a marker in a server's
console log. URLs may name the master's addresses ({{master.floating_ip}},
{{master.fixed_ip}}, {{master.ip}}), read from the cloud. Each check polls at
its interval until its timeout; a wait that comes after another starts once that
one is ready. apply runs the waits itself after it succeeds (unless
--skip-waits); wait runs them again, e.g. after an interrupted apply.

Passwords (such as Fuel's, from ${env:FUEL_PASSWORD}) are sent to Fuel's
Keystone and never printed.

Exit codes: 0 every wait ready; 1 an error, or a wait that never became ready
(each is named, with what it last saw).`,
		Example: `  FUEL_PASSWORD=... fuelplan wait examples/fuel-lab.yaml
  fuelplan apply lab.yaml --skip-waits && fuelplan wait lab.yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Complete(args)
			return o.Run(cmd.Context(), s)
		},
	}
	o.cloudOptions.addFlags(cmd.Flags())
	return cmd
}

func (o *waitOptions) Complete(args []string) { o.specPath = specArg(args) }

func (o *waitOptions) Run(ctx context.Context, s *streams) error {
	lab, err := loadLab(s, o.specPath)
	if err != nil {
		return err
	}
	_, err = o.session(s, lab, o.specPath, readOnly).Wait(ctx)
	return err
}
