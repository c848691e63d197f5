package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

type unlockOptions struct {
	cloudOptions
	specPath string
}

func newUnlockCmd(s *streams) *cobra.Command {
	o := &unlockOptions{}
	cmd := &cobra.Command{
		Use:   "unlock [SPEC]",
		Short: "Remove the lab's lock left by a run that died",
		Long: `Unlock removes the lab lock that apply and destroy hold on the cloud, whoever
holds it. Use it only when the holder named by apply's error is known to be
dead (a killed CI job, a lost laptop): a live holder loses its lock and stops
with an error at its next renewal.`,
		Example: "  fuelplan unlock examples/fuel-lab.yaml --cloud sim",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Complete(args)
			return o.Run(cmd.Context(), s)
		},
	}
	o.addFlags(cmd.Flags())
	return cmd
}

func (o *unlockOptions) Complete(args []string) { o.specPath = specArg(args) }

func (o *unlockOptions) Run(ctx context.Context, s *streams) error {
	lab, err := loadLab(s, o.specPath)
	if err != nil {
		return err
	}
	holder, err := o.session(s, lab, o.specPath, simAccess{write: true, progress: s.err}).Unlock(ctx)
	if err != nil {
		return err
	}
	if holder == "" {
		fmt.Fprintf(s.out, "Lab %q was not locked.\n", lab.Name)
	} else {
		fmt.Fprintf(s.out, "Removed lab %q's lock held by %s.\n", lab.Name, holder)
	}
	return nil
}
