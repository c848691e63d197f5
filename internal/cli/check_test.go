package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fuelplan/fuelplan/engine/plan"
)

// tightWorld writes the default simulated world with a port quota of 2.
func tightWorld(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile("../../simcloud/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(data), "  port: 200\n", "  port: 2\n", 1)
	if text == string(data) {
		t.Fatal("the default world has no port quota of 200 to tighten")
	}
	path := filepath.Join(dir, "world.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCheckCommand: check prints one line per quota the lab uses and every
// finding once with its spec position; exit 1 only on errors.
func TestCheckCommand(t *testing.T) {
	t.Setenv("OS_CLOUD", "")
	dir := t.TempDir()
	spec := writeLab(t, dir, 2)

	code, out, errOut := run(t, "check", spec, "--cloud", "sim")
	if code != ExitOK {
		t.Fatalf("check on the default world: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"quota: port: plan adds 11, 200 left (quota 200, 0 used)\n", // 9 ports, 2 router interfaces
		"quota: instances: plan adds 3, 20 left (quota 20, 0 used)\n",
		spec + ":52:3: warning: [fuel-dhcp-replies] server eng-master: ",
		"preflight: 0 errors, 1 warning\n",
	} {
		if strings.Count(out, want) != 1 {
			t.Errorf("want %q once in:\n%s", want, out)
		}
	}

	world := tightWorld(t, dir)
	code, out, _ = run(t, "check", spec, "--cloud", "sim", "--sim-world", world, "--sim-state", filepath.Join(dir, "tight.json"))
	if code != ExitError {
		t.Fatalf("check over the port quota: exit %d, want %d\n%s", code, ExitError, out)
	}
	want := ": error: [quota] port: plan adds 11, 2 left (quota 2, 0 used) (neutron quota): this object is the first over it\n"
	if strings.Count(out, want) != 1 || !strings.Contains(out, "preflight: 1 error, 1 warning\n") {
		t.Errorf("want %q once and the summary in:\n%s", want, out)
	}
}

// TestApplyRefusesOnPreflightErrors: apply starts nothing while a check
// finds an error; --skip-check overrides one check, a saved plan records
// the override and apply honours it (the cloud then refuses the ports
// itself).
func TestApplyRefusesOnPreflightErrors(t *testing.T) {
	t.Setenv("OS_CLOUD", "")
	t.Setenv("NO_COLOR", "1")
	dir := t.TempDir()
	spec := writeLab(t, dir, 2)
	world := tightWorld(t, dir)
	sim := []string{"--cloud", "sim", "--sim-world", world}

	code, out, errOut := run(t, append([]string{"apply", spec, "--auto-approve"}, sim...)...)
	if code != ExitError || !strings.Contains(errOut, "preflight found 1 error(s) (checks: [quota])") || strings.Contains(out, "Apply finished") {
		t.Fatalf("apply over the port quota: exit %d\n%s%s", code, out, errOut)
	}
	if strings.Count(errOut, "[quota] port: plan adds 11") != 1 {
		t.Errorf("the quota finding is not printed exactly once:\n%s", errOut)
	}
	// Nothing was created: the plan still adds every port.
	if _, out, _ = run(t, append([]string{"check", spec}, sim...)...); !strings.Contains(out, "quota: network: plan adds 4, 19 left (quota 20, 1 used)") {
		t.Errorf("apply created something before refusing:\n%s", out)
	}

	if code, _, errOut = run(t, append([]string{"apply", spec, "--auto-approve", "--skip-check", "quotas"}, sim...)...); code != ExitError || !strings.Contains(errOut, "--skip-check quotas: no such check") {
		t.Errorf("an unknown --skip-check: exit %d, %s", code, errOut)
	}

	planFile := filepath.Join(dir, "lab.plan")
	code, out, errOut = run(t, append([]string{"plan", spec, "--skip-check", "quota", "--out", planFile}, sim...)...)
	if code != ExitOK || strings.Contains(out, "[quota]") || !strings.Contains(out, "preflight: 0 errors, 1 warning (skipped: quota)") {
		t.Fatalf("plan --skip-check quota: exit %d\n%s%s", code, out, errOut)
	}
	saved, err := plan.Load(planFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(saved.SkippedChecks) != 1 || saved.SkippedChecks[0] != "quota" || len(saved.Checks) != 1 {
		t.Fatalf("saved plan: skipped %v, checks %+v", saved.SkippedChecks, saved.Checks)
	}
	code, out, errOut = run(t, append([]string{"apply", planFile}, sim...)...)
	if code != ExitError || !strings.Contains(errOut, "OverQuota") || strings.Contains(errOut, "preflight found") {
		t.Fatalf("apply of the plan that skips quota: exit %d, want the cloud's own OverQuota\n%s%s", code, out, errOut)
	}
}
