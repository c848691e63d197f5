package neutron

import (
	"context"
	"slices"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
)

func TestIfMatch(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	n := must[*networks.Network](t)(networks.Create(ctx, c.member, networks.CreateOpts{Name: "n"}).Extract())
	got := must[*networks.Network](t)(networks.Update(ctx, c.member, n.ID, networks.UpdateOpts{Name: ptr("n2"), RevisionNumber: ptr(1)}).Extract())
	if got.RevisionNumber != 2 || got.Name != "n2" {
		t.Fatalf("update with the current revision: %+v", got)
	}
	_, err := networks.Update(ctx, c.member, n.ID, networks.UpdateOpts{Name: ptr("n3"), RevisionNumber: ptr(1)}).Extract()
	wantFault(t, err, 412, "RevisionNumberConstraintFailed")
	if still := must[*networks.Network](t)(networks.Get(ctx, c.member, n.ID).Extract()); still.Name != "n2" || still.RevisionNumber != 2 {
		t.Fatalf("a failed precondition changed the network: %+v", still)
	}
	// Ports and routers honour it too, and so does DELETE.
	p := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID}).Extract())
	_, err = ports.Update(ctx, c.member, p.ID, ports.UpdateOpts{Name: ptr("x"), RevisionNumber: ptr(7)}).Extract()
	wantFault(t, err, 412, "RevisionNumberConstraintFailed")
	r := must[*routers.Router](t)(routers.Create(ctx, c.member, routers.CreateOpts{Name: "r"}).Extract())
	_, err = routers.Update(ctx, c.member, r.ID, routers.UpdateOpts{Name: "x", RevisionNumber: ptr(0)}).Extract()
	wantFault(t, err, 412, "RevisionNumberConstraintFailed")
	del := func(rev string) error {
		_, err := c.member.Delete(ctx, c.member.ServiceURL("ports", p.ID), &gophercloud.RequestOpts{MoreHeaders: map[string]string{"If-Match": rev}})
		return err
	}
	wantFault(t, del("revision_number=5"), 412, "RevisionNumberConstraintFailed")
	wantFault(t, del("etag-abc"), 400, "HTTPBadRequest")
	if err := del("revision_number=1"); err != nil {
		t.Fatal(err)
	}
}

func TestIfMatchIgnoredWithoutExtension(t *testing.T) {
	cfg := defaultConfig()
	cfg.Extensions = slices.DeleteFunc(slices.Clone(DefaultExtensions), func(a string) bool { return a == "revision-if-match" })
	c := newTestCloud(t, cfg)
	ctx := context.Background()
	n := must[*networks.Network](t)(networks.Create(ctx, c.member, networks.CreateOpts{Name: "n"}).Extract())
	if _, err := networks.Update(ctx, c.member, n.ID, networks.UpdateOpts{Name: ptr("n2"), RevisionNumber: ptr(9)}).Extract(); err != nil {
		t.Fatal(err)
	}
}

func TestRevisionBumps(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	n, sn := memberNet(t, c, "10.20.0.0/24")
	p := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID}).Extract())
	r := must[*routers.Router](t)(routers.Create(ctx, c.member, routers.CreateOpts{Name: "r"}).Extract())
	steps := []struct {
		name string
		do   func() error
		rev  func() int
		want int
	}{
		{"port update", func() error {
			_, err := ports.Update(ctx, c.member, p.ID, ports.UpdateOpts{Name: ptr("a")}).Extract()
			return err
		},
			func() int { return must[*ports.Port](t)(ports.Get(ctx, c.member, p.ID).Extract()).RevisionNumber }, 2},
		{"port bound by Nova", func() error { return c.svc.BindPort("p-demo", p.ID, "srv-1", "node-1") },
			func() int { return must[*ports.Port](t)(ports.Get(ctx, c.member, p.ID).Extract()).RevisionNumber }, 3},
		{"router interface", func() error {
			_, err := routers.AddInterface(ctx, c.member, r.ID, routers.AddInterfaceOpts{SubnetID: sn.ID}).Extract()
			return err
		}, func() int { return must[*routers.Router](t)(routers.Get(ctx, c.member, r.ID).Extract()).RevisionNumber }, 2},
		{"network update", func() error {
			_, err := networks.Update(ctx, c.member, n.ID, networks.UpdateOpts{Description: ptr("d")}).Extract()
			return err
		}, func() int {
			return must[*networks.Network](t)(networks.Get(ctx, c.member, n.ID).Extract()).RevisionNumber
		}, 2},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := s.rev(); got != s.want {
			t.Fatalf("%s: revision %d, want %d", s.name, got, s.want)
		}
	}
}

func TestNoOpUpdateKeepsRevision(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	n := must[*networks.Network](t)(networks.Create(ctx, c.member, networks.CreateOpts{Name: "n"}).Extract())
	for range 2 {
		got := must[*networks.Network](t)(networks.Update(ctx, c.member, n.ID, networks.UpdateOpts{Name: ptr("n2")}).Extract())
		if got.RevisionNumber != 2 {
			t.Fatalf("revision %d after setting the same name again, want 2", got.RevisionNumber)
		}
	}
}
