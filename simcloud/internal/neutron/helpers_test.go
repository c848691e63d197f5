package neutron

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// Test identities, chosen by token. The core does this with Keystone; here
// a tiny middleware stands in for it so the service is tested alone, but
// always through the real gophercloud client over HTTP.
var identities = map[string]*simcore.Identity{
	"admin":  {UserID: "u-admin", UserName: "admin", ProjectID: "p-admin", ProjectName: "admin", Roles: []string{"admin"}, Admin: true},
	"member": {UserID: "u-member", UserName: "demo", ProjectID: "p-demo", ProjectName: "demo", Roles: []string{"member"}},
	"other":  {UserID: "u-other", UserName: "other", ProjectID: "p-other", ProjectName: "other", Roles: []string{"member"}},
}

const (
	extNetID    = "0a1b2c3d-0000-4000-8000-000000000001"
	extSubnetID = "0a1b2c3d-0000-4000-8000-000000000002"
)

type testCloud struct {
	svc                  *Service
	srv                  *httptest.Server
	admin, member, other *gophercloud.ServiceClient
	knobs                *simcore.Knobs
}

// defaultConfig seeds net04_ext as on the Fuel host cloud.
func defaultConfig() Config {
	return Config{ExternalNetworks: []ExternalNetwork{{
		ID: extNetID, Name: "net04_ext", ProjectID: "p-admin", SubnetID: extSubnetID,
		CIDR: "172.16.0.0/24", Gateway: "172.16.0.1", PoolStart: "172.16.0.130", PoolEnd: "172.16.0.254",
	}}}
}

func newTestCloud(t testing.TB, cfg Config) *testCloud {
	t.Helper()
	if cfg.Knobs == nil {
		cfg.Knobs = simcore.NewKnobs()
	}
	svc := New(cfg)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := identities[r.Header.Get("X-Auth-Token")]
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		svc.ServeHTTP(w, r.WithContext(simcore.WithIdentity(r.Context(), id)))
	}))
	t.Cleanup(srv.Close)
	client := func(token string) *gophercloud.ServiceClient {
		return &gophercloud.ServiceClient{
			ProviderClient: &gophercloud.ProviderClient{TokenID: token},
			Endpoint:       srv.URL + "/v2.0/",
		}
	}
	return &testCloud{svc: svc, srv: srv, admin: client("admin"), member: client("member"), other: client("other"), knobs: cfg.Knobs}
}

// wantFault asserts err is an HTTP error with the status and, when typ is
// not empty, the NeutronError type real Neutron sends.
func wantFault(t *testing.T, err error, status int, typ string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %d %s, got success", status, typ)
	}
	var ue gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &ue) {
		t.Fatalf("want %d %s, got %v", status, typ, err)
	}
	if ue.Actual != status {
		t.Fatalf("want status %d, got %d: %s", status, ue.Actual, ue.Body)
	}
	if typ == "" {
		return
	}
	var body struct {
		NeutronError struct{ Type, Message string }
	}
	if err := json.Unmarshal(ue.Body, &body); err != nil {
		t.Fatalf("error body is not a NeutronError: %s", ue.Body)
	}
	if body.NeutronError.Type != typ || body.NeutronError.Message == "" {
		t.Fatalf("want NeutronError type %s, got %s", typ, ue.Body)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func ptr[T any](v T) *T { return &v }

func listNetworks(c *testCloud, sc *gophercloud.ServiceClient, opts networks.ListOptsBuilder) ([]networks.Network, error) {
	pages, err := networks.List(sc, opts).AllPages(context.Background())
	if err != nil {
		return nil, err
	}
	return networks.ExtractNetworks(pages)
}

func listPorts(c *testCloud, sc *gophercloud.ServiceClient, opts ports.ListOptsBuilder) ([]ports.Port, error) {
	pages, err := ports.List(sc, opts).AllPages(context.Background())
	if err != nil {
		return nil, err
	}
	return ports.ExtractPorts(pages)
}

func getSubnet(c *testCloud, id string) (*subnets.Subnet, error) {
	return subnets.Get(context.Background(), c.admin, id).Extract()
}

// memberNet creates a member network with one DHCP-enabled subnet.
func memberNet(t *testing.T, c *testCloud, cidr string) (*networks.Network, *subnets.Subnet) {
	t.Helper()
	ctx := context.Background()
	n := must[*networks.Network](t)(networks.Create(ctx, c.member, networks.CreateOpts{Name: "net-" + cidr}).Extract())
	sn := must[*subnets.Subnet](t)(subnets.Create(ctx, c.member, subnets.CreateOpts{
		NetworkID: n.ID, CIDR: cidr, IPVersion: gophercloud.IPv4, Name: "sub-" + cidr}).Extract())
	return n, sn
}
