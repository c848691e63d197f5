package plan_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/specs"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	t.Parallel()
	p := &plan.Plan{FormatVersion: plan.FormatVersion, Lab: "eng", Changes: []plan.Change{
		{Address: "port.slave-01.mgmt", Action: plan.Replace, ID: "p-1",
			Fields:  []plan.FieldChange{{Name: "subnet", Before: "subnet.mgmt", After: "subnet.mgmt", AfterUnknown: true, ForcesReplace: true}},
			Reasons: []plan.Reason{{Cause: plan.CauseDependency, Field: "subnet", Dependencies: []specs.Address{"subnet.mgmt"}}}},
		{Address: "server.slave-03", Action: plan.Delete, ID: "v-3", Reasons: []plan.Reason{{Cause: plan.CauseNotInSpec}}},
	}}
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := plan.Save(path, p); err != nil {
		t.Fatal(err)
	}
	got, err := plan.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("loaded %+v, saved %+v", got, p)
	}
}

func TestLoadRefusesOtherVersions(t *testing.T) {
	t.Parallel()
	v1, err := os.ReadFile("testdata/v1.json") // a plan fuelplan wrote with format 1
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, data, want string
	}{
		{"version 1, from an older fuelplan", string(v1),
			"plan format version 1 was written by an older fuelplan; this fuelplan reads version 2: make the plan again (fuelplan plan --out)"},
		{"a version from the future", `{"format_version": "9", "changes": [{"reasons": [{"cause": "new"}]}]}`,
			`plan format version "9", this fuelplan reads "2": use the fuelplan that made the plan, or make the plan again`},
		{"not JSON", "lab: eng\n", "damaged plan file (not valid JSON at byte 1): make a new plan"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "old.json")
			if err := os.WriteFile(path, []byte(tc.data), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := plan.Load(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), path+": ") {
				t.Fatalf("Load: %v, want %q after the path", err, tc.want)
			}
		})
	}
}

func TestReasonString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		r    plan.Reason
		want string
	}{
		{plan.Reason{Cause: plan.CauseField, Field: "cidr"}, "cidr forces replacement"},
		{plan.Reason{Cause: plan.CauseDependency, Field: "subnet", Dependencies: []specs.Address{"subnet.mgmt"}},
			"subnet forces replacement (subnet.mgmt is replaced or recreated)"},
		{plan.Reason{Cause: plan.CauseDependency, Field: "security_groups", Dependencies: []specs.Address{"security_group.a", "security_group.b"}},
			"security_groups forces replacement (security_group.a, security_group.b are replaced or recreated)"},
		{plan.Reason{Cause: plan.CauseNotInSpec}, "not in the spec any more"},
		{plan.Reason{Cause: plan.CauseDuplicate, Of: "port.x", OfID: "p-1"}, "duplicate of port.x (p-1), left by an interrupted apply"},
	}
	for _, tc := range tests {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.r, got, tc.want)
		}
	}
}
