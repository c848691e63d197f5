package resources_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/external"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/resources/resourcestest"
	"github.com/fuelplan/fuelplan/specs"
)

func extNet(addrName, cloudName string) *specs.ExternalNetwork {
	return &specs.ExternalNetwork{Meta: specs.Meta{Address: specs.NewAddress(specs.KindExternalNetwork, addrName), Name: cloudName}}
}

func TestExternalNetworkLookup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := resourcestest.Admin(t)
	ad := resources.ExternalNetwork{}
	// An internal network named like an external one is not a match.
	if _, err := networks.Create(ctx, c.Network, networks.CreateOpts{Name: "internal"}).Extract(); err != nil {
		t.Fatal(err)
	}
	// Two external networks with one name.
	for range 2 {
		opts := external.CreateOptsExt{CreateOptsBuilder: networks.CreateOpts{Name: "twin"}, External: ptr(true)}
		if _, err := networks.Create(ctx, c.Network, opts).Extract(); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name    string
		want    *specs.ExternalNetwork
		foundID string // "" = nothing found
		err     string
	}{
		{"found", extNet("public", "net04_ext"), extNetID, ""},
		{"not found", extNet("public", "nope"), "", ""},
		{"internal network is not external", extNet("public", "internal"), "", ""},
		{"ambiguous", extNet("public", "twin"), "", `external_network.public: 2 external networks are named "twin"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := ad.List(ctx, c, resources.Query{Lab: lab, Want: []specs.Resource{tc.want}})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("list: %v, want error %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.foundID == "" {
				if len(objs) != 0 {
					t.Errorf("found %+v, want nothing", objs[0])
				}
				return
			}
			if len(objs) != 1 || objs[0].ID != tc.foundID || objs[0].Owned || objs[0].Address != tc.want.Addr() {
				t.Fatalf("list = %+v, want unowned %s at %s", objs, tc.foundID, tc.want.Addr())
			}
			if !ad.IsLookup(tc.want) {
				t.Error("IsLookup = false")
			}
		})
	}
	// Never created, changed or deleted.
	w := extNet("public", "net04_ext")
	if _, err := ad.Create(ctx, c, lab, w, nil); err == nil {
		t.Error("create succeeded")
	}
	if err := ad.Delete(ctx, c, &resources.Object{ID: extNetID, Address: w.Addr()}); err == nil {
		t.Error("delete succeeded")
	}
	if o, err := ad.Get(ctx, c, extNetID); err != nil || o.Owned || o.Name != "net04_ext" {
		t.Errorf("get = %+v, %v", o, err)
	}
}
