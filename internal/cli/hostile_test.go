package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fuelplan/fuelplan/engine/plan"
)

// TestSavedPlanNeverPrintsOtherFiles (issue 13, item 2): a saved plan
// from a pull request names the file apply reads as its spec. Apply must
// refuse one outside the plan's folder, or one whose bytes are not the
// plan's spec, without printing a byte of it.
func TestSavedPlanNeverPrintsOtherFiles(t *testing.T) {
	const secret = "CI_RUNNER_TOKEN_0123456789"
	root := t.TempDir()
	dir := filepath.Join(root, "lab")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(root, "secrets.env")
	inside := filepath.Join(dir, "secrets.env")
	for _, f := range []string{outside, inside} {
		if err := os.WriteFile(f, []byte("lab: "+secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, specFile, want string
	}{
		{"outside the folder", outside, "is outside the plan file's folder: refused"},
		{"dot-dot", filepath.Join(dir, "..", "secrets.env"), "is outside the plan file's folder: refused"},
		{"symbolic link out", link, "is outside the plan file's folder: refused"},
		{"inside, other bytes", inside, "changed since the plan was made"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plan.Plan{FormatVersion: plan.FormatVersion, Lab: "x", SpecFile: tt.specFile,
				SpecHash: strings.Repeat("0", 64), Changes: []plan.Change{}}
			data, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			planFile := filepath.Join(dir, "x.plan")
			if err := os.WriteFile(planFile, data, 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := run(t, "apply", planFile, "--cloud", "sim", "--sim-state", filepath.Join(root, "state.json"))
			if code != ExitError || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want %q", code, errOut, tt.want)
			}
			if strings.Contains(out+errOut, secret) {
				t.Errorf("the file the plan names was printed:\n%s%s", out, errOut)
			}
		})
	}
}

// TestDamagedPlanFile (issue 13, item 7): a saved plan cut short is a
// damaged plan, not a YAML syntax error.
func TestDamagedPlanFile(t *testing.T) {
	dir := t.TempDir()
	spec := writeLab(t, dir, 1)
	planFile := filepath.Join(dir, "lab.plan")
	sim := []string{"--cloud", "sim", "--sim-state", filepath.Join(dir, "state.json")}
	if code, out, errOut := run(t, append([]string{"plan", spec, "--out", planFile}, sim...)...); code != ExitOK {
		t.Fatalf("plan --out: exit %d\n%s%s", code, out, errOut)
	}
	data, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{len(data) / 2, 40} {
		if err := os.WriteFile(planFile, data[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := run(t, append([]string{"apply", planFile}, sim...)...)
		if code != ExitError || !strings.Contains(errOut, "damaged plan file (cut short): make a new plan") || strings.Contains(errOut, "YAML") {
			t.Errorf("plan cut at %d bytes: exit %d, stderr %q", cut, code, errOut)
		}
	}
	// plan --out replaces a plan, never another file (the spec itself).
	before, _ := os.ReadFile(spec)
	code, _, errOut := run(t, append([]string{"plan", spec, "--out", spec}, sim...)...)
	if after, _ := os.ReadFile(spec); code != ExitError || !strings.Contains(errOut, "is not a saved plan; refusing to overwrite it") || !bytes.Equal(before, after) {
		t.Errorf("plan --out SPEC: exit %d, stderr %q", code, errOut)
	}
	// And plan --out refuses to save where apply would refuse to read.
	code, _, errOut = run(t, append([]string{"plan", spec, "--out", filepath.Join(t.TempDir(), "x.plan")}, sim...)...)
	if code != ExitError || !strings.Contains(errOut, "save the plan in the spec's folder or above it") {
		t.Errorf("plan --out outside: exit %d, stderr %q", code, errOut)
	}
}

// TestEnvValuesNeverShown (issue 13, item 3): a value from ${env:} in an
// ordinary field (a security group's description, server metadata) is
// masked in the text plan, --json and the saved plan; the saved plan
// keeps a hash, so a changed environment makes its apply refuse.
func TestEnvValuesNeverShown(t *testing.T) {
	const secret = "s3cret-from-the-env"
	t.Setenv("LAB_DESC", secret)
	t.Setenv("LAB_ROLE", "role-"+secret)
	dir := t.TempDir()
	spec := writeLab(t, dir, 1, func(s string) string {
		s = strings.Replace(s, "description: Fuel lab traffic", "description: \"${env:LAB_DESC}\"", 1)
		return strings.Replace(s, "  floating_ip: true\n", "  floating_ip: true\n  metadata: {role: \"${env:LAB_ROLE}\"}\n", 1)
	})
	sim := []string{"--cloud", "sim", "--sim-state", filepath.Join(dir, "state.json")}
	planFile := filepath.Join(dir, "lab.plan")
	var all strings.Builder
	for _, args := range [][]string{{"plan", spec}, {"plan", spec, "--json"}, {"plan", spec, "--out", planFile}} {
		code, out, errOut := run(t, append(args, sim...)...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
		all.WriteString(out + errOut)
	}
	saved, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	all.Write(saved)
	if strings.Contains(all.String(), secret) {
		t.Fatalf("a value from the environment is shown or saved:\n%s", all.String())
	}
	if !strings.Contains(string(saved), `"after_sha256"`) {
		t.Error("the saved plan keeps no hash of the masked values")
	}
	t.Setenv("LAB_DESC", "another-value")
	code, _, errOut := run(t, append([]string{"apply", planFile}, sim...)...)
	if code != ExitError || !strings.Contains(errOut, "a value the spec takes from the environment (${env:}) changed since the plan was made") {
		t.Errorf("apply after the environment changed: exit %d, stderr %q", code, errOut)
	}
	t.Setenv("LAB_DESC", secret)
	if code, out, errOut := run(t, append([]string{"apply", planFile}, sim...)...); code != ExitOK {
		t.Errorf("apply of the saved plan: exit %d\n%s%s", code, out, errOut)
	}
}

// TestEndlessFilesRefused (issue 13, item 1): every file fuelplan reads
// is read to a limit, so one named /dev/zero is refused at once instead of
// growing until memory runs out.
func TestEndlessFilesRefused(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	dir := t.TempDir()
	keySpec := writeLab(t, dir, 1, func(s string) string {
		return strings.Replace(s, "  public_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3cX0pEDMzJcZ0Fq7c9u0wqkBq9l5y3wS0r2M2kJp8x ops@lab", "  public_key_file: /dev/zero", 1)
	})
	spec := filepath.Join(dir, "lab.yaml")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"validate", "/dev/zero"}, "larger than the spec size limit of 1048576 bytes"},
		{[]string{"apply", "/dev/zero", "--cloud", "sim", "--sim-state", filepath.Join(dir, "s.json")}, "larger than the spec size limit of 1048576 bytes"},
		{[]string{"validate", keySpec}, "/dev/zero: larger than 65536 bytes: not an OpenSSH public key"},
		{[]string{"plan", spec, "--cloud", "sim", "--sim-state", "/dev/zero"}, "state file /dev/zero is not a regular file"},
		{[]string{"plan", spec, "--cloud", "sim", "--sim-state", filepath.Join(dir, "s.json"), "--sim-world", "/dev/zero"}, "/dev/zero: larger than 1048576 bytes: not a world file"},
	}
	for _, tt := range tests {
		if strings.Contains(tt.args[1], "lab.yaml") && tt.args[0] == "plan" {
			writeLab(t, dir, 1) // the spec without the key file
		}
		done := make(chan struct{})
		var code int
		var out, errOut string
		go func() {
			defer close(done)
			code, out, errOut = run(t, tt.args...)
		}()
		select {
		case <-done:
		case <-time.After(2 * time.Minute):
			// A hang detector, not a speed target: reading to a limit
			// takes well under a second; reading without one never ends.
			t.Fatalf("%v: still reading after 2 minutes", tt.args)
		}
		if code != ExitError || !strings.Contains(out+errOut, tt.want) {
			t.Errorf("%v: exit %d, output %q; want %q", tt.args, code, out+errOut, tt.want)
		}
	}
}
