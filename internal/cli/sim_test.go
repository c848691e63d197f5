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

	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
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
