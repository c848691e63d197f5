package resources_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/resources/resourcestest"
	"github.com/fuelplan/fuelplan/specs"
)

func TestSecurityGroupLifecycle(t *testing.T) {
	t.Parallel()
	for _, mode := range tagModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			_, c := startTagMode(t, mode.creation)
			ad := resources.SecurityGroup{}
			g := &specs.SecurityGroup{Meta: meta(specs.KindSecurityGroup, "mgmt"), Description: "management"}
			created, err := ad.Create(ctx, c, lab, g, nil)
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			checkMarked(t, c, "security-groups", created.ID, g.Addr())
			got := listOne(t, ad, c, nil, g.Addr(), g)
			if got == nil || got.ID != created.ID || !got.Owned {
				t.Fatalf("list: %+v", got)
			}
			checkNoDrift(t, ad, g, got, nil)
			for _, u := range []struct {
				field  string
				change func(*specs.SecurityGroup)
			}{
				{"name", func(g *specs.SecurityGroup) { g.Name = "lab1-management" }},
				{"description", func(g *specs.SecurityGroup) { g.Description = "SSH and Fuel UI" }},
			} {
				u.change(g)
				if got, err = ad.Update(ctx, c, g, got, []string{u.field}, nil); err != nil {
					t.Fatalf("update %s: %v", u.field, err)
				}
				checkNoDrift(t, ad, g, listOne(t, ad, c, nil, g.Addr(), g), nil)
			}
			checkDeleted(t, ad, c, got)
		})
	}
}

func TestSecurityGroupConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := resourcestest.Admin(t)
	g := &specs.SecurityGroup{Meta: meta(specs.KindSecurityGroup, "mgmt")}
	hand, err := groups.Create(ctx, c.Network, groups.CreateOpts{Name: g.Name}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	got := listOne(t, resources.SecurityGroup{}, c, nil, g.Addr(), g)
	if got == nil || got.ID != hand.ID || got.Owned {
		t.Errorf("list: %+v, want unowned %s", got, hand.ID)
	}
}

func rule(group specs.Address, name string, edit func(*specs.SecurityGroupRule)) *specs.SecurityGroupRule {
	r := &specs.SecurityGroupRule{
		Meta:  specs.Meta{Address: specs.NewAddress(specs.KindSecurityGroupRule, group.Name(), name)},
		Group: group, Direction: "ingress", EtherType: "IPv4",
	}
	edit(r)
	return r
}

func TestSecurityGroupRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, c := resourcestest.Admin(t)
	g := &specs.SecurityGroup{Meta: meta(specs.KindSecurityGroup, "mgmt")}
	gobj, err := resources.SecurityGroup{}.Create(ctx, c, lab, g, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := resourcestest.IDs{g.Addr(): gobj.ID}
	read := resourcestest.Snapshot{specs.KindSecurityGroup: {gobj}}
	ad := resources.SecurityGroupRule{}

	egress := rule(g.Addr(), "egress", func(r *specs.SecurityGroupRule) { r.Direction, r.RemoteIP = "egress", "0.0.0.0/0" })
	ssh := rule(g.Addr(), "ssh", func(r *specs.SecurityGroupRule) {
		r.Protocol, r.PortMin, r.PortMax, r.RemoteIP = "TCP", 22, 22, "10.0.0.0/8"
	})
	self := rule(g.Addr(), "self", func(r *specs.SecurityGroupRule) { r.RemoteGroup = g.Addr() })
	dns := rule(g.Addr(), "dns", func(r *specs.SecurityGroupRule) {
		r.Protocol, r.PortMin, r.PortMax, r.RemoteIP = "17", 53, 53, "192.168.0.5/24"
	})

	// Neutron's default egress rule is adopted by the spec's egress rule:
	// by List when the group existed at read time...
	objs, err := ad.List(ctx, c, resources.Query{Lab: lab, Want: []specs.Resource{egress}, Read: read})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objs[0].Address != egress.Addr() || !objs[0].Owned {
		t.Fatalf("list before create = %+v, want the default egress rule adopted (and the IPv6 one left out)", objs)
	}
	defaultEgress := objs[0].ID
	// ...and by Create, when the group was made after the read.
	adopted, err := ad.Create(ctx, c, lab, egress, ids)
	if err != nil {
		t.Fatalf("create of an existing rule: %v", err)
	}
	if adopted.ID != defaultEgress || adopted.Address != egress.Addr() || !adopted.Owned {
		t.Errorf("create adopted %+v, want rule %s", adopted, defaultEgress)
	}
	checkNoDrift(t, ad, egress, adopted, ids)

	made := map[specs.Address]string{}
	for _, r := range []*specs.SecurityGroupRule{ssh, self, dns} {
		o, err := ad.Create(ctx, c, lab, r, ids)
		if err != nil {
			t.Fatalf("create %s: %v", r.Addr(), err)
		}
		checkNoDrift(t, ad, r, o, ids)
		made[r.Addr()] = o.ID
		got, err := ad.Get(ctx, c, o.ID)
		if err != nil || got.Address != r.Addr() || !got.Owned {
			t.Errorf("get %s = %+v, %v: the description names the address", r.Addr(), got, err)
		}
	}
	// A rule added by hand, which no spec rule matches, is drift in a
	// group the lab owns: the lab's, at an address of its own, to delete.
	hand, err := rules.Create(ctx, c.Network, rules.CreateOpts{SecGroupID: gobj.ID, Direction: "ingress",
		EtherType: "IPv4", Protocol: "tcp", PortRangeMin: 80, PortRangeMax: 80}).Extract()
	if err != nil {
		t.Fatal(err)
	}

	list := func(want ...*specs.SecurityGroupRule) map[specs.Address]*resources.Object {
		t.Helper()
		rs := make([]specs.Resource, len(want))
		for i, r := range want {
			rs[i] = r
		}
		objs, err := ad.List(ctx, c, resources.Query{Lab: lab, Want: rs, Read: read})
		if err != nil {
			t.Fatal(err)
		}
		out := map[specs.Address]*resources.Object{}
		for _, o := range objs {
			if !o.Owned {
				t.Errorf("rule %s listed unowned", o.ID)
			}
			if _, dup := out[o.Address]; dup {
				t.Errorf("two rules at %s", o.Address)
			}
			out[o.Address] = o
		}
		return out
	}
	addrs := func(m map[specs.Address]*resources.Object) string {
		var as []string
		for a, o := range m {
			as = append(as, fmt.Sprintf("%s=%s", a, o.ID))
		}
		return resources.JoinSorted(as)
	}

	sim.ResetRequests()
	all := list(egress, ssh, self, dns)
	if calls := sim.Requests()["GET /network/v2.0/security-group-rules"]; calls != 1 {
		t.Errorf("list made %d rule list calls, want 1", calls)
	}
	wantAll := fmt.Sprintf("%s=%s,%s=%s,%s=%s,%s=%s,security_group_rule.%s.unlisted-%s=%s", dns.Addr(), made[dns.Addr()], egress.Addr(), defaultEgress,
		self.Addr(), made[self.Addr()], ssh.Addr(), made[ssh.Addr()], g.Addr().Name(), hand.ID, hand.ID)
	if got := addrs(all); got != wantAll {
		t.Errorf("rules = %s\nwant     %s (the hand-made rule unlisted, the IPv6 default left out)", got, wantAll)
	}
	for _, r := range []*specs.SecurityGroupRule{egress, ssh, self, dns} {
		checkNoDrift(t, ad, r, all[r.Addr()], ids)
	}

	// A rule dropped from the spec is still the lab's (its description
	// says so), so the engine deletes it.
	if o := list(egress, self, dns)[ssh.Addr()]; o == nil || o.ID != made[ssh.Addr()] {
		t.Errorf("dropped rule: %+v, want %s at %s", o, made[ssh.Addr()], ssh.Addr())
	}
	// A rule changed in the spec is the lab's old rule at that address,
	// whose content differs: a replace.
	dns54 := rule(g.Addr(), "dns", func(r *specs.SecurityGroupRule) {
		r.Protocol, r.PortMin, r.PortMax, r.RemoteIP = "udp", 54, 54, "192.168.0.0/24"
	})
	if o := list(egress, ssh, self, dns54)[dns.Addr()]; o == nil || o.ID != made[dns.Addr()] {
		t.Errorf("changed rule: %+v", o)
	} else if len(resourcestest.Drift(ad.Desired(dns54), o, ids)) == 0 {
		t.Error("changed rule shows no drift")
	}
	// A changed rule whose new content exists already adopts that rule;
	// the old one keeps a distinct address, so it is deleted rather than
	// taken for a duplicate.
	web := rule(g.Addr(), "dns", func(r *specs.SecurityGroupRule) { r.Protocol, r.PortMin, r.PortMax = "tcp", 80, 80 })
	got := list(egress, ssh, self, web)
	if o := got[web.Addr()]; o == nil || o.ID != hand.ID {
		t.Errorf("changed rule matching the hand-made one: %+v, want %s", o, hand.ID)
	}
	old := specs.Address(fmt.Sprintf("%s.%s", dns.Addr(), made[dns.Addr()]))
	if o := got[old]; o == nil || o.ID != made[dns.Addr()] {
		t.Errorf("old rule not at %s: %s", old, addrs(got))
	}

	if _, err := ad.Update(ctx, c, ssh, all[ssh.Addr()], []string{"port_min"}, ids); err == nil {
		t.Error("update of a rule succeeded; Neutron cannot change rules")
	}
	checkDeleted(t, ad, c, all[ssh.Addr()])
}
