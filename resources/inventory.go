package resources

import (
	"context"
	"slices"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/trunks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

// InventoryQuery scopes an inventory: the project's objects, or only
// those carrying Tag when it is set; kinds that cannot filter on a tag
// (Nova's) keep the names starting with NamePrefix instead.
type InventoryQuery struct {
	ProjectID  string
	Tag        string
	NamePrefix string
}

// Listed is one object as an inventory lists it. Via is the ID of the
// object that tells whose it is when it has no name of its own (a
// floating IP's port).
type Listed struct {
	ID, Name string
	Tags     []string
	Via      string
}

// InventoryFunc lists a kind's objects for the end-to-end suite.
type InventoryFunc func(ctx context.Context, c *Cloud, q InventoryQuery) ([]Listed, error)

func inventoryNetworks(ctx context.Context, c *Cloud, q InventoryQuery) ([]Listed, error) {
	pages, err := networks.List(c.Network, networks.ListOpts{ProjectID: q.ProjectID, Tags: q.Tag}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	ns, err := networks.ExtractNetworks(pages)
	out := make([]Listed, len(ns))
	for i, n := range ns {
		out[i] = Listed{ID: n.ID, Name: n.Name, Tags: n.Tags}
	}
	return out, err
}

func inventorySubnets(ctx context.Context, c *Cloud, q InventoryQuery) ([]Listed, error) {
	pages, err := subnets.List(c.Network, subnets.ListOpts{ProjectID: q.ProjectID, Tags: q.Tag}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	ss, err := subnets.ExtractSubnets(pages)
	out := make([]Listed, len(ss))
	for i, s := range ss {
		out[i] = Listed{ID: s.ID, Name: s.Name, Tags: s.Tags}
	}
	return out, err
}

// inventoryPorts leaves out a router's interface ports: they go with
// their router (a router with interfaces cannot be deleted) and have no
// name to tell one lab's from another's.
func inventoryPorts(ctx context.Context, c *Cloud, q InventoryQuery) ([]Listed, error) {
	pages, err := ports.List(c.Network, ports.ListOpts{ProjectID: q.ProjectID, Tags: q.Tag}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	ps, err := ports.ExtractPorts(pages)
	var out []Listed
	for _, p := range ps {
		if p.DeviceOwner != "network:router_interface" {
			out = append(out, Listed{ID: p.ID, Name: p.Name, Tags: p.Tags})
		}
	}
	return out, err
}

func inventoryRouters(ctx context.Context, c *Cloud, q InventoryQuery) ([]Listed, error) {
	pages, err := routers.List(c.Network, routers.ListOpts{ProjectID: q.ProjectID, Tags: q.Tag}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	rs, err := routers.ExtractRouters(pages)
	out := make([]Listed, len(rs))
	for i, r := range rs {
		out[i] = Listed{ID: r.ID, Name: r.Name, Tags: r.Tags}
	}
	return out, err
}

func inventorySecurityGroups(ctx context.Context, c *Cloud, q InventoryQuery) ([]Listed, error) {
	pages, err := groups.List(c.Network, groups.ListOpts{ProjectID: q.ProjectID, Tags: q.Tag}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	gs, err := groups.ExtractGroups(pages)
	out := make([]Listed, len(gs))
	for i, g := range gs {
		out[i] = Listed{ID: g.ID, Name: g.Name, Tags: g.Tags}
	}
	return out, err
}

// inventoryFloatingIPs names a floating IP by its address and says, in
// Via, which port tells whose it is: on a cloud without tag-creation
// another lab's is untagged for a moment after its create.
func inventoryFloatingIPs(ctx context.Context, c *Cloud, q InventoryQuery) ([]Listed, error) {
	pages, err := floatingips.List(c.Network, floatingips.ListOpts{ProjectID: q.ProjectID, Tags: q.Tag}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	fs, err := floatingips.ExtractFloatingIPs(pages)
	out := make([]Listed, len(fs))
	for i, f := range fs {
		out[i] = Listed{ID: f.ID, Name: f.FloatingIP, Tags: f.Tags, Via: f.PortID}
	}
	return out, err
}

// inventoryServers: Nova has no tag filter the same way for every
// release; with a tag asked for, the lab's servers are those with its
// name prefix.
func inventoryServers(ctx context.Context, c *Cloud, q InventoryQuery) ([]Listed, error) {
	pages, err := servers.List(c.Compute, servers.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	svs, err := servers.ExtractServers(pages)
	var out []Listed
	for _, s := range svs {
		if q.Tag == "" || strings.HasPrefix(s.Name, q.NamePrefix) {
			out = append(out, Listed{ID: s.ID, Name: s.Name})
		}
	}
	return out, err
}

// inventoryKeypairs: keypairs belong to the user and have no ID; with a
// tag asked for, the lab's are those with its name prefix.
func inventoryKeypairs(ctx context.Context, c *Cloud, q InventoryQuery) ([]Listed, error) {
	pages, err := keypairs.List(c.Compute, nil).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	ks, err := keypairs.ExtractKeyPairs(pages)
	var out []Listed
	for _, k := range ks {
		if q.Tag == "" || strings.HasPrefix(k.Name, q.NamePrefix) {
			out = append(out, Listed{ID: "keypair", Name: k.Name})
		}
	}
	return out, err
}

// inventoryImages lists the project's own images (not the public ones
// of others), or those carrying the tag.
func inventoryImages(ctx context.Context, c *Cloud, q InventoryQuery) ([]Listed, error) {
	opts := images.ListOpts{Owner: q.ProjectID}
	if q.Tag != "" {
		opts = images.ListOpts{Tags: []string{q.Tag}}
	}
	pages, err := images.List(c.Image, opts).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	ims, err := images.ExtractImages(pages)
	out := make([]Listed, len(ims))
	for i, im := range ims {
		out[i] = Listed{ID: im.ID, Name: im.Name, Tags: im.Tags}
	}
	return out, err
}

// inventoryFlavors lists every flavor the user sees, private ones too; a
// lab's mark is in its extra specs, so with a tag asked for the lab's are
// those with its name prefix.
func inventoryFlavors(ctx context.Context, c *Cloud, q InventoryQuery) ([]Listed, error) {
	pages, err := flavors.ListDetail(c.Compute, flavors.ListOpts{AccessType: flavors.AllAccess}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	fs, err := flavors.ExtractFlavors(pages)
	var out []Listed
	for _, f := range fs {
		if q.Tag == "" || strings.HasPrefix(f.Name, q.NamePrefix) {
			out = append(out, Listed{ID: f.ID, Name: f.Name})
		}
	}
	return out, err
}

// inventoryVolumes lists the project's volumes; the lab mark is metadata
// (Cinder has no tags), given as the tag it stands for. A cloud without
// Cinder has none.
func inventoryVolumes(ctx context.Context, c *Cloud, q InventoryQuery) ([]Listed, error) {
	if c.Volume == nil {
		return nil, nil
	}
	pages, err := volumes.List(c.Volume, volumes.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	vs, err := volumes.ExtractVolumes(pages)
	var out []Listed
	for _, v := range vs {
		var tags []string
		if lab := v.Metadata[volumeLabKey]; lab != "" {
			tags = []string{LabTag(lab)}
		}
		if q.Tag == "" || slices.Contains(tags, q.Tag) {
			out = append(out, Listed{ID: v.ID, Name: v.Name, Tags: tags})
		}
	}
	return out, err
}

// inventoryTrunks lists nothing on a cloud without the trunk extension,
// where the list itself would be a 404.
func inventoryTrunks(ctx context.Context, c *Cloud, q InventoryQuery) ([]Listed, error) {
	if !c.HasExtension("trunk") {
		return nil, nil
	}
	pages, err := trunks.List(c.Network, trunks.ListOpts{ProjectID: q.ProjectID, Tags: q.Tag}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	ts, err := trunks.ExtractTrunks(pages)
	out := make([]Listed, len(ts))
	for i, t := range ts {
		out[i] = Listed{ID: t.ID, Name: t.Name, Tags: t.Tags}
	}
	return out, err
}
