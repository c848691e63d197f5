// Package cli holds fuelplan's commands: one file per command, each with an
// options struct, flag wiring and Complete (arguments) / Validate (flags) /
// Run. Commands parse and print; what they do to a lab is decided by
// engine/session, which they drive with a confirm callback and a view.
// main.go only calls Run.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Exit codes, documented in `fuelplan --help`.
const (
	ExitOK      = 0
	ExitError   = 1
	ExitChanges = 2 // plan or diff --detailed-exitcode: changes present
)

// exitError carries a specific exit code up to Run without printing twice.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// withCode makes a command exit with code; a nil err exits silently.
func withCode(code int, err error) error { return &exitError{code: code, err: err} }

// streams are the command's standard files, so tests can drive commands
// in-process, and how to write on them.
type streams struct {
	in       io.Reader
	out, err io.Writer
	// noColor is the common --no-color flag every command takes.
	noColor bool
}

// Run executes fuelplan with args and returns the process exit code.
func Run(ctx context.Context, args []string, in io.Reader, out, errw io.Writer) int {
	s := &streams{in: in, out: out, err: errw}
	root := newRootCmd(s)
	root.SetArgs(args)
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errw)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(errw, "Error:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(errw, "Error:", err)
	return ExitError
}

const rootLong = `fuelplan builds and keeps in shape nested OpenStack labs (a Fuel master,
N slaves, four networks, a router, compute-node patches) inside an existing
OpenStack cloud, from a declarative YAML spec.

The spec is compiled into a dependency graph; plan reads the live cloud (no
local state file: ownership is marked on the cloud's own resources) and shows
what would change; apply carries it out in parallel and converges when run
again. Both first run the preflight checks of 'fuelplan check' (quotas, local
files, lookups, sizes, API extensions, Fuel's needs, rights; docs/checks.md):
apply refuses to start on an error unless --skip-check NAME.

Exit codes: 0 success; 1 error (check: errors found); 2 plan or diff
--detailed-exitcode found changes.`

func newRootCmd(s *streams) *cobra.Command {
	root := &cobra.Command{
		Use:           "fuelplan",
		Short:         "Build and keep nested OpenStack labs in shape, declaratively",
		Long:          rootLong,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	root.PersistentFlags().BoolVar(&s.noColor, "no-color", false, "never colour the output (NO_COLOR is honoured too)")
	root.AddCommand(
		newValidateCmd(s),
		newGraphCmd(s),
		newCheckCmd(s),
		newDiffCmd(s),
		newFmtCmd(s),
		newSchemaCmd(s),
		newPlanCmd(s),
		newApplyCmd(s),
		newDestroyCmd(s),
		newWaitCmd(s),
		newUnlockCmd(s),
		newSimCmd(s),
	)
	return root
}
