package cli

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// planActions runs plan --json and returns "action address" lines, sorted.
func planActions(t *testing.T, spec string) []string {
	t.Helper()
	code, out, errOut := run(t, "plan", spec, "--cloud", "sim", "--json")
	if code != ExitOK {
		t.Fatalf("plan --json: exit %d\n%s%s", code, out, errOut)
	}
	var p struct {
		Changes []struct {
			Address string `json:"address"`
			Action  string `json:"action"`
		} `json:"changes"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range p.Changes {
		got = append(got, c.Action+" "+c.Address)
	}
	sort.Strings(got)
	return got
}

func sorted(lines ...string) []string {
	sort.Strings(lines)
	return lines
}

// TestFuelLabSpecChanges builds examples/fuel-lab.yaml with 5 slaves on the
// simulated cloud and checks that each spec change of the engine issue
// plans exactly the expected set of changes.
func TestFuelLabSpecChanges(t *testing.T) {
	five := [2]string{"count: 2\n", "count: 5\n"}
	spec := fuelLab(t, five)
	if code, out, errOut := run(t, "apply", spec, "--cloud", "sim", "--auto-approve", "--skip-waits", "--no-color"); code != ExitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	if got := planActions(t, spec); len(got) != 0 {
		t.Fatalf("plan after apply: %v", got)
	}
	dir := strings.TrimSuffix(spec, "fuel-lab.yaml")

	var slaves67 []string
	for _, n := range []string{"06", "07"} {
		slaves67 = append(slaves67, "create server.slave-"+n, "create volume.slave-"+n+".ipxe", "create volume.slave-"+n+".disk")
		for _, net := range []string{"admin", "public", "storage", "mgmt"} {
			slaves67 = append(slaves67, "create port.slave-"+n+"."+net)
		}
	}
	var mgmtReplaced []string
	for i := 1; i <= 5; i++ {
		mgmtReplaced = append(mgmtReplaced, fmt.Sprintf("replace port.slave-%02d.mgmt", i), fmt.Sprintf("replace server.slave-%02d", i))
	}
	tests := []struct {
		name  string
		edits [][2]string
		want  []string
	}{
		{
			// The new slaves' fixed IPs on admin and public leave the
			// subnets' default pools (specs: pools leave fixed IPs out).
			name:  "slave count 5 to 7",
			edits: [][2]string{{"count: 2\n", "count: 7\n"}},
			want:  sorted(append(slaves67, "update subnet.admin", "update subnet.public")...),
		},
		{
			name:  "network MTU",
			edits: [][2]string{five, {"  - name: storage\n", "  - name: storage\n    mtu: 1400\n"}},
			want:  []string{"update network.storage"},
		},
		{
			name: "subnet CIDR",
			edits: [][2]string{five,
				{"cidr: 192.168.0.0/24\n    gateway: 192.168.0.1", "cidr: 192.168.10.0/24\n    gateway: 192.168.10.1"}},
			want: sorted(append(mgmtReplaced, "replace subnet.mgmt")...),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed := fuelLabIn(t, dir, tt.edits...)
			got := planActions(t, changed)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("plan:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}
