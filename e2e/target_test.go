package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/simcloud"
)

// target is one cloud the scenarios run against: how to log in as the
// main user and as a member (non-admin), and the names of what the
// cloud already has (external network, flavor, image).
type target struct {
	name string
	// admin is the main user (OS_CLOUD on a real cloud; need not be an
	// admin there), member a user without the admin role ("" = none).
	admin, member string
	// clouds is a clouds.yaml file naming both; "" = the usual search.
	clouds                string
	extNet, flavor, image string
	// real marks a cloud fuelplan does not control: lab names get a
	// per-run suffix and leftovers of an earlier run are destroyed first.
	real bool
	// backoff for the applier's retries; a real cloud wants the default.
	backoff engine.Backoff
	// settle is how long to wait for the cloud's asynchronous work
	// (a server deletion, a port unbinding) before giving up.
	settle time.Duration
	sim    *simcloud.Cloud
}

// simulated starts a simulated cloud for one scenario, with a clouds.yaml
// holding its admin ("sim") and member ("sim-demo") users.
func simulated(t *testing.T) *target {
	t.Helper()
	sim, err := simcloud.Start(simcloud.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	// Nova's work is asynchronous on a real cloud (Zed with the fake
	// driver: ACTIVE after 1.5-4 s, gone about 2 s after a delete): the
	// scenarios meet BUILD and DELETING here too, a little faster.
	sim.Knobs().SetBuildTime(time.Second)
	sim.Knobs().SetDeleteTime(500 * time.Millisecond)
	// Cinder's too: real Zed's volumes are creating (from an image,
	// downloading) for a few seconds.
	sim.Knobs().SetVolumeBuildTime(time.Second)
	clouds := filepath.Join(t.TempDir(), "clouds.yaml")
	yaml := sim.CloudsYAML("sim", sim.Admin()) + cloudsEntries(sim.CloudsYAML("sim-demo", sim.Member()))
	if err := os.WriteFile(clouds, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return &target{name: "sim", admin: "sim", member: "sim-demo", clouds: clouds,
		extNet: "net04_ext", flavor: "m1.small", image: "cirros",
		backoff: engine.Backoff{Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond},
		settle:  10 * time.Second, sim: sim}
}

// cloudsEntries drops the "clouds:" line of a one-cloud clouds.yaml so
// that its entry can follow another file's.
func cloudsEntries(yaml string) string { return strings.TrimPrefix(yaml, "clouds:\n") }

// realTarget is the cloud named by OS_CLOUD, when FUELPLAN_E2E=1 asks
// for it; the names of what it has default to ../shared/realcloud's.
func realTarget(t *testing.T) *target {
	t.Helper()
	if os.Getenv("FUELPLAN_E2E") != "1" {
		t.Skip("set FUELPLAN_E2E=1 and OS_CLOUD to run the end-to-end suite on a real cloud (make e2e-real)")
	}
	name := os.Getenv("OS_CLOUD")
	if name == "" {
		t.Fatal("FUELPLAN_E2E=1 needs OS_CLOUD: the clouds.yaml entry to run against")
	}
	return &target{name: name, admin: name, member: os.Getenv("FUELPLAN_E2E_MEMBER_CLOUD"),
		extNet: envOr("FUELPLAN_E2E_EXTERNAL_NETWORK", "public"),
		flavor: envOr("FUELPLAN_E2E_FLAVOR", "m1.tiny"),
		image:  envOr("FUELPLAN_E2E_IMAGE", "cirros"),
		real:   true, backoff: engine.DefaultBackoff, settle: 2 * time.Minute}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// connect logs in as one of the target's users.
func (tg *target) connect(t *testing.T, cloud string) *resources.Cloud {
	t.Helper()
	rt := resources.Target{CloudName: cloud}
	if tg.clouds != "" {
		data, err := os.ReadFile(tg.clouds)
		if err != nil {
			t.Fatal(err)
		}
		rt.CloudsYAML = data
	}
	c, err := resources.Connect(context.Background(), rt)
	if err != nil {
		t.Fatalf("connect to %s: %v", cloud, err)
	}
	return c
}
