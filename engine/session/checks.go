package session

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/preflight"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// CheckError refuses to apply a plan whose preflight checks found errors
// (docs/checks.md); nothing was changed. Request.SkipChecks overrides a
// check deliberately.
type CheckError struct {
	Errors int
	Checks []string // the checks with errors, in report order
	// Report is set when no plan could be made (a looked-up object is
	// missing): the findings then come with the refusal, to be shown
	// once, in place of the planner's error that says the same.
	Report *preflight.Report
}

func (e *CheckError) Error() string {
	return fmt.Sprintf("preflight found %d error(s) (checks: %v): fix them, or override a check deliberately with --skip-check NAME", e.Errors, e.Checks)
}

// checkError is the refusal for a plan's findings, nil without errors.
func checkError(p *plan.Plan) error {
	e := &CheckError{}
	seen := map[string]bool{}
	for _, c := range p.Checks {
		if c.Severity != string(preflight.Error) {
			continue
		}
		e.Errors++
		if !seen[c.Check] {
			seen[c.Check] = true
			e.Checks = append(e.Checks, c.Check)
		}
	}
	if e.Errors == 0 {
		return nil
	}
	return e
}

// explained: every error of the plan is a missing lookup the report has
// the finding for (not skipped).
func explained(planErr error, rep *preflight.Report) bool {
	if planErr == nil {
		return false
	}
	errs := []error{planErr}
	if j, ok := planErr.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var ml *engine.MissingLookupError
		if !errors.As(e, &ml) || !slices.ContainsFunc(rep.Findings, func(f preflight.Finding) bool {
			return f.Check == preflight.CheckLookup && f.Address == ml.Address
		}) {
			return false
		}
	}
	return true
}

// reportError is the refusal that carries rep's findings.
func reportError(rep *preflight.Report) *CheckError {
	e := &CheckError{Report: rep}
	seen := map[string]bool{}
	for _, f := range rep.Findings {
		if f.Severity != preflight.Error {
			continue
		}
		e.Errors++
		if !seen[f.Check] {
			seen[f.Check] = true
			e.Checks = append(e.Checks, f.Check)
		}
	}
	return e
}

// Check reads the cloud and runs the preflight checks on what the plan
// would do; it changes nothing. A plan error that a finding explains (a
// missing lookup) is returned beside the report; the report is nil when
// the cloud could not be read and no check says why.
func (s *Session) Check(ctx context.Context, req Request) (*preflight.Report, error) {
	lab, err := WithPhase(s.Lab, req.Phase)
	if err != nil {
		return nil, err
	}
	var rep *preflight.Report
	err = s.connected(ctx, func(c *resources.Cloud) (err error) {
		_, _, rep, err = s.checked(ctx, c, lab, req)
		return err
	})
	return rep, err
}

// checked reads the cloud, plans, and runs the preflight checks (not for
// a destroy), recording the findings and skips in the plan.
func (s *Session) checked(ctx context.Context, c *resources.Cloud, lab *specs.Lab, req Request) (*plan.Plan, *engine.State, *preflight.Report, error) {
	st, err := engine.Read(ctx, c, s.registry(), lab)
	if err != nil {
		// A missing extension can fail the read: the checks that need no
		// live objects may say why, beside the error.
		rep, cerr := preflight.Run(ctx, preflight.Input{Lab: lab, Cloud: c, Skip: req.SkipChecks})
		if cerr != nil || rep.Errors() == 0 {
			rep = nil
		}
		return nil, nil, rep, resources.Humanize(err)
	}
	p, planErr := engine.BuildPlan(lab, st, s.registry(), req.Options)
	if req.Options.Destroy {
		return p, st, &preflight.Report{}, planErr
	}
	var creates []specs.Address
	if p != nil {
		for _, ch := range p.Changes {
			if ch.Action == plan.Create || ch.Action == plan.Replace {
				creates = append(creates, ch.Address)
			}
		}
	}
	rep, err := preflight.Run(ctx, preflight.Input{Lab: lab, Cloud: c, Live: st.Live, Creates: creates, Skip: req.SkipChecks})
	if err != nil {
		return nil, nil, nil, err
	}
	if explained(planErr, rep) {
		// The findings say it all, with positions and fixes: the
		// planner's error would only repeat them.
		return p, st, rep, reportError(rep)
	}
	if p != nil {
		p.SkippedChecks = rep.Skipped
		for _, f := range rep.Findings {
			p.Checks = append(p.Checks, plan.Check{Check: f.Check, Severity: string(f.Severity), Address: f.Address,
				Position: f.At.String(), Message: f.Message, Fix: f.Fix})
		}
	}
	return p, st, rep, planErr
}
