package simcloud_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/portsecurity"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/fuelplan/fuelplan/simcloud"
)

// The simulated Fuel master, reached over real HTTP through DialLab: its
// API answers some time after its server is ACTIVE, and it lists a slave
// only once its DHCP can reach the master (a port on the master's network,
// the master's port with port security off) and discovery time has passed.
func TestSimulatedFuelMaster(t *testing.T) {
	w := simcloud.DefaultWorld()
	w.Images = append(w.Images, simcloud.Image{ID: "0b6f6f3c-6a47-4c61-9a0e-2b5e0f5c7d11", Name: "fuel-6.1-432",
		DiskFormat: "iso", ContainerFormat: "bare", Visibility: "public", Size: 1 << 20})
	w.Fuel = &simcloud.FuelTimes{BootTime: 10 * time.Minute, DiscoveryTime: 2 * time.Minute}
	sim, err := simcloud.Start(simcloud.Config{World: w})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	var mu sync.Mutex
	now := time.Now()
	sim.Knobs().SetNow(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	ctx := context.Background()
	cred := sim.Member()
	pc, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: cred.AuthURL,
		Username: cred.Username, Password: cred.Password, TenantName: cred.ProjectName, DomainName: cred.DomainName})
	if err != nil {
		t.Fatal(err)
	}
	nc, _ := openstack.NewNetworkV2(pc, gophercloud.EndpointOpts{})
	cc, _ := openstack.NewComputeV2(pc, gophercloud.EndpointOpts{})
	network := func(name, cidr string) string {
		n, err := networks.Create(ctx, nc, networks.CreateOpts{Name: name}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := subnets.Create(ctx, nc, subnets.CreateOpts{NetworkID: n.ID, CIDR: cidr, IPVersion: 4}).Extract(); err != nil {
			t.Fatal(err)
		}
		return n.ID
	}
	port := func(netID, mac string) *ports.Port {
		p, err := ports.Create(ctx, nc, ports.CreateOpts{NetworkID: netID, MACAddress: mac}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	boot := func(name, image string, ps ...*ports.Port) {
		var nics []servers.Network
		for _, p := range ps {
			nics = append(nics, servers.Network{Port: p.ID})
		}
		if _, err := servers.Create(ctx, cc, servers.CreateOpts{Name: name, FlavorRef: "2", ImageRef: image, Networks: nics}, nil).Extract(); err != nil {
			t.Fatal(err)
		}
	}
	admin, other := network("admin", "10.20.0.0/24"), network("other", "10.30.0.0/24")
	masterPort := port(admin, "aa:0a:14:00:02:01")
	boot("master", "0b6f6f3c-6a47-4c61-9a0e-2b5e0f5c7d11", masterPort)
	slave1 := port(admin, "aa:0a:14:00:03:01")
	slave1b := port(other, "aa:0a:14:00:03:02")
	boot("slave-01", "3b7c1f2e-8a4d-4e6b-9c0a-1d2e3f4a5b6c", slave1, slave1b) // cirros: not a Fuel image
	boot("slave-02", "3b7c1f2e-8a4d-4e6b-9c0a-1d2e3f4a5b6c", port(other, "aa:0a:14:00:04:01"))

	client := sim.LabHTTPClient()
	base := "http://" + masterPort.FixedIPs[0].IPAddress
	get := func(path, token string) (int, string, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+":8000"+path, nil)
		if token != "" {
			req.Header.Set("X-Auth-Token", token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), nil
	}
	if _, _, err := get("/api/version", ""); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("Fuel before it is up: %v, want connection refused", err)
	}
	// An address outside the simulated cloud is this machine's.
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "local") }))
	t.Cleanup(local.Close)
	if resp, err := client.Get(local.URL); err != nil || resp.StatusCode != 200 {
		t.Fatalf("a local address through the lab client: %v", err)
	} else {
		resp.Body.Close()
	}
	advance(10 * time.Minute)
	if code, body, err := get("/api/version", ""); err != nil || code != 200 || !strings.Contains(body, `"release":"6.1"`) {
		t.Fatalf("/api/version: %d %s %v", code, body, err)
	}
	if code, _, err := get("/api/nodes", ""); err != nil || code != 401 {
		t.Fatalf("/api/nodes without a token: %d %v, want 401", code, err)
	}
	login := func(password string) (int, string) {
		body, _ := json.Marshal(map[string]any{"auth": map[string]any{"tenantName": "admin",
			"passwordCredentials": map[string]string{"username": "admin", "password": password}}})
		resp, err := client.Post(base+":5000/v2.0/tokens", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Access struct{ Token struct{ ID string } }
		}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out.Access.Token.ID
	}
	if code, _ := login("wrong"); code != 401 {
		t.Fatalf("login with a wrong password: %d, want 401", code)
	}
	_, token := login("admin")
	nodes := func() []string {
		code, body, err := get("/api/nodes", token)
		if err != nil || code != 200 {
			t.Fatalf("/api/nodes: %d %v", code, err)
		}
		var ns []struct {
			MAC    string `json:"mac"`
			Status string `json:"status"`
			Meta   struct {
				Interfaces []struct{ MAC string } `json:"interfaces"`
			} `json:"meta"`
		}
		if err := json.Unmarshal([]byte(body), &ns); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, n := range ns {
			var macs []string
			for _, i := range n.Meta.Interfaces {
				macs = append(macs, i.MAC)
			}
			out = append(out, n.MAC+" "+n.Status+" "+strings.Join(macs, ","))
		}
		return out
	}
	advance(5 * time.Minute)
	if got := nodes(); len(got) != 0 {
		t.Fatalf("nodes with the master's port security on: %v, want none (its DHCP replies are dropped)", got)
	}
	off := false
	if _, err := ports.Update(ctx, nc, masterPort.ID, portsecurity.PortUpdateOptsExt{
		UpdateOptsBuilder: ports.UpdateOpts{SecurityGroups: &[]string{}}, PortSecurityEnabled: &off}).Extract(); err != nil {
		t.Fatal(err)
	}
	// slave-01 PXE-boots on its admin NIC; slave-02 has no port on the
	// master's network: its DHCP never reaches the master.
	want := "aa:0a:14:00:03:01 discover aa:0a:14:00:03:01,aa:0a:14:00:03:02"
	if got := nodes(); len(got) != 1 || got[0] != want {
		t.Fatalf("nodes: %q, want [%q]", got, want)
	}
}
