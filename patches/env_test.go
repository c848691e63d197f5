package patches_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/internal/sshx"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/simcloud"
	"github.com/fuelplan/fuelplan/specs"
)

// env is a simulated cloud, the engine's registry with a patch adapter
// whose SSH goes where the test says, and a folder for the spec.
type env struct {
	t     *testing.T
	ssh   sshx.Config
	sim   *simcloud.Cloud
	cloud *resources.Cloud
	reg   resources.Registry
	dir   string
}

func newEnv(t *testing.T, cfg sshx.Config, world *simcloud.World) *env {
	t.Helper()
	sim, err := simcloud.Start(simcloud.Config{World: world})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	c, err := resources.Connect(context.Background(), resources.Target{CloudName: "sim", CloudsYAML: []byte(sim.CloudsYAML("sim", sim.Admin()))})
	if err != nil {
		t.Fatal(err)
	}
	reg := resources.Default()
	t.Cleanup(func() { _ = reg.Close() })
	e := &env{t: t, ssh: cfg, sim: sim, cloud: c, reg: reg, dir: t.TempDir()}
	e.newRun()
	return e
}

// newRun gives the patch adapter fresh SSH connections, as a new fuelplan
// process has: host keys are checked when a connection is made.
func (e *env) newRun() {
	if old, ok := e.reg[specs.KindPatch].(*resources.Patch); ok {
		_ = old.Close() // the previous run's connections end with it
	}
	pa := resources.NewPatch(e.ssh)
	e.t.Cleanup(func() { _ = pa.Close() })
	e.reg[specs.KindPatch] = pa
}

// lab compiles testdata/engine/lab.yaml with two slaves, plus extra YAML
// (patches, inventory).
func (e *env) lab(extra string) *specs.Lab {
	e.t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "engine", "lab.yaml"))
	if err != nil {
		e.t.Fatal(err)
	}
	text := strings.Replace(string(data), "count: SLAVES", "count: "+strconv.Itoa(2), 1) + "\n" + extra
	path := filepath.Join(e.dir, "lab.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		e.t.Fatal(err)
	}
	lab, diags := specs.LoadLab(path, func(string) (string, bool) { return "", false })
	if diags.HasErrors() {
		e.t.Fatalf("spec: %v", diags)
	}
	return lab
}

func (e *env) plan(lab *specs.Lab, opts engine.PlanOptions) (*plan.Plan, *engine.State, error) {
	return engine.Plan(context.Background(), e.cloud, e.reg, lab, opts)
}

func (e *env) mustPlan(lab *specs.Lab, opts engine.PlanOptions) (*plan.Plan, *engine.State) {
	e.t.Helper()
	p, st, err := e.plan(lab, opts)
	if err != nil {
		e.t.Fatalf("plan: %v", err)
	}
	return p, st
}

// apply plans and applies; it returns the report and the plan applied.
func (e *env) apply(lab *specs.Lab, opts engine.PlanOptions) (*engine.Report, *plan.Plan) {
	e.t.Helper()
	p, st := e.mustPlan(lab, opts)
	ap := &engine.Applier{Cloud: e.cloud, Registry: e.reg, Parallelism: 8,
		Backoff: engine.Backoff{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}}
	rep, err := ap.Apply(context.Background(), lab, st, p)
	if err != nil {
		e.t.Fatalf("apply: %v", err)
	}
	return rep, p
}

func (e *env) mustApply(lab *specs.Lab, opts engine.PlanOptions) *plan.Plan {
	e.t.Helper()
	rep, p := e.apply(lab, opts)
	if err := rep.Err(); err != nil {
		e.t.Fatalf("apply: %v", err)
	}
	return p
}

// port reads a port as an admin sees it: its hypervisor and security.
type portInfo struct {
	ID             string   `json:"id"`
	HostID         string   `json:"binding:host_id"`
	PortSecurity   *bool    `json:"port_security_enabled"`
	SecurityGroups []string `json:"security_groups"`
}

func (e *env) port(st *engine.State, a specs.Address) portInfo {
	e.t.Helper()
	o, ok := st.Live(a)
	if !ok {
		e.t.Fatalf("%s not in the live state", a)
	}
	var p portInfo
	if err := ports.Get(context.Background(), e.cloud.Network, o.ID).ExtractIntoStructPtr(&p, "port"); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// changes renders a plan's changes one per line, "~ ADDRESS FIELD: BEFORE -> AFTER".
func changes(p *plan.Plan) []string {
	var out []string
	for _, c := range p.Changes {
		if len(c.Fields) == 0 {
			out = append(out, string(c.Action)+" "+string(c.Address))
		}
		for _, f := range c.Fields {
			out = append(out, string(c.Action)+" "+string(c.Address)+" "+f.Name+": "+f.Before+" -> "+f.After)
		}
	}
	return out
}
