package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/engine/render"
	"github.com/fuelplan/fuelplan/engine/session"
	"github.com/fuelplan/fuelplan/waits"
)

// view prints what a session does: plans and summaries on stdout, with
// the operations' progress; notices (the lock, uploads) on stderr.
type view struct {
	s *streams
	// verbose: a line per operation (--verbose) rather than the compact
	// views (progressView).
	verbose bool
	prog    progressView
	tally   *render.Tally
}

var _ session.View = (*view)(nil)

func (v *view) Planned(p *plan.Plan) error {
	printChecks(v.s.err, p)
	return printPlan(v.s.out, p, false, v.s.noColor)
}

func (v *view) Applying(p *plan.Plan) engine.Progress {
	v.tally = render.NewTally(p, nil)
	v.prog = v.progressView()
	v.prog.Start()
	return v.prog
}

// progressView is how an apply shows its operations.
type progressView interface {
	engine.Progress
	Start()
	Stop()
}

// progressView picks the view: a line per operation with --verbose, a
// live display on a terminal, a summary line per interval otherwise (a CI
// log of a 1,000-slave apply stays a few hundred lines). The tally hears
// every operation in each case, for the summary by kind at the end.
func (v *view) progressView() progressView {
	if v.verbose {
		return verboseView{&render.Progress{W: v.s.out}, v.tally}
	}
	if f, ok := v.s.out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return render.NewLive(v.s.out, v.tally)
	}
	return render.NewLines(v.s.out, v.tally, 30*time.Second)
}

// verboseView prints per operation and keeps the tally.
type verboseView struct {
	*render.Progress
	tally *render.Tally
}

func (v verboseView) Started(op engine.Op) { v.Progress.Started(op); v.tally.Started(op) }
func (v verboseView) Retrying(op engine.Op, attempt int, err error) {
	v.Progress.Retrying(op, attempt, err)
}
func (v verboseView) Reread(r engine.Reread) {
	v.Progress.Reread(r)
	v.tally.Reread(r)
}
func (v verboseView) Finished(op engine.Op, d time.Duration, id string, err error) {
	v.Progress.Finished(op, d, id, err)
	v.tally.Finished(op, d, id, err)
}

func (v *view) Applied(p *plan.Plan, rep *engine.Report) {
	v.prog.Stop()
	if rep == nil {
		return
	}
	if p.Destroy {
		fmt.Fprintf(v.s.out, "\nDestroy finished: %d destroyed.\n", rep.Done[engine.PhaseDestroy])
	} else {
		fmt.Fprintf(v.s.out, "\nApply finished: %d created, %d updated, %d destroyed.\n",
			rep.Done[engine.PhaseCreate], rep.Done[engine.PhaseUpdate], rep.Done[engine.PhaseDestroy])
	}
	_ = v.tally.Summary(v.s.out)
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
