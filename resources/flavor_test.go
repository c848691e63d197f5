package resources_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/resources/resourcestest"
	"github.com/fuelplan/fuelplan/simcloud"
	"github.com/fuelplan/fuelplan/specs"
)

func flavorSpec(name string, extra map[string]string) *specs.Flavor {
	return &specs.Flavor{
		Meta:  specs.Meta{Address: specs.NewAddress(specs.KindFlavor, name), Name: "lab1-" + name},
		VCPUs: 2, RAM: 4096, Disk: 40, Ephemeral: 1, ExtraSpecs: extra,
	}
}

func existingFlavor(name string) *specs.Flavor {
	return &specs.Flavor{Meta: specs.Meta{Address: specs.NewAddress(specs.KindFlavor, name), Name: name}, Existing: true}
}

func TestFlavorLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := resourcestest.Admin(t)
	a := resources.Flavor{}
	want := flavorSpec("master", map[string]string{"hw:cpu_policy": "dedicated", "hw:mem_page_size": "large"})

	got, err := a.Create(ctx, c, "lab1", want, nil)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if !got.Owned || got.Address != want.Addr() {
		t.Errorf("created = %+v, want owned %s", got, want.Addr())
	}
	// The mark is in the flavor's extra specs, not among its fields.
	raw, err := flavors.Get(ctx, c.Compute, got.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if raw.ExtraSpecs["fuelplan:lab"] != "lab1" || raw.ExtraSpecs["fuelplan:address"] != "flavor.master" {
		t.Errorf("extra specs = %v, want the lab's mark", raw.ExtraSpecs)
	}

	list := func(want ...specs.Resource) []*resources.Object {
		t.Helper()
		objs, err := a.List(ctx, c, resources.Query{Lab: "lab1", Want: want})
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		return objs
	}
	objs := list(want)
	if len(objs) != 1 || objs[0].ID != got.ID || !objs[0].Owned || objs[0].Address != want.Addr() {
		t.Fatalf("list = %+v, want the created flavor, owned", objs)
	}
	if d := resourcestest.Drift(a.Desired(want), objs[0], nil); len(d) > 0 {
		t.Errorf("drift after create: %v", d)
	}
	for _, f := range []string{"fuelplan:lab", "fuelplan:address"} {
		if _, ok := objs[0].Fields["extra_specs."+f]; ok {
			t.Errorf("mark %s shows as a field: it would be drift against every spec", f)
		}
	}

	// Update: change one extra spec, drop one, add one.
	changed := flavorSpec("master", map[string]string{"hw:cpu_policy": "shared", "hw:watchdog_action": "reset"})
	d := resourcestest.Drift(a.Desired(changed), objs[0], nil)
	if len(d) != 2 {
		t.Errorf("drift = %v, want cpu_policy and watchdog_action", d)
	}
	fields := []string{"extra_specs.hw:cpu_policy", "extra_specs.hw:mem_page_size", "extra_specs.hw:watchdog_action"}
	updated, err := a.Update(ctx, c, changed, objs[0], fields, nil)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if d := resourcestest.Drift(a.Desired(changed), updated, nil); len(d) > 0 {
		t.Errorf("drift after update: %v", d)
	}
	if _, ok := updated.Fields["extra_specs.hw:mem_page_size"]; ok {
		t.Error("extra spec dropped from the spec is still there")
	}
	if objs := list(changed); len(objs) != 1 || !objs[0].Owned {
		t.Errorf("after update the mark is gone: %+v", objs)
	}
	if _, err := a.Update(ctx, c, changed, updated, []string{"ram_mb"}, nil); err == nil {
		t.Error("update of ram_mb succeeded, want an error: flavors are immutable")
	}

	if err := a.Delete(ctx, c, updated); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := a.Get(ctx, c, updated.ID); !errors.Is(err, resources.ErrNotFound) {
		t.Errorf("get after delete: %v, want ErrNotFound", err)
	}
	if err := a.Delete(ctx, c, updated); err != nil {
		t.Errorf("delete of a gone flavor: %v", err)
	}
	if objs := list(want); len(objs) != 0 {
		t.Errorf("list after delete = %+v, want nothing", objs)
	}
}

// A create interrupted between the flavor and its extra specs leaves a
// flavor without the mark; its derived ID still makes it the lab's.
func TestFlavorInterruptedCreateIsAdopted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, c := resourcestest.Admin(t)
	a := resources.Flavor{}
	want := flavorSpec("slave", map[string]string{"hw:cpu_policy": "dedicated"})

	sim.InjectFaults(simcloud.Fault{Method: "POST", Path: "/compute/v2.1/flavors/", Status: 500, Max: 1})
	if _, err := a.Create(ctx, c, "lab1", want, nil); err == nil {
		t.Fatal("create with failing extra specs succeeded")
	} else if !strings.Contains(err.Error(), "flavor.slave: create: set extra specs") {
		t.Errorf("error %q does not name the address and the step", err)
	}
	objs, err := a.List(ctx, c, resources.Query{Lab: "lab1", Want: []specs.Resource{want}})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || !objs[0].Owned || objs[0].Address != want.Addr() {
		t.Fatalf("list = %+v, want the half-made flavor adopted as %s", objs, want.Addr())
	}
	// Another lab does not take it for its own, nor for a conflict-free name.
	other, err := a.List(ctx, c, resources.Query{Lab: "lab2", Want: []specs.Resource{want}})
	if err != nil {
		t.Fatal(err)
	}
	if len(other) != 1 || other[0].Owned {
		t.Errorf("lab2 sees %+v, want lab1's flavor as a conflict", other)
	}
	// The missing extra spec is drift that Update repairs.
	d := resourcestest.Drift(a.Desired(want), objs[0], nil)
	if len(d) != 1 || !strings.HasPrefix(d[0], "extra_specs.hw:cpu_policy") {
		t.Fatalf("drift = %v, want the missing extra spec", d)
	}
	if _, err := a.Update(ctx, c, want, objs[0], []string{"extra_specs.hw:cpu_policy"}, nil); err != nil {
		t.Fatalf("update: %v", err)
	}
}

func TestFlavorCreateNeedsAdmin(t *testing.T) {
	t.Parallel()
	sim := resourcestest.Start(t)
	c := resourcestest.Connect(t, sim, sim.Member())
	_, err := resources.Flavor{}.Create(context.Background(), c, "lab1", flavorSpec("master", nil), nil)
	if err == nil || !strings.Contains(err.Error(), "flavor.master: create:") || !strings.Contains(err.Error(), "admin role") {
		t.Errorf("create as member: %v, want an error naming the address and the admin role", err)
	}
	if n := sim.Requests()["POST /compute/v2.1/flavors"]; n != 0 {
		t.Errorf("%d create requests sent, want none", n)
	}
}

// Lookups and conflicts, both found by name among unowned flavors.
func TestFlavorListByName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, admin := resourcestest.Admin(t)
	a := resources.Flavor{}
	clash := flavorSpec("tiny", nil)
	clash.Name = "m1.tiny" // the cloud's own flavor, not the lab's
	cases := []struct {
		name      string
		want      specs.Resource
		wantFound bool
		wantID    string
	}{
		{"lookup found", existingFlavor("m1.small"), true, "2"},
		{"lookup not found", existingFlavor("m1.huge"), false, ""},
		{"conflict", clash, true, "1"},
		{"free name", flavorSpec("free", nil), false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := a.List(ctx, admin, resources.Query{Lab: "lab1", Want: []specs.Resource{tc.want}})
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			if !tc.wantFound {
				if len(objs) != 0 {
					t.Errorf("list = %+v, want nothing", objs)
				}
				return
			}
			if len(objs) != 1 || objs[0].Owned || objs[0].Address != tc.want.Addr() || objs[0].ID != tc.wantID {
				t.Errorf("list = %+v, want unowned flavor %s as %s", objs, tc.wantID, tc.want.Addr())
			}
		})
	}
	if !(resources.Flavor{}).IsLookup(existingFlavor("m1.small")) || (resources.Flavor{}).IsLookup(clash) {
		t.Error("IsLookup does not follow Existing")
	}
	// Nova refuses two flavors with one name, so the ambiguous lookup
	// cannot be staged here; images test that path.
	_, err := flavors.Create(ctx, admin.Compute, flavors.CreateOpts{Name: "m1.small", VCPUs: 1, RAM: 1, Disk: new(int)}).Extract()
	if err == nil {
		t.Error("the simulated Nova took a second flavor named m1.small; add an ambiguous-lookup case")
	}
}

func TestFlavorRegistered(t *testing.T) {
	t.Parallel()
	reg := resources.Default()
	t.Cleanup(func() { _ = reg.Close() })
	for _, k := range []specs.Kind{specs.KindFlavor, specs.KindImage, specs.KindKeypair, specs.KindServer} {
		a, err := reg.Adapter(k)
		if err != nil {
			t.Errorf("kind %s: %v", k, err)
			continue
		}
		if a.Kind() != k {
			t.Errorf("registry[%s].Kind() = %s", k, a.Kind())
		}
		if !slices.ContainsFunc(a.Schema(), func(f resources.Field) bool { return f.Name == "name" }) {
			t.Errorf("kind %s: schema has no name field", k)
		}
	}
}
