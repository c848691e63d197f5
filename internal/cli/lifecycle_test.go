package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/simcloud"
)

// writeLab copies the engine's test lab with n slaves into a temp folder,
// after edits, and returns its path.
func writeLab(t *testing.T, dir string, n int, edits ...func(string) string) string {
	t.Helper()
	data, err := os.ReadFile("../../testdata/engine/lab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(data), "count: SLAVES", fmt.Sprintf("count: %d", n), 1)
	for _, e := range edits {
		text = e(text)
	}
	path := filepath.Join(dir, "lab.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

var (
	uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	timeRE = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)
)

// normalize replaces IDs (random on every run) by their order of first
// appearance, Nova's timestamps (a server's revision) and the temp folder
// by fixed text, so plans can be golden.
func normalize(s, dir string) string {
	s = strings.ReplaceAll(s, dir, "$LABDIR")
	s = timeRE.ReplaceAllString(s, "<time>")
	seen := map[string]string{}
	return uuidRE.ReplaceAllStringFunc(s, func(id string) string {
		if n, ok := seen[id]; ok {
			return n
		}
		n := fmt.Sprintf("<id-%d>", len(seen)+1)
		seen[id] = n
		return n
	})
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "plans", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file\n--- got\n%s--- want\n%s", name, got, want)
	}
}

func TestSimLifecycleAcrossInvocations(t *testing.T) {
	t.Setenv("OS_CLOUD", "")
	t.Setenv("NO_COLOR", "1")
	dir := t.TempDir()
	spec := writeLab(t, dir, 2)
	sim := []string{"--cloud", "sim"}

	code, out, errOut := run(t, append([]string{"plan", spec, "--detailed-exitcode"}, sim...)...)
	if code != ExitChanges {
		t.Fatalf("first plan: exit %d, want %d\n%s%s", code, ExitChanges, out, errOut)
	}
	checkGolden(t, "create.txt", normalize(out, dir))

	code, _, errOut = run(t, append([]string{"apply", spec}, sim...)...)
	if code != ExitError || !strings.Contains(errOut, "--auto-approve") {
		t.Fatalf("apply without a terminal or --auto-approve: exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, ".fuelplan", "sim-state.json")); err != nil {
		t.Fatalf("no state file beside the spec: %v", err)
	}

	code, out, errOut = run(t, append([]string{"apply", spec, "--auto-approve"}, sim...)...)
	if code != ExitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "Apply finished: 28 created, 0 updated, 0 destroyed.") {
		t.Errorf("apply summary missing:\n%s", out)
	}

	code, out, _ = run(t, append([]string{"plan", spec, "--detailed-exitcode"}, sim...)...)
	// The test lab has no DHCP patch: the preflight warning stays above.
	if code != ExitOK || !strings.HasSuffix(out, "preflight: 0 errors, 1 warning\nNo changes. The lab matches the spec.\n") {
		t.Fatalf("plan after apply: exit %d\n%s", code, out)
	}

	// One update in place and one replace, with what depends on it.
	writeLab(t, dir, 2, func(s string) string {
		s = strings.Replace(s, "cidr: 192.168.1.0/24", "cidr: 192.168.1.0/24\n    mtu: 1400", 1)
		return strings.Replace(s, "cidr: 192.168.0.0/24", "cidr: 192.168.10.0/24", 1)
	})
	code, out, _ = run(t, append([]string{"plan", spec, "--detailed-exitcode"}, sim...)...)
	if code != ExitChanges {
		t.Fatalf("plan after the spec change: exit %d\n%s", code, out)
	}
	checkGolden(t, "change.txt", normalize(out, dir))
	code, out, _ = run(t, append([]string{"plan", spec, "--json"}, sim...)...)
	if code != ExitOK || !json.Valid([]byte(out)) {
		t.Fatalf("plan --json: exit %d, valid JSON %v", code, json.Valid([]byte(out)))
	}
	checkGolden(t, "change.json", normalize(out, dir))

	planFile := filepath.Join(dir, "change.plan")
	if code, out, errOut = run(t, append([]string{"plan", spec, "--out", planFile}, sim...)...); code != ExitOK {
		t.Fatalf("plan --out: exit %d\n%s%s", code, out, errOut)
	}
	saved, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(saved), "AAAAC3NzaC1lZDI1NTE5") {
		t.Error("the saved plan holds the public key material verbatim; plans should hold only what they show")
	}
	if code, out, errOut = run(t, append([]string{"apply", planFile}, sim...)...); code != ExitOK {
		t.Fatalf("apply saved plan: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ = run(t, append([]string{"plan", spec, "--detailed-exitcode"}, sim...)...); code != ExitOK {
		t.Fatalf("plan after applying the saved plan: exit %d\n%s", code, out)
	}
	// The same saved plan again: the cloud moved since it was made.
	code, _, errOut = run(t, append([]string{"apply", planFile}, sim...)...)
	if code != ExitError || !strings.Contains(errOut, "changed since the plan was made") {
		t.Fatalf("stale saved plan: exit %d, stderr %q", code, errOut)
	}

	code, out, errOut = run(t, append([]string{"destroy", spec, "--auto-approve"}, sim...)...)
	if code != ExitOK {
		t.Fatalf("destroy: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = run(t, append([]string{"plan", spec, "--detailed-exitcode"}, sim...)...)
	if code != ExitChanges || !strings.Contains(out, "Plan: 28 to create, 0 to update, 0 to replace, 0 to delete.") {
		t.Fatalf("plan after destroy: exit %d\n%s", code, out)
	}
}

func TestNoCloudConfigured(t *testing.T) {
	for _, v := range []string{"OS_CLOUD", "OS_AUTH_URL", "OS_CLIENT_CONFIG_FILE"} {
		t.Setenv(v, "")
	}
	spec := writeLab(t, t.TempDir(), 1)
	code, _, errOut := run(t, "plan", spec)
	if code != ExitError || !strings.Contains(errOut, "--cloud sim") {
		t.Fatalf("plan with no cloud: exit %d, stderr %q; want a hint naming --cloud sim", code, errOut)
	}
}

// TestConcurrentAppliesBuildOnce starts two applies of one lab together
// against one cloud: one takes the lab lock, the other waits for it, and
// the lab ends built once.
func TestConcurrentAppliesBuildOnce(t *testing.T) {
	sim, err := simcloud.Start(simcloud.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	dir := t.TempDir()
	clouds := filepath.Join(dir, "clouds.yaml")
	if err := os.WriteFile(clouds, []byte(sim.CloudsYAML("shared", sim.Admin())), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OS_CLIENT_CONFIG_FILE", clouds)
	t.Setenv("OS_CLOUD", "")
	spec := writeLab(t, dir, 3)

	var wg sync.WaitGroup
	codes := make([]int, 2)
	outs := make([]string, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out, errw bytes.Buffer
			codes[i] = Run(context.Background(), []string{"apply", spec, "--cloud", "shared", "--auto-approve", "--lock-timeout", "2m"},
				strings.NewReader(""), &out, &errw)
			outs[i] = out.String() + errw.String()
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != ExitOK {
			t.Fatalf("apply %d: exit %d\n%s", i, c, outs[i])
		}
	}
	waited := strings.Contains(outs[0], "Waiting for the lab lock") || strings.Contains(outs[1], "Waiting for the lab lock")
	noChanges := strings.Contains(outs[0], "No changes") || strings.Contains(outs[1], "No changes")
	if !waited || !noChanges {
		t.Errorf("want one apply to wait for the lock and then find nothing to do\n--- 1\n%s\n--- 2\n%s", outs[0], outs[1])
	}
	c, err := resources.Connect(context.Background(), resources.Target{CloudName: "shared"})
	if err != nil {
		t.Fatal(err)
	}
	pages, err := servers.List(c.Compute, servers.ListOpts{Tags: resources.LabTag("eng")}).AllPages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	all, _ := servers.ExtractServers(pages)
	if len(all) != 4 {
		t.Errorf("%d servers carry the lab's mark, want 4 (master and 3 slaves, built once)", len(all))
	}
}
