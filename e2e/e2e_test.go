package e2e

import (
	"fmt"
	"testing"
)

// TestSimulated runs every scenario against a simulated cloud of its own.
func TestSimulated(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			runScenario(t, simulated(t), sc)
		})
	}
}

// TestReal runs every scenario against the cloud named by OS_CLOUD, when
// FUELPLAN_E2E=1, in four lanes side by side: a real cloud takes
// minutes per scenario. Scenarios never share a lab, and each one's
// inventory leaves the other labs out. .ci/run raises the main project's
// quotas for the lanes' peak (three main-user lanes of up to 3 servers
// each and the boot-media lane's 2 servers and 4 volumes); the member's
// scenario runs in a project of its own.
func TestReal(t *testing.T) {
	tg := realTarget(t)
	lanes := [][]string{
		{"fuel-lab", "drift", "interrupted"},
		{"update-replace", "port-security", "unowned-name", "by-hand"},
		{"member", "killed-destroy", "example"},
		{"boot-media", "boot-media-drift", "iso-change", "vlan"},
	}
	byName := map[string]scenario{}
	for _, sc := range scenarios {
		byName[sc.name] = sc
	}
	placed := map[string]bool{}
	for _, lane := range lanes {
		for _, name := range lane {
			if _, ok := byName[name]; !ok || placed[name] {
				t.Fatalf("lanes: scenario %q unknown or placed twice", name)
			}
			placed[name] = true
		}
	}
	if len(placed) != len(scenarios) {
		t.Fatalf("%d of %d scenarios placed in lanes", len(placed), len(scenarios))
	}
	for i, lane := range lanes {
		t.Run(fmt.Sprintf("lane%d", i+1), func(t *testing.T) {
			t.Parallel()
			for _, name := range lane {
				sc := byName[name]
				t.Run(sc.name, func(t *testing.T) { runScenario(t, tg, sc) })
			}
		})
	}
}
