package render_test

// The compact progress views as data: a plan literal, operation events,
// a fixed clock, and the lines they print.

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/engine/render"
	"github.com/fuelplan/fuelplan/specs"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time              { return c.t }
func (c *clock) advance(d time.Duration)     { c.t = c.t.Add(d) }
func op(ph engine.Phase, a string) engine.Op { return engine.Op{Phase: ph, Address: specs.Address(a)} }

var tallyPlan = &plan.Plan{FormatVersion: plan.FormatVersion, Lab: "eng", Changes: []plan.Change{
	{Address: "network.admin", Action: plan.Create},
	{Address: "port.slave-01.admin", Action: plan.Create},
	{Address: "port.slave-02.admin", Action: plan.Create},
	{Address: "port.slave-03.admin", Action: plan.Create},
	{Address: "port.slave-04.admin", Action: plan.Create},
	{Address: "server.slave-01", Action: plan.Replace, ID: "s-1"},
	{Address: "server.slave-02", Action: plan.Create},
	{Address: "flavor.big", Action: plan.NoOp},
}}

func TestLinesView(t *testing.T) {
	type event struct {
		after    time.Duration // clock advance before the event
		start    *engine.Op
		finish   *engine.Op
		took     time.Duration
		err      error
		tick     bool
		wantLine string // what the event prints ("" for nothing)
	}
	port := func(n string) *engine.Op { o := op(engine.PhaseCreate, "port.slave-0"+n+".admin"); return &o }
	net := op(engine.PhaseCreate, "network.admin")
	srvDel := op(engine.PhaseDestroy, "server.slave-01")
	events := []event{
		{start: &net},
		{after: time.Second, finish: &net, took: time.Second},
		{start: port("1")}, {start: port("2")}, {start: port("3")}, {start: port("4")},
		{after: 200 * time.Millisecond, finish: port("1"), took: 200 * time.Millisecond},
		{finish: port("2"), took: 200 * time.Millisecond},
		{finish: port("3"), took: 200 * time.Millisecond},
		{tick: true, wantLine: "[1s] 4/8 done, 1 in flight, 0 failed, 3 left, about 1s to go (port 3/4, server 0/3)"},
		// Port 4 has now run 15 s where ports take 0.2 s: news, once.
		{after: 15 * time.Second, tick: true, wantLine: "port.slave-04.admin: still creating after 15.2s (port usually takes 200ms)\n" +
			"[16s] 4/8 done, 1 in flight, 0 failed, 3 left, about 16s to go (port 3/4, server 0/3)"},
		{tick: true, wantLine: "[16s] 4/8 done, 1 in flight, 0 failed, 3 left, about 16s to go (port 3/4, server 0/3)"},
		{finish: port("4"), took: 15 * time.Second},
		{start: &srvDel},
		{after: time.Second, finish: &srvDel, took: time.Second, err: errors.New("server.slave-01: delete: 409 Conflict"),
			wantLine: "server.slave-01: destroying failed after 1s: server.slave-01: delete: 409 Conflict"},
	}
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var out bytes.Buffer
	tally := render.NewTally(tallyPlan, c.now)
	lines := render.NewLines(&out, tally, time.Hour)
	for i, e := range events {
		c.advance(e.after)
		out.Reset()
		switch {
		case e.start != nil:
			tally.Started(*e.start)
		case e.finish != nil:
			tally.Finished(*e.finish, e.took, "id", e.err)
		case e.tick:
			lines.Tick()
		}
		if got := strings.TrimSuffix(out.String(), "\n"); got != e.wantLine {
			t.Errorf("event %d printed\n%q\nwant\n%q", i, got, e.wantLine)
		}
	}
	out.Reset()
	if err := tally.Summary(&out); err != nil {
		t.Fatal(err)
	}
	want := `By kind (17s):
  network  1 created
  port     4 created
  server   1 failed, 2 not started
`
	if out.String() != want {
		t.Errorf("summary:\n%s\nwant:\n%s", out.String(), want)
	}
}

// The live view draws a bar per kind and the totals, and prints a
// failure above the bars; its last frame holds the final counts.
func TestLiveView(t *testing.T) {
	var out bytes.Buffer
	tally := render.NewTally(tallyPlan, nil)
	v := render.NewLive(&out, tally)
	v.Start()
	net := op(engine.PhaseCreate, "network.admin")
	port := op(engine.PhaseCreate, "port.slave-01.admin")
	tally.Started(net)
	tally.Started(port)
	tally.Finished(net, time.Second, "n-1", nil)
	tally.Finished(port, time.Second, "", errors.New("port.slave-01.admin: create: 409 IP address 10.20.0.5 already allocated"))
	time.Sleep(500 * time.Millisecond) // a few refreshes
	v.Stop()
	got := out.String()
	if !strings.Contains(got, "port.slave-01.admin: creating failed after 1s: port.slave-01.admin: create: 409 IP address 10.20.0.5 already allocated\n") {
		t.Errorf("no failure line above the bars:\n%s", got)
	}
	frames := strings.Split(got, "total")
	last := frames[len(frames)-2] + "total" + frames[len(frames)-1]
	for _, want := range []string{
		"network  [", "] 1/1  0 in flight  0 failed",
		"port     [", "] 0/4  0 in flight  1 failed",
		"server   [", "] 0/3  0 in flight  0 failed",
		"total     1/8 done, 0 in flight, 1 failed, 6 left",
	} {
		if !strings.Contains(last, want) {
			t.Errorf("last frame lacks %q:\n%s", want, last)
		}
	}
}

// A destroy's re-read (engine.Reread) is printed at once, and what it
// found counts among the operations, also of a kind the plan had none of:
// the totals grow, the live view draws a bar for the new kind.
func TestViewsCountRereads(t *testing.T) {
	destroy := &plan.Plan{FormatVersion: plan.FormatVersion, Lab: "eng", Destroy: true, Changes: []plan.Change{
		{Address: "network.admin", Action: plan.Delete, ID: "n-1"},
		{Address: "subnet.admin", Action: plan.Delete, ID: "s-1"},
	}}
	rr := engine.Reread{After: "subnet.admin", Found: []specs.Address{"port.slave-01.admin"}}
	port := op(engine.PhaseDestroy, "port.slave-01.admin")
	sub := op(engine.PhaseDestroy, "subnet.admin")

	var out bytes.Buffer
	tally := render.NewTally(destroy, nil)
	lines := render.NewLines(&out, tally, time.Hour)
	tally.Started(sub)
	tally.Reread(rr)
	if got, want := out.String(), rr.String()+"\n"; got != want {
		t.Errorf("the re-read printed %q, want %q", got, want)
	}
	tally.Started(port)
	tally.Finished(port, time.Second, "p-1", nil)
	tally.Finished(sub, time.Second, "s-1", nil)
	out.Reset()
	lines.Tick()
	if got := out.String(); !strings.Contains(got, "2/3 done, 0 in flight, 0 failed, 1 left") || !strings.Contains(got, "(network 0/1)") {
		t.Errorf("line after the re-read's delete: %q, want 2/3 done with only the network open", got)
	}
	out.Reset()
	if err := tally.Summary(&out); err != nil {
		t.Fatal(err)
	}
	if want := "  network  1 not started\n  subnet   1 destroyed\n  port     1 destroyed\n"; !strings.HasSuffix(out.String(), want) {
		t.Errorf("summary:\n%s\nwant it to end with:\n%s", out.String(), want)
	}

	out.Reset()
	tally = render.NewTally(destroy, nil)
	v := render.NewLive(&out, tally)
	v.Start()
	tally.Reread(rr)
	tally.Started(port)
	tally.Finished(port, time.Second, "p-1", nil)
	time.Sleep(500 * time.Millisecond) // a few refreshes
	v.Stop()
	got := out.String()
	if !strings.Contains(got, rr.String()+"\n") {
		t.Errorf("no re-read line above the bars:\n%s", got)
	}
	frames := strings.Split(got, "total")
	last := frames[len(frames)-2] + "total" + frames[len(frames)-1]
	for _, want := range []string{"port     [", "] 1/1  0 in flight  0 failed", "1/3 done, 0 in flight, 0 failed, 2 left"} {
		if !strings.Contains(last, want) {
			t.Errorf("last frame lacks %q:\n%s", want, last)
		}
	}
}
