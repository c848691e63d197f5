package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// run drives the CLI in-process, as main does.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errw bytes.Buffer
	code = Run(context.Background(), args, strings.NewReader(""), &out, &errw)
	return code, out.String(), errw.String()
}

// TestValidateInvalid: every broken spec exits 1 and prints exactly its
// golden (the same files the specs package checks diagnostic by diagnostic).
func TestValidateInvalid(t *testing.T) {
	t.Chdir("../..")
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil || len(files) < 25 {
		t.Fatalf("want at least 25 broken specs, found %d (%v)", len(files), err)
	}
	for _, f := range files {
		code, out, _ := run(t, "validate", f)
		want, err := os.ReadFile(strings.TrimSuffix(f, ".yaml") + ".golden")
		if err != nil {
			t.Fatal(err)
		}
		if code != ExitError {
			t.Errorf("%s: exit %d, want %d", f, code, ExitError)
		}
		if out != string(want) {
			t.Errorf("%s: output differs from golden\n--- got\n%s--- want\n%s", f, out, want)
		}
	}
}

func TestValidateValid(t *testing.T) {
	t.Chdir("../..")
	tests := []struct {
		file string
		want string // the whole output
	}{
		{"examples/fuel-lab.yaml", "examples/fuel-lab.yaml: valid: lab \"fuel\", 42 resources\n"},
		{"examples/minimal.yaml", "examples/minimal.yaml: valid: lab \"mini\", 6 resources\n"},
		{"testdata/lab-200.yaml", "testdata/lab-200.yaml: valid: lab \"big\", 1428 resources\n"},
	}
	for _, tt := range tests {
		code, out, errOut := run(t, "validate", tt.file)
		if code != ExitOK || out != tt.want || errOut != "" {
			t.Errorf("validate %s: exit %d\nstdout %q\nstderr %q\nwant stdout %q", tt.file, code, out, errOut, tt.want)
		}
	}
	// Warnings alone print, and still exit 0.
	const f = "testdata/fuel-warnings.yaml"
	code, out, _ := run(t, "validate", f)
	golden := "testdata/fuel-warnings.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if code != ExitOK || out != string(want) || strings.Count(out, ": warning: ") != 2 {
		t.Errorf("validate %s: exit %d, output\n%s--- want\n%s", f, code, out, want)
	}
}

func TestValidateFileErrors(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	// SPEC defaults to ./fuelplan.yaml.
	code, out, _ := run(t, "validate")
	if code != ExitError || out != "fuelplan.yaml: no such file\n" {
		t.Errorf("no spec: exit %d, output %q", code, out)
	}
	spec := "apiVersion: fuelplan/v1\nlab: t\nnetworks: [{name: lan, cidr: 10.0.0.0/24}]\n" +
		"flavors: [{name: f, existing: true}]\nimages: [{name: i, existing: true}]\nmaster: {flavor: f, image: i}\n"
	if err := os.WriteFile("fuelplan.yaml", []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = run(t, "validate")
	if code != ExitOK || out != "fuelplan.yaml: valid: lab \"t\", 6 resources\n" {
		t.Errorf("default spec: exit %d, output %q", code, out)
	}
	if code, _, _ := run(t, "validate", "a.yaml", "b.yaml"); code != ExitError {
		t.Errorf("two specs: exit %d, want %d", code, ExitError)
	}
}
