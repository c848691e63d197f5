package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// env is one scenario's world: a target, a lab name of its own, and a
// logged-in user.
type env struct {
	t     *testing.T
	tg    *target
	lab   string
	user  string // the clouds.yaml entry logged in as
	cloud *resources.Cloud
	reg   resources.Registry
	dir   string
	// last is the lab the scenario built last: the one destroyed at its end.
	last *specs.Lab
	// mark is when the last step logged by step ended.
	mark time.Time
}

// step logs how long the scenario's last step took, so a slow real cloud
// shows where a scenario spends its time.
func (e *env) step(what string) {
	e.t.Helper()
	now := time.Now()
	if !e.mark.IsZero() {
		e.t.Logf("%s: %v", what, now.Sub(e.mark).Round(100*time.Millisecond))
	}
	e.mark = now
}

// newEnv logs in as user and names the scenario's lab. On a real cloud
// the name carries the run's time, and whatever an earlier run of the
// same scenario left is destroyed first.
func newEnv(t *testing.T, tg *target, lab, user string) *env {
	t.Helper()
	if tg.real {
		lab += "-" + runID
	}
	reg := resources.Default()
	t.Cleanup(func() { _ = reg.Close() })
	e := &env{t: t, tg: tg, lab: lab, user: user, cloud: tg.connect(t, user), reg: reg, dir: t.TempDir()}
	return e
}

// runID tells one run's labs from another's on a shared cloud.
var runID = strconv.FormatInt(time.Now().Unix()%1e6, 36)

// spec writes the suite's lab with n slaves, after edits, and returns its path.
func (e *env) spec(slaves int, edits ...func(string) string) string {
	e.t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "lab.yaml"))
	if err != nil {
		e.t.Fatal(err)
	}
	text := strings.NewReplacer("@LAB@", e.lab, "@EXTNET@", e.tg.extNet, "@FLAVOR@", e.tg.flavor,
		"@IMAGE@", e.tg.image, "count: SLAVES", "count: "+strconv.Itoa(slaves)).Replace(string(data))
	for _, edit := range edits {
		before := text
		text = edit(text)
		if text == before {
			e.t.Fatalf("an edit of the lab changed nothing")
		}
	}
	path := filepath.Join(e.dir, "lab.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// labOf compiles the suite's lab with n slaves, after edits.
func (e *env) labOf(slaves int, edits ...func(string) string) *specs.Lab {
	e.t.Helper()
	lab, diags := specs.LoadLab(e.spec(slaves, edits...), func(string) (string, bool) { return "", false })
	if diags.HasErrors() {
		e.t.Fatalf("spec: %v", diags)
	}
	return lab
}

// example compiles examples/fuel-lab.yaml under the scenario's lab name,
// on the target's external network, with small stand-ins for its ISO
// files and its compute node's key (the patch goes by the API on a cloud
// with port security, and the SSH inventory is only read when it is used).
func (e *env) example() *specs.Lab {
	e.t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "examples", "fuel-lab.yaml"))
	if err != nil {
		e.t.Fatal(err)
	}
	text := string(data)
	for _, edit := range [][2]string{
		{"\nlab: fuel\n", "\nlab: " + e.lab + "\n"},
		{"\ncloud: openstack\n", "\n"},
		{"\nexternal_network: net04_ext\n", "\nexternal_network: " + e.tg.extNet + "\n"},
	} {
		if !strings.Contains(text, edit[0]) {
			e.t.Fatalf("examples/fuel-lab.yaml changed: no %q in it", edit[0])
		}
		text = strings.Replace(text, edit[0], edit[1], 1)
	}
	files := map[string]string{
		"fuel-lab.yaml":                    text,
		"images/MirantisOpenStack-6.1.iso": "stand-in for MirantisOpenStack-6.1.iso\n",
		"images/ipxe.iso":                  "stand-in for ipxe.iso\n",
		"keys/compute":                     "not a key\n",
		"keys/known_hosts":                 "10.0.0.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n",
	}
	for name, content := range files {
		path := filepath.Join(e.dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			e.t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			e.t.Fatal(err)
		}
	}
	lab, diags := specs.LoadLab(filepath.Join(e.dir, "fuel-lab.yaml"), func(string) (string, bool) { return "", false })
	if diags.HasErrors() {
		e.t.Fatalf("examples/fuel-lab.yaml: %v", diags)
	}
	return lab
}

// replace is an edit that replaces the first old with new.
func replace(old, new string) func(string) string {
	return func(s string) string { return strings.Replace(s, old, new, 1) }
}

func (e *env) plan(lab *specs.Lab, opts engine.PlanOptions) (*plan.Plan, *engine.State) {
	e.t.Helper()
	p, st, err := engine.Plan(context.Background(), e.cloud, e.reg, lab, opts)
	if err != nil {
		e.t.Fatalf("plan: %v", err)
	}
	return p, st
}

func (e *env) applier() *engine.Applier {
	return &engine.Applier{Cloud: e.cloud, Registry: e.reg, Parallelism: 10, Backoff: e.tg.backoff}
}

// tryApply plans and applies, returning the apply's error.
func (e *env) tryApply(lab *specs.Lab, opts engine.PlanOptions) (*plan.Plan, error) {
	e.t.Helper()
	p, st := e.plan(lab, opts)
	rep, err := e.applier().Apply(context.Background(), lab, st, p)
	if err != nil {
		return p, err
	}
	return p, rep.Err()
}

// apply plans and applies, failing the test on any error.
func (e *env) apply(lab *specs.Lab, opts engine.PlanOptions) *plan.Plan {
	e.t.Helper()
	p, err := e.tryApply(lab, opts)
	if err != nil {
		e.t.Fatalf("apply: %v", err)
	}
	return p
}

// converged fails the test unless a fresh plan of lab is empty.
func (e *env) converged(lab *specs.Lab) {
	e.t.Helper()
	e.convergedState(lab)
}

// convergedState is converged, returning the state the empty plan read,
// for checks that need no other read of a slow real cloud.
func (e *env) convergedState(lab *specs.Lab) *engine.State {
	e.t.Helper()
	p, st := e.plan(lab, engine.PlanOptions{})
	if p.HasChanges() || len(p.Conflicts) > 0 {
		e.t.Fatalf("plan after apply is not empty:\n%s", describe(p))
	}
	return st
}

// destroy deletes everything the lab owns.
func (e *env) destroy(lab *specs.Lab) {
	e.t.Helper()
	e.apply(lab, engine.PlanOptions{Destroy: true})
}

// describe says a plan's changes and conflicts, one a line.
func describe(p *plan.Plan) string {
	var b strings.Builder
	for _, c := range p.Changes {
		fmt.Fprintf(&b, "  %s %s %v\n", c.Action, c.Address, c.Reasons)
		// The fields tell a failed run's reader what differed; a secret's
		// values are never in them (the plan keeps only its digest).
		for _, f := range c.Fields {
			if f.Sensitive {
				fmt.Fprintf(&b, "      %s (sensitive)\n", f.Name)
				continue
			}
			fmt.Fprintf(&b, "      %s: %q -> %q\n", f.Name, f.Before, f.After)
		}
	}
	for _, c := range p.Conflicts {
		fmt.Fprintf(&b, "  conflict %s %s\n", c.Address, c.ID)
	}
	return b.String()
}

func actions(p *plan.Plan) map[specs.Address]plan.Action {
	m := map[specs.Address]plan.Action{}
	for _, c := range p.Changes {
		m[c.Address] = c.Action
	}
	return m
}

func count(p *plan.Plan, a plan.Action, k specs.Kind) int {
	n := 0
	for _, c := range p.Changes {
		if c.Action == a && c.Address.Kind() == k {
			n++
		}
	}
	return n
}
