package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestMissingLookupOnce: a looked-up image and flavor the cloud lacks are
// each told once, as a finding with its position and fix, by check, plan
// (text and JSON) and apply alike; plan and apply do not add the
// planner's error, which says the same without position or fix. With the
// lookup check skipped, the planner's error is the one left.
func TestMissingLookupOnce(t *testing.T) {
	t.Setenv("OS_CLOUD", "")
	t.Setenv("NO_COLOR", "1")
	dir := t.TempDir()
	spec := writeLab(t, dir, 2, func(s string) string {
		s = strings.Replace(s, "  - name: cirros\n", "  - name: cirros-9\n", 1)
		s = strings.ReplaceAll(s, "image: cirros\n", "image: cirros-9\n")
		s = strings.Replace(s, "  - name: m1.small\n", "  - name: m1.nope\n", 1)
		return strings.ReplaceAll(s, "flavor: m1.small\n", "flavor: m1.nope\n")
	})
	sim := []string{"--cloud", "sim", "--sim-state", filepath.Join(dir, "sim.json")}
	problems := []string{`no image named "cirros-9"`, `no flavor named "m1.nope"`}
	findings := []string{spec + ":9:5: error: [lookup] no image named", spec + ":12:5: error: [lookup] no flavor named"}
	for _, args := range [][]string{
		{"check", spec},
		{"plan", spec},
		{"plan", spec, "--json"},
		{"apply", spec, "--auto-approve"},
	} {
		code, out, errOut := run(t, append(args, sim...)...)
		all := out + errOut
		name := strings.TrimSpace(args[0] + " " + strings.Join(args[2:], " "))
		if code != ExitError {
			t.Errorf("%s: exit %d, want %d", name, code, ExitError)
		}
		for i, p := range problems {
			if n := strings.Count(all, p); n != 1 {
				t.Errorf("%s: %q told %d times, want once:\n%s", name, p, n, all)
			}
			if !strings.Contains(all, findings[i]) {
				t.Errorf("%s: want the finding %q with its position:\n%s", name, findings[i], all)
			}
		}
		if !strings.Contains(all, "preflight: 2 errors, ") {
			t.Errorf("%s: no preflight summary:\n%s", name, all)
		}
		if strings.Contains(all, "Apply finished") || strings.Contains(all, "Plan:") {
			t.Errorf("%s: went on past the missing lookups:\n%s", name, all)
		}
	}

	code, out, errOut := run(t, append([]string{"plan", spec, "--skip-check", "lookup"}, sim...)...)
	all := out + errOut
	for _, p := range problems {
		if code != ExitError || strings.Count(all, p) != 1 || strings.Contains(all, "[lookup]") {
			t.Errorf("plan --skip-check lookup: exit %d, want the planner's error for %q once and no finding:\n%s", code, p, all)
		}
	}
}
