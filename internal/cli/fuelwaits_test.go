package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Short waits for examples/fuel-lab.yaml on the simulated cloud, whose
// Fuel master answers seconds after boot (simcloud.DefaultFuelTimes).
var shortWaits = [][2]string{
	{"    timeout: 1h\n    interval: 30s\n", "    timeout: 30s\n    interval: 1s\n"},
	{"    timeout: 30m\n", "    timeout: 10s\n    interval: 1s\n"},
}

// The example applied on the simulated cloud with its waits: Fuel's API
// answers and both slaves are discovered, through the DHCP patch.
func TestFuelLabWaitsOnSim(t *testing.T) {
	t.Parallel()
	spec := fuelLab(t, shortWaits...)
	var out, errw bytes.Buffer
	code := Run(context.Background(), []string{"apply", spec, "--cloud", "sim", "--auto-approve", "--no-color"}, strings.NewReader(""), &out, &errw)
	if code != ExitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out.String(), errw.String())
	}
	for _, want := range []string{"wait.fuel-api: ready", "wait.slaves-discovered: ready", "2 of 2 node(s) online in discover", "All 2 wait(s) ready."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("apply output lacks %q:\n%s", want, out.String())
		}
	}
}

// Without the DHCP patch the master's DHCP replies are dropped (port
// security on its admin port): Fuel answers, but no slave is discovered,
// and the wait says to look at DHCP.
func TestFuelLabWaitsWithoutDHCPPatch(t *testing.T) {
	t.Parallel()
	edits := append([][2]string{{"patches:\n  - name: master-dhcp\n    type: allow-dhcp-server\n    port: master.admin\n",
		"patches:\n  - name: unused\n    type: allow-dhcp-server\n    port: slave-01.storage\n"}}, shortWaits...)
	spec := fuelLab(t, edits...)
	var out, errw bytes.Buffer
	code := Run(context.Background(), []string{"apply", spec, "--cloud", "sim", "--auto-approve", "--no-color"}, strings.NewReader(""), &out, &errw)
	if code != ExitError {
		t.Fatalf("apply without the DHCP patch: exit %d, want %d\n%s\n%s", code, ExitError, out.String(), errw.String())
	}
	if !strings.Contains(out.String(), "wait.fuel-api: ready") {
		t.Errorf("Fuel's API should answer without the patch:\n%s", out.String())
	}
	msg := errw.String()
	if !strings.Contains(msg, "wait.slaves-discovered: not ready") || !strings.Contains(msg, "0 of 2 node(s)") || !strings.Contains(msg, "DHCP") {
		t.Errorf("error %q, want slaves-discovered not ready with no node, pointing at DHCP", msg)
	}
}
