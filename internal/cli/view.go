package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/engine/render"
	"github.com/fuelplan/fuelplan/engine/session"
	"github.com/fuelplan/fuelplan/waits"
)

// view prints what a session does: plans and summaries on stdout, with
// the operations' progress lines; notices (the lock, uploads) on stderr.
type view struct {
	s    *streams
	prog *render.Progress
}

var _ session.View = (*view)(nil)

func (v *view) Planned(p *plan.Plan) error {
	printChecks(v.s.err, p)
	return printPlan(v.s.out, p, false, v.s.noColor)
}

func (v *view) Applying(*plan.Plan) engine.Progress {
	v.prog = &render.Progress{W: v.s.out}
	v.prog.Start()
	return v.prog
}

func (v *view) Applied(p *plan.Plan, rep *engine.Report) {
	v.prog.Stop()
	if rep == nil {
		return
	}
	if p.Destroy {
		fmt.Fprintf(v.s.out, "\nDestroy finished: %d destroyed.\n", rep.Done[engine.PhaseDestroy])
		return
	}
	fmt.Fprintf(v.s.out, "\nApply finished: %d created, %d updated, %d destroyed.\n",
		rep.Done[engine.PhaseCreate], rep.Done[engine.PhaseUpdate], rep.Done[engine.PhaseDestroy])
}

func (v *view) Waiting(checks int) io.Writer {
	fmt.Fprintf(v.s.out, "\nWaiting for %d readiness check(s)...\n", checks)
	return v.s.out
}

func (v *view) Waited(rep *waits.Report) {
	fmt.Fprintf(v.s.out, "All %d wait(s) ready.\n", len(rep.Results))
}

func (v *view) Notices() io.Writer { return v.s.err }

// confirmOn asks on a terminal; without one it refuses rather than guess.
func confirmOn(s *streams) session.Confirm {
	return func(p *plan.Plan) (bool, error) {
		f, ok := s.in.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return false, errors.New("no terminal to confirm on: pass --auto-approve, or save a plan with `fuelplan plan --out FILE` and apply that")
		}
		verb := "perform these actions"
		if p.Destroy {
			verb = "destroy lab " + p.Lab
		}
		fmt.Fprintf(s.out, "\nDo you want to %s? Only 'yes' will be accepted: ", verb)
		line, _ := bufio.NewReader(s.in).ReadString('\n')
		return strings.TrimSpace(line) == "yes", nil
	}
}

func printPlan(w io.Writer, p *plan.Plan, asJSON, noColor bool) error {
	if asJSON {
		return render.JSON(w, p)
	}
	return render.Text{Color: useColor(w, noColor)}.Plan(w, p)
}

// useColor: only on a terminal, never with NO_COLOR or --no-color.
func useColor(w io.Writer, noColor bool) bool {
	if noColor || os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
