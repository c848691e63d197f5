// Package resourcestest runs adapter tests against the simulated cloud
// through the real gophercloud client: a fresh cloud per test, connected
// as admin or as a member, and the small value types the adapter contract
// asks for (IDs, Snapshot).
package resourcestest

import (
	"context"
	"testing"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/simcloud"
	"github.com/fuelplan/fuelplan/specs"
)

// Start starts a simulated cloud with the default world, closed when the
// test ends.
func Start(t testing.TB) *simcloud.Cloud {
	t.Helper()
	sim, err := simcloud.Start(simcloud.Config{})
	if err != nil {
		t.Fatalf("start simulated cloud: %v", err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return sim
}

// Connect authenticates to sim with cred, through clouds.yaml as a user would.
func Connect(t testing.TB, sim *simcloud.Cloud, cred simcloud.Credentials) *resources.Cloud {
	t.Helper()
	c, err := resources.Connect(context.Background(), resources.Target{
		CloudName: "sim", CloudsYAML: []byte(sim.CloudsYAML("sim", cred)),
	})
	if err != nil {
		t.Fatalf("connect to simulated cloud: %v", err)
	}
	return c
}

// Admin starts a cloud and connects to it as its admin.
func Admin(t testing.TB) (*simcloud.Cloud, *resources.Cloud) {
	t.Helper()
	sim := Start(t)
	return sim, Connect(t, sim, sim.Admin())
}

// IDs resolves addresses from a map, as the engine does from what it read
// and created.
type IDs map[specs.Address]string

func (m IDs) ID(a specs.Address) (string, bool) {
	id, ok := m[a]
	return id, ok
}

// Snapshot holds objects read so far, by kind.
type Snapshot map[specs.Kind][]*resources.Object

func (s Snapshot) Objects(k specs.Kind) []*resources.Object { return s[k] }

// Find returns the object with the address among objs, or nil.
func Find(objs []*resources.Object, a specs.Address) *resources.Object {
	for _, o := range objs {
		if o.Address == a {
			return o
		}
	}
	return nil
}
