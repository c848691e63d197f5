package neutron

import (
	"context"
	"sync"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
)

// TestOtherProjectsResourcesAreNotFound: to a non-admin, another project's
// resource does not exist, whatever the verb; the admin sees it.
func TestOtherProjectsResourcesAreNotFound(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	n, sn := memberNet(t, c, "10.20.0.0/24")
	p := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID}).Extract())
	r := must[*routers.Router](t)(routers.Create(ctx, c.member, routers.CreateOpts{Name: "r"}).Extract())
	sg := must[*groups.SecGroup](t)(groups.Create(ctx, c.member, groups.CreateOpts{Name: "g"}).Extract())
	rule := must[*rules.SecGroupRule](t)(rules.Create(ctx, c.member, rules.CreateOpts{Direction: "ingress", EtherType: "IPv4", SecGroupID: sg.ID, Protocol: "icmp"}).Extract())
	f := must[*floatingips.FloatingIP](t)(floatingips.Create(ctx, c.member, floatingips.CreateOpts{FloatingNetworkID: extNetID}).Extract())
	resources := []struct {
		path, key, id, typ string
	}{
		{"networks", "network", n.ID, "NetworkNotFound"},
		{"subnets", "subnet", sn.ID, "SubnetNotFound"},
		{"ports", "port", p.ID, "PortNotFound"},
		{"routers", "router", r.ID, "RouterNotFound"},
		{"security-groups", "security_group", sg.ID, "SecurityGroupNotFound"},
		{"security-group-rules", "security_group_rule", rule.ID, "SecurityGroupRuleNotFound"},
		{"floatingips", "floatingip", f.ID, "FloatingIPNotFound"},
	}
	for _, res := range resources {
		t.Run(res.path, func(t *testing.T) {
			url := c.other.ServiceURL(res.path, res.id)
			_, err := c.other.Get(ctx, url, nil, nil)
			wantFault(t, err, 404, res.typ)
			_, err = c.other.Put(ctx, url, map[string]any{res.key: map[string]any{"description": "x"}}, nil, &gophercloud.RequestOpts{OkCodes: []int{200}})
			wantFault(t, err, 404, res.typ)
			_, err = c.other.Delete(ctx, url, nil)
			wantFault(t, err, 404, res.typ)
			if _, err := c.admin.Get(ctx, url, nil, nil); err != nil {
				t.Fatalf("admin: %v", err)
			}
			// The owner gets 400 for an attribute the resource does not have
			// and for a body without the resource key.
			_, err = c.member.Put(ctx, c.member.ServiceURL(res.path, res.id), map[string]any{res.key: map[string]any{"colour": "x"}}, nil, &gophercloud.RequestOpts{OkCodes: []int{200}})
			wantFault(t, err, 400, "HTTPBadRequest")
			_, err = c.member.Put(ctx, c.member.ServiceURL(res.path, res.id), map[string]any{"thing": map[string]any{}}, nil, &gophercloud.RequestOpts{OkCodes: []int{200}})
			wantFault(t, err, 400, "HTTPBadRequest")
		})
	}
}

// TestConcurrentPortCreates: parallel creates never hand out one address
// twice (run with -race).
func TestConcurrentPortCreates(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	n, _ := memberNet(t, c, "10.20.0.0/24")
	const workers = 16
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			p, err := ports.Create(context.Background(), c.member, ports.CreateOpts{NetworkID: n.ID}).Extract()
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[p.FixedIPs[0].IPAddress] {
				t.Errorf("address %s handed out twice", p.FixedIPs[0].IPAddress)
			}
			seen[p.FixedIPs[0].IPAddress] = true
		})
	}
	wg.Wait()
	if len(seen) != workers {
		t.Fatalf("%d distinct addresses, want %d", len(seen), workers)
	}
}
