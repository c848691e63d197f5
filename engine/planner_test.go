package engine_test

// Table tests of BuildPlan as data: the live state is built from literals
// (engine.NewState), so no cloud, simulated or real, is involved. These
// files must not import simcloud: the planner is pure.

import (
	"fmt"
	"go/parser"
	"go/token"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// dataLab compiles testdata/plandata/lab.yaml: networks admin and mgmt,
// a protected master on admin, slave-01 and slave-02 on both.
func dataLab(t testing.TB) *specs.Lab {
	t.Helper()
	lab, diags := specs.LoadLab("testdata/plandata/lab.yaml", func(string) (string, bool) { return "", false })
	if diags.HasErrors() {
		t.Fatalf("spec: %v", diags)
	}
	return lab
}

// live is a cloud as literals: one object per address, keyed by it.
type live map[specs.Address]*resources.Object

// converged is the live state of a lab applied exactly as specified:
// every managed object owned and marked, its fields as the spec wants
// them, references resolved to IDs; lookups found. IDs are "id-ADDRESS".
func converged(lab *specs.Lab, reg resources.Registry) live {
	out := live{}
	for _, o := range engine.Converged(lab, reg) {
		out[o.Address] = o
	}
	return out
}

func (l live) objects() []*resources.Object {
	var out []*resources.Object
	for _, o := range l {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// extra is an object outside the converged set: an unowned namesake, an
// owned object the spec dropped, a duplicate.
func (l live) extra(key string, o *resources.Object) { l[specs.Address("extra:"+key)] = o }

// brief prints a plan's changes one per line, fields and typed reasons
// included, for comparing with a table.
func brief(p *plan.Plan) []string {
	var out []string
	for _, c := range p.Changes {
		var fs []string
		for _, f := range c.Fields {
			s := f.Name + "=" + f.After
			if c.Action != plan.Create {
				s = f.Name + "=" + f.Before + "->" + f.After
			}
			if f.ForcesReplace {
				s += "!"
			}
			if f.AfterUnknown {
				s += "?"
			}
			fs = append(fs, s)
		}
		line := c.Action.Word() + " " + string(c.Address)
		if len(fs) > 0 {
			line += " [" + strings.Join(fs, " ") + "]"
		}
		for _, r := range c.Reasons {
			line += " " + reasonBrief(r)
		}
		out = append(out, line)
	}
	for _, c := range p.Conflicts {
		out = append(out, fmt.Sprintf("conflict %s %s %s", c.Address, c.Name, c.ID))
	}
	for _, w := range p.Warnings {
		out = append(out, "warning: "+w)
	}
	return out
}

func reasonBrief(r plan.Reason) string {
	switch r.Cause {
	case plan.CauseField:
		return "field:" + r.Field
	case plan.CauseDependency:
		ds := make([]string, len(r.Dependencies))
		for i, d := range r.Dependencies {
			ds[i] = string(d)
		}
		return "dependency:" + r.Field + "<-" + strings.Join(ds, ",")
	case plan.CauseDuplicate:
		return fmt.Sprintf("duplicate:%s=%s", r.Of, r.OfID)
	}
	return string(r.Cause)
}

// The replace of subnet.mgmt (cidr) and what it propagates to.
var mgmtReplaced = []string{
	"replace subnet.mgmt [cidr=192.168.9.0/24->192.168.0.0/24!] field:cidr",
	"replace port.slave-01.mgmt [subnet=subnet.mgmt->subnet.mgmt!?] dependency:subnet<-subnet.mgmt",
	"replace port.slave-02.mgmt [subnet=subnet.mgmt->subnet.mgmt!?] dependency:subnet<-subnet.mgmt",
	"replace server.slave-01 [ports.mgmt=port.slave-01.mgmt->port.slave-01.mgmt!?] dependency:ports.mgmt<-port.slave-01.mgmt",
	"replace server.slave-02 [ports.mgmt=port.slave-02.mgmt->port.slave-02.mgmt!?] dependency:ports.mgmt<-port.slave-02.mgmt",
}

func TestBuildPlanTable(t *testing.T) {
	t.Parallel()
	const partial = "warning: the plan is partial (--target/--exclude): the rest of the lab may not match the spec"
	// slave03 is a slave the spec dropped (count was 3): its server and ports.
	slave03 := func(l live) {
		for _, a := range []string{"server.slave-03", "port.slave-03.admin", "port.slave-03.mgmt"} {
			addr := specs.Address(a)
			l.extra(a, &resources.Object{Kind: addr.Kind(), Address: addr, Owned: true, ID: "id-" + a, Name: "pd-" + strings.TrimPrefix(a, string(addr.Kind())+".")})
		}
	}
	tests := []struct {
		name    string
		edit    func(live)
		opts    engine.PlanOptions
		want    []string
		wantErr string
	}{
		{
			name: "converged lab plans nothing",
			edit: func(live) {},
		},
		{
			name: "missing server is created with every field, references as addresses",
			edit: func(l live) { delete(l, "server.slave-02") },
			want: []string{"create server.slave-02 [flavor=flavor.m1.small image=image.cirros name=pd-slave-02 ports.admin=port.slave-02.admin ports.mgmt=port.slave-02.mgmt]"},
		},
		{
			name: "missing port is created and the server using it replaced",
			edit: func(l live) { delete(l, "port.slave-02.mgmt") },
			want: []string{
				"create port.slave-02.mgmt [name=pd-slave-02-mgmt network=network.mgmt subnet=subnet.mgmt]",
				// The old port is gone: its ID no longer reads as an address.
				"replace server.slave-02 [ports.mgmt=id-port.slave-02.mgmt->port.slave-02.mgmt!?] dependency:ports.mgmt<-port.slave-02.mgmt",
			},
		},
		{
			name: "renamed network is updated in place and nothing else moves",
			edit: func(l live) { l["network.admin"].Fields["name"] = "pd-old" },
			want: []string{"update network.admin [name=pd-old->pd-admin]"},
		},
		{
			name: "cidr forces the subnet's replace, which propagates to ports and servers",
			edit: func(l live) { l["subnet.mgmt"].Fields["cidr"] = "192.168.9.0/24" },
			want: mgmtReplaced,
		},
		{
			name: "a NIC on a network the spec dropped forces the server's replace",
			edit: func(l live) { l["server.slave-01"].Fields["ports.storage"] = "id-port.slave-01.storage" },
			want: []string{"replace server.slave-01 [ports.storage=id-port.slave-01.storage->!] field:ports.storage"},
		},
		{
			name: "owned objects the spec no longer has are deleted",
			edit: slave03,
			want: []string{
				"delete port.slave-03.admin not_in_spec",
				"delete port.slave-03.mgmt not_in_spec",
				"delete server.slave-03 not_in_spec",
			},
		},
		{
			name: "an unowned namesake is a conflict, never adopted",
			edit: func(l live) {
				delete(l, "server.slave-02")
				l.extra("namesake", &resources.Object{Kind: specs.KindServer, Address: "server.slave-02", ID: "someone-elses", Name: "pd-slave-02"})
			},
			// Blocked by the conflict, the server is not planned (nor
			// counted) as a create.
			want: []string{
				"conflict server.slave-02 pd-slave-02 someone-elses",
			},
		},
		{
			name: "a duplicate left by an interrupted apply is deleted, the first by ID kept",
			edit: func(l live) {
				l.extra("dup", &resources.Object{Kind: specs.KindPort, Address: "port.slave-01.admin", Owned: true, ID: "zz-dup-0123", Name: "pd-slave-01-admin"})
			},
			want: []string{"delete port.slave-01.admin~zz-dup-0 duplicate:port.slave-01.admin=id-port.slave-01.admin"},
		},
		{
			name: "protected server: a replace propagating to it is refused",
			edit: func(l live) { l["subnet.admin"].Fields["cidr"] = "10.99.0.0/24" },
			want: []string{
				"replace subnet.admin [cidr=10.99.0.0/24->10.20.0.0/24!] field:cidr",
				"replace port.master.admin [subnet=subnet.admin->subnet.admin!?] dependency:subnet<-subnet.admin",
				"replace port.slave-01.admin [subnet=subnet.admin->subnet.admin!?] dependency:subnet<-subnet.admin",
				"replace port.slave-02.admin [subnet=subnet.admin->subnet.admin!?] dependency:subnet<-subnet.admin",
				"replace server.master [ports.admin=port.master.admin->port.master.admin!?] dependency:ports.admin<-port.master.admin",
				"replace server.slave-01 [ports.admin=port.slave-01.admin->port.slave-01.admin!?] dependency:ports.admin<-port.slave-01.admin",
				"replace server.slave-02 [ports.admin=port.slave-02.admin->port.slave-02.admin!?] dependency:ports.admin<-port.slave-02.admin",
			},
			wantErr: "server.master: protected, but the change would replace it (ports.admin forces replacement (port.master.admin is replaced or recreated))",
		},
		{
			name: "protected server: destroy deletes the rest and leaves it in place",
			opts: engine.PlanOptions{Destroy: true},
			edit: func(live) {},
			want: []string{
				"delete network.admin", "delete network.mgmt", "delete subnet.admin", "delete subnet.mgmt",
				"delete port.master.admin", "delete port.slave-01.admin", "delete port.slave-01.mgmt",
				"delete port.slave-02.admin", "delete port.slave-02.mgmt",
				"delete server.slave-01", "delete server.slave-02",
				"warning: server.master: protected: destroy leaves it in place",
			},
		},
		{
			name: "destroy needs no lookup: the image and flavor gone from the cloud",
			opts: engine.PlanOptions{Destroy: true},
			edit: func(l live) {
				delete(l, "image.cirros")
				delete(l, "flavor.m1.small")
			},
			want: []string{
				"delete network.admin", "delete network.mgmt", "delete subnet.admin", "delete subnet.mgmt",
				"delete port.master.admin", "delete port.slave-01.admin", "delete port.slave-01.mgmt",
				"delete port.slave-02.admin", "delete port.slave-02.mgmt",
				"delete server.slave-01", "delete server.slave-02",
				"warning: server.master: protected: destroy leaves it in place",
			},
		},
		{
			name: "target keeps the address and everything it depends on",
			edit: func(l live) {
				l["subnet.mgmt"].Fields["cidr"] = "192.168.9.0/24"
				l["network.admin"].Fields["name"] = "pd-old"
			},
			opts: engine.PlanOptions{Targets: []string{"server.slave-01"}},
			want: []string{
				"update network.admin [name=pd-old->pd-admin]",
				mgmtReplaced[0], mgmtReplaced[1], mgmtReplaced[3],
				partial,
			},
		},
		{
			name: "exclude drops the address and everything that depends on it",
			edit: func(l live) {
				l["subnet.mgmt"].Fields["cidr"] = "192.168.9.0/24"
				l["network.admin"].Fields["name"] = "pd-old"
			},
			opts: engine.PlanOptions{Excludes: []string{"subnet.mgmt"}},
			want: []string{"update network.admin [name=pd-old->pd-admin]", partial},
		},
		{
			name: "exclude by prefix matches every address below it",
			edit: func(l live) { l["subnet.mgmt"].Fields["cidr"] = "192.168.9.0/24" },
			opts: engine.PlanOptions{Excludes: []string{"port.slave-01"}},
			want: []string{mgmtReplaced[0], mgmtReplaced[2], mgmtReplaced[4], partial},
		},
		{
			name: "target can name an object the spec no longer has",
			edit: slave03,
			opts: engine.PlanOptions{Targets: []string{"server.slave-03"}},
			want: []string{"delete server.slave-03 not_in_spec", partial},
		},
		{
			name:    "target matching nothing is an error",
			edit:    func(live) {},
			opts:    engine.PlanOptions{Targets: []string{"server.slave-09"}},
			want:    []string{},
			wantErr: `--target/--exclude "server.slave-09" matches no resource of the lab`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lab, reg := dataLab(t), resources.Default()
			l := converged(lab, reg)
			tc.edit(l)
			st, err := engine.NewState(lab, reg, l.objects()...)
			if err != nil {
				t.Fatal(err)
			}
			p, err := engine.BuildPlan(lab, st, reg, tc.opts)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("BuildPlan: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("BuildPlan error %v, want %q", err, tc.wantErr)
			}
			if p.FormatVersion != plan.FormatVersion || p.Lab != "pd" {
				t.Errorf("plan header %q/%q", p.FormatVersion, p.Lab)
			}
			got := brief(p)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("plan:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

// Every live object the plan was computed from is observed, so a saved
// plan can tell the cloud moved; lookups included.
func TestBuildPlanObservesEveryLiveObject(t *testing.T) {
	t.Parallel()
	lab, reg := dataLab(t), resources.Default()
	l := converged(lab, reg)
	l["network.admin"].Revision = "7"
	st, err := engine.NewState(lab, reg, l.objects()...)
	if err != nil {
		t.Fatal(err)
	}
	p, err := engine.BuildPlan(lab, st, reg, engine.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Observed) != len(l) {
		t.Errorf("%d observations, want one per live object (%d)", len(p.Observed), len(l))
	}
	for _, o := range p.Observed {
		if o.ID != "id-"+string(o.Address) {
			t.Errorf("%s observed with id %s", o.Address, o.ID)
		}
		if o.Address == "network.admin" && o.Revision != "7" {
			t.Errorf("network.admin revision %q, want 7", o.Revision)
		}
	}
}

func TestNewStateRefusesTwoLookupResults(t *testing.T) {
	t.Parallel()
	lab, reg := dataLab(t), resources.Default()
	l := converged(lab, reg)
	l.extra("second image", &resources.Object{Kind: specs.KindImage, Address: "image.cirros", ID: "id-2", Name: "cirros"})
	_, err := engine.NewState(lab, reg, l.objects()...)
	if err == nil || !strings.Contains(err.Error(), `image.cirros: more than one image named "cirros"`) {
		t.Fatalf("NewState: %v, want two images named", err)
	}
}

// The planner, ordering and renderer tests are data only (issue 11): their
// files import nothing that could start a server.
func TestPlanDataTestsStartNoServer(t *testing.T) {
	t.Parallel()
	for _, f := range []string{"planner_test.go", "graph_test.go", "render/render_test.go", "plan/file_test.go"} {
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range file.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasSuffix(p, "/simcloud") || strings.HasPrefix(p, "net") {
				t.Errorf("%s imports %s: the plan is tested as data, without a server", f, p)
			}
		}
	}
}
