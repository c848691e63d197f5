package nova

import (
	"context"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/attachinterfaces"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/availabilityzones"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/services"
)

func TestInterfacesAndIPs(t *testing.T) {
	c := newCloud(t, nil)
	ctx := context.Background()
	c.ports.add("p1", "p-member", "admin", "fa:16:3e:00:00:01", []string{"10.20.0.3"}, nil)
	c.ports.ports["p1"].view.NetworkID = "net-admin"
	c.ports.ports["p1"].view.SubnetIDs = []string{"sub-admin"}
	mem := c.client("member", "2.90")
	id := boot(t, mem, "fuel", "p1")

	p, err := servers.ListAddresses(mem, id).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := servers.ExtractAddresses(p)
	if err != nil || len(addrs["admin"]) != 1 || addrs["admin"][0].Address != "10.20.0.3" || addrs["admin"][0].Version != 4 {
		t.Errorf("ips: %+v %v", addrs, err)
	}
	p, err = attachinterfaces.List(mem, id).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ifs, err := attachinterfaces.ExtractInterfaces(p)
	if err != nil || len(ifs) != 1 {
		t.Fatalf("interfaces %+v %v", ifs, err)
	}
	if f := ifs[0]; f.PortID != "p1" || f.NetID != "net-admin" || f.MACAddr != "fa:16:3e:00:00:01" || f.PortState != "ACTIVE" ||
		len(f.FixedIPs) != 1 || f.FixedIPs[0].SubnetID != "sub-admin" || f.FixedIPs[0].IPAddress != "10.20.0.3" {
		t.Errorf("interface %+v", f)
	}
	if _, err := attachinterfaces.Get(ctx, mem, id, "p1").Extract(); err != nil {
		t.Errorf("get interface: %v", err)
	}
	if _, err := attachinterfaces.Get(ctx, mem, id, "p2").Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("get unattached interface: %v, want 404", err)
	}
}

func TestZonesAndServices(t *testing.T) {
	c := newCloud(t, nil)
	ctx := context.Background()
	mem, adm := c.client("member", "2.90"), c.client("admin", "2.90")
	p, err := availabilityzones.List(mem).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	zs, err := availabilityzones.ExtractAvailabilityZones(p)
	if err != nil || len(zs) != 1 || zs[0].ZoneName != "nova" || !zs[0].ZoneState.Available {
		t.Errorf("zones %+v %v", zs, err)
	}
	if _, err := availabilityzones.ListDetail(mem).AllPages(ctx); !gophercloud.ResponseCodeIs(err, 403) {
		t.Errorf("member zone detail: %v, want 403", err)
	}
	p, err = availabilityzones.ListDetail(adm).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if zs, _ := availabilityzones.ExtractAvailabilityZones(p); len(zs) != 1 || len(zs[0].Hosts) != 3 {
		t.Errorf("zone detail %+v", zs)
	}
	if _, err := services.List(mem, nil).AllPages(ctx); !gophercloud.ResponseCodeIs(err, 403) {
		t.Errorf("member services: %v, want 403", err)
	}
	p, err = services.List(adm, nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := services.ExtractServices(p)
	if err != nil || len(ss) != 3 || ss[0].Host != "node-1" || ss[0].Binary != "nova-compute" || ss[0].State != "up" {
		t.Errorf("services %+v %v", ss, err)
	}
}
