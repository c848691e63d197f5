package neutron

import (
	"context"
	"slices"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/attributestags"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
)

func TestTagsAPI(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	n := must[*networks.Network](t)(networks.Create(ctx, c.member, rawOpts{"name": "n", "tags": []string{"b", "a", "b"}}).Extract())
	if !slices.Equal(n.Tags, []string{"a", "b"}) || n.RevisionNumber != 1 {
		t.Fatalf("tags on create: %v rev %d", n.Tags, n.RevisionNumber)
	}
	rev := func() int {
		return must[*networks.Network](t)(networks.Get(ctx, c.member, n.ID).Extract()).RevisionNumber
	}
	tags := must[[]string](t)(attributestags.ReplaceAll(ctx, c.member, "networks", n.ID, attributestags.ReplaceAllOpts{Tags: []string{"lab", "fuel"}}).Extract())
	if !slices.Equal(tags, []string{"fuel", "lab"}) || rev() != 2 {
		t.Fatalf("replace: %v rev %d", tags, rev())
	}
	must[struct{}](t)(struct{}{}, attributestags.Add(ctx, c.member, "networks", n.ID, "owner-x").ExtractErr())
	if rev() != 3 {
		t.Fatalf("add did not bump the revision: %d", rev())
	}
	if ok := must[bool](t)(attributestags.Confirm(ctx, c.member, "networks", n.ID, "owner-x").Extract()); !ok {
		t.Fatal("confirm: tag missing")
	}
	if ok, _ := attributestags.Confirm(ctx, c.member, "networks", n.ID, "nope").Extract(); ok {
		t.Fatal("confirm: unknown tag found")
	}
	must[struct{}](t)(struct{}{}, attributestags.Delete(ctx, c.member, "networks", n.ID, "lab").ExtractErr())
	wantFault(t, attributestags.Delete(ctx, c.member, "networks", n.ID, "lab").ExtractErr(), 404, "TagNotFound")
	tags = must[[]string](t)(attributestags.List(ctx, c.member, "networks", n.ID).Extract())
	if !slices.Equal(tags, []string{"fuel", "owner-x"}) || rev() != 4 {
		t.Fatalf("list: %v rev %d", tags, rev())
	}
	must[struct{}](t)(struct{}{}, attributestags.DeleteAll(ctx, c.member, "networks", n.ID).ExtractErr())
	if tags = must[[]string](t)(attributestags.List(ctx, c.member, "networks", n.ID).Extract()); len(tags) != 0 {
		t.Fatalf("after delete all: %v", tags)
	}
	// Other projects can neither read nor write the tags; ports have tags too.
	_, err := attributestags.List(ctx, c.other, "networks", n.ID).Extract()
	wantFault(t, err, 404, "NetworkNotFound")
	_, err = attributestags.ReplaceAll(ctx, c.member, "networks", n.ID, attributestags.ReplaceAllOpts{Tags: []string{"a,b"}}).Extract()
	wantFault(t, err, 400, "HTTPBadRequest")
	p := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID}).Extract())
	must[[]string](t)(attributestags.ReplaceAll(ctx, c.member, "ports", p.ID, attributestags.ReplaceAllOpts{Tags: []string{"x"}}).Extract())
	if got := must[[]ports.Port](t)(listPorts(c, c.member, ports.ListOpts{Tags: "x"})); len(got) != 1 || got[0].ID != p.ID {
		t.Fatalf("port by tag: %+v", got)
	}
}

func TestTagFilters(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	for name, tags := range map[string][]string{"ab": {"a", "b"}, "a": {"a"}, "bc": {"b", "c"}, "none": {}} {
		must[*networks.Network](t)(networks.Create(ctx, c.member, rawOpts{"name": name, "tags": tags}).Extract())
	}
	tests := []struct {
		opts networks.ListOpts
		want []string
	}{
		{networks.ListOpts{Tags: "a"}, []string{"a", "ab"}},
		{networks.ListOpts{Tags: "a,b"}, []string{"ab"}},
		{networks.ListOpts{TagsAny: "a,c"}, []string{"a", "ab", "bc"}},
		{networks.ListOpts{NotTags: "a,b"}, []string{"a", "bc", "net04_ext", "none"}},
		{networks.ListOpts{NotTagsAny: "a,c"}, []string{"net04_ext", "none"}},
		{networks.ListOpts{Tags: "b", NotTagsAny: "c"}, []string{"ab"}},
	}
	for _, tt := range tests {
		t.Run(tt.opts.Tags+"|"+tt.opts.TagsAny+"|"+tt.opts.NotTags+"|"+tt.opts.NotTagsAny, func(t *testing.T) {
			var names []string
			for _, n := range must[[]networks.Network](t)(listNetworks(c, c.member, tt.opts)) {
				names = append(names, n.Name)
			}
			slices.Sort(names)
			if !slices.Equal(names, tt.want) {
				t.Fatalf("got %v want %v", names, tt.want)
			}
		})
	}
}

func TestTagExtensionsOff(t *testing.T) {
	cfg := defaultConfig()
	cfg.Extensions = slices.DeleteFunc(slices.Clone(DefaultExtensions), func(a string) bool { return a == "tag-creation" || a == "standard-attr-tag" })
	c := newTestCloud(t, cfg)
	ctx := context.Background()
	_, err := networks.Create(ctx, c.member, rawOpts{"name": "n", "tags": []string{"a"}}).Extract()
	wantFault(t, err, 400, "HTTPBadRequest")
	_, err = attributestags.List(ctx, c.member, "networks", extNetID).Extract()
	wantFault(t, err, 404, "HTTPNotFound")
}
