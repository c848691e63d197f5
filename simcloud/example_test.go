package simcloud_test

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/fuelplan/fuelplan/simcloud"
)

// Start a cloud, authenticate as its member user with the real client,
// and list the networks the member sees: the world's external network.
func ExampleStart() {
	cloud, err := simcloud.Start(simcloud.Config{})
	if err != nil {
		panic(err)
	}
	defer cloud.Close()

	cred := cloud.Member()
	pc, err := openstack.AuthenticatedClient(context.Background(), gophercloud.AuthOptions{
		IdentityEndpoint: cred.AuthURL, Username: cred.Username, Password: cred.Password,
		TenantName: cred.ProjectName, DomainName: cred.DomainName,
	})
	if err != nil {
		panic(err)
	}
	nc, err := openstack.NewNetworkV2(pc, gophercloud.EndpointOpts{})
	if err != nil {
		panic(err)
	}
	pages, err := networks.List(nc, networks.ListOpts{}).AllPages(context.Background())
	if err != nil {
		panic(err)
	}
	all, _ := networks.ExtractNetworks(pages)
	for _, n := range all {
		fmt.Println(n.Name, n.Status)
	}
	fmt.Println(cloud.Requests()["GET /network/v2.0/networks"])
	// Output:
	// net04_ext ACTIVE
	// 1
}
