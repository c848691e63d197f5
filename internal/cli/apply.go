package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/engine/session"
	"github.com/fuelplan/fuelplan/specs"
)

// changeOptions are the flags apply and destroy share.
type changeOptions struct {
	cloudOptions
	autoApprove bool
	parallelism int
	kindLimit   map[string]int
	lockTimeout time.Duration
	verbose     bool
	targets     []string
	excludes    []string
}

func (o *changeOptions) addFlags(cmd *cobra.Command, targets bool) {
	o.cloudOptions.addFlags(cmd.Flags())
	cmd.Flags().BoolVar(&o.autoApprove, "auto-approve", false, "do not ask for confirmation")
	cmd.Flags().IntVar(&o.parallelism, "parallelism", 10, "operations in flight at once (port creates sent in one bulk request take one)")
	cmd.Flags().StringToIntVar(&o.kindLimit, "kind-limit", nil, "cap one kind's operations in flight below --parallelism, e.g. server=20 (repeatable; default "+defaultKindLimits()+")")
	cmd.Flags().DurationVar(&o.lockTimeout, "lock-timeout", 0, "wait this long for the lab lock held by another apply, and with --cloud sim for the simulated cloud's state (0: fail at once)")
	cmd.Flags().BoolVar(&o.verbose, "verbose", false, "print a line as each operation starts and ends (default: a live display per kind on a terminal, else a summary line every 30s)")
	if targets {
		cmd.Flags().StringArrayVar(&o.targets, "target", nil, "apply only ADDR and what it depends on (repeatable)")
		cmd.Flags().StringArrayVar(&o.excludes, "exclude", nil, "leave out ADDR and what depends on it (repeatable)")
	}
}

func (o *changeOptions) validate() error {
	for _, k := range slices.Sorted(maps.Keys(o.kindLimit)) {
		if n := o.kindLimit[k]; !slices.Contains(specs.Kinds, specs.Kind(k)) || n < 1 {
			return fmt.Errorf("--kind-limit %s=%d: want KIND=N with N >= 1 and KIND one of %v", k, n, specs.Kinds)
		}
	}
	return nil
}

// session is the work on lab the flags ask for.
func (o *changeOptions) session(s *streams, lab *specs.Lab, specPath string) *session.Session {
	ss := o.cloudOptions.session(s, lab, specPath, simAccess{write: true, lockWait: o.lockTimeout, progress: s.err})
	ss.LockWait, ss.Parallelism, ss.KindLimits = o.lockTimeout, o.parallelism, o.kindLimit
	ss.View = &view{s: s, verbose: o.verbose}
	if !o.autoApprove {
		ss.Confirm = confirmOn(s)
	}
	return ss
}

// applyOptions are apply's flags and what Complete makes of its argument.
type applyOptions struct {
	changeOptions
	phase     string
	skipWaits bool
	// skipChecks are the preflight checks overridden (--skip-check).
	skipChecks []string

	specPath string     // the spec to apply (a saved plan's own)
	saved    *plan.Plan // set when the argument is a saved plan
}

func newApplyCmd(s *streams) *cobra.Command {
	o := &applyOptions{}
	cmd := &cobra.Command{
		Use:   "apply [SPEC | PLANFILE]",
		Short: "Make the live cloud match the spec",
		Long: `Apply plans (as plan does), shows the plan and asks for confirmation, then
carries it out in parallel along the dependency graph. Running it again
converges: it picks up what an interrupted or failed run left.

Given a plan file saved by 'fuelplan plan --out', it applies exactly that plan,
without asking, after checking that neither the spec nor any object the plan
read has changed since; otherwise it refuses, names what moved, and leaves the
cloud as it was.

Apply holds the lab's lock on the cloud while it works, so two applies of one
lab never race; a lock left by a killed run of this host is taken over. Apply
then waits, saying so, until a minute after that run died before it reads the
lab: a create the killed run had in flight may still land, and read too early
it would be created twice (Ctrl-C ends the wait with nothing changed and
leaves the lock to the killed run, so the next run waits the rest). Ctrl-C
stops starting operations, lets running ones finish and reports what was left
undone; apply again to finish. A lock lost meanwhile (fuelplan unlock, another
holder) stops apply the same way, saying who took it.

After a successful apply the spec's readiness checks run (see 'fuelplan wait');
--skip-waits leaves them out. With '--phase installed' the master is rebuilt
from the disk Fuel installed onto, without its ISO cdrom (docs/boot.md).

Without a terminal, apply needs --auto-approve or a plan file.`,
		Example: `  fuelplan apply examples/fuel-lab.yaml --cloud sim --auto-approve
  fuelplan plan lab.yaml --out lab.plan && fuelplan apply lab.plan
  fuelplan apply examples/fuel-lab.yaml --phase installed   # once Fuel has installed
  fuelplan apply lab.yaml --kind-limit server=5 --lock-timeout 10m`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context(), s)
		},
	}
	o.addFlags(cmd, true)
	cmd.Flags().StringVar(&o.phase, "phase", "", `the master's boot phase: "install" (as the spec says) or "installed" (rebuild it from its installed disk)`)
	cmd.Flags().BoolVar(&o.skipWaits, "skip-waits", false, "do not run the spec's readiness checks after apply")
	cmd.Flags().StringArrayVar(&o.skipChecks, "skip-check", nil, "start even though preflight check NAME finds errors (repeatable; docs/checks.md)")
	return cmd
}

// Complete reads the argument: a spec, or a saved plan that names its spec
// and, unless --cloud says otherwise, its cloud.
func (o *applyOptions) Complete(args []string) error {
	o.specPath = specArg(args)
	data, err := head(o.specPath, 4096)
	if err != nil {
		return err
	}
	if !plan.IsPlanFile(data) {
		return nil
	}
	if o.phase != "" {
		return errors.New("--phase cannot change a saved plan: make a new plan")
	}
	if o.saved, err = plan.Load(o.specPath); err != nil {
		return err
	}
	if err := checkSavedSpec(o.specPath, o.saved); err != nil {
		return err
	}
	o.specPath = o.saved.SpecFile
	if o.cloud == "" {
		o.cloud = o.saved.Cloud
	}
	return nil
}

// Validate refuses flags that would change a saved plan, and bad caps.
func (o *applyOptions) Validate() error {
	if o.saved != nil && (len(o.targets) > 0 || len(o.excludes) > 0) {
		return errors.New("--target/--exclude cannot change a saved plan: make a new plan with them")
	}
	if o.saved != nil && len(o.skipChecks) > 0 {
		return errors.New("--skip-check cannot change a saved plan: make a new plan with it (fuelplan plan --skip-check NAME --out FILE)")
	}
	if o.saved != nil {
		if err := validSkips(o.saved.SkippedChecks); err != nil {
			return fmt.Errorf("the saved plan: %w", err)
		}
	}
	if err := validSkips(o.skipChecks); err != nil {
		return err
	}
	return o.changeOptions.validate()
}

func (o *applyOptions) Run(ctx context.Context, s *streams) error {
	lab, err := loadLab(s, o.specPath)
	if err != nil {
		return err
	}
	_, err = o.session(s, lab, o.specPath).Apply(ctx, session.Request{
		Options:    engine.PlanOptions{Targets: o.targets, Excludes: o.excludes},
		Phase:      o.phase,
		Saved:      o.saved,
		Waits:      !o.skipWaits,
		SkipChecks: o.skipChecks,
	})
	return showFindings(s, err)
}

// destroyOptions are destroy's flags.
type destroyOptions struct {
	changeOptions
	specPath string
}

func newDestroyCmd(s *streams) *cobra.Command {
	o := &destroyOptions{}
	cmd := &cobra.Command{
		Use:   "destroy [SPEC]",
		Short: "Delete everything the lab owns",
		Long: `Destroy deletes every object that carries the lab's ownership mark, in reverse
dependency order (servers, then floating IPs and router interfaces, then ports,
subnets, networks and the router), and nothing else. Objects marked
'protect: true' in the spec are left in place. Lookups (the external network,
existing images and flavors) are never deleted, nor needed: a lab whose image,
flavor or external network is gone from the cloud is destroyed all the same.
What a killed apply had in flight can land after destroy read the lab: when
a delete stays in use, and once more when every delete went through, destroy
reads the lab again and deletes what it had not seen, saying so. A destroy
that takes the lab lock over from a killed run keeps reading the lab at its
end until a minute after that run died, deleting what its requests still
land, and says so; with a free lock it does not wait. A destroy that did not
finish (a failure, Ctrl-C) says what is left; destroy again to finish.`,
		Example: `  fuelplan destroy examples/fuel-lab.yaml --cloud sim --auto-approve
  fuelplan destroy lab.yaml --parallelism 20`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Complete(args)
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context(), s)
		},
	}
	o.addFlags(cmd, false)
	return cmd
}

func (o *destroyOptions) Complete(args []string) { o.specPath = specArg(args) }

func (o *destroyOptions) Validate() error { return o.changeOptions.validate() }

func (o *destroyOptions) Run(ctx context.Context, s *streams) error {
	lab, err := loadLab(s, o.specPath)
	if err != nil {
		return err
	}
	_, err = o.session(s, lab, o.specPath).Apply(ctx, session.Request{Options: engine.PlanOptions{Destroy: true}})
	return err
}

// checkSavedSpec vets the spec a saved plan names before anything reads
// it as a spec: a plan file from a pull request could name /etc/passwd or
// a CI secret, and a spec's diagnostics would print it. The spec must lie
// inside the plan file's folder and have the bytes the plan was made
// from; neither error quotes the file.
func checkSavedSpec(planPath string, saved *plan.Plan) error {
	if err := insideFolderOf(planPath, saved.SpecFile); err != nil {
		return fmt.Errorf("%s: the plan's spec file %w: refused", planPath, err)
	}
	data, err := specs.ReadFile(saved.SpecFile)
	if err != nil {
		return fmt.Errorf("%s: the plan's spec file: %w", planPath, err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != saved.SpecHash {
		return fmt.Errorf("%s changed since the plan was made: make a new plan", saved.SpecFile)
	}
	return nil
}

// insideFolderOf checks that spec names a file inside the folder holding
// planPath (symbolic links followed), the rule for a saved plan's spec.
func insideFolderOf(planPath, spec string) error {
	dir, err := filepath.EvalSymlinks(filepath.Dir(planPath))
	if err == nil {
		dir, err = filepath.Abs(dir)
	}
	if err != nil {
		return fmt.Errorf("cannot be checked (%v)", err)
	}
	target, err := filepath.EvalSymlinks(spec)
	if err == nil {
		target, err = filepath.Abs(target)
	}
	if err != nil {
		return errors.New("cannot be found")
	}
	if rel, err := filepath.Rel(dir, target); err != nil || !filepath.IsLocal(rel) {
		return errors.New("is outside the plan file's folder")
	}
	return nil
}

// defaultKindLimits renders the registered default caps for --help
// ("image=2"), in kind order.
func defaultKindLimits() string {
	var out []string
	for _, k := range specs.Kinds {
		if n, ok := engine.DefaultKindLimits[string(k)]; ok {
			out = append(out, fmt.Sprintf("%s=%d", k, n))
		}
	}
	return strings.Join(out, ",")
}

// head reads at most n bytes of a file: enough to tell a plan from a spec
// without reading /dev/zero to the end of memory.
func head(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, n))
}
