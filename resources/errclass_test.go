package resources_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/resources/resourcestest"
	"github.com/fuelplan/fuelplan/simcloud"
)

// TestErrorClasses: every request through a connected cloud fails with
// its class, decided from what the API answered (the bodies are the
// simulated services' copies of real Neutron's: NetworkInUse, OverQuota,
// IpAddressAlreadyAllocated, and a 503 from the proxy in front).
func TestErrorClasses(t *testing.T) {
	w := simcloud.DefaultWorld()
	w.Quotas = map[string]int{"network": 3}
	sim, err := simcloud.Start(simcloud.Config{World: w})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	c := resourcestest.Connect(t, sim, sim.Admin())
	ctx := context.Background()

	net, err := networks.Create(ctx, c.Network, networks.CreateOpts{Name: "errclass-net"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	sub, err := subnets.Create(ctx, c.Network, subnets.CreateOpts{NetworkID: net.ID, CIDR: "10.9.0.0/24", IPVersion: 4}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	ip := []ports.IP{{SubnetID: sub.ID, IPAddress: "10.9.0.10"}}
	if _, err := ports.Create(ctx, c.Network, ports.CreateOpts{NetworkID: net.ID, FixedIPs: ip}).Extract(); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		call   func() error
		want   error
		class  resources.ErrorClass
		status int
	}{
		{"missing network", func() error {
			_, err := networks.Get(ctx, c.Network, "0b0e1b2c-0000-4000-8000-000000000000").Extract()
			return err
		}, resources.ErrNotFound, resources.ClassNotFound, 404},
		{"network with a port", func() error {
			return networks.Delete(ctx, c.Network, net.ID).ExtractErr()
		}, resources.ErrInUse, resources.ClassInUse, 409},
		{"address taken", func() error {
			_, err := ports.Create(ctx, c.Network, ports.CreateOpts{NetworkID: net.ID, FixedIPs: ip}).Extract()
			return err
		}, resources.ErrPermanent, resources.ClassPermanent, 409},
		{"quota", func() error {
			for range 3 {
				if _, err := networks.Create(ctx, c.Network, networks.CreateOpts{Name: "errclass-more"}).Extract(); err != nil {
					return err
				}
			}
			return nil
		}, resources.ErrQuota, resources.ClassQuota, 409},
		{"bad request", func() error {
			_, err := subnets.Create(ctx, c.Network, subnets.CreateOpts{NetworkID: net.ID, CIDR: "not-a-cidr", IPVersion: 4}).Extract()
			return err
		}, resources.ErrPermanent, resources.ClassPermanent, 400},
		{"server error", func() error {
			sim.InjectFaults(simcloud.Fault{Method: "GET", Path: "/network/v2.0/networks", Status: 503, Max: 1})
			defer sim.ClearFaults()
			_, err := networks.List(c.Network, nil).AllPages(ctx)
			return err
		}, resources.ErrTransient, resources.ClassTransient, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v: want errors.Is %v", err, tt.want)
			}
			var ae *resources.APIError
			if !errors.As(err, &ae) || ae.Class != tt.class || ae.Status != tt.status {
				t.Fatalf("error %v: want an APIError of class %v, status %d; got %+v", err, tt.class, tt.status, ae)
			}
		})
	}
}
