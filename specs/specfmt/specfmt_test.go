package specfmt_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fuelplan/fuelplan/specs/specfmt"
	"gopkg.in/yaml.v3"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"already canonical", "lab: x\nnetworks:\n  - name: a\n", "lab: x\nnetworks:\n  - name: a\n"},
		{"list items indented under their key", "networks:\n- name: a\n  cidr: 10.0.0.0/24\n", "networks:\n  - name: a\n    cidr: 10.0.0.0/24\n"},
		{"four-space indentation", "master:\n    name: m\n    flavor: f\n", "master:\n  name: m\n  flavor: f\n"},
		{"spaces after a colon and trailing spaces", "lab:    x   \ncloud: c\n", "lab: x\ncloud: c\n"},
		{"blank lines collapse to one", "lab: x\n\n\n\ncloud: c\n", "lab: x\n\ncloud: c\n"},
		{"blank line kept before a head comment", "lab: x\n\n# the cloud\ncloud: c\n", "lab: x\n\n# the cloud\ncloud: c\n"},
		{"aligned trailing comments keep their column", "lab: x          # one\ncloud: cc       # two\n", "lab: x          # one\ncloud: cc       # two\n"},
		{"a comment after a long value gets one space", "lab: x # one\n", "lab: x # one\n"},
		{"quoting and flow lists kept", "a: \"10\"\nb: 'x'\nc: [1,  2]\n", "a: \"10\"\nb: 'x'\nc: [1, 2]\n"},
		{"key order kept", "master: {}\nlab: x\napiVersion: fuelplan/v1\n", "master: {}\nlab: x\napiVersion: fuelplan/v1\n"},
		{"env references untouched", "password: ${env:FUEL_PASSWORD:-admin}\n", "password: ${env:FUEL_PASSWORD:-admin}\n"},
		{"literal blocks kept", "user_data: |\n  #cloud-config\n  runcmd: [x]\n", "user_data: |\n  #cloud-config\n  runcmd: [x]\n"},
		{"anchors kept", "a: &x {b: 1}\nc: *x\n", "a: &x {b: 1}\nc: *x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := specfmt.Format([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			again, err := specfmt.Format(got)
			if err != nil || !bytes.Equal(again, got) {
				t.Errorf("not idempotent: second pass gives:\n%s (%v)", again, err)
			}
		})
	}
}

func TestFormatRefuses(t *testing.T) {
	secret := "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA: [\n"
	tests := []struct{ name, in, want string }{
		{"syntax error names the line, never the text", secret, "YAML syntax: line"},
		{"two documents", "lab: a\n---\nlab: b\n", "line 2: a spec holds one YAML document"},
		{"too large", strings.Repeat("#", specfmt.MaxBytes+1), "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := specfmt.Format([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "b3BlbnNzaC") || strings.Contains(err.Error(), "BEGIN") {
				t.Errorf("the error quotes the input: %v", err)
			}
		})
	}
}

// The shipped examples are kept formatted (what `fuelplan fmt --check
// examples/*.yaml` checks in CI, here without the CLI).
func TestExamplesAreFormatted(t *testing.T) {
	files, _ := filepath.Glob("../../examples/*.yaml")
	more, _ := filepath.Glob("../../examples/*/*.yaml")
	files = append(files, more...)
	if len(files) < 3 {
		t.Fatalf("found %d examples", len(files))
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := specfmt.Format(src)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if !bytes.Equal(got, src) {
			t.Errorf("%s is not formatted: run fuelplan fmt %s", f, f)
		}
	}
}

// sameValues reports whether two YAML documents hold the same values.
func sameValues(t testing.TB, a, b []byte) bool {
	var va, vb any
	if err := yaml.Unmarshal(a, &va); err != nil {
		return true // values Go cannot hold (a mapping as a key): nothing to compare
	}
	if err := yaml.Unmarshal(b, &vb); err != nil {
		t.Fatalf("formatted output does not parse: %v\n%s", err, b)
	}
	ja, errA := json.Marshal(va)
	jb, errB := json.Marshal(vb)
	if errA != nil || errB != nil {
		return errA != nil && errB != nil // values JSON cannot hold (non-string keys): compare no further
	}
	return bytes.Equal(ja, jb)
}

func FuzzFormat(f *testing.F) {
	for _, glob := range []string{"../../examples/*.yaml", "../../testdata/invalid/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("a:\n- b\n-   c: [1,2]  # x\n\n\n# y\nd: |\n  z\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		out, err := specfmt.Format(src)
		if err != nil {
			return
		}
		if !sameValues(t, src, out) {
			t.Fatalf("values changed:\n%q\n->\n%q", src, out)
		}
		again, err := specfmt.Format(out)
		if err != nil {
			t.Fatalf("formatted output refused: %v\n%q", err, out)
		}
		if !bytes.Equal(again, out) {
			t.Fatalf("not idempotent:\n%q\n->\n%q\n->\n%q", src, out, again)
		}
	})
}
