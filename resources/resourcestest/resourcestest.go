// Package resourcestest runs adapter tests against the simulated cloud
// through the real gophercloud client: a fresh cloud per test, connected
// as admin or as a member, and the small value types the adapter contract
// asks for (IDs, Snapshot).
package resourcestest

import (
	"context"
	"fmt"
	"sort"
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

// Drift lists the fields where a live object differs from the desired
// view, the way the engine compares them: desired fields by value, refs
// after resolving each address through ids (a set as sorted IDs joined
// with ","). Fields only the live side has are not drift.
func Drift(d resources.Desired, o *resources.Object, ids IDs) []string {
	var out []string
	for _, k := range sortedKeys(d.Fields) {
		if got, ok := o.Fields[k]; !ok || got != d.Fields[k] {
			out = append(out, fmt.Sprintf("%s: live %q, want %q", k, got, d.Fields[k]))
		}
	}
	for _, k := range sortedKeys(d.Refs) {
		var want []string
		for _, a := range d.Refs[k] {
			want = append(want, ids[a])
		}
		w := resources.JoinSorted(want)
		if got := o.Fields[k]; got != w {
			out = append(out, fmt.Sprintf("%s: live %q, want %q (%v)", k, got, w, d.Refs[k]))
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
