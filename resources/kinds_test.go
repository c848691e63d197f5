package resources_test

import (
	"slices"
	"testing"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

var marks = []resources.Mark{
	resources.MarkNeutronTags, resources.MarkCreateTags, resources.MarkExtraSpecs, resources.MarkMetadata,
	resources.MarkName, resources.MarkParent, resources.MarkLookup, resources.MarkNone,
}

// Every specs.Kind is registered once, with every part: an adapter of
// that kind (or why it has none), a teardown rank, a timeout, its mark
// and its end-to-end inventory (or why it is not listed). A kind added to
// specs without all of them fails here, not as a silent default later.
func TestEveryKindIsRegistered(t *testing.T) {
	t.Parallel()
	var registered []specs.Kind
	for _, d := range resources.Kinds() {
		registered = append(registered, d.Kind)
	}
	if !slices.Equal(registered, specs.Kinds) {
		t.Errorf("registered kinds %v, want specs.Kinds in its order %v", registered, specs.Kinds)
	}
	reg := resources.Default()
	for _, k := range specs.Kinds {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			d, ok := resources.KindOf(k)
			if !ok {
				t.Fatalf("%s: no descriptor in resources/kinds.go", k)
			}
			switch {
			case d.Adapter == nil && d.NotInCloud == "":
				t.Errorf("%s: no adapter, and no NotInCloud saying why", k)
			case d.Adapter != nil && d.NotInCloud != "":
				t.Errorf("%s: an adapter, yet NotInCloud %q", k, d.NotInCloud)
			case d.Adapter != nil:
				if got := d.Adapter().Kind(); got != k {
					t.Errorf("%s: the adapter manages %s", k, got)
				}
				if _, err := reg.Adapter(k); err != nil {
					t.Errorf("%s: not in resources.Default(): %v", k, err)
				}
				if d.Timeout <= 0 {
					t.Errorf("%s: no Timeout", k)
				}
				if d.Typical <= 0 && d.Mark != resources.MarkLookup {
					t.Errorf("%s: no Typical duration (the scheduler's first guess)", k)
				}
			}
			if d.TeardownRank <= 0 {
				t.Errorf("%s: no TeardownRank", k)
			}
			if !slices.Contains(marks, d.Mark) {
				t.Errorf("%s: Mark %q is not one of %q", k, d.Mark, marks)
			}
			if (d.Inventory == nil) == (d.NoInventory == "") {
				t.Errorf("%s: want exactly one of Inventory and NoInventory (why it is not listed)", k)
			}
			if d.DefaultCap < 0 {
				t.Errorf("%s: DefaultCap %d", k, d.DefaultCap)
			}
		})
	}
}

// The teardown ranks agree with the DAG: in the example labs, whatever
// depends on an object of another kind is deleted in an earlier rank.
func TestTeardownRanksFollowDependencies(t *testing.T) {
	t.Parallel()
	// Known to share a rank: a floating IP depends on the router interface
	// that makes its port reachable, and both are in rank 3 (as before the
	// ranks moved into the registrations). Deleting the interface first is
	// refused by Neutron with an in-use 409, which apply retries.
	sameRank := map[[2]specs.Kind]bool{{specs.KindFloatingIP, specs.KindRouterInterface}: true}
	noEnv := func(string) (string, bool) { return "", false }
	for _, f := range []string{"../examples/fuel-lab.yaml", "../examples/fuel-lab-gre.yaml", "../testdata/lab-200.yaml"} {
		lab, diags := specs.LoadLab(f, noEnv)
		if lab == nil {
			t.Fatalf("%s: %v", f, diags)
		}
		deps, err := lab.Dependencies()
		if err != nil {
			t.Fatal(err)
		}
		checked := map[[2]specs.Kind]bool{}
		for _, a := range lab.Addresses() {
			for _, d := range deps[a] {
				pair := [2]specs.Kind{a.Kind(), d.Kind()}
				if checked[pair] || a.Kind() == d.Kind() || sameRank[pair] {
					continue
				}
				checked[pair] = true
				ka, _ := resources.KindOf(a.Kind())
				kd, _ := resources.KindOf(d.Kind())
				if ka.TeardownRank >= kd.TeardownRank {
					t.Errorf("%s: %s (rank %d) depends on %s (rank %d): it must be deleted first, in a lower rank",
						f, a, ka.TeardownRank, d, kd.TeardownRank)
				}
			}
		}
		if len(checked) == 0 {
			t.Fatalf("%s: no dependencies", f)
		}
	}
}
