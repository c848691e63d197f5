package engine_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// Conflicts planned as data, without a cloud: a create blocked by an
// unowned object of the same name is not a change of the plan; a rename
// onto an unowned object's name is a conflict; excluding the address
// drops its conflict.
func TestPlanConflicts(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../testdata/engine/lab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "lab.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), "count: SLAVES", "count: 1", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	lab, diags := specs.LoadLab(path, func(string) (string, bool) { return "", false })
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	unowned := &resources.Object{Kind: specs.KindNetwork, ID: "unowned-1", Name: "eng-admin", Address: "network.admin",
		Fields: resources.Fields{"name": "eng-admin"}}
	ownedOld := &resources.Object{Kind: specs.KindNetwork, ID: "lab-1", Name: "eng-old", Address: "network.admin", Owned: true,
		Fields: resources.Fields{"name": "eng-old"}}
	tests := []struct {
		name        string
		owned       []*resources.Object
		opts        engine.PlanOptions
		wantChange  plan.Action // of network.admin; "" for none
		wantMessage string      // in the one conflict; "" for no conflict
	}{
		{"blocked create", nil, engine.PlanOptions{}, "", "exists without lab \"eng\"'s mark"},
		{"rename onto an unowned name", []*resources.Object{ownedOld}, engine.PlanOptions{}, plan.Update, "renaming the lab's network \"eng-old\" to \"eng-admin\""},
		{"excluded", nil, engine.PlanOptions{Excludes: []string{"network.admin"}}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The lab's lookups, found on the cloud; the unowned namesake.
			objs := []*resources.Object{unowned}
			for _, a := range []specs.Address{"external_network.net04_ext", "image.cirros", "flavor.m1.small"} {
				objs = append(objs, &resources.Object{Kind: a.Kind(), ID: "id-" + a.Name(), Name: a.Name(), Address: a})
			}
			st, err := engine.NewState(lab, resources.Default(), append(objs, tt.owned...)...)
			if err != nil {
				t.Fatal(err)
			}
			p, err := engine.BuildPlan(lab, st, resources.Default(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got plan.Action
			if c, ok := p.Change("network.admin"); ok {
				got = c.Action
			}
			if got != tt.wantChange {
				t.Errorf("network.admin: action %q, want %q", got, tt.wantChange)
			}
			switch {
			case tt.wantMessage == "" && len(p.Conflicts) != 0:
				t.Errorf("conflicts %+v, want none", p.Conflicts)
			case tt.wantMessage != "" && (len(p.Conflicts) != 1 || !strings.Contains(p.Conflicts[0].Message, tt.wantMessage)):
				t.Errorf("conflicts %+v, want one saying %q", p.Conflicts, tt.wantMessage)
			}
			if n := p.Summary().Create; tt.wantChange == "" && n != 0 {
				for _, c := range p.Changes {
					if c.Address == "network.admin" {
						t.Errorf("network.admin counted among %d creates", n)
					}
				}
			}
		})
	}
}
