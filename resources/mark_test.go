package resources_test

import (
	"context"
	"slices"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/resources/resourcestest"
	"github.com/fuelplan/fuelplan/specs"
)

// A create cut short between the create request and the tags (a cloud
// without tag-creation, a process killed) leaves an object with only the
// creation mark in its description: the read takes exactly that mark as
// the lab's, the plan updates the mark, and the update tags the object.
// Anything else with the name stays someone else's.
func TestCreationMarkAdoption(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		description string
		owned       bool
	}{
		{"our creation mark", "fuelplan lab=lab1 address=network.admin", true},
		{"another lab's mark", "fuelplan lab=lab2 address=network.admin", false},
		{"our lab, another address", "fuelplan lab=lab1 address=network.mgmt", false},
		{"trailing words", "fuelplan lab=lab1 address=network.admin too", false},
		{"hand-made", "", false},
		{"a person's words", "the admin network", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			_, c := startTagMode(t, false)
			ad := resources.Network{}
			n := &specs.Network{Meta: meta(specs.KindNetwork, "admin")}
			made, err := networks.Create(ctx, c.Network, networks.CreateOpts{Name: n.Name, Description: tc.description}).Extract()
			if err != nil {
				t.Fatal(err)
			}
			got := listOne(t, ad, c, nil, n.Addr(), n)
			if got == nil || got.ID != made.ID {
				t.Fatalf("list: %+v, want the network %s reported at %s", got, made.ID, n.Addr())
			}
			if got.Owned != tc.owned {
				t.Fatalf("owned = %v, want %v", got.Owned, tc.owned)
			}
			if !tc.owned {
				return
			}
			drift := resourcestest.Drift(ad.Desired(n), got, nil)
			if want := []string{`mark: live "description", want "tags"`}; !slices.Equal(drift, want) {
				t.Fatalf("drift %q, want %q", drift, want)
			}
			if _, err := ad.Update(ctx, c, n, got, []string{"mark"}, nil); err != nil {
				t.Fatalf("update the mark: %v", err)
			}
			checkMarked(t, c, "networks", made.ID, n.Addr())
			again := listOne(t, ad, c, nil, n.Addr(), n)
			checkNoDrift(t, ad, n, again, nil)
		})
	}
}

// Without tag-creation a network is created with the creation mark, and
// the spec's description replaces it once the tags are on; a spec
// without a description keeps the mark (the spec does not say).
func TestCreationMarkOnCreate(t *testing.T) {
	t.Parallel()
	for _, desc := range []string{"PXE", ""} {
		t.Run("description "+desc, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			_, c := startTagMode(t, false)
			n := &specs.Network{Meta: meta(specs.KindNetwork, "admin"), Description: desc}
			created, err := resources.Network{}.Create(ctx, c, lab, n, nil)
			if err != nil {
				t.Fatal(err)
			}
			live, err := networks.Get(ctx, c.Network, created.ID).Extract()
			if err != nil {
				t.Fatal(err)
			}
			want := desc
			if want == "" {
				want = "fuelplan lab=lab1 address=network.admin"
			}
			if live.Description != want {
				t.Errorf("description %q, want %q", live.Description, want)
			}
			checkMarked(t, c, "networks", created.ID, n.Addr())
			checkNoDrift(t, resources.Network{}, n, listOne(t, resources.Network{}, c, nil, n.Addr(), n), nil)
		})
	}
}
