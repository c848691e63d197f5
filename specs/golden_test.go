package specs

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// noEnv is an environment with nothing set, so goldens do not depend on
// the machine running the tests.
func noEnv(string) (string, bool) { return "", false }

// TestInvalidGolden validates every broken spec under testdata/invalid/
// and compares the diagnostics, one per line as `fuelplan validate`
// prints them, with the .golden next to it. Paths in messages are
// relative to the repository root, as a user would type them.
func TestInvalidGolden(t *testing.T) {
	t.Chdir("..")
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil || len(files) < 25 {
		t.Fatalf("want at least 25 broken specs, found %d (%v)", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			spec, diags := Load(f, noEnv)
			if spec != nil || !diags.HasErrors() {
				t.Fatalf("%s: want errors, got none: %v", f, diags)
			}
			got := diags.Error() + "\n"
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("%s: diagnostics differ from %s\n--- got\n%s--- want\n%s", f, golden, got, want)
			}
		})
	}
}

// TestFuelLabDOT is the golden of the Fuel lab's DAG as `fuelplan graph` prints it.
func TestFuelLabDOT(t *testing.T) {
	t.Chdir("..")
	lab, diags := LoadLab("examples/fuel-lab.yaml", noEnv)
	if lab == nil || len(diags) != 0 {
		t.Fatalf("fuel-lab: want no diagnostics, got %v", diags)
	}
	var b strings.Builder
	if err := lab.WriteDOT(&b); err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/fuel-lab.dot.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("DOT differs from %s; run go test ./specs -run FuelLabDOT -update and review the diff", golden)
	}
}
