package e2e

import "testing"

// TestSimulated runs every scenario against a simulated cloud of its own.
func TestSimulated(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			runScenario(t, simulated(t), sc)
		})
	}
}

// TestReal runs every scenario, one after the other, against the cloud
// named by OS_CLOUD, when FUELPLAN_E2E=1.
func TestReal(t *testing.T) {
	tg := realTarget(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { runScenario(t, tg, sc) })
	}
}
