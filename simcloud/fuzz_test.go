package simcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// The fuzz targets of the simulated cloud's outside input: the state file,
// the world file and the JSON bodies its services accept. Regression
// inputs live in testdata/fuzz/<target>/.

// fuzzServices builds the default world's services without a listener.
func fuzzServices(t testing.TB) (*Cloud, *simcore.Identity) {
	t.Helper()
	w := DefaultWorld()
	c := &Cloud{world: w, knobs: simcore.NewKnobs(), URL: "http://127.0.0.1:1"}
	c.keystone, c.fuel, c.mounts = newServices(w, c.knobs, c.URL)
	var admin *simcore.Identity
	for _, u := range w.Users {
		if u.isAdmin() {
			admin = &simcore.Identity{UserID: u.ID, UserName: u.Name, ProjectID: w.projectID(u.Project),
				ProjectName: u.Project, Roles: u.Roles, Admin: true}
			break
		}
	}
	return c, admin
}

// savedState is a state file of a cloud holding one of every object kind
// the fuzz bodies create, the seed for FuzzStateFile.
func savedState(t testing.TB) []byte {
	c, admin := fuzzServices(t)
	r := fillIDs(t, c, admin, "{server}")
	for _, e := range fuzzEndpoints {
		e.path = r.Replace(e.path)
		if code, out := serve(c, admin, e, []byte(r.Replace(e.seed))); code >= 500 {
			t.Fatalf("seed %s %s: %d %s", e.method, e.path, code, out)
		}
	}
	dir := t.TempDir()
	c.stateFile = filepath.Join(dir, "state.json")
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(c.stateFile)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// FuzzStateFile loads arbitrary bytes as a state file. A file that loads
// must be served without a 5xx from any list, and snapshot again; one
// that does not must be refused with an error naming the file.
func FuzzStateFile(f *testing.F) {
	f.Add(savedState(f))
	f.Add([]byte(`{"format": "fuelplan-simcloud/1", "services": {}}`))
	f.Add([]byte(`{"format": "fuelplan-simcloud/1", "services": {"network": {"ports": {"x": null}}}}`))
	c, admin := fuzzServices(f)
	c.stateFile = "state.json"
	fresh := snapshots(f, c)
	f.Fuzz(func(t *testing.T, data []byte) {
		restoreAll(t, c, fresh)
		if err := c.restore(data); err != nil {
			if !strings.Contains(err.Error(), c.stateFile) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, path := range []string{"/network/v2.0/networks", "/network/v2.0/subnets", "/network/v2.0/ports",
			"/network/v2.0/routers", "/network/v2.0/security-groups", "/network/v2.0/security-group-rules",
			"/network/v2.0/floatingips", "/compute/v2.1/servers/detail", "/compute/v2.1/flavors/detail",
			"/compute/v2.1/os-keypairs", "/image/v2/images", "/volume/v3/volumes/detail"} {
			if code, body := serve(c, admin, fuzzEndpoint{method: http.MethodGet, path: path}, nil); code >= 500 {
				t.Fatalf("GET %s: %d %s", path, code, body)
			}
		}
		// What Save writes (Save itself adds an fsync per execution).
		for _, m := range c.mounts {
			if _, err := m.svc.Snapshot(); err != nil {
				t.Fatalf("a state that loads does not save: %s: %v", m.name, err)
			}
		}
	})
}

// FuzzWorld parses arbitrary bytes as a world file. A world that parses
// must make services that start; errors name the file and never hold a
// password from it.
func FuzzWorld(f *testing.F) {
	f.Add(defaultWorld)
	f.Add([]byte("users: [{name: u, password: hunter2-pw, project: p, roles: [admin]}]\nprojects: [{name: p}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := parseWorld("world.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "world.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			// An anchor's name is the subject of its own error; a
			// password value never is.
			if strings.Contains(err.Error(), "hunter2-pw") && !bytes.Contains(data, []byte("*hunter2")) && !bytes.Contains(data, []byte("&hunter2")) {
				t.Fatalf("error quotes a password: %v", err)
			}
			return
		}
		c := &Cloud{world: w, knobs: simcore.NewKnobs()}
		c.keystone, c.fuel, c.mounts = newServices(w, c.knobs, "http://127.0.0.1:1")
		_ = c.CloudsYAML("x", c.Admin())
	})
}

// fuzzEndpoint is one request a service accepts a JSON body on. {net} and
// {server} stand for a network and a server created before the request.
type fuzzEndpoint struct {
	method, path, contentType string
	seed                      string // a body the service accepts
}

var fuzzEndpoints = []fuzzEndpoint{
	{method: "POST", path: "/network/v2.0/networks", seed: `{"network": {"name": "n", "mtu": 1400, "port_security_enabled": false}}`},
	{method: "POST", path: "/network/v2.0/subnets", seed: `{"subnet": {"network_id": "{net}", "cidr": "10.20.0.0/24", "ip_version": 4, "gateway_ip": "10.20.0.1", "allocation_pools": [{"start": "10.20.0.10", "end": "10.20.0.20"}], "host_routes": [{"destination": "10.0.0.0/8", "nexthop": "10.20.0.1"}]}}`},
	{method: "POST", path: "/network/v2.0/ports", seed: `{"port": {"network_id": "{net}", "name": "p", "mac_address": "aa:bb:cc:dd:ee:ff", "allowed_address_pairs": [{"ip_address": "10.0.0.0/8"}]}}`},
	{method: "POST", path: "/network/v2.0/routers", seed: `{"router": {"name": "r", "external_gateway_info": {"network_id": "5e1c7a3e-9d0b-4c8e-9a51-0d4f6b2e8c71"}}}`},
	{method: "POST", path: "/network/v2.0/security-groups", seed: `{"security_group": {"name": "g", "description": "d"}}`},
	{method: "POST", path: "/network/v2.0/security-group-rules", seed: `{"security_group_rule": {"security_group_id": "{sg}", "direction": "ingress", "protocol": "tcp", "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0"}}`},
	{method: "POST", path: "/network/v2.0/floatingips", seed: `{"floatingip": {"floating_network_id": "5e1c7a3e-9d0b-4c8e-9a51-0d4f6b2e8c71"}}`},
	{method: "PUT", path: "/network/v2.0/networks/{net}", seed: `{"network": {"name": "m", "mtu": 1300, "description": "x"}}`},
	{method: "PUT", path: "/network/v2.0/routers/{router}/add_router_interface", seed: `{"subnet_id": "{subnet}"}`},
	{method: "PUT", path: "/network/v2.0/networks/{net}/tags", seed: `{"tags": ["a", "b"]}`},
	{method: "POST", path: "/compute/v2.1/os-keypairs", seed: `{"keypair": {"name": "k", "public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3cX0pEDMzJcZ0Fq7c9u0wqkBq9l5y3wS0r2M2kJp8x k"}}`},
	{method: "POST", path: "/compute/v2.1/flavors", seed: `{"flavor": {"name": "f", "ram": 512, "vcpus": 1, "disk": 1}}`},
	{method: "POST", path: "/compute/v2.1/servers", seed: `{"server": {"name": "s", "flavorRef": "2", "imageRef": "3b7c1f2e-8a4d-4e6b-9c0a-1d2e3f4a5b6c", "networks": [{"port": "{port}"}], "metadata": {"a": "b"}, "tags": ["t"]}}`},
	{method: "POST", path: "/compute/v2.1/servers/{server}/action", seed: `{"os-getConsoleOutput": {"length": 10}}`},
	{method: "PUT", path: "/compute/v2.1/servers/{server}", seed: `{"server": {"name": "s2", "description": "d"}}`},
	{method: "POST", path: "/image/v2/images", seed: `{"name": "i", "disk_format": "qcow2", "container_format": "bare", "tags": ["x"]}`},
	{method: "PATCH", path: "/image/v2/images/3b7c1f2e-8a4d-4e6b-9c0a-1d2e3f4a5b6c", contentType: "application/openstack-images-v2.1-json-patch", seed: `[{"op": "add", "path": "/description", "value": "d"}]`},
	{method: "POST", path: "/volume/v3/volumes", seed: `{"volume": {"name": "v", "size": 1}}`},
	{method: "POST", path: "/identity/v3/auth/tokens", seed: `{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"name": "Default"}, "password": "admin"}}}, "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}`},
}

// serve runs one request through a mount's service with the admin's
// identity, as the core would after authenticating it. No recover: a
// panic is a finding.
func serve(c *Cloud, admin *simcore.Identity, e fuzzEndpoint, body []byte) (int, string) {
	m, rest := c.route(e.path)
	req := httptest.NewRequest(e.method, "http://127.0.0.1:1"+rest, bytes.NewReader(body))
	ct := e.contentType
	if ct == "" {
		ct = "application/json"
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("X-OpenStack-Nova-API-Version", "2.61")
	req = req.WithContext(simcore.WithIdentity(context.Background(), admin))
	rec := httptest.NewRecorder()
	m.svc.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// fillIDs returns a replacer of {net}, {subnet}, {sg}, {router} and
// {server} by the IDs of objects it creates for the request in s.
func fillIDs(t testing.TB, c *Cloud, admin *simcore.Identity, s string) *strings.Replacer {
	ids := map[string]string{}
	create := func(key, path, body, field string) {
		code, out := serve(c, admin, fuzzEndpoint{method: "POST", path: path}, []byte(strings.NewReplacer("{net}", ids["net"], "{port}", ids["port"]).Replace(body)))
		if code >= 300 {
			t.Fatalf("setup %s: %d %s", path, code, out)
		}
		var m map[string]map[string]any
		_ = json.Unmarshal([]byte(out), &m)
		ids[key], _ = m[field]["id"].(string)
	}
	if strings.Contains(s, "{") {
		create("net", "/network/v2.0/networks", `{"network": {"name": "n"}}`, "network")
		create("subnet", "/network/v2.0/subnets", `{"subnet": {"network_id": "{net}", "cidr": "10.30.0.0/24", "ip_version": 4}}`, "subnet")
		create("sg", "/network/v2.0/security-groups", `{"security_group": {"name": "g"}}`, "security_group")
		create("router", "/network/v2.0/routers", `{"router": {"name": "r"}}`, "router")
		create("port", "/network/v2.0/ports", `{"port": {"network_id": "{net}"}}`, "port")
		if strings.Contains(s, "{server}") {
			create("server", "/compute/v2.1/servers", `{"server": {"name": "s", "flavorRef": "1", "imageRef": "3b7c1f2e-8a4d-4e6b-9c0a-1d2e3f4a5b6c", "networks": [{"port": "{port}"}]}}`, "server")
		}
	}
	return strings.NewReplacer("{net}", ids["net"], "{subnet}", ids["subnet"], "{sg}", ids["sg"], "{router}", ids["router"], "{server}", ids["server"], "{port}", ids["port"])
}

// FuzzServiceBodies sends arbitrary JSON bodies to the requests that take
// one. Every service answers: a 4xx for what it does not accept (as a real
// API does), never a panic or a 5xx.
func FuzzServiceBodies(f *testing.F) {
	for i, e := range fuzzEndpoints {
		f.Add(uint8(i), []byte(e.seed))
	}
	// One cloud, set back to the same objects before each execution:
	// building the services each time made 30 executions a second.
	c, admin := fuzzServices(f)
	r := fillIDs(f, c, admin, "{server}")
	setUp := snapshots(f, c)
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		e := fuzzEndpoints[int(which)%len(fuzzEndpoints)]
		restoreAll(t, c, setUp)
		e.path = r.Replace(e.path)
		code, out := serve(c, admin, e, []byte(r.Replace(string(body))))
		if code >= 500 {
			t.Fatalf("%s %s: %d %s", e.method, e.path, code, out)
		}
	})
}

// TestFuzzSeedsAccepted: every seed body is one the service accepts, so
// the fuzzer starts from the requests' real paths, not their first check.
func TestFuzzSeedsAccepted(t *testing.T) {
	for _, e := range fuzzEndpoints {
		c, admin := fuzzServices(t)
		r := fillIDs(t, c, admin, e.path+e.seed)
		e.path = r.Replace(e.path)
		if code, out := serve(c, admin, e, []byte(r.Replace(e.seed))); code >= 300 {
			t.Errorf("%s %s: %d %s", e.method, e.path, code, out)
		}
	}
}

// snapshots and restoreAll set a cloud's services back between fuzz
// executions.
func snapshots(t testing.TB, c *Cloud) []json.RawMessage {
	var out []json.RawMessage
	for _, m := range c.mounts {
		raw, err := m.svc.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, raw)
	}
	return out
}

func restoreAll(t testing.TB, c *Cloud, snaps []json.RawMessage) {
	for i, m := range c.mounts {
		if err := m.svc.Restore(snaps[i]); err != nil {
			t.Fatal(err)
		}
	}
}
