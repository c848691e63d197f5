package resources_test

import (
	"context"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/resources/resourcestest"
	"github.com/fuelplan/fuelplan/specs"
)

// portWorld makes what a port needs: a lab network with its subnet and
// two security groups, all in ids.
func portWorld(t *testing.T, c *resources.Cloud) (net *specs.Network, sub *specs.Subnet, sgs []specs.Address, ids resourcestest.IDs) {
	t.Helper()
	ctx := context.Background()
	net, ids = labNetwork(t, c, "admin")
	sub = &specs.Subnet{Meta: meta(specs.KindSubnet, "admin"), Network: net.Addr(), CIDR: "10.20.0.0/24"}
	o, err := resources.Subnet{}.Create(ctx, c, lab, sub, ids)
	if err != nil {
		t.Fatal(err)
	}
	ids[sub.Addr()] = o.ID
	for _, name := range []string{"mgmt", "web"} {
		g := &specs.SecurityGroup{Meta: meta(specs.KindSecurityGroup, name)}
		o, err := resources.SecurityGroup{}.Create(ctx, c, lab, g, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids[g.Addr()] = o.ID
		sgs = append(sgs, g.Addr())
	}
	return net, sub, sgs, ids
}

func portSpec(name string, net *specs.Network, sub *specs.Subnet) *specs.Port {
	return &specs.Port{Meta: meta(specs.KindPort, "master."+name), Server: "server.master",
		Network: net.Addr(), Subnet: sub.Addr(), NetworkName: name}
}

func TestPortLifecycle(t *testing.T) {
	t.Parallel()
	for _, mode := range tagModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			_, c := startTagMode(t, mode.creation)
			net, sub, sgs, ids := portWorld(t, c)
			ad := resources.Port{}
			p := portSpec("admin", net, sub)
			p.FixedIP, p.MAC, p.PortSecurity = "10.20.0.10", "FA:16:3E:00:00:01", ptr(true)
			p.SecurityGroups = sgs[:1]
			p.AllowedAddressPairs = []specs.AddressPair{{IP: "10.20.0.200"}}

			created, err := ad.Create(ctx, c, lab, p, ids)
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			checkMarked(t, c, "ports", created.ID, p.Addr())
			got := listOne(t, ad, c, nil, p.Addr(), p)
			if got == nil || got.ID != created.ID || !got.Owned {
				t.Fatalf("list: %+v", got)
			}
			for k, v := range map[string]string{"network": ids[net.Addr()], "subnet": ids[sub.Addr()],
				"fixed_ip": "10.20.0.10", "mac": "fa:16:3e:00:00:01", "port_security": "true",
				"security_groups": ids[sgs[0]], "allowed_address_pairs": "10.20.0.200", "device_id": ""} {
				if got.Fields[k] != v {
					t.Errorf("field %s = %q, want %q", k, got.Fields[k], v)
				}
			}
			checkNoDrift(t, ad, p, got, ids)

			updates := []struct {
				field  string
				change func(*specs.Port)
			}{
				{"name", func(p *specs.Port) { p.Name = "lab1-master-pxe" }},
				{"fixed_ip", func(p *specs.Port) { p.FixedIP = "10.20.0.11" }},
				{"security_groups", func(p *specs.Port) { p.SecurityGroups = sgs }},
				{"allowed_address_pairs", func(p *specs.Port) {
					p.AllowedAddressPairs = []specs.AddressPair{{IP: "10.20.0.201", MAC: "fa:16:3e:aa:bb:cc"}, {IP: "10.20.0.0/24"}}
				}},
				// Off clears groups and pairs in the same request.
				{"port_security", func(p *specs.Port) {
					p.PortSecurity, p.SecurityGroups, p.AllowedAddressPairs = ptr(false), nil, nil
				}},
				{"port_security", func(p *specs.Port) { p.PortSecurity, p.SecurityGroups = ptr(true), sgs[1:] }},
			}
			for _, u := range updates {
				u.change(p)
				if len(resourcestest.Drift(ad.Desired(p), got, ids)) == 0 {
					t.Fatalf("change of %s is not drift", u.field)
				}
				fields := []string{u.field}
				if u.field == "port_security" {
					fields = append(fields, "security_groups")
				}
				if got, err = ad.Update(ctx, c, p, got, fields, ids); err != nil {
					t.Fatalf("update %s: %v", u.field, err)
				}
				checkNoDrift(t, ad, p, listOne(t, ad, c, nil, p.Addr(), p), ids)
			}
			if _, err := ad.Update(ctx, c, p, got, []string{"mac"}, ids); err == nil {
				t.Error("update of mac succeeded; it forces a new port")
			}
			checkDeleted(t, ad, c, got)
		})
	}
}

// TestPortDefaults: what the spec leaves out is Neutron's to choose and
// is not drift; port security off at create means no groups at all.
func TestPortDefaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := resourcestest.Admin(t)
	net, sub, _, ids := portWorld(t, c)
	ad := resources.Port{}

	plain := portSpec("admin", net, sub)
	o, err := ad.Create(ctx, c, lab, plain, ids)
	if err != nil {
		t.Fatal(err)
	}
	if o.Fields["security_groups"] == "" || o.Fields["fixed_ip"] == "" || o.Fields["mac"] == "" {
		t.Errorf("Neutron's defaults not read: %v", o.Fields)
	}
	checkNoDrift(t, ad, plain, o, ids)

	open := portSpec("storage", net, sub)
	open.PortSecurity = ptr(false)
	o, err = ad.Create(ctx, c, lab, open, ids)
	if err != nil {
		t.Fatal(err)
	}
	if o.Fields["security_groups"] != "" || o.Fields["port_security"] != "false" {
		t.Errorf("port without port security: %v", o.Fields)
	}
	checkNoDrift(t, ad, open, o, ids)

	// A server plugged into the port shows in device_id, for its Relate.
	if _, err := ports.Update(ctx, c.Network, o.ID, ports.UpdateOpts{DeviceID: ptr("server-1")}).Extract(); err != nil {
		t.Fatal(err)
	}
	if got := listOne(t, ad, c, nil, open.Addr(), open); got == nil || got.Fields["device_id"] != "server-1" {
		t.Errorf("device_id not read: %+v", got)
	}
}

func TestPortConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := resourcestest.Admin(t)
	net, sub, _, ids := portWorld(t, c)
	p := portSpec("admin", net, sub)
	hand, err := ports.Create(ctx, c.Network, ports.CreateOpts{NetworkID: ids[net.Addr()], Name: p.Name}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	got := listOne(t, resources.Port{}, c, nil, p.Addr(), p)
	if got == nil || got.ID != hand.ID || got.Owned {
		t.Errorf("list: %+v, want unowned %s", got, hand.ID)
	}
}
