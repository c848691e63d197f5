package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/fuelplan/fuelplan/simcloud"
)

// syncBuffer is a bytes.Buffer the command writes while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestSimServe runs `fuelplan sim serve` in-process, uses the clouds.yaml
// it prints with gophercloud's clouds.yaml reader, changes something,
// interrupts it, and finds the change in the state file.
func TestSimServe(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "state.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errw syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"sim", "serve", "--state", state}, strings.NewReader(""), &out, &errw)
	}()

	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(errw.String(), "serving") {
		if time.Now().After(deadline) {
			t.Fatalf("not serving after 10s; stderr: %s", errw.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	yaml := out.String()
	for _, name := range []string{"fuelplan-sim", "fuelplan-sim-demo"} {
		ao, eo, _, err := clouds.Parse(clouds.WithCloudsYAML(strings.NewReader(yaml)), clouds.WithCloudName(name))
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, yaml)
		}
		pc, err := openstack.AuthenticatedClient(ctx, ao)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sc, err := openstack.NewImageV2(pc, eo)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := images.Create(ctx, sc, images.CreateOpts{Name: "from-" + name}).Extract(); err != nil {
			t.Fatal(err)
		}
	}

	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Fatalf("exit %d; stderr: %s", code, errw.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sim serve did not stop after the interrupt")
	}
	data, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"from-fuelplan-sim", "from-fuelplan-sim-demo"} {
		if !bytes.Contains(data, []byte(name)) {
			t.Errorf("state file lacks image %s", name)
		}
	}
}

func TestSimServeErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	badWorld := filepath.Join(dir, "world.yaml")
	if err := os.WriteFile(badWorld, []byte("projects: [{name: admin}]\nflavours: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	corrupt := filepath.Join(dir, "state.json")
	if err := os.WriteFile(corrupt, []byte("{nope"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad world", []string{"--sim-world", badWorld}, badWorld + ":2: field flavours not found"},
		{"missing world", []string{"--sim-world", filepath.Join(dir, "nope.yaml")}, "no such file"},
		{"corrupt state", []string{"--state", corrupt}, corrupt + " is corrupt"},
		{"not loopback", []string{"--listen", "0.0.0.0:0"}, "only loopback addresses"},
		{"stray argument", []string{"extra"}, "unknown command"},
		{"negative latency", []string{"--latency", "-1s"}, "--latency: -1s is negative"},
		{"negative build time", []string{"--build-time", "-5s"}, "--build-time: -5s is negative"},
		{"fault rate above 1", []string{"--fault-rate", "1.5"}, "--fault-rate: 1.5 is not between 0 and 1"},
		{"fault status not an error", []string{"--fault-rate", "0.1", "--fault-status", "200"}, "--fault-status: 200 is not an HTTP error status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errw bytes.Buffer
			code := Run(context.Background(), append([]string{"sim", "serve"}, tt.args...), strings.NewReader(""), &out, &errw)
			if code != ExitError || !strings.Contains(errw.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errw.String(), tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("stdout %q, want nothing", out.String())
			}
		})
	}
}

// "sim" names the in-process cloud; a clouds.yaml entry with that name (as
// `sim serve` used to print) makes --cloud sim ambiguous: refused, naming
// the file, instead of silently applying to the in-process cloud.
func TestSimNameAmbiguous(t *testing.T) {
	dir := t.TempDir()
	cloudsFile := filepath.Join(dir, "clouds.yaml")
	if err := os.WriteFile(cloudsFile, []byte("clouds:\n  sim:\n    auth:\n      auth_url: http://127.0.0.1:1/identity/v3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OS_CLIENT_CONFIG_FILE", cloudsFile)
	t.Setenv("OS_CLOUD", "")
	minimal, err := os.ReadFile("../../examples/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(dir, "lab.yaml")
	if err := os.WriteFile(spec, minimal, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"plan", spec, "--cloud", "sim"}, {"plan", spec}} {
		if len(args) == 2 {
			t.Setenv("OS_CLOUD", "sim")
		}
		var out, errw bytes.Buffer
		code := Run(context.Background(), args, strings.NewReader(""), &out, &errw)
		if code != ExitError || !strings.Contains(errw.String(), "ambiguous") || !strings.Contains(errw.String(), cloudsFile) {
			t.Errorf("%v: exit %d, stderr %q; want a refusal naming %s", args, code, errw.String(), cloudsFile)
		}
		if _, err := os.Stat(filepath.Join(dir, ".fuelplan", "sim-state.json")); err == nil {
			t.Errorf("%v: the in-process cloud was started", args)
		}
	}
}

// serveSim runs `fuelplan sim serve ARGS` in-process until the test ends
// and returns the clouds.yaml it printed.
func serveSim(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errw syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, append([]string{"sim", "serve"}, args...), strings.NewReader(""), &out, &errw)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("sim serve did not stop after the interrupt")
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(errw.String(), "serving") {
		if time.Now().After(deadline) {
			t.Fatalf("not serving after 10s; stderr: %s", errw.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return out.String()
}

// simClient authenticates as the clouds.yaml's demo cloud (Keystone is
// never failed by --fault-rate).
func simClient(t *testing.T, yaml string) (*gophercloud.ProviderClient, gophercloud.EndpointOpts) {
	t.Helper()
	ao, eo, _, err := clouds.Parse(clouds.WithCloudsYAML(strings.NewReader(yaml)), clouds.WithCloudName(servedCloudName+"-demo"))
	if err != nil {
		t.Fatal(err)
	}
	pc, err := openstack.AuthenticatedClient(context.Background(), ao)
	if err != nil {
		t.Fatal(err)
	}
	return pc, eo
}

// TestSimServeLatencyAndBuildTime: with --latency every request takes at
// least that long; with --build-time a new server is BUILD at first and
// ACTIVE after it.
func TestSimServeLatencyAndBuildTime(t *testing.T) {
	t.Parallel()
	pc, eo := simClient(t, serveSim(t, "--latency", "60ms", "--build-time", "700ms"))
	ctx := context.Background()
	nc, err := openstack.NewNetworkV2(pc, eo)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := networks.List(nc, nil).AllPages(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 60*time.Millisecond {
		t.Errorf("a list took %s with --latency 60ms", d)
	}
	n, err := networks.Create(ctx, nc, networks.CreateOpts{Name: "bt"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := subnets.Create(ctx, nc, subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.20.0.0/24", IPVersion: 4}).Extract(); err != nil {
		t.Fatal(err)
	}
	p, err := ports.Create(ctx, nc, ports.CreateOpts{NetworkID: n.ID}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	cc, err := openstack.NewComputeV2(pc, eo)
	if err != nil {
		t.Fatal(err)
	}
	// The build time runs from when the simulated Nova took the create,
	// which is after this moment and before its answer arrives: timing from
	// the answer (as this test once did) undercounts by up to the latency.
	created := time.Now()
	srv, err := servers.Create(ctx, cc, servers.CreateOpts{Name: "bt", FlavorRef: "2",
		ImageRef: simcloud.DefaultWorld().Images[0].ID, Networks: []servers.Network{{Port: p.ID}}}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for {
		s, err := servers.Get(ctx, cc, srv.ID).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if len(statuses) == 0 || statuses[len(statuses)-1] != s.Status {
			statuses = append(statuses, s.Status)
		}
		if s.Status != "BUILD" {
			break
		}
		if time.Since(created) > 30*time.Second {
			t.Fatal("still BUILD after 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if strings.Join(statuses, " ") != "BUILD ACTIVE" {
		t.Errorf("statuses %v, want BUILD then ACTIVE", statuses)
	}
	if d := time.Since(created); d < 700*time.Millisecond {
		t.Errorf("ACTIVE after %s with --build-time 700ms", d)
	}
}

// TestSimServeFaultRate: --fault-rate fails that share of the services'
// requests with --fault-status in the service's own error body, the same
// requests for the same --fault-seed.
func TestSimServeFaultRate(t *testing.T) {
	t.Parallel()
	outcomes := func(args ...string) string {
		pc, eo := simClient(t, serveSim(t, args...))
		nc, err := openstack.NewNetworkV2(pc, eo)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for range 40 {
			_, err := networks.List(nc, nil).AllPages(context.Background())
			switch {
			case err == nil:
				b.WriteByte('.')
			case gophercloud.ResponseCodeIs(err, 409) && strings.Contains(err.Error(), "NeutronError") && strings.Contains(err.Error(), "Injected fault"):
				b.WriteByte('x')
			default:
				t.Fatalf("unexpected error: %v", err)
			}
		}
		return b.String()
	}
	half := outcomes("--fault-rate", "0.5", "--fault-status", "409", "--fault-seed", "7")
	if n := strings.Count(half, "x"); n < 8 || n > 32 {
		t.Errorf("--fault-rate 0.5 failed %d of 40 requests: %s", n, half)
	}
	if again := outcomes("--fault-rate", "0.5", "--fault-status", "409", "--fault-seed", "7"); again != half {
		t.Errorf("the same seed failed other requests:\n%s\n%s", half, again)
	}
	if all := outcomes("--fault-rate", "1", "--fault-status", "409"); all != strings.Repeat("x", 40) {
		t.Errorf("--fault-rate 1: %s", all)
	}
	if none := outcomes(); none != strings.Repeat(".", 40) {
		t.Errorf("no --fault-rate: %s", none)
	}
}
