package cli

import (
	"os"
	"strings"
	"testing"
)

// TestGraphFuelLab: `fuelplan graph` prints exactly the DOT golden, and
// prints it the same way every time.
func TestGraphFuelLab(t *testing.T) {
	t.Chdir("../..")
	want, err := os.ReadFile("testdata/fuel-lab.dot.golden")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		code, out, errOut := run(t, "graph", "examples/fuel-lab.yaml")
		if code != ExitOK || errOut != "" {
			t.Fatalf("graph: exit %d, stderr %q", code, errOut)
		}
		if out != string(want) {
			t.Fatalf("run %d: DOT differs from testdata/fuel-lab.dot.golden\n%s", i, out)
		}
	}
}

// An invalid spec prints no graph: its errors go to stderr, exit 1.
func TestGraphInvalid(t *testing.T) {
	t.Chdir("../..")
	code, out, errOut := run(t, "graph", "testdata/invalid/dependency-cycle.yaml")
	if code != ExitError || out != "" || !strings.Contains(errOut, "dependency cycle: wait api -> wait nodes") {
		t.Errorf("exit %d\nstdout %q\nstderr %q", code, out, errOut)
	}
	if strings.Contains(errOut, "warning:") {
		t.Errorf("graph should report errors only, got %q", errOut)
	}
}
