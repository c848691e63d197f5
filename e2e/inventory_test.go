package e2e

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/fuelplan/fuelplan/resources"
)

// inventory is what the user's project holds, by kind, as sorted
// "ID name" lines: "the cloud as it was" is an equal inventory. It is
// scoped to the project so that a shared cloud's other tenants do not
// count; tag is set to list only objects carrying that tag instead.
type inventory map[string][]string

func (e *env) inventory(tag string) inventory {
	e.t.Helper()
	ctx := context.Background()
	c := e.cloud
	inv := inventory{}
	// add keeps what is not another e2e lab's: on a real cloud the
	// suite's lanes run side by side in one project.
	add := func(kind, id, name string, tags ...string) {
		if e.othersLab(name, tags) {
			return
		}
		inv[kind] = append(inv[kind], id+" "+name)
	}
	must := func(kind string, err error) {
		if err != nil {
			e.t.Fatalf("inventory of %s: %v", kind, err)
		}
	}
	np, err := networks.List(c.Network, networks.ListOpts{ProjectID: c.ProjectID, Tags: tag}).AllPages(ctx)
	must("networks", err)
	ns, err := networks.ExtractNetworks(np)
	must("networks", err)
	for _, n := range ns {
		add("network", n.ID, n.Name, n.Tags...)
	}
	sp, err := subnets.List(c.Network, subnets.ListOpts{ProjectID: c.ProjectID, Tags: tag}).AllPages(ctx)
	must("subnets", err)
	ss, err := subnets.ExtractSubnets(sp)
	must("subnets", err)
	for _, s := range ss {
		add("subnet", s.ID, s.Name, s.Tags...)
	}
	pp, err := ports.List(c.Network, ports.ListOpts{ProjectID: c.ProjectID, Tags: tag}).AllPages(ctx)
	must("ports", err)
	ps, err := ports.ExtractPorts(pp)
	must("ports", err)
	othersPort := map[string]bool{}
	for _, p := range ps {
		othersPort[p.ID] = e.othersLab(p.Name, p.Tags)
		// A router's interface ports go with their router (a router
		// with interfaces cannot be deleted), and have no name to tell
		// one lab's from another's.
		if p.DeviceOwner != "network:router_interface" {
			add("port", p.ID, p.Name, p.Tags...)
		}
	}
	rp, err := routers.List(c.Network, routers.ListOpts{ProjectID: c.ProjectID, Tags: tag}).AllPages(ctx)
	must("routers", err)
	rs, err := routers.ExtractRouters(rp)
	must("routers", err)
	for _, r := range rs {
		add("router", r.ID, r.Name, r.Tags...)
	}
	gp, err := groups.List(c.Network, groups.ListOpts{ProjectID: c.ProjectID, Tags: tag}).AllPages(ctx)
	must("security groups", err)
	gs, err := groups.ExtractGroups(gp)
	must("security groups", err)
	for _, g := range gs {
		add("security_group", g.ID, g.Name, g.Tags...)
	}
	fp, err := floatingips.List(c.Network, floatingips.ListOpts{ProjectID: c.ProjectID, Tags: tag}).AllPages(ctx)
	must("floating IPs", err)
	fs, err := floatingips.ExtractFloatingIPs(fp)
	must("floating IPs", err)
	for _, f := range fs {
		// A floating IP has no name, and on a cloud without tag-creation
		// another lane's is untagged for a moment after its create: its
		// port tells whose it is.
		if !othersPort[f.PortID] {
			add("floating_ip", f.ID, f.FloatingIP, f.Tags...)
		}
	}
	// Nova has no tag filter the same way for every release; servers and
	// keypairs of the lab are the ones with its name prefix.
	svp, err := servers.List(c.Compute, servers.ListOpts{}).AllPages(ctx)
	must("servers", err)
	svs, err := servers.ExtractServers(svp)
	must("servers", err)
	for _, s := range svs {
		if tag == "" || strings.HasPrefix(s.Name, e.lab+"-") {
			add("server", s.ID, s.Name)
		}
	}
	kp, err := keypairs.List(c.Compute, nil).AllPages(ctx)
	must("keypairs", err)
	ks, err := keypairs.ExtractKeyPairs(kp)
	must("keypairs", err)
	for _, k := range ks {
		if tag == "" || strings.HasPrefix(k.Name, e.lab+"-") {
			add("keypair", "keypair", k.Name)
		}
	}
	for k := range inv {
		slices.Sort(inv[k])
	}
	return inv
}

// othersLab reports whether an object belongs to another e2e lab: it
// carries another lab's tag, or an e2e lab name that is not this one's.
func (e *env) othersLab(name string, tags []string) bool {
	for _, t := range tags {
		if strings.HasPrefix(t, "fuelplan-lab:") && t != resources.LabTag(e.lab) {
			return true
		}
	}
	return strings.HasPrefix(name, "e2e-") && !strings.HasPrefix(name, e.lab+"-")
}

// diff says how two inventories differ, kind by kind ("" when equal).
func (inv inventory) diff(other inventory) string {
	kinds := map[string]bool{}
	for k := range inv {
		kinds[k] = true
	}
	for k := range other {
		kinds[k] = true
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		if slices.Equal(inv[k], other[k]) {
			continue
		}
		fmt.Fprintf(&b, "%s: before %q, after %q\n", k, inv[k], other[k])
	}
	return b.String()
}

// asItWas checks a scenario's end: nothing carrying the lab's mark or
// name is left, and the project holds what it held before.
func (e *env) asItWas(before inventory) {
	e.t.Helper()
	if left := e.inventory(resources.LabTag(e.lab)); len(left) > 0 {
		e.t.Errorf("left behind by lab %s: %v", e.lab, left)
	}
	if d := before.diff(e.inventory("")); d != "" {
		e.t.Errorf("the cloud is not as it was:\n%s", d)
	}
}
