package neutron

import (
	"context"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
)

func TestDefaultSecurityGroup(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	def := defaultGroup(t, c.member)
	if def.ProjectID != "p-demo" || len(def.Rules) != 4 {
		t.Fatalf("default group: %+v", def)
	}
	// Neutron's default rules: all egress, ingress from the group itself.
	count := map[string]int{}
	for _, r := range def.Rules {
		key := r.Direction + "/" + r.EtherType
		if r.Direction == "ingress" && r.RemoteGroupID != def.ID {
			t.Fatalf("ingress rule not from the group: %+v", r)
		}
		if r.Direction == "egress" && (r.RemoteGroupID != "" || r.RemoteIPPrefix != "" || r.Protocol != "") {
			t.Fatalf("egress rule not open: %+v", r)
		}
		count[key]++
	}
	for _, k := range []string{"ingress/IPv4", "ingress/IPv6", "egress/IPv4", "egress/IPv6"} {
		if count[k] != 1 {
			t.Fatalf("default rules %v", count)
		}
	}
	// One per project, created once.
	if again := defaultGroup(t, c.member); again.ID != def.ID {
		t.Fatal("a second default group was created")
	}
	if other := defaultGroup(t, c.other); other.ID == def.ID {
		t.Fatal("projects share a default group")
	}
	ctx := context.Background()
	wantFault(t, groups.Delete(ctx, c.member, def.ID).ExtractErr(), 409, "SecurityGroupCannotRemoveDefault")
	_, err := groups.Create(ctx, c.member, groups.CreateOpts{Name: "default"}).Extract()
	wantFault(t, err, 409, "SecurityGroupDefaultAlreadyExists")
	_, err = groups.Update(ctx, c.member, def.ID, groups.UpdateOpts{Name: "x"}).Extract()
	wantFault(t, err, 409, "SecurityGroupCannotUpdateDefault")
}

func TestSecurityGroupRules(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	sg := must[*groups.SecGroup](t)(groups.Create(ctx, c.member, groups.CreateOpts{Name: "web", Description: "w"}).Extract())
	if len(sg.Rules) != 2 || sg.Rules[0].Direction != "egress" || sg.Rules[1].Direction != "egress" {
		t.Fatalf("a new group has only the two egress rules: %+v", sg.Rules)
	}
	ssh := rules.CreateOpts{Direction: rules.DirIngress, EtherType: rules.EtherType4, SecGroupID: sg.ID,
		Protocol: rules.ProtocolTCP, PortRangeMin: 22, PortRangeMax: 22, RemoteIPPrefix: "0.0.0.0/0"}
	r := must[*rules.SecGroupRule](t)(rules.Create(ctx, c.member, ssh).Extract())
	if r.PortRangeMin != 22 || r.Protocol != "tcp" || r.RemoteIPPrefix != "0.0.0.0/0" || r.SecGroupID != sg.ID {
		t.Fatalf("rule: %+v", r)
	}
	got := must[*groups.SecGroup](t)(groups.Get(ctx, c.member, sg.ID).Extract())
	if len(got.Rules) != 3 || got.RevisionNumber != 2 {
		t.Fatalf("group after a rule: %d rules, revision %d", len(got.Rules), got.RevisionNumber)
	}
	tests := []struct {
		name   string
		opts   rules.CreateOpts
		status int
		typ    string
	}{
		{"duplicate", ssh, 409, "SecurityGroupRuleExists"},
		{"ports without protocol", rules.CreateOpts{Direction: "ingress", EtherType: "IPv4", SecGroupID: sg.ID, PortRangeMin: 80, PortRangeMax: 80}, 400, "SecurityGroupProtocolRequiredWithPorts"},
		{"min above max", rules.CreateOpts{Direction: "ingress", EtherType: "IPv4", SecGroupID: sg.ID, Protocol: "tcp", PortRangeMin: 90, PortRangeMax: 80}, 400, "SecurityGroupInvalidPortRange"},
		{"remote IP and group", rules.CreateOpts{Direction: "ingress", EtherType: "IPv4", SecGroupID: sg.ID, RemoteIPPrefix: "10.0.0.0/8", RemoteGroupID: sg.ID}, 400, "SecurityGroupRemoteGroupAndRemoteIpPrefix"},
		{"bad protocol", rules.CreateOpts{Direction: "ingress", EtherType: "IPv4", SecGroupID: sg.ID, Protocol: "smtp"}, 400, "SecurityGroupRuleInvalidProtocol"},
		{"bad direction", rules.CreateOpts{Direction: "sideways", EtherType: "IPv4", SecGroupID: sg.ID}, 400, "HTTPBadRequest"},
		{"bad ethertype", rules.CreateOpts{Direction: "ingress", EtherType: "IPv5", SecGroupID: sg.ID}, 400, "SecurityGroupRuleInvalidEtherType"},
		{"prefix of the other family", rules.CreateOpts{Direction: "ingress", EtherType: "IPv6", SecGroupID: sg.ID, RemoteIPPrefix: "10.0.0.0/8"}, 400, "SecurityGroupRuleParameterConflict"},
		{"unknown group", rules.CreateOpts{Direction: "ingress", EtherType: "IPv4", SecGroupID: "nope"}, 404, "SecurityGroupNotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rules.Create(ctx, c.member, tt.opts).Extract()
			wantFault(t, err, tt.status, tt.typ)
		})
	}
	// A prefix with host bits is stored as sent, and is another rule than
	// its network's (real Zed takes both).
	udp := rules.CreateOpts{Direction: "ingress", EtherType: "IPv4", SecGroupID: sg.ID, Protocol: "udp", RemoteIPPrefix: "10.1.2.3/8"}
	if got := must[*rules.SecGroupRule](t)(rules.Create(ctx, c.member, udp).Extract()); got.RemoteIPPrefix != "10.1.2.3/8" {
		t.Fatalf("prefix %s, want 10.1.2.3/8 as sent", got.RemoteIPPrefix)
	}
	udp.RemoteIPPrefix = "10.0.0.0/8"
	must[*rules.SecGroupRule](t)(rules.Create(ctx, c.member, udp).Extract())
	_, err := rules.Create(ctx, c.member, udp).Extract()
	wantFault(t, err, 409, "SecurityGroupRuleExists")

	must[struct{}](t)(struct{}{}, rules.Delete(ctx, c.member, r.ID).ExtractErr())
	_, err = rules.Get(ctx, c.member, r.ID).Extract()
	wantFault(t, err, 404, "SecurityGroupRuleNotFound")
	// Another project's group and rules are invisible.
	_, err = groups.Get(ctx, c.other, sg.ID).Extract()
	wantFault(t, err, 404, "SecurityGroupNotFound")
}

func TestSecurityGroupInUse(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	n, _ := memberNet(t, c, "10.20.0.0/24")
	sg := must[*groups.SecGroup](t)(groups.Create(ctx, c.member, groups.CreateOpts{Name: "web"}).Extract())
	p := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID, SecurityGroups: &[]string{sg.ID}}).Extract())
	wantFault(t, groups.Delete(ctx, c.member, sg.ID).ExtractErr(), 409, "SecurityGroupInUse")
	must[struct{}](t)(struct{}{}, ports.Delete(ctx, c.member, p.ID).ExtractErr())
	must[struct{}](t)(struct{}{}, groups.Delete(ctx, c.member, sg.ID).ExtractErr())
	pages, err := rules.List(c.member, rules.ListOpts{SecGroupID: sg.ID}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rs, _ := rules.ExtractRules(pages); len(rs) != 0 {
		t.Fatalf("rules outlived their group: %+v", rs)
	}
}
