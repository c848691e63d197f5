package topology_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/engine/render/topology"
	"github.com/fuelplan/fuelplan/specs"
)

var update = flag.Bool("update", false, "rewrite golden files")

func compile(t *testing.T, path string, edits ...[2]string) *specs.Lab {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, e := range edits {
		if !strings.Contains(text, e[0]) {
			t.Fatalf("%s has no %q", path, e[0])
		}
		text = strings.Replace(text, e[0], e[1], 1)
	}
	env := func(string) (string, bool) { return "", false }
	spec, diags := specs.Parse(path, []byte(text), env)
	if diags.HasErrors() {
		t.Fatal(diags.Errors())
	}
	lab, err := specs.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	return lab
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("../../../testdata/topology", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test ./engine/render/topology -update):\n%s", name, got)
	}
}

func TestMermaid(t *testing.T) {
	const fuel = "../../../examples/fuel-lab.yaml"
	tests := []struct {
		name  string
		spec  string
		edits [][2]string
		marks topology.Marks
	}{
		{name: "fuel-lab.mmd", spec: fuel},
		{name: "lab-200.mmd", spec: "../../../testdata/lab-200.yaml"},
		{
			// The admin range moved: its subnet and every server on it are
			// replaced; the router interface too; a slave was removed.
			name: "fuel-lab-admin-moved.mmd", spec: fuel,
			marks: topology.Marks{
				"subnet.admin": plan.Replace, "router_interface.admin": plan.Replace,
				"port.master.admin": plan.Replace, "server.master": plan.Replace,
				"port.slave-01.admin": plan.Replace, "server.slave-01": plan.Replace,
				"port.slave-02.admin": plan.Replace, "server.slave-02": plan.Replace,
				"server.slave-03": plan.Delete,
			},
		},
		{
			// 12 slaves, the last two new and one port updated: drawn as
			// ranges of slaves that change alike.
			name: "fuel-lab-12-slaves.mmd", spec: fuel,
			edits: [][2]string{{"count: 2", "count: 12"}},
			marks: topology.Marks{
				"server.slave-11": plan.Create, "server.slave-12": plan.Create,
				"port.slave-05.storage": plan.Update,
				"network.mgmt":          plan.Update,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lab := compile(t, tt.spec, tt.edits...)
			var b bytes.Buffer
			if err := topology.Mermaid(&b, lab, tt.marks); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, b.Bytes())
			var again bytes.Buffer
			if err := topology.Mermaid(&again, lab, tt.marks); err != nil || !bytes.Equal(again.Bytes(), b.Bytes()) {
				t.Error("two drawings of the same lab differ")
			}
		})
	}
}

func TestMarksFromPlan(t *testing.T) {
	p := &plan.Plan{
		Changes: []plan.Change{
			{Address: "server.master", Action: plan.Update},
			{Address: "external_network.ext", Action: plan.Read},
			{Address: "network.admin", Action: plan.NoOp},
		},
		Conflicts: []plan.Conflict{{Address: "network.public"}},
	}
	got := topology.FromPlan(p)
	want := topology.Marks{"server.master": plan.Update, "network.public": "!"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for a, m := range want {
		if got[a] != m {
			t.Errorf("%s: got %q, want %q", a, got[a], m)
		}
	}
}
