package resources_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/resources/resourcestest"
	"github.com/fuelplan/fuelplan/specs"
)

// TestNeutronRealCloud builds, checks and removes a small lab with every
// Neutron adapter on a real OpenStack, to hold the simulated cloud to what
// Neutron really does. It runs only when FUELPLAN_TEST_CLOUD names a
// clouds.yaml entry, e.g. with the loopback cloud of
// /work/shared/realcloud (a member, not an admin, is what labs run as):
//
//	OS_CLIENT_CONFIG_FILE=/tmp/oscloud/clouds.yaml FUELPLAN_TEST_CLOUD=demo \
//	FUELPLAN_TEST_EXTNET=public go test -run RealCloud ./resources/
func TestNeutronRealCloud(t *testing.T) {
	name := os.Getenv("FUELPLAN_TEST_CLOUD")
	if name == "" {
		t.Skip("FUELPLAN_TEST_CLOUD is not set")
	}
	c := connectNeutron(t, name)
	extName := os.Getenv("FUELPLAN_TEST_EXTNET")
	if extName == "" {
		extName = "public"
	}
	neutronLab(t, c, extName)
}

// TestNeutronLabAsMember runs the same lab on the simulated cloud, as a
// member, so the real-cloud test's own code is always exercised.
func TestNeutronLabAsMember(t *testing.T) {
	t.Parallel()
	sim := resourcestest.Start(t)
	neutronLab(t, resourcestest.Connect(t, sim, sim.Member()), "net04_ext")
}

// neutronLab builds a network, subnet, router with gateway and interface,
// security group with rules, two ports and a floating IP under a fresh lab
// name, checking each against its spec as created, as listed and after
// updates, and deletes them all when the test ends.
func neutronLab(t *testing.T, c *resources.Cloud, extName string) {
	ctx := context.Background()
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	lab := "fptest-" + hex.EncodeToString(rnd[:])
	m := func(k specs.Kind, n string) specs.Meta {
		return specs.Meta{Address: specs.NewAddress(k, n), Name: lab + "-" + n}
	}

	ids := resourcestest.IDs{}
	read := resourcestest.Snapshot{}
	type made struct {
		ad resources.Adapter
		o  *resources.Object
	}
	var all []made
	t.Cleanup(func() {
		for i := len(all) - 1; i >= 0; i-- {
			if err := all[i].ad.Delete(ctx, c, all[i].o); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
	// create makes r, checks it against the spec as created and as
	// listed, and records it for the snapshot, the IDs and the cleanup.
	create := func(ad resources.Adapter, r specs.Resource, want ...specs.Resource) *resources.Object {
		t.Helper()
		o, err := ad.Create(ctx, c, lab, r, ids)
		if err != nil {
			t.Fatalf("create %s: %v", r.Addr(), err)
		}
		all = append(all, made{ad, o})
		ids[r.Addr()] = o.ID
		checkNoDrift(t, ad, r, o, ids)
		objs, err := ad.List(ctx, c, resources.Query{Lab: lab, Want: append(want, r), Read: read})
		if err != nil {
			t.Fatalf("list %s: %v", ad.Kind(), err)
		}
		read[ad.Kind()] = objs
		got := resourcestest.Find(objs, r.Addr())
		if got == nil || got.ID != o.ID || !got.Owned {
			t.Fatalf("list %s: got %+v, want owned %s", r.Addr(), got, o.ID)
		}
		checkNoDrift(t, ad, r, got, ids)
		return got
	}
	update := func(ad resources.Adapter, r specs.Resource, live *resources.Object, fields ...string) *resources.Object {
		t.Helper()
		o, err := ad.Update(ctx, c, r, live, fields, ids)
		if err != nil {
			t.Fatalf("update %s %v: %v", r.Addr(), fields, err)
		}
		checkNoDrift(t, ad, r, o, ids)
		return o
	}

	ext := &specs.ExternalNetwork{Meta: specs.Meta{Address: "external_network.public", Name: extName}}
	objs, err := resources.ExternalNetwork{}.List(ctx, c, resources.Query{Lab: lab, Want: []specs.Resource{ext}})
	if err != nil || len(objs) != 1 {
		t.Fatalf("external network %q: %v, %v", extName, objs, err)
	}
	ids[ext.Addr()] = objs[0].ID

	net := &specs.Network{Meta: m(specs.KindNetwork, "admin"), Description: "PXE", PortSecurity: ptr(true)}
	if c.HasExtension("net-mtu-writable") {
		net.MTU = ptr(1400)
	}
	no := create(resources.Network{}, net)
	net.Name, net.Description = net.Name+"-renamed", "PXE, renamed"
	update(resources.Network{}, net, no, "name", "description")

	sub := &specs.Subnet{Meta: m(specs.KindSubnet, "admin"), Network: net.Addr(), CIDR: "10.77.0.0/24",
		DNSNameservers: []string{"192.0.2.53"}}
	so := create(resources.Subnet{}, sub)
	sub.AllocationPools = []specs.AllocationPool{{Start: "10.77.0.100", End: "10.77.0.200"}}
	so = update(resources.Subnet{}, sub, so, "pools")
	sub.Gateway = "10.77.0.254"
	update(resources.Subnet{}, sub, so, "gateway")

	rt := &specs.Router{Meta: m(specs.KindRouter, "router"), ExternalNetwork: ext.Addr()}
	ro := create(resources.Router{}, rt)
	rt.ExternalNetwork = ""
	ro = update(resources.Router{}, rt, ro, "external_network")
	rt.ExternalNetwork = ext.Addr()
	update(resources.Router{}, rt, ro, "external_network")

	ri := &specs.RouterInterface{Meta: specs.Meta{Address: "router_interface.admin"}, Router: rt.Addr(), Subnet: sub.Addr()}
	create(resources.RouterInterface{}, ri)

	sg := &specs.SecurityGroup{Meta: m(specs.KindSecurityGroup, "lab"), Description: "lab"}
	create(resources.SecurityGroup{}, sg)
	egress := &specs.SecurityGroupRule{Meta: specs.Meta{Address: "security_group_rule.lab.egress"}, Group: sg.Addr(),
		Direction: "egress", EtherType: "IPv4", RemoteIP: "0.0.0.0/0"}
	ssh := &specs.SecurityGroupRule{Meta: specs.Meta{Address: "security_group_rule.lab.ssh"}, Group: sg.Addr(),
		Direction: "ingress", EtherType: "IPv4", Protocol: "tcp", PortMin: 22, PortMax: 22, RemoteIP: "10.0.0.0/8"}
	// The egress rule is Neutron's default one, adopted on create.
	create(resources.SecurityGroupRule{}, egress)
	create(resources.SecurityGroupRule{}, ssh, egress)

	var ports []*specs.Port
	var others []specs.Resource
	for i, n := range []string{"master", "slave"} {
		p := &specs.Port{Meta: m(specs.KindPort, n+".admin"), Network: net.Addr(), Subnet: sub.Addr(), NetworkName: "admin",
			SecurityGroups: []specs.Address{sg.Addr()}, AllowedAddressPairs: []specs.AddressPair{{IP: "10.77.0.250"}}}
		if i == 0 {
			p.FixedIP, p.MAC = "10.77.0.10", "fa:16:3e:77:00:10"
		}
		create(resources.Port{}, p, others...)
		ports, others = append(ports, p), append(others, p)
	}
	open := *ports[1]
	open.PortSecurity, open.SecurityGroups, open.AllowedAddressPairs = ptr(false), nil, nil
	update(resources.Port{}, &open, resourcestest.Find(read[specs.KindPort], open.Addr()), "port_security", "security_groups", "allowed_address_pairs")

	fip := &specs.FloatingIP{Meta: specs.Meta{Address: "floating_ip.master"}, Port: ports[0].Addr(), ExternalNetwork: ext.Addr()}
	fo := create(resources.FloatingIP{}, fip)
	fip.Port = ports[1].Addr()
	update(resources.FloatingIP{}, fip, fo, "port")
}

// connectNeutron connects to the cloud's Neutron alone (resources.Connect
// wants Nova and Glance too, which a Neutron-only test cloud lacks).
func connectNeutron(t *testing.T, name string) *resources.Cloud {
	t.Helper()
	ctx := context.Background()
	ao, eo, _, err := clouds.Parse(clouds.WithCloudName(name))
	if err != nil {
		t.Fatal(err)
	}
	pc, err := openstack.AuthenticatedClient(ctx, ao)
	if err != nil {
		t.Fatal(err)
	}
	c := &resources.Cloud{Extensions: map[string]bool{}}
	if res, ok := pc.GetAuthResult().(tokens.CreateResult); ok {
		if p, err := res.ExtractProject(); err == nil && p != nil {
			c.ProjectID = p.ID
		}
	}
	if c.Network, err = openstack.NewNetworkV2(pc, eo); err != nil {
		t.Fatal(err)
	}
	pages, err := extensions.List(c.Network).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	exts, err := extensions.ExtractExtensions(pages)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range exts {
		c.Extensions[e.Alias] = true
	}
	t.Logf("project %s; tag-creation %v, net-mtu-writable %v, %d extensions",
		c.ProjectID, c.HasExtension("tag-creation"), c.HasExtension("net-mtu-writable"), len(exts))
	return c
}
