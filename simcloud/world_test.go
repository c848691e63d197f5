package simcloud_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fuelplan/fuelplan/simcloud"
)

func TestDefaultWorld(t *testing.T) {
	t.Parallel()
	w := simcloud.DefaultWorld()
	if len(w.ExternalNetworks) != 1 || w.ExternalNetworks[0].Name != "net04_ext" {
		t.Errorf("external networks %+v, want net04_ext", w.ExternalNetworks)
	}
	if !slices.Equal(w.Hypervisors, []string{"node-1", "node-2", "node-3", "node-4", "node-5"}) {
		t.Errorf("hypervisors %v", w.Hypervisors)
	}
	var flavors, images []string
	for _, f := range w.Flavors {
		flavors = append(flavors, f.Name)
	}
	for _, im := range w.Images {
		images = append(images, im.Name)
	}
	if !slices.Equal(flavors, []string{"m1.tiny", "m1.small", "m1.medium", "m1.large", "m1.xlarge"}) {
		t.Errorf("flavors %v", flavors)
	}
	if !slices.Equal(images, []string{"cirros", "ubuntu-14.04"}) {
		t.Errorf("images %v", images)
	}
	for _, ext := range []string{"router", "external-net", "port-security", "standard-attr-tag", "net-mtu", "revision-if-match"} {
		if !slices.Contains(w.Extensions, ext) {
			t.Errorf("extension %s not enabled", ext)
		}
	}
}

// TestLoadWorld: a world file loads, gets stable IDs for what it leaves
// out, and every mistake is reported as FILE:LINE.
func TestLoadWorld(t *testing.T) {
	t.Parallel()
	const good = `projects: [{name: admin}, {name: demo}]
users:
  - {name: admin, password: a, project: admin, roles: [admin]}
  - {name: demo, password: d, project: demo, roles: [member]}
external_networks:
  - {name: public, cidr: 203.0.113.0/24, gateway: 203.0.113.1, pool_start: 203.0.113.10, pool_end: 203.0.113.20}
flavors: [{name: f1, vcpus: 1, ram: 512, disk: 1}]
hypervisors: [h1]
quotas: {instances: 3, port: 10}
`
	tests := []struct {
		name, yaml string
		want       string // "" loads; else the error contains FILE + want
	}{
		{"good", good, ""},
		{"unknown key", good + "flavours: []\n", ":10: field flavours not found"},
		{"syntax", "projects: [\n", ":1: did not find expected node content"},
		{"wrong type", "projects: 3\n", ":1: cannot unmarshal"},
		{"unknown project", strings.Replace(good, "project: demo", "project: nope", 1), `:4: user demo: unknown project "nope"`},
		{"no member", strings.Replace(good, "roles: [member]", "roles: [admin]", 1), ":2: need at least one user with role admin and one without"},
		{"gateway outside cidr", strings.Replace(good, "gateway: 203.0.113.1", "gateway: 10.0.0.1", 1), `:6: external network public: gateway "10.0.0.1" is not an address in 203.0.113.0/24`},
		{"bad flavor", strings.Replace(good, "vcpus: 1", "vcpus: 0", 1), ":7: flavor f1 needs"},
		{"bad quota", strings.Replace(good, "port: 10", "widgets: 10", 1), ":9: quota widgets"},
		{"glance limits", good + "glance_limits: {image_size_total: 1024, image_count_total: 10}\n", ""},
		{"bad glance limit", good + "glance_limits: {image_size: 1024}\n", ":10: glance limit image_size"},
		{"negative glance limit", good + "glance_limits: {image_count_total: -1}\n", ":10: glance limit image_count_total"},
		{"no hypervisors", strings.Replace(good, "hypervisors: [h1]", "hypervisors: []", 1), ":8: need at least one hypervisor"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			w, err := simcloud.LoadWorld(path)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				again, _ := simcloud.LoadWorld(path)
				if w.Projects[0].ID == "" || w.Projects[0].ID != again.Projects[0].ID ||
					w.ExternalNetworks[0].ID != again.ExternalNetworks[0].ID || w.Flavors[0].ID != "1" {
					t.Errorf("IDs not filled in or not stable: %+v %+v", w.Projects, w.ExternalNetworks)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %s...%s", err, path, tt.want)
			}
		})
	}
	if _, err := simcloud.LoadWorld(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing file loaded")
	}
}

// TestStartWithWorld: a loaded world is the cloud's world.
func TestStartWithWorld(t *testing.T) {
	t.Parallel()
	w := simcloud.DefaultWorld()
	w.Users[1].Password = "changed"
	c := start(t, simcloud.Config{World: w})
	if got := c.Member().Password; got != "changed" {
		t.Fatalf("Member().Password = %q", got)
	}
	login(t, c.Member())
}

// The fuel: section of a world file sets the simulated Fuel master's
// delays, written as durations.
func TestWorldFuelTimes(t *testing.T) {
	def, err := os.ReadFile("world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "world.yaml")
	text := string(def) + "\nfuel: {boot_time: 3m, discovery_time: 90s}\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := simcloud.LoadWorld(path)
	if err != nil {
		t.Fatal(err)
	}
	if w.Fuel == nil || w.Fuel.BootTime != 3*time.Minute || w.Fuel.DiscoveryTime != 90*time.Second {
		t.Errorf("fuel: %+v, want boot 3m, discovery 1m30s", w.Fuel)
	}
}
