package cli

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/spf13/cobra"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
	"github.com/fuelplan/fuelplan/waits"
)

type waitOptions struct {
	cloudOptions
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
			return o.run(cmd.Context(), s, specArg(args))
		},
	}
	o.cloudOptions.addFlags(cmd.Flags())
	return cmd
}

func (o *waitOptions) run(ctx context.Context, s *streams, path string) (err error) {
	lab, err := loadLab(s, path)
	if err != nil {
		return err
	}
	return runWaits(ctx, s, &o.cloudOptions, lab, path)
}

// runWaits reads the lab's live state, resolves its waits against it and
// runs them; shared by wait and apply.
func runWaits(ctx context.Context, s *streams, co *cloudOptions, lab *specs.Lab, path string) (err error) {
	if !hasWaits(lab) {
		return nil
	}
	cloud, closeCloud, err := co.connect(ctx, lab, path, readOnly)
	if err != nil {
		return err
	}
	defer func() { err = joinClose(err, closeCloud()) }()
	reg := resources.Default()
	defer func() { err = joinClose(err, reg.Close()) }()
	st, err := engine.Read(ctx, cloud, reg, lab)
	if err != nil {
		return resources.Humanize(err)
	}
	checks := waits.Resolve(lab, st)
	fmt.Fprintf(s.out, "\nWaiting for %d readiness check(s)...\n", len(checks))
	rep := waits.Run(ctx, checks, waits.Options{Progress: s.out, Console: consoleReader(cloud)})
	if err := rep.Err(); err != nil {
		return withCode(ExitError, err)
	}
	fmt.Fprintf(s.out, "All %d wait(s) ready.\n", len(rep.Results))
	return nil
}

func hasWaits(lab *specs.Lab) bool {
	for _, a := range lab.Addresses() {
		if a.Kind() == specs.KindWait {
			return true
		}
	}
	return false
}

// consoleReader reads the tail of a server's console log through Nova.
func consoleReader(c *resources.Cloud) func(ctx context.Context, id string) (string, error) {
	return func(ctx context.Context, id string) (string, error) {
		return servers.ShowConsoleOutput(ctx, c.Compute, id, servers.ShowConsoleOutputOpts{Length: 500}).Extract()
	}
}
