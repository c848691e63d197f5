package resources_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// A create cut short between the create request and the tags (a cloud
// without tag-creation, a process killed) leaves an object with only the
// creation mark in its description. The read owns exactly that object, at
// the address its mark names, HalfMarked (not a conflict, nor left out for
// a second create); CompleteMark then tags it, and an update puts the
// spec's description back. Anything else with the name stays someone
// else's: a conflict.
func TestCreationMarkAdoption(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		description string
		owner       specs.Address // "" = a conflict
	}{
		{"our creation mark", "fuelplan lab=lab1 address=network.admin", "network.admin"},
		{"another lab's mark", "fuelplan lab=lab2 address=network.admin", ""},
		{"our lab, another address", "fuelplan lab=lab1 address=network.mgmt", "network.mgmt"},
		{"trailing words", "fuelplan lab=lab1 address=network.admin too", ""},
		{"hand-made", "", ""},
		{"a person's words", "the admin network", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			_, c := startTagMode(t, false)
			ad := resources.Network{}
			n := &specs.Network{Meta: meta(specs.KindNetwork, "admin"), Description: "PXE"}
			made, err := networks.Create(ctx, c.Network, networks.CreateOpts{Name: n.Name, Description: tc.description}).Extract()
			if err != nil {
				t.Fatal(err)
			}
			objs, err := ad.List(ctx, c, resources.Query{Lab: lab, Want: []specs.Resource{n}})
			if err != nil || len(objs) != 1 || objs[0].ID != made.ID {
				t.Fatalf("list: %v, %v: want the network %s", objs, err, made.ID)
			}
			got := objs[0]
			if tc.owner == "" {
				if got.Owned || got.Address != n.Addr() || resources.HalfMarked(got) {
					t.Fatalf("list: %+v, want the network %s as an unowned conflict", got, made.ID)
				}
				return
			}
			if !got.Owned || got.Address != tc.owner || !resources.HalfMarked(got) {
				t.Fatalf("list: %+v, want the network owned at %s, half-marked", got, tc.owner)
			}
			if err := resources.CompleteMark(ctx, c, lab, got); err != nil {
				t.Fatal(err)
			}
			checkMarked(t, c, "networks", made.ID, tc.owner)
			if tc.owner != n.Addr() {
				return
			}
			again := listOne(t, ad, c, nil, n.Addr(), n)
			if again == nil || again.ID != made.ID || !again.Owned || resources.HalfMarked(again) {
				t.Fatalf("list after: %+v, want it owned and tagged", again)
			}
			again, err = ad.Update(ctx, c, n, again, []string{"description"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkNoDrift(t, ad, n, again, nil)
			all, err := networks.List(c.Network, networks.ListOpts{Name: n.Name}).AllPages(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if ns, _ := networks.ExtractNetworks(all); len(ns) != 1 {
				t.Errorf("%d networks named %s, want 1", len(ns), n.Name)
			}
		})
	}
}

// A cut-short subnet whose CIDR is not the spec's any more cannot be
// fixed in place: a retried create deletes it (it carries the lab's mark)
// and makes the right one.
func TestCreationMarkStaleForceNew(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := startTagMode(t, false)
	n, ids := labNetwork(t, c, "admin")
	s := &specs.Subnet{Meta: meta(specs.KindSubnet, "admin"), Network: n.Addr(), CIDR: "10.20.0.0/24"}
	stale, err := subnets.Create(ctx, c.Network, subnets.CreateOpts{Name: s.Name, NetworkID: ids[n.Addr()], CIDR: "10.30.0.0/24",
		IPVersion: 4, Description: "fuelplan lab=lab1 address=subnet.admin"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	created, err := resources.Subnet{}.Create(resources.RetriedCreate(ctx), c, lab, s, ids)
	if err != nil {
		t.Fatal(err)
	}
	if created.ID == stale.ID || created.Fields["cidr"] != "10.20.0.0/24" {
		t.Fatalf("create: %+v, want a new subnet on 10.20.0.0/24", created)
	}
	if _, err := (resources.Subnet{}).Get(ctx, c, stale.ID); !errors.Is(err, resources.ErrNotFound) {
		t.Errorf("stale subnet: %v, want deleted", err)
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

// A floating IP has no name: a create cut short leaves an address on the
// lab's port with the instance's address as description and no tags. A
// retried create takes it; an address on the port that someone else made
// (another description) is left alone and a new one allocated.
func TestCreationMarkFloatingIP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		description string
		adopted     bool
	}{{"floating_ip.master", true}, {"made by hand", false}} {
		t.Run(tc.description, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			_, c := startTagMode(t, false)
			ps, ids := reachableWorld(t, c)
			f := &specs.FloatingIP{Meta: specs.Meta{Address: "floating_ip.master"}, Port: ps[0].Addr(), ExternalNetwork: publicNet}
			portID := ids[ps[0].Addr()]
			made, err := floatingips.Create(ctx, c.Network, floatingips.CreateOpts{FloatingNetworkID: extNetID, PortID: portID,
				Description: tc.description}).Extract()
			if err != nil {
				t.Fatal(err)
			}
			if tc.description != "floating_ip.master" {
				// Someone else's address on the port: moved off for the test's create.
				if _, err := floatingips.Update(ctx, c.Network, made.ID, floatingips.UpdateOpts{PortID: new(string)}).Extract(); err != nil {
					t.Fatal(err)
				}
			}
			created, err := resources.FloatingIP{}.Create(resources.RetriedCreate(ctx), c, lab, f, ids)
			if err != nil {
				t.Fatal(err)
			}
			if (created.ID == made.ID) != tc.adopted {
				t.Fatalf("create returned %s, made by hand %s: adopted %v, want %v", created.ID, made.ID, created.ID == made.ID, tc.adopted)
			}
			checkMarked(t, c, "floatingips", created.ID, f.Addr())
		})
	}
}

// The first attempt of a create makes no request to look for what an
// earlier create left (the plan's read found that): the POST, the tags
// and the description. Only a retried create looks (one GET).
func TestCreationMarkLookupOnlyOnRetry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, c := startTagMode(t, false)
	for i, retried := range []bool{false, true} {
		n := &specs.Network{Meta: meta(specs.KindNetwork, fmt.Sprintf("net%d", i)), Description: "PXE"}
		cctx := ctx
		if retried {
			cctx = resources.RetriedCreate(ctx)
		}
		sim.ResetRequests()
		if _, err := (resources.Network{}).Create(cctx, c, lab, n, nil); err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"POST /network/v2.0/networks": 1, "PUT /network/v2.0/networks/{id}/tags": 1, "PUT /network/v2.0/networks/{id}": 1}
		if retried {
			want["GET /network/v2.0/networks"] = 1
		}
		if got := sim.Requests(); !maps.Equal(got, want) {
			t.Errorf("retried %v: requests %v, want %v", retried, got, want)
		}
	}
}

// The body keys of every Neutron collection fuelplan uses (and of trunks,
// the next kind) follow from the collection's path as Neutron names them.
func TestNeutronKeys(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ collection, one, many string }{
		{"networks", "network", "networks"},
		{"subnets", "subnet", "subnets"},
		{"ports", "port", "ports"},
		{"routers", "router", "routers"},
		{"security-groups", "security_group", "security_groups"},
		{"floatingips", "floatingip", "floatingips"},
		{"trunks", "trunk", "trunks"},
	} {
		one, many := resources.NeutronKeys(tt.collection)
		if one != tt.one || many != tt.many {
			t.Errorf("%s: got %q, %q; want %q, %q", tt.collection, one, many, tt.one, tt.many)
		}
	}
}
