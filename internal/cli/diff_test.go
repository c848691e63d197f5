package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// moveAdmin is the fuel lab with its admin network moved to another /24.
func moveAdmin(s string) string { return strings.ReplaceAll(s, "10.20.0.", "10.21.0.") }

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func fuelLabText(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../examples/fuel-lab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Issue 15: with the admin range moved, diff names the subnet, every port
// and server on it, and what hangs on those (the router's interface on
// the subnet, the floating IP on the master's port): nothing else.
func TestDiffAdminRangeMoved(t *testing.T) {
	dir := t.TempDir()
	old, next := filepath.Join(dir, "old.yaml"), filepath.Join(dir, "new.yaml")
	writeFile(t, old, fuelLabText(t))
	writeFile(t, next, moveAdmin(fuelLabText(t)))
	code, out, errOut := run(t, "diff", old, next, "--format", "json", "--detailed-exitcode")
	if code != ExitChanges {
		t.Fatalf("exit %d, want 2 (changes)\n%s", code, errOut)
	}
	var doc struct {
		Changes []struct{ Address, Action string }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range doc.Changes {
		got = append(got, c.Action+" "+c.Address)
	}
	slices.Sort(got)
	want := []string{
		"replace port.master.admin", "replace port.slave-01.admin", "replace port.slave-02.admin",
		"replace router_interface.admin",
		"replace server.master", "replace server.slave-01", "replace server.slave-02",
		"replace subnet.admin",
		"update floating_ip.master",
	}
	if !slices.Equal(got, want) {
		t.Errorf("diff:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}

	if code, out, _ := run(t, "diff", old, old, "--detailed-exitcode"); code != ExitOK || !strings.Contains(out, "No changes") {
		t.Errorf("a spec against itself: exit %d, %q", code, out)
	}
}

// The text, markdown and json views of that diff, as goldens.
func TestDiffGolden(t *testing.T) {
	lab := fuelLabText(t)
	t.Chdir("../..")
	dir := "testdata/diff"
	next := filepath.Join(t.TempDir(), "fuel-lab.yaml")
	writeFile(t, next, moveAdmin(lab))
	for _, format := range []string{"text", "markdown", "json"} {
		code, out, errOut := run(t, "diff", "examples/fuel-lab.yaml", next, "--format", format)
		if code != ExitOK {
			t.Fatalf("%s: exit %d\n%s", format, code, errOut)
		}
		out = strings.ReplaceAll(out, next, "NEW/fuel-lab.yaml")
		ext := map[string]string{"text": "txt", "markdown": "md", "json": "json"}[format]
		golden := filepath.Join(dir, "admin-moved."+ext)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, golden, out)
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if out != string(want) {
			t.Errorf("%s differs from %s (go test ./internal/cli -run TestDiffGolden -update):\n%s", format, golden, out)
		}
	}
}

// diff --base reads the old version from git: a repository of two
// commits, the second moving the admin range.
func TestDiffBase(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	repo := t.TempDir()
	labs := filepath.Join(repo, "labs")
	if err := os.Mkdir(labs, 0o755); err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	spec := filepath.Join(labs, "fuel.yaml")
	git("init", "-q", "-b", "main")
	writeFile(t, spec, fuelLabText(t))
	git("add", ".")
	git("commit", "-q", "-m", "the lab")
	writeFile(t, spec, moveAdmin(fuelLabText(t)))
	git("commit", "-q", "-am", "move the admin range")

	code, out, errOut := run(t, "diff", "--base", "HEAD~1", spec, "--no-color")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"HEAD~1:" + spec + " → " + spec, "subnet.admin: cidr forces replacement, which replaces subnet.admin, 1 router_interface, 3 ports and 3 servers"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if code, out, _ := run(t, "diff", "--base", "HEAD", spec); code != ExitOK || !strings.Contains(out, "No changes") {
		t.Errorf("against HEAD: exit %d, %q", code, out)
	}
	code, _, errOut = run(t, "diff", "--base", "no-such-rev", spec)
	if code != ExitError || !strings.Contains(errOut, "git show") {
		t.Errorf("a bad revision: exit %d, %q", code, errOut)
	}
	if code, _, errOut := run(t, "diff", "--base", "--output=/tmp/x", spec); code != ExitError || !strings.Contains(errOut, "not a revision") {
		t.Errorf("an option as a revision: exit %d, %q", code, errOut)
	}
}
