package session

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/internal/lablock"
	"github.com/fuelplan/fuelplan/specs"
)

// StalePlanError refuses a saved plan that no longer fits: the spec
// changed, an object it read moved, or this fuelplan plans differently.
// Nothing was changed, and nothing was left on the cloud.
type StalePlanError struct {
	// SpecFile is set when the spec file changed since the plan was made.
	SpecFile string
	// Moved lists, one per line, the objects that changed on the cloud.
	Moved []string
	// EnvChanged is set when a value the spec takes from the environment
	// (${env:}) changed: the plans differ in its hash.
	EnvChanged bool
	// Differs is set when the same spec and objects plan differently now
	// (another fuelplan version made the saved plan).
	Differs bool
}

func (e *StalePlanError) Error() string {
	switch {
	case e.SpecFile != "":
		return fmt.Sprintf("%s changed since the plan was made: make a new plan", e.SpecFile)
	case len(e.Moved) > 0:
		return fmt.Sprintf("the cloud changed since the plan was made; make a new plan:\n  %s", strings.Join(e.Moved, "\n  "))
	case e.EnvChanged:
		return "a value the spec takes from the environment (${env:}) changed since the plan was made; make a new plan"
	}
	return "the plan made now differs from the saved one (another fuelplan version?); make a new plan"
}

// ConflictError refuses a plan with objects that use the lab's names but
// are not the lab's.
type ConflictError struct{ Conflicts int }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%d conflict(s): fuelplan will not touch objects it does not own", e.Conflicts)
}

// IncompleteError is an apply or destroy that did not carry out its whole
// plan: some operations failed (and those depending on them were skipped),
// or an interrupt kept some from starting. Running the same command again
// picks up where it stopped.
type IncompleteError struct {
	Destroy bool
	// Failed are the root causes, each naming its address.
	Failed []error
	// Skipped counts operations not started because one they depend on
	// failed.
	Skipped int
	// Interrupted are the operations an interrupt kept from starting.
	Interrupted []engine.Op
}

func newIncomplete(destroy bool, rep *engine.Report) *IncompleteError {
	e := &IncompleteError{Destroy: destroy, Failed: rep.Failed(), Skipped: rep.Skipped(), Interrupted: rep.Interrupted()}
	if len(e.Failed) == 0 && e.Skipped == 0 && len(e.Interrupted) == 0 {
		return nil
	}
	return e
}

// outcome is the typed error of an apply or destroy's report: nil when it
// carried out its whole plan, a *LockLostError when a lost lab lock
// stopped it (engine.Report.Stopped), an *IncompleteError otherwise.
func outcome(destroy bool, rep *engine.Report) error {
	inc := newIncomplete(destroy, rep)
	if errors.Is(rep.Stopped, lablock.ErrLost) {
		return &LockLostError{Destroy: destroy, Lost: rep.Stopped, Undone: inc}
	}
	if rep.Stopped != nil {
		// Another cause (none is given today): keep it, typed as it came.
		if inc == nil {
			return fmt.Errorf("stopped: %w", rep.Stopped)
		}
		return errors.Join(fmt.Errorf("stopped: %w", rep.Stopped), inc)
	}
	if inc == nil {
		return nil
	}
	return inc
}

// command is what to run again.
func (e *IncompleteError) command() string {
	if e.Destroy {
		return "destroy"
	}
	return "apply"
}

// listedPerKind bounds how many addresses of one kind an interrupt names;
// more are counted.
const listedPerKind = 3

// undone says, kind by kind in build order, what an interrupt left alone:
// "network.admin, 4 subnet(s), server.master, server.slave-01".
func (e *IncompleteError) undone() string {
	var addrs []specs.Address
	seen := map[specs.Address]bool{}
	for _, op := range e.Interrupted {
		a := engine.BaseAddress(op.Address)
		if !seen[a] {
			seen[a] = true
			addrs = append(addrs, a)
		}
	}
	sort.Slice(addrs, func(i, j int) bool { return specs.Less(addrs[i], addrs[j]) })
	var parts []string
	for len(addrs) > 0 {
		n := 1
		for n < len(addrs) && addrs[n].Kind() == addrs[0].Kind() {
			n++
		}
		if n <= listedPerKind {
			for _, a := range addrs[:n] {
				parts = append(parts, string(a))
			}
		} else {
			parts = append(parts, fmt.Sprintf("%d %s(s)", n, addrs[0].Kind()))
		}
		addrs = addrs[n:]
	}
	return strings.Join(parts, ", ")
}

// problems says, one line each, the failures, how many operations they
// kept from starting, and what an interrupt left alone.
func (e *IncompleteError) problems() []string {
	var lines []string
	for _, err := range e.Failed {
		lines = append(lines, err.Error())
	}
	if e.Skipped > 0 {
		lines = append(lines, fmt.Sprintf("%d operations not started because an operation they depend on failed", e.Skipped))
	}
	if len(e.Interrupted) > 0 {
		lines = append(lines, fmt.Sprintf("interrupted: %d operation(s) not started, on %s", len(e.Interrupted), e.undone()))
	}
	return lines
}

func (e *IncompleteError) Error() string {
	cmd := e.command()
	if len(e.Failed) == 0 && e.Skipped == 0 {
		return fmt.Sprintf("%s interrupted: %d operation(s) not started, on %s\nRun %s again to finish: it picks up where this run stopped",
			cmd, len(e.Interrupted), e.undone(), cmd)
	}
	lines := e.problems()
	return fmt.Sprintf("%s did not finish: %d problem(s):\n  * %s\nRun %s again once the cause is fixed: it picks up where this run stopped",
		cmd, len(lines), strings.Join(lines, "\n  * "), cmd)
}

// LockLostError is an apply or destroy stopped because the lab lock went
// away while it ran (another holder took it, `fuelplan unlock` removed it,
// or its lease could not be renewed): it stopped as on Ctrl-C rather than
// carry on unprotected, and another run may be changing the lab now.
type LockLostError struct {
	Destroy bool
	// Lost says how the lock was lost and to whom (a *lablock.LostError:
	// errors.Is(err, lablock.ErrLost) holds).
	Lost error
	// Undone is what the stopped run left: failures and operations not
	// started. Nil when the lock was lost after every operation ended.
	Undone *IncompleteError
}

func (e *LockLostError) Error() string {
	cmd := "apply"
	if e.Destroy {
		cmd = "destroy"
	}
	if e.Undone == nil {
		return fmt.Sprintf("%v\nEvery operation had ended, but another run may be changing the lab now: see who holds its lock before running %s again", e.Lost, cmd)
	}
	return fmt.Sprintf("%s stopped: %v\n  * %s\nMake sure no other run is changing the lab (a held lock's error says who), then run %s again: it picks up where this run stopped",
		cmd, e.Lost, strings.Join(e.Undone.problems(), "\n  * "), cmd)
}

// Unwrap gives the lost lock's error, for errors.Is(err, lablock.ErrLost).
func (e *LockLostError) Unwrap() error { return e.Lost }
