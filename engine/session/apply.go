package session

import (
	"context"
	"maps"
	"reflect"
	"time"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/internal/lablock"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
	"github.com/fuelplan/fuelplan/waits"
)

// Request says what a session plans or carries out.
type Request struct {
	// Options: destroy, targets, excludes.
	Options engine.PlanOptions
	// Phase is the master's boot phase (docs/boot.md): "", PhaseInstall
	// or PhaseInstalled.
	Phase string
	// Saved, for Apply, is a reviewed plan to carry out exactly: it
	// brings its own options and phase, and the fresh plan must match it.
	Saved *plan.Plan
	// Waits runs the spec's readiness checks after a successful apply.
	Waits bool
	// SkipChecks are the preflight checks overridden (--skip-check); a
	// saved plan brings its own.
	SkipChecks []string
}

// Result is what Apply did.
type Result struct {
	// Plan is the plan carried out (nil if none was made).
	Plan *plan.Plan
	// Report is the operations' outcome; nil when none ran.
	Report *engine.Report
	// Waits is the readiness checks' outcome; nil when none ran.
	Waits *waits.Report
}

// Plan reads the cloud and plans; it changes nothing, so it takes no lock.
func (s *Session) Plan(ctx context.Context, req Request) (*plan.Plan, error) {
	if _, err := WithPhase(s.Lab, req.Phase); err != nil {
		return nil, err
	}
	var p *plan.Plan
	err := s.connected(ctx, func(c *resources.Cloud) error {
		lab, err := forCloud(s.Lab, c, req.Phase)
		if err != nil {
			return err
		}
		p, _, err = s.plan(ctx, c, lab, req)
		return err
	})
	return p, err
}

// forCloud is the lab as this cloud builds it: vlan_mode auto decided by
// its Neutron extensions (docs/vlan.md), then the boot phase applied.
func forCloud(lab *specs.Lab, c *resources.Cloud, phase string) (*specs.Lab, error) {
	lab, err := lab.ForCloud(c.VLANCaps())
	if err != nil {
		return nil, err
	}
	return WithPhase(lab, phase)
}

func (s *Session) plan(ctx context.Context, c *resources.Cloud, lab *specs.Lab, req Request) (*plan.Plan, *engine.State, error) {
	p, st, _, err := s.checked(ctx, c, lab, req)
	if err != nil {
		return nil, nil, err
	}
	p.Cloud, p.Phase = s.CloudName, req.Phase
	return p, st, nil
}

// Apply plans and carries out the plan under the lab lock (a destroy when
// req.Options.Destroy), asking Confirm first unless the plan was saved,
// then runs the readiness checks if asked. An apply that did not finish
// returns an *IncompleteError (a *LockLostError when the lab lock was lost
// under it), a refused saved plan a *StalePlanError, a
// declined plan ErrDeclined.
func (s *Session) Apply(ctx context.Context, req Request) (*Result, error) {
	if saved := req.Saved; saved != nil {
		req.Options = engine.PlanOptions{Destroy: saved.Destroy, Targets: saved.Targets, Excludes: saved.Excludes}
		req.Phase = saved.Phase
		req.SkipChecks = saved.SkippedChecks
	}
	lab, err := WithPhase(s.Lab, req.Phase)
	if err != nil {
		return nil, err
	}
	if req.Saved != nil && lab.Hash != req.Saved.SpecHash {
		return nil, &StalePlanError{SpecFile: req.Saved.SpecFile}
	}
	res := &Result{}
	err = s.connected(ctx, func(c *resources.Cloud) error {
		lab, err := forCloud(s.Lab, c, req.Phase)
		if err != nil {
			return err
		}
		if req.Saved != nil {
			// Refuse a stale plan before taking the lock: taking it
			// creates the lock's anchor, which a destroyed lab must not
			// get back from a refusal. The check is made again under the
			// lock, as the cloud may move in between.
			p, _, err := s.plan(ctx, c, lab, req)
			if err != nil {
				return err
			}
			if err := stale(req.Saved, p); err != nil {
				return err
			}
		}
		err = s.locked(ctx, c, req.Options.Destroy, func(lock *lablock.Lock) (bool, error) { return s.change(ctx, c, lock, lab, req, res) })
		if err != nil {
			return err
		}
		if req.Waits && !req.Options.Destroy {
			var err error
			res.Waits, err = s.wait(ctx, c)
			return err
		}
		return nil
	})
	return res, err
}

// change plans and carries out the plan; the caller holds the lock. It
// returns whether the lab is gone from the cloud: a destroy that finished
// with nothing protected left in place.
func (s *Session) change(ctx context.Context, c *resources.Cloud, lock *lablock.Lock, lab *specs.Lab, req Request, res *Result) (gone bool, err error) {
	// An apply after a killed run reads the lab once that run's requests
	// can no longer land (or it would create them a second time); a
	// destroy reads it again at its end instead (lateUntil). The plan is
	// shown, confirmed, or (saved) checked against this read.
	if !req.Options.Destroy {
		if err := s.awaitLanded(ctx, lock); err != nil {
			return false, err
		}
	}
	p, st, err := s.plan(ctx, c, lab, req)
	if err != nil {
		return false, err
	}
	res.Plan = p
	if req.Saved != nil {
		if err := stale(req.Saved, p); err != nil {
			return false, err
		}
	} else if err := s.View.Planned(p); err != nil {
		return false, err
	}
	if len(p.Conflicts) > 0 {
		return false, &ConflictError{Conflicts: len(p.Conflicts)}
	}
	if err := checkError(p); err != nil {
		return false, err
	}
	gone = req.Options.Destroy && len(engine.Kept(lab, st)) == 0
	// A destroy after a killed run reads the lab until that run's
	// requests can no longer land, even when its plan is empty: what the
	// run had in flight may not have landed yet.
	late, sayLate := s.lateUntil(lock, req.Options.Destroy)
	if !p.HasChanges() && !time.Now().Before(late) {
		return gone, nil
	}
	if p.HasChanges() && req.Saved == nil && s.Confirm != nil {
		ok, err := s.Confirm(p)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, ErrDeclined
		}
	}
	sayLate()
	ap := &engine.Applier{Cloud: c, Registry: s.registry(), Parallelism: s.Parallelism, KindLimits: s.kindLimits(),
		Progress: s.View.Applying(p), LateUntil: late, LatePoll: s.LatePoll}
	// A lost lock (another holder took it, an unlock, a lease that could
	// not be renewed) stops the apply as Ctrl-C would, with the reason in
	// the report. Large image uploads say how far they are among the
	// notices: the progress lines are the operations'.
	actx, stopGuard := lock.Guard(ctx)
	rep, err := ap.Apply(resources.WithUploadProgress(actx, resources.UploadProgress{W: s.View.Notices()}), lab, st, p)
	stopGuard()
	s.View.Applied(p, rep)
	if err != nil {
		return false, err
	}
	res.Report = rep
	if err := outcome(req.Options.Destroy, rep); err != nil {
		return false, err
	}
	return gone, nil
}

// stale says why a saved plan no longer fits the fresh one, if it does not.
func stale(saved, fresh *plan.Plan) error {
	if moved := engine.Moved(saved, fresh); len(moved) > 0 {
		return &StalePlanError{Moved: moved}
	}
	// Same spec, same objects: the plan is the same, unless this fuelplan
	// plans differently from the one that saved it.
	if !reflect.DeepEqual(saved.Changes, fresh.Changes) {
		if envChanged(saved, fresh) {
			return &StalePlanError{EnvChanged: true}
		}
		return &StalePlanError{Differs: true}
	}
	return nil
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
