package cli

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/engine/render"
	"github.com/fuelplan/fuelplan/internal/lablock"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// changeOptions are shared by apply and destroy.
type changeOptions struct {
	cloudOptions
	autoApprove bool
	parallelism int
	kindLimit   map[string]int
	lockTimeout time.Duration
	noColor     bool
	targets     []string
	excludes    []string
	// apply only: the master's boot phase (docs/boot.md), and whether the
	// spec's waits run once apply has succeeded.
	phase     string
	skipWaits bool
	// applied is the spec a successful apply made real, for the waits.
	applied string
}

func (o *changeOptions) addFlags(cmd *cobra.Command, targets bool) {
	o.cloudOptions.addFlags(cmd.Flags())
	cmd.Flags().BoolVar(&o.autoApprove, "auto-approve", false, "do not ask for confirmation")
	cmd.Flags().IntVar(&o.parallelism, "parallelism", 10, "operations in flight at once")
	cmd.Flags().StringToIntVar(&o.kindLimit, "kind-limit", nil, "cap one kind's operations in flight below --parallelism, e.g. server=20 (repeatable; default "+defaultKindLimits()+")")
	cmd.Flags().DurationVar(&o.lockTimeout, "lock-timeout", 0, "wait this long for the lab lock held by another apply, and with --cloud sim for the simulated cloud's state (0: fail at once)")
	cmd.Flags().BoolVar(&o.noColor, "no-color", false, "never colour the output (NO_COLOR is honoured too)")
	if targets {
		cmd.Flags().StringArrayVar(&o.targets, "target", nil, "apply only ADDR and what it depends on (repeatable)")
		cmd.Flags().StringArrayVar(&o.excludes, "exclude", nil, "leave out ADDR and what depends on it (repeatable)")
	}
}

func newApplyCmd(s *streams) *cobra.Command {
	o := &changeOptions{}
	cmd := &cobra.Command{
		Use:   "apply [SPEC | PLANFILE]",
		Short: "Make the live cloud match the spec",
		Long: `Apply plans (as plan does), shows the plan and asks for confirmation, then
carries it out in parallel along the dependency graph. Running it again
converges: it picks up what an interrupted or failed run left.

Given a plan file saved by 'fuelplan plan --out', it applies exactly that plan,
without asking, after checking that neither the spec nor any object the plan
read has changed since; otherwise it refuses and names what moved.

Apply holds the lab's lock on the cloud while it works, so two applies of one
lab never race. Ctrl-C stops starting operations, lets running ones finish
and reports; apply again to finish.

After a successful apply the spec's readiness checks run (see 'fuelplan wait');
--skip-waits leaves them out. With '--phase installed' the master is rebuilt
from the disk Fuel installed onto, without its ISO cdrom (docs/boot.md).

Without a terminal, apply needs --auto-approve or a plan file.`,
		Example: `  fuelplan apply examples/fuel-lab.yaml --cloud sim --auto-approve
  fuelplan plan lab.yaml --out lab.plan && fuelplan apply lab.plan
  fuelplan apply examples/fuel-lab.yaml --phase installed   # once Fuel has installed`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.runApply(cmd.Context(), s, specArg(args))
		},
	}
	o.addFlags(cmd, true)
	cmd.Flags().StringVar(&o.phase, "phase", "", `the master's boot phase: "install" (as the spec says) or "installed" (rebuild it from its installed disk)`)
	cmd.Flags().BoolVar(&o.skipWaits, "skip-waits", false, "do not run the spec's readiness checks after apply")
	return cmd
}

func newDestroyCmd(s *streams) *cobra.Command {
	o := &changeOptions{}
	cmd := &cobra.Command{
		Use:   "destroy [SPEC]",
		Short: "Delete everything the lab owns",
		Long: `Destroy deletes every object that carries the lab's ownership mark, in reverse
dependency order (servers, then floating IPs and router interfaces, then ports,
subnets, networks and the router), and nothing else. Objects marked
'protect: true' in the spec are left in place. Lookups (the external network,
existing images and flavors) are never deleted.`,
		Example: "  fuelplan destroy examples/fuel-lab.yaml --cloud sim --auto-approve",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.runDestroy(cmd.Context(), s, specArg(args))
		},
	}
	o.addFlags(cmd, false)
	return cmd
}

func (o *changeOptions) runApply(ctx context.Context, s *streams, path string) error {
	data, err := head(path, 4096)
	if err != nil {
		return err
	}
	if plan.IsPlanFile(data) {
		if o.phase != "" {
			return errors.New("--phase cannot change a saved plan: make a new plan")
		}
		err = o.applySaved(ctx, s, path)
	} else {
		err = o.change(ctx, s, path, engine.PlanOptions{Targets: o.targets, Excludes: o.excludes}, nil)
	}
	if err != nil || o.applied == "" || o.skipWaits {
		return err
	}
	lab, err := loadLab(s, o.applied)
	if err != nil {
		return err
	}
	return runWaits(ctx, s, &o.cloudOptions, lab, o.applied)
}

func (o *changeOptions) runDestroy(ctx context.Context, s *streams, path string) error {
	return o.change(ctx, s, path, engine.PlanOptions{Destroy: true}, nil)
}

func (o *changeOptions) applySaved(ctx context.Context, s *streams, planPath string) error {
	saved, err := plan.Load(planPath)
	if err != nil {
		return err
	}
	if len(o.targets) > 0 || len(o.excludes) > 0 {
		return errors.New("--target/--exclude cannot change a saved plan: make a new plan with them")
	}
	if err := checkSavedSpec(planPath, saved); err != nil {
		return err
	}
	if o.cloud == "" {
		o.cloud = saved.Cloud
	}
	o.phase = saved.Phase
	return o.change(ctx, s, saved.SpecFile, engine.PlanOptions{Destroy: saved.Destroy, Targets: saved.Targets, Excludes: saved.Excludes}, saved)
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

// change plans and applies under the lab lock; saved, when set, is the
// reviewed plan the fresh one must match.
func (o *changeOptions) change(ctx context.Context, s *streams, path string, popts engine.PlanOptions, saved *plan.Plan) (err error) {
	for k, n := range o.kindLimit {
		if !slices.Contains(specs.Kinds, specs.Kind(k)) || n < 1 {
			return fmt.Errorf("--kind-limit %s=%d: want KIND=N with N >= 1 and KIND one of %v", k, n, specs.Kinds)
		}
	}
	lab, err := loadLab(s, path)
	if err != nil {
		return err
	}
	if lab, err = withPhase(lab, o.phase); err != nil {
		return err
	}
	if saved != nil && lab.Hash != saved.SpecHash {
		return fmt.Errorf("%s changed since the plan was made: make a new plan", path)
	}
	cloud, closeCloud, err := o.connect(ctx, lab, path, simAccess{write: true, lockWait: o.lockTimeout, progress: s.err})
	if err != nil {
		return err
	}
	defer func() { err = joinClose(err, closeCloud()) }()

	lock, err := lablock.Acquire(ctx, cloud, lab.Name, lablock.Options{Wait: o.lockTimeout, Progress: s.err})
	if err != nil {
		return err
	}
	// A destroy that finished removes the lock's anchor too: a destroyed
	// lab leaves nothing of its own on the cloud.
	removeLock := false
	defer func() {
		release := lock.Release
		if removeLock {
			release = lock.Remove
		}
		// A lost lock's reason is already in err when the apply stopped for it.
		if rerr := release(context.WithoutCancel(ctx)); rerr != nil && !errors.Is(err, rerr) {
			err = errors.Join(err, rerr)
		}
	}()

	reg := resources.Default()
	defer func() { err = joinClose(err, reg.Close()) }()
	p, st, err := engine.Plan(ctx, cloud, reg, lab, popts)
	if err != nil {
		return err
	}
	p.Cloud, p.Phase = o.name(lab), o.phase
	if saved != nil {
		if moved := engine.Moved(saved, p); len(moved) > 0 {
			return fmt.Errorf("the cloud changed since the plan was made; make a new plan:\n  %s", strings.Join(moved, "\n  "))
		}
		// Same spec, same objects: the plan is the same, unless this
		// fuelplan plans differently from the one that saved it.
		if !reflect.DeepEqual(saved.Changes, p.Changes) {
			if envChanged(saved, p) {
				return errors.New("a value the spec takes from the environment (${env:}) changed since the plan was made; make a new plan")
			}
			return errors.New("the plan made now differs from the saved one (another fuelplan version?); make a new plan")
		}
	} else {
		if err := printPlan(s.out, p, false, o.noColor); err != nil {
			return err
		}
	}
	if len(p.Conflicts) > 0 {
		return fmt.Errorf("%d conflict(s): fuelplan will not touch objects it does not own", len(p.Conflicts))
	}
	if !p.HasChanges() {
		removeLock = popts.Destroy && !hasProtected(p)
		o.markApplied(path, popts)
		return nil
	}
	if saved == nil && !o.autoApprove {
		if err := confirm(s, p); err != nil {
			return err
		}
	}
	prog := &render.Progress{W: s.out}
	prog.Start()
	ap := &engine.Applier{Cloud: cloud, Registry: reg, Parallelism: o.parallelism, Progress: prog, KindLimits: o.kindLimits()}
	// Large image uploads say how far they are, on stderr: the progress
	// lines on stdout are the operations'.
	// A lost lock (another holder took it, an unlock, a lease that could
	// not be renewed) stops the apply as Ctrl-C would, with the reason.
	actx, stopGuard := lock.Guard(ctx)
	rep, err := ap.Apply(resources.WithUploadProgress(actx, resources.UploadProgress{W: s.err}), lab, st, p)
	stopGuard()
	prog.Stop()
	if err != nil {
		return err
	}
	if popts.Destroy {
		fmt.Fprintf(s.out, "\nDestroy finished: %d destroyed.\n", rep.Done[engine.PhaseDestroy])
	} else {
		fmt.Fprintf(s.out, "\nApply finished: %d created, %d updated, %d destroyed.\n",
			rep.Done[engine.PhaseCreate], rep.Done[engine.PhaseUpdate], rep.Done[engine.PhaseDestroy])
	}
	if err := rep.Err(); err != nil {
		return fmt.Errorf("apply did not finish: %w\nRun apply again once the cause is fixed: it picks up where this run stopped", err)
	}
	removeLock = popts.Destroy && !hasProtected(p)
	o.markApplied(path, popts)
	return nil
}

// markApplied records a successful apply (not a destroy) for the waits.
func (o *changeOptions) markApplied(path string, popts engine.PlanOptions) {
	if !popts.Destroy {
		o.applied = path
	}
}

// confirm asks on a terminal; without one it refuses rather than guess.
func confirm(s *streams, p *plan.Plan) error {
	f, ok := s.in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return errors.New("no terminal to confirm on: pass --auto-approve, or save a plan with `fuelplan plan --out FILE` and apply that")
	}
	verb := "perform these actions"
	if p.Destroy {
		verb = "destroy lab " + p.Lab
	}
	fmt.Fprintf(s.out, "\nDo you want to %s? Only 'yes' will be accepted: ", verb)
	line, _ := bufio.NewReader(s.in).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		return withCode(ExitError, errors.New("cancelled: nothing was changed"))
	}
	return nil
}

// hasProtected reports whether destroy left protected objects in place.
func hasProtected(p *plan.Plan) bool {
	for _, w := range p.Warnings {
		if strings.Contains(w, "protected") {
			return true
		}
	}
	return false
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

// kindLimits are the defaults with the --kind-limit flags on top.
func (o *changeOptions) kindLimits() map[string]int {
	out := map[string]int{}
	for k, v := range engine.DefaultKindLimits {
		out[k] = v
	}
	for k, v := range o.kindLimit {
		out[k] = v
	}
	return out
}

// envChanged reports whether the two plans differ in a field's hash of a
// value from the environment (the values themselves are never saved).
func envChanged(saved, now *plan.Plan) bool {
	hashes := func(p *plan.Plan) map[string]string {
		m := map[string]string{}
		for _, c := range p.Changes {
			for _, f := range c.Fields {
				if f.AfterSHA256 != "" {
					m[string(c.Address)+" "+f.Name] = f.AfterSHA256
				}
			}
		}
		return m
	}
	return !maps.Equal(hashes(saved), hashes(now))
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
