package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/fuelplan/fuelplan/internal/lablock"
)

func newUnlockCmd(s *streams) *cobra.Command {
	o := &cloudOptions{}
	cmd := &cobra.Command{
		Use:   "unlock [SPEC]",
		Short: "Remove the lab's lock left by a run that died",
		Long: `Unlock removes the lab lock that apply and destroy hold on the cloud, whoever
holds it. Use it only when the holder named by apply's error is known to be
dead (a killed CI job, a lost laptop): a live holder loses its lock and stops
with an error at its next renewal.`,
		Example: "  fuelplan unlock examples/fuel-lab.yaml --cloud sim",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			path := specArg(args)
			lab, err := loadLab(s, path)
			if err != nil {
				return err
			}
			cloud, closeCloud, err := o.connect(cmd.Context(), lab, path, simAccess{write: true, progress: s.err})
			if err != nil {
				return err
			}
			defer func() { err = joinClose(err, closeCloud()) }()
			holder, err := lablock.Unlock(cmd.Context(), cloud, lab.Name)
			if err != nil {
				return err
			}
			if holder == "" {
				fmt.Fprintf(s.out, "Lab %q was not locked.\n", lab.Name)
			} else {
				fmt.Fprintf(s.out, "Removed lab %q's lock held by %s.\n", lab.Name, holder)
			}
			return nil
		},
	}
	o.addFlags(cmd.Flags())
	return cmd
}
