package render_test

// Both renderers from plan literals, against golden files under
// testdata/ (go test ./engine/render -update rewrites them). No cloud.

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/engine/render"
	"github.com/fuelplan/fuelplan/specs"
)

var update = flag.Bool("update", false, "rewrite golden files")

// plans are the literals rendered: every action, every kind of field
// line, every reason, conflicts and warnings.
var plans = map[string]*plan.Plan{
	"empty": {FormatVersion: plan.FormatVersion, Lab: "eng", Changes: []plan.Change{}},
	// Values read as their types: numbers and booleans bare, lists as
	// lists, absent values left out of a create, block devices one per line.
	"typed": {
		FormatVersion: plan.FormatVersion, Lab: "eng",
		Changes: []plan.Change{
			{Address: "security_group_rule.lab.icmp", Action: plan.Create, Name: "",
				Fields: []plan.FieldChange{
					{Name: "direction", After: "ingress"},
					{Name: "port_max", Type: "number"},
					{Name: "port_min", Type: "number"},
					{Name: "protocol", After: "icmp"},
					{Name: "remote_ip", After: ""},
				}},
			{Address: "subnet.admin", Action: plan.Update, Name: "eng-admin", ID: "s-1",
				Fields: []plan.FieldChange{
					{Name: "dns", Before: "8.8.8.8", After: "8.8.8.8,1.1.1.1", Type: "list"},
					{Name: "enable_dhcp", Before: "true", After: "false", Type: "bool"},
					{Name: "pools", Before: "", After: "10.20.0.3-10.20.0.254", Type: "list"},
				}},
			{Address: "port.master.admin", Action: plan.Update, Name: "eng-master-admin", ID: "p-1",
				Fields: []plan.FieldChange{{Name: "security_groups", Before: "security_group.lab", After: "", Type: "list"}}},
			{Address: "network.storage", Action: plan.Update, Name: "eng-storage", ID: "n-1",
				Fields: []plan.FieldChange{{Name: "mtu", Before: "1450", After: "1400", Type: "number"}}},
			{Address: "server.master", Action: plan.Replace, Name: "eng-master", ID: "v-1",
				Fields: []plan.FieldChange{{Name: "block_devices", Before: "iso=cdrom/ide/0;disk=disk//1",
					After: "disk=disk//0", Type: "devices", ForcesReplace: true}},
				Reasons: []plan.Reason{{Cause: plan.CauseField, Field: "block_devices"}}},
			{Address: "server.slave-01", Action: plan.Create, Name: "eng-slave-01",
				Fields: []plan.FieldChange{{Name: "block_devices", After: "ipxe=cdrom/ide/0;disk=disk/virtio/1", Type: "devices"}}},
		},
	},
	"empty-warnings": {FormatVersion: plan.FormatVersion, Lab: "eng", Changes: []plan.Change{},
		Warnings: []string{"server.master: protected: destroy leaves it in place"}},
	"mixed": {
		FormatVersion: plan.FormatVersion, Lab: "eng", Cloud: "sim", SpecFile: "lab.yaml", SpecHash: "abc123",
		Targets: []string{"server.slave-01"},
		Changes: []plan.Change{
			{Address: "network.storage", Action: plan.Update, Name: "eng-storage", ID: "n-1",
				Fields: []plan.FieldChange{
					{Name: "mtu", Before: "1450", After: "1400"},
					{Name: "description", After: "storage"},
					{Name: "port_security", Before: "true"},
				}},
			{Address: "subnet.mgmt", Action: plan.Replace, Name: "eng-mgmt", ID: "s-1",
				Fields:  []plan.FieldChange{{Name: "cidr", Before: "192.168.0.0/24", After: "192.168.10.0/24", ForcesReplace: true}},
				Reasons: []plan.Reason{{Cause: plan.CauseField, Field: "cidr"}}},
			{Address: "port.slave-01.mgmt", Action: plan.Replace, Name: "eng-slave-01-mgmt", ID: "p-1",
				Fields: []plan.FieldChange{
					{Name: "subnet", Before: "subnet.mgmt", After: "subnet.mgmt", AfterUnknown: true, ForcesReplace: true},
					{Name: "network", Before: "network.old", After: "network.mgmt", AfterUnknown: true, ForcesReplace: true},
				},
				Reasons: []plan.Reason{
					{Cause: plan.CauseDependency, Field: "subnet", Dependencies: []specs.Address{"subnet.mgmt"}},
					{Cause: plan.CauseDependency, Field: "network", Dependencies: []specs.Address{"network.mgmt"}},
				}},
			{Address: "server.slave-01", Action: plan.Update, Name: "eng-slave-01", ID: "v-1",
				Fields: []plan.FieldChange{{Name: "user_data", Before: plan.Sensitive, After: plan.Sensitive, Sensitive: true}}},
			{Address: "server.slave-02", Action: plan.Create, Name: "eng-slave-02",
				Fields: []plan.FieldChange{
					{Name: "flavor", After: "flavor.m1.small"},
					{Name: "name", After: "eng-slave-02"},
					{Name: "user_data", After: plan.Sensitive, Sensitive: true},
				}},
			{Address: "server.slave-03", Action: plan.Delete, Name: "eng-slave-03", ID: "v-3",
				Reasons: []plan.Reason{{Cause: plan.CauseNotInSpec}}},
			{Address: "port.slave-01.admin~dup00001", Action: plan.Delete, Name: "eng-slave-01-admin", ID: "dup00001-aaaa",
				Reasons: []plan.Reason{{Cause: plan.CauseDuplicate, Of: "port.slave-01.admin", OfID: "p-2"}}},
		},
		Conflicts: []plan.Conflict{{Address: "network.public", Kind: "network", Name: "eng-public", ID: "x-1",
			Message: `a network named "eng-public" exists without lab "eng"'s mark; fuelplan will not adopt or touch it: rename or delete it, or rename the lab's`}},
		Observed: []plan.Observation{{Address: "network.storage", ID: "n-1", Revision: "2"}},
		Checks: []plan.Check{{Check: "quota", Severity: "error", Address: "port.slave-01.admin", Position: "lab.yaml:40:3",
			Message: "ports: plan adds 801, 499 left (quota 500, 1 used)", Fix: "raise the ports quota or lower slaves.count"}},
		SkippedChecks: []string{"fuel-dhcp"},
		Notes:         []string{"network.public carries VLANs 101-102 (vlan_mode auto): a VLAN-transparent network, because the cloud's Neutron has the vlan-transparent extension"},
		Warnings:      []string{"the plan is partial (--target/--exclude): the rest of the lab may not match the spec"},
	},
	"destroy": {FormatVersion: plan.FormatVersion, Lab: "eng", Destroy: true, Changes: []plan.Change{
		{Address: "network.admin", Action: plan.Delete, Name: "eng-admin", ID: "n-1"},
		{Address: "server.slave-01", Action: plan.Delete, Name: "eng-slave-01", ID: "v-1"},
	}},
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./engine/render -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file\n--- got\n%s--- want\n%s", path, got, want)
	}
}

func TestRenderGolden(t *testing.T) {
	for name, p := range plans {
		t.Run(name, func(t *testing.T) {
			for _, v := range []struct {
				suffix string
				render func(*bytes.Buffer) error
			}{
				{".txt", func(b *bytes.Buffer) error { return render.Text{}.Plan(b, p) }},
				{".color.txt", func(b *bytes.Buffer) error { return render.Text{Color: true}.Plan(b, p) }},
				{".json", func(b *bytes.Buffer) error { return render.JSON(b, p) }},
				{".md", func(b *bytes.Buffer) error { return render.Markdown{}.Plan(b, p) }},
			} {
				var b bytes.Buffer
				if err := v.render(&b); err != nil {
					t.Fatal(err)
				}
				checkGolden(t, name+v.suffix, b.Bytes())
			}
		})
	}
}

// The JSON view reads back into the same plan: nothing is only in text.
func TestJSONRoundTrip(t *testing.T) {
	for name, p := range plans {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := render.JSON(&b, p); err != nil {
				t.Fatal(err)
			}
			var back render.JSONPlan
			back.Plan = &plan.Plan{}
			if err := json.Unmarshal(b.Bytes(), &back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back.Plan, p) {
				t.Errorf("round trip changed the plan:\n got %+v\nwant %+v", back.Plan, p)
			}
			if back.Summary != p.Summary() || back.HasChanges != p.HasChanges() {
				t.Errorf("summary %+v/%v, want %+v/%v", back.Summary, back.HasChanges, p.Summary(), p.HasChanges())
			}
		})
	}
}

// bigPlan has n ports to create and n servers to replace.
func bigPlan(n int) *plan.Plan {
	p := &plan.Plan{FormatVersion: plan.FormatVersion, Lab: "big"}
	for i := range n {
		p.Changes = append(p.Changes, plan.Change{Address: specs.Address(fmt.Sprintf("port.slave-%04d.admin", i)), Action: plan.Create,
			Name: fmt.Sprintf("big-slave-%04d-admin", i), Fields: []plan.FieldChange{{Name: "network", After: "network.admin"}, {Name: "fixed_ip", After: "10.20.0.1"}}})
	}
	for i := range n {
		p.Changes = append(p.Changes, plan.Change{Address: specs.Address(fmt.Sprintf("server.slave-%04d", i)), Action: plan.Replace, ID: "v",
			Fields:  []plan.FieldChange{{Name: "flavor", Before: "a", After: "b", ForcesReplace: true}},
			Reasons: []plan.Reason{{Cause: plan.CauseField, Field: "flavor"}}})
	}
	return p
}

// A plan too big for one comment is cut to the limit, saying how much of
// it is shown; one that fits is shown whole.
func TestMarkdownLimit(t *testing.T) {
	tests := []struct {
		n, limit  int
		truncated bool
	}{
		{n: 5, limit: render.CommentLimit},
		{n: 2000, limit: render.CommentLimit, truncated: true},
		{n: 50, limit: 4000, truncated: true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%d", tt.n, tt.limit), func(t *testing.T) {
			var b bytes.Buffer
			if err := (render.Markdown{Limit: tt.limit}).Plan(&b, bigPlan(tt.n)); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if b.Len() > tt.limit {
				t.Errorf("%d bytes, over the limit of %d", b.Len(), tt.limit)
			}
			shown := strings.Count(out, "must be replaced") + strings.Count(out, "will be created")
			note := fmt.Sprintf("**Truncated** to fit a comment: %d of %d changes shown", shown, 2*tt.n)
			if tt.truncated != strings.Contains(out, note) {
				t.Errorf("truncated note %q present: %v, want %v (%d changes shown)", note, !tt.truncated, tt.truncated, shown)
			}
			if !tt.truncated && shown != 2*tt.n {
				t.Errorf("%d of %d changes shown", shown, 2*tt.n)
			}
			if !strings.Contains(out, fmt.Sprintf("**Plan: %d to create, 0 to update, %d to replace, 0 to delete.**", tt.n, tt.n)) {
				t.Error("the summary is missing")
			}
			if strings.Count(out, "<details>") != strings.Count(out, "</details>") || strings.Count(out, "```")%2 != 0 {
				t.Error("unbalanced <details> or code fences")
			}
		})
	}
}
