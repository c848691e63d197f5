package simcloud_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/fuelplan/fuelplan/simcloud"
)

// start runs a cloud for the test and closes it afterwards.
func start(t *testing.T, cfg simcloud.Config) *simcloud.Cloud {
	t.Helper()
	c, err := simcloud.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// login authenticates through Keystone with the real client, as fuelplan
// and any other user of the cloud would.
func login(t *testing.T, cred simcloud.Credentials) *gophercloud.ProviderClient {
	t.Helper()
	pc, err := openstack.AuthenticatedClient(context.Background(), authOptions(cred))
	if err != nil {
		t.Fatal(err)
	}
	return pc
}

func authOptions(cred simcloud.Credentials) gophercloud.AuthOptions {
	return gophercloud.AuthOptions{
		IdentityEndpoint: cred.AuthURL, Username: cred.Username, Password: cred.Password,
		TenantName: cred.ProjectName, DomainName: cred.DomainName,
	}
}

func imageClient(t *testing.T, pc *gophercloud.ProviderClient) *gophercloud.ServiceClient {
	t.Helper()
	sc, err := openstack.NewImageV2(pc, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func listImages(ctx context.Context, sc *gophercloud.ServiceClient) ([]images.Image, error) {
	pages, err := images.List(sc, images.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	return images.ExtractImages(pages)
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	c := start(t, simcloud.Config{})
	wrong := c.Member()
	wrong.Password = "not-the-password"
	noProject := c.Member()
	noProject.ProjectName = "admin"
	tests := []struct {
		name string
		cred simcloud.Credentials
		want int // 0: success
	}{
		{"admin", c.Admin(), 0},
		{"member", c.Member(), 0},
		{"wrong password", wrong, 401},
		{"project without a role", noProject, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := openstack.AuthenticatedClient(context.Background(), authOptions(tt.cred))
			switch {
			case tt.want == 0 && err != nil:
				t.Fatal(err)
			case tt.want != 0 && !gophercloud.ResponseCodeIs(err, tt.want):
				t.Fatalf("err = %v, want HTTP %d", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), tt.cred.Password) {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

// TestCatalog checks the endpoints gophercloud derives from the catalog:
// it appends v2.0/ to network and v2/ to image itself.
func TestCatalog(t *testing.T) {
	t.Parallel()
	c := start(t, simcloud.Config{})
	pc := login(t, c.Member())
	tests := []struct {
		name string
		new  func(*gophercloud.ProviderClient, gophercloud.EndpointOpts) (*gophercloud.ServiceClient, error)
		want string
	}{
		{"network", openstack.NewNetworkV2, c.URL + "/network/v2.0/"},
		{"compute", openstack.NewComputeV2, c.URL + "/compute/v2.1/"},
		{"image", openstack.NewImageV2, c.URL + "/image/v2/"},
		{"identity", openstack.NewIdentityV3, c.URL + "/identity/v3/"},
	}
	for _, tt := range tests {
		sc, err := tt.new(pc, gophercloud.EndpointOpts{Region: "RegionOne"})
		if err != nil || sc.ResourceBaseURL() != tt.want {
			t.Errorf("%s: resource base %q, %v; want %q", tt.name, sc.ResourceBaseURL(), err, tt.want)
		}
	}
	if !strings.HasSuffix(c.AuthURL, "/identity/v3") || !strings.HasPrefix(c.AuthURL, "http://127.0.0.1:") {
		t.Errorf("AuthURL = %q", c.AuthURL)
	}
}

// TestTokenRequired: services refuse requests without a valid project
// token with Keystone's 401 body; version discovery needs none.
func TestTokenRequired(t *testing.T) {
	t.Parallel()
	c := start(t, simcloud.Config{})
	tests := []struct {
		path, token string
		want        int
	}{
		{"/image/v2/images", "", 401},
		{"/image/v2/images", "gAAAAAforged", 401},
		{"/network/v2.0/networks", "", 401},
		{"/compute/v2.1/servers", "", 401},
		{"/network/", "", 200},
		{"/compute/", "", 200},
		{"/image/", "", 300},
		{"/identity/", "", 300},
		{"/nowhere", "", 404},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("GET", c.URL+tt.path, nil)
		req.Header.Set("Accept", "application/json")
		if tt.token != "" {
			req.Header.Set("X-Auth-Token", tt.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("GET %s: %d, want %d", tt.path, resp.StatusCode, tt.want)
		}
		if tt.want == 401 && body["error"]["title"] != "Unauthorized" {
			t.Errorf("GET %s: 401 body %v, want Keystone's", tt.path, body)
		}
	}
	// A valid token works.
	if _, err := listImages(context.Background(), imageClient(t, login(t, c.Member()))); err != nil {
		t.Fatal(err)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	c := start(t, simcloud.Config{Latency: 150 * time.Millisecond})
	sc := imageClient(t, login(t, c.Member()))
	ctx := context.Background()
	timed := func() time.Duration {
		begin := time.Now()
		if _, err := listImages(ctx, sc); err != nil {
			t.Fatal(err)
		}
		return time.Since(begin)
	}
	if d := timed(); d < 150*time.Millisecond {
		t.Errorf("with 150ms latency a request took %v", d)
	}
	c.SetLatency(0)
	if d := timed(); d >= 150*time.Millisecond {
		t.Errorf("without latency a request took %v", d)
	}
}

func TestRequestCounter(t *testing.T) {
	t.Parallel()
	c := start(t, simcloud.Config{})
	sc := imageClient(t, login(t, c.Member()))
	ctx := context.Background()
	c.ResetRequests()
	all, err := listImages(ctx, sc)
	if err != nil || len(all) < 2 {
		t.Fatalf("images %v, %v", all, err)
	}
	for _, im := range all {
		if _, err := images.Get(ctx, sc, im.ID).Extract(); err != nil {
			t.Fatal(err)
		}
	}
	got := c.Requests()
	want := map[string]int{"GET /image/v2/images": 1, "GET /image/v2/images/{id}": len(all)}
	if len(got) != len(want) {
		t.Errorf("Requests() = %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("Requests()[%q] = %d, want %d (all: %v)", k, got[k], n, got)
		}
	}
	c.ResetRequests()
	if got := c.Requests(); len(got) != 0 {
		t.Errorf("after ResetRequests: %v", got)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		fault    simcloud.Fault
		requests int
		wantFail int
		wantBody string
	}{
		{"503 twice", simcloud.Fault{Method: "GET", Path: "/image/v2/images", Status: 503, Max: 2}, 5, 2, `"code":"503 Service Unavailable"`},
		{"500 always", simcloud.Fault{Path: "/image/", Status: 500}, 3, 3, `"title":"Internal Server Error"`},
		{"409", simcloud.Fault{Path: "/image/v2", Status: 409, Max: 1}, 2, 1, `"title":"Conflict"`},
		{"429", simcloud.Fault{Path: "/image/v2", Status: 429, Max: 1}, 1, 1, "Too Many Requests"},
		{"other method", simcloud.Fault{Method: "DELETE", Path: "/image/", Status: 500}, 3, 0, ""},
		{"other path", simcloud.Fault{Path: "/network/", Status: 500}, 3, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := start(t, simcloud.Config{})
			sc := imageClient(t, login(t, c.Member()))
			c.InjectFaults(tt.fault)
			failed := 0
			for range tt.requests {
				_, err := listImages(context.Background(), sc)
				if err == nil {
					continue
				}
				failed++
				var e gophercloud.ErrUnexpectedResponseCode
				if !errors.As(err, &e) || e.Actual != tt.fault.Status {
					t.Fatalf("err = %v, want HTTP %d", err, tt.fault.Status)
				}
				if !strings.Contains(string(e.Body), tt.wantBody) {
					t.Errorf("body %s does not contain %s", e.Body, tt.wantBody)
				}
			}
			if failed != tt.wantFail {
				t.Errorf("%d of %d requests failed, want %d", failed, tt.requests, tt.wantFail)
			}
			c.ClearFaults()
			if _, err := listImages(context.Background(), sc); err != nil {
				t.Errorf("after ClearFaults: %v", err)
			}
		})
	}
}

// TestFaultRate: a rate fails about that share of requests, and the same
// seed fails the same ones.
func TestFaultRate(t *testing.T) {
	t.Parallel()
	c := start(t, simcloud.Config{})
	sc := imageClient(t, login(t, c.Member()))
	pattern := func() string {
		c.ClearFaults()
		c.InjectFaults(simcloud.Fault{Path: "/image/v2/images", Status: 503, Rate: 0.3, Seed: 42})
		var b strings.Builder
		for range 60 {
			if _, err := listImages(context.Background(), sc); err != nil {
				b.WriteByte('x')
			} else {
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	first, second := pattern(), pattern()
	if first != second {
		t.Errorf("same seed, different failures:\n%s\n%s", first, second)
	}
	if n := strings.Count(first, "x"); n < 6 || n > 30 {
		t.Errorf("rate 0.3 failed %d of 60: %s", n, first)
	}
}

// TestTimeoutFault: a held request ends when the client gives up.
func TestTimeoutFault(t *testing.T) {
	t.Parallel()
	c := start(t, simcloud.Config{})
	sc := imageClient(t, login(t, c.Member()))
	c.InjectFaults(simcloud.Fault{Path: "/image/v2/images", Status: 0, Max: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	begin := time.Now()
	_, err := listImages(ctx, sc)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the client's deadline", err)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("client gave up after %v", d)
	}
	if _, err := listImages(context.Background(), sc); err != nil {
		t.Errorf("after the one held request: %v", err)
	}
}

// TestStateSurvivesRestart: what each service holds is in the state file
// after every change, and a new cloud on that file carries on with it.
func TestStateSurvivesRestart(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "sub", "sim-state.json")
	ctx := context.Background()

	c, err := simcloud.Start(simcloud.Config{StateFile: state})
	if err != nil {
		t.Fatal(err)
	}
	demo := clientsFor(t, c.Member())
	img, err := images.Create(ctx, imageClient(t, login(t, c.Member())), images.CreateOpts{Name: "keep-me", DiskFormat: "qcow2", ContainerFormat: "bare"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	portID := newPort(t, demo, "kept")
	srv, err := servers.Create(ctx, demo.compute, servers.CreateOpts{
		Name: "kept", FlavorRef: "2", ImageRef: simcloud.DefaultWorld().Images[0].ID, Networks: []servers.Network{{Port: portID}},
	}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	// Saved after each mutating request, before any Close: a crash loses
	// nothing.
	if data, err := os.ReadFile(state); err != nil || !strings.Contains(string(data), srv.ID) {
		t.Fatalf("state file after a create: %v (server in it: %v)", err, strings.Contains(string(data), srv.ID))
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	c2 := start(t, simcloud.Config{StateFile: state})
	demo2 := clientsFor(t, c2.Member())
	if got, err := images.Get(ctx, imageClient(t, login(t, c2.Member())), img.ID).Extract(); err != nil || got.Name != "keep-me" {
		t.Errorf("image after restart: %+v, %v", got, err)
	}
	if got, err := servers.Get(ctx, demo2.compute, srv.ID).Extract(); err != nil || got.Name != "kept" {
		t.Errorf("server after restart: %+v, %v", got, err)
	}
	if p := getPort(t, demo2, portID); p.DeviceID != srv.ID {
		t.Errorf("port after restart: %+v, want bound to %s", p, srv.ID)
	}
	entries, _ := os.ReadDir(filepath.Dir(state))
	if len(entries) != 2 || entries[0].Name() != "sim-state.json" || entries[1].Name() != "sim-state.json.lock" {
		t.Errorf("state folder holds %v, want only the state file and its lock", entries)
	}
}

func TestCorruptStateFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct{ name, content, want string }{
		{"garbage", "{not json", "corrupt"},
		{"truncated", `{"format": "fuelplan-simcloud/1", "services": {`, "corrupt"},
		{"other format", `{"format": "something-else/9", "services": {}}`, "format"},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.name+".json")
		if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := simcloud.Start(simcloud.Config{StateFile: path})
		if err == nil {
			c.Close()
			t.Errorf("%s: Start succeeded", tt.name)
			continue
		}
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q should name %s and say %q", tt.name, err, path, tt.want)
		}
	}
}

func TestListenLoopbackOnly(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"0.0.0.0:0", ":0", "example.com:80"} {
		if c, err := simcloud.Start(simcloud.Config{Listen: addr}); err == nil {
			c.Close()
			t.Errorf("Listen %q accepted", addr)
		}
	}
}

// TestCloudsYAML: the clouds.yaml entry works with gophercloud's own
// clouds.yaml reader.
func TestCloudsYAML(t *testing.T) {
	t.Parallel()
	c := start(t, simcloud.Config{})
	for _, tt := range []struct {
		name string
		cred simcloud.Credentials
	}{{"sim", c.Admin()}, {"sim-demo", c.Member()}} {
		ao, eo, _, err := clouds.Parse(clouds.WithCloudsYAML(strings.NewReader(c.CloudsYAML(tt.name, tt.cred))),
			clouds.WithCloudName(tt.name))
		if err != nil {
			t.Fatal(err)
		}
		pc, err := openstack.AuthenticatedClient(context.Background(), ao)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if _, err := openstack.NewNetworkV2(pc, eo); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func asResponse(err error, e *gophercloud.ErrUnexpectedResponseCode) bool { return errors.As(err, e) }

func trim(b []byte) []byte { return []byte(strings.TrimSpace(string(b))) }
