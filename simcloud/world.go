package simcloud

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/fuelplan/fuelplan/simcloud/internal/glance"
	"github.com/fuelplan/fuelplan/simcloud/internal/nova"
)

// World is what exists in the cloud before any lab: the host cloud a
// newcomer's first run builds in. It is read from YAML (see world.yaml,
// the default).
type World struct {
	Region           string            `yaml:"region"`
	Projects         []Project         `yaml:"projects"`
	Users            []User            `yaml:"users"`
	ExternalNetworks []ExternalNetwork `yaml:"external_networks"`
	Flavors          []Flavor          `yaml:"flavors"`
	Images           []Image           `yaml:"images"`
	// Hypervisors are the compute hosts servers are placed on.
	Hypervisors []string `yaml:"hypervisors"`
	// Extensions are the enabled Neutron extension aliases; none listed
	// means Neutron's default set.
	Extensions []string `yaml:"extensions"`
	// Quotas are per-project limits: Neutron's network, subnet, port,
	// router, floatingip, security_group, security_group_rule, trunk and
	// Nova's instances, cores, ram (MiB), keypairs (counted per user, as
	// Nova does) and Cinder's volumes, gigabytes. An absent resource, or
	// -1, is unlimited.
	Quotas map[string]int `yaml:"quotas"`
	// GlanceLimits, when present, switch Glance's Keystone unified limits
	// on (use_keystone_limits = true) with these registered limits:
	// image_size_total and image_stage_total in MiB, image_count_total,
	// image_count_uploading. A limit not named is 0, as Keystone's absent
	// registered limit is to Glance. Absent, Glance has no image quota
	// (real Zed's default).
	GlanceLimits map[string]int `yaml:"glance_limits"`
	// ComputeMaxMicroversion is the highest Nova microversion the compute
	// API serves and reports in its version document ("2.60"); absent,
	// the highest the simulator implements (2.90; real Zed reports 2.93).
	ComputeMaxMicroversion string `yaml:"compute_max_microversion"`
	// NetworkMTU is the MTU Neutron gives a new network without an mtu, and
	// the largest one may ask for (1450 on real Zed with VXLAN tenant
	// networks); absent, 1450.
	NetworkMTU int `yaml:"network_mtu"`
	// Fuel sets how the simulated Fuel master behaves (package
	// internal/fuel); absent, DefaultFuelTimes.
	Fuel *FuelTimes `yaml:"fuel"`
}

// FuelTimes are the simulated Fuel master's delays: its API answers
// BootTime after its server is ACTIVE, and lists a slave DiscoveryTime
// after the slave booted (or the API came up, if later). A real Fuel 6.1
// takes about 20 minutes to install and a slave a few minutes to
// PXE-boot into bootstrap; the simulation keeps the order, not the wait.
type FuelTimes struct {
	BootTime      time.Duration `yaml:"boot_time"`
	DiscoveryTime time.Duration `yaml:"discovery_time"`
}

// DefaultFuelTimes: short, so that a lab's waits on the simulated cloud
// take seconds.
var DefaultFuelTimes = FuelTimes{BootTime: 2 * time.Second, DiscoveryTime: time.Second}

func (w *World) fuelTimes() (boot, discovery time.Duration) {
	f := DefaultFuelTimes
	if w.Fuel != nil {
		f = *w.Fuel
	}
	return f.BootTime, f.DiscoveryTime
}

// Project is a Keystone project; an empty ID is derived from the name.
type Project struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
}

// User has roles on one project; the first user with role admin is the
// cloud's Admin(), the first without it its Member().
type User struct {
	ID       string   `yaml:"id"`
	Name     string   `yaml:"name"`
	Password string   `yaml:"password"`
	Project  string   `yaml:"project"` // project name
	Roles    []string `yaml:"roles"`
}

func (u User) isAdmin() bool { return slices.Contains(u.Roles, "admin") }

// ExternalNetwork is a provider network owned by the admin project with
// one subnet whose allocation pool floating IPs and router gateways use.
type ExternalNetwork struct {
	ID        string `yaml:"id"`
	Name      string `yaml:"name"`
	SubnetID  string `yaml:"subnet_id"`
	CIDR      string `yaml:"cidr"`
	Gateway   string `yaml:"gateway"`
	PoolStart string `yaml:"pool_start"`
	PoolEnd   string `yaml:"pool_end"`
	MTU       int    `yaml:"mtu"`
}

// Flavor is a public or private Nova flavor; RAM in MiB, disks in GB.
type Flavor struct {
	ID        string `yaml:"id"`
	Name      string `yaml:"name"`
	VCPUs     int    `yaml:"vcpus"`
	RAM       int    `yaml:"ram"`
	Disk      int    `yaml:"disk"`
	Ephemeral int    `yaml:"ephemeral"`
	Public    *bool  `yaml:"public"` // default true
}

// Image is an active Glance image; Owner is a project name (default admin).
type Image struct {
	ID              string `yaml:"id"`
	Name            string `yaml:"name"`
	DiskFormat      string `yaml:"disk_format"`
	ContainerFormat string `yaml:"container_format"`
	Visibility      string `yaml:"visibility"`
	Owner           string `yaml:"owner"`
	MinDisk         int    `yaml:"min_disk"`
	Size            int    `yaml:"size"`
	Checksum        string `yaml:"checksum"`
}

//go:embed world.yaml
var defaultWorld []byte

// DefaultWorld returns the world that ships with fuelplan: a Fuel 6.0 style
// host cloud with net04_ext, m1.* flavors, cirros and ubuntu-14.04 images
// and node-1..node-5.
func DefaultWorld() *World {
	w, err := parseWorld("world.yaml", defaultWorld)
	if err != nil {
		panic(err) // the embedded file is tested
	}
	return w
}

// LoadWorld reads a world file; errors name FILE:LINE.
func LoadWorld(path string) (*World, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxWorldFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxWorldFile {
		return nil, fmt.Errorf("%s: larger than %d bytes: not a world file", path, maxWorldFile)
	}
	return parseWorld(path, data)
}

// maxWorldFile bounds a world file read (the default one is 3 KB).
const maxWorldFile = 1 << 20

// yamlLine finds the line number yaml.v3 puts in its messages.
var yamlLine = regexp.MustCompile(`^yaml: (?:unmarshal errors:\n\s*)?line (\d+): (.*)`)

func parseWorld(path string, data []byte) (*World, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var w World
	if err := dec.Decode(&w); err != nil {
		return nil, yamlError(path, err)
	}
	if err := w.check(func(key string, i int) string {
		return fmt.Sprintf("%s:%d", path, lineOf(&root, key, i))
	}); err != nil {
		return nil, err
	}
	w.fillIDs()
	return &w, nil
}

// yamlQuoted is how yaml.v3 quotes a value in its errors.
var yamlQuoted = regexp.MustCompile("`[^`]*`")

// yamlError names the file and line, without the value yaml.v3 quotes
// (a password given where a list was expected).
func yamlError(path string, err error) error {
	msg := yamlQuoted.ReplaceAllString(err.Error(), "a value")
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s:%s: %s", path, m[1], m[2])
	}
	return fmt.Errorf("%s: %s", path, msg)
}

// lineOf is the line of item i of the top-level list key (i < 0: the key).
func lineOf(root *yaml.Node, key string, i int) int {
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return 1
	}
	m := root.Content[0]
	for k := 0; k+1 < len(m.Content); k += 2 {
		if m.Content[k].Value != key {
			continue
		}
		v := m.Content[k+1]
		if i >= 0 && i < len(v.Content) {
			return v.Content[i].Line
		}
		return m.Content[k].Line
	}
	return m.Line
}

// check validates the world; at names the place of item i of a list.
func (w *World) check(at func(key string, i int) string) error {
	var errs []error
	bad := func(key string, i int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", at(key, i), fmt.Sprintf(format, args...)))
	}
	projects := map[string]bool{}
	for i, p := range w.Projects {
		if p.Name == "" || projects[p.Name] {
			bad("projects", i, "project needs a unique name")
		}
		projects[p.Name] = true
	}
	admins, members := 0, 0
	for i, u := range w.Users {
		switch {
		case u.Name == "" || u.Password == "":
			bad("users", i, "user needs a name and a password")
		case !projects[u.Project]:
			bad("users", i, "user %s: unknown project %q", u.Name, u.Project)
		case u.isAdmin():
			admins++
		default:
			members++
		}
	}
	if admins == 0 || members == 0 {
		bad("users", -1, "need at least one user with role admin and one without")
	}
	for i, n := range w.ExternalNetworks {
		if err := n.check(); err != nil {
			bad("external_networks", i, "external network %s: %v", n.Name, err)
		}
	}
	for i, f := range w.Flavors {
		if f.Name == "" || f.VCPUs <= 0 || f.RAM <= 0 || f.Disk < 0 {
			bad("flavors", i, "flavor %s needs a name, vcpus > 0, ram > 0 and disk >= 0", f.Name)
		}
	}
	for i, im := range w.Images {
		if im.Name == "" || (im.Owner != "" && !projects[im.Owner]) {
			bad("images", i, "image %s needs a name and a known owner project", im.Name)
		}
	}
	if len(w.Hypervisors) == 0 {
		bad("hypervisors", -1, "need at least one hypervisor")
	}
	for k, v := range w.Quotas {
		if !slices.Contains(quotaKeys, k) || v < -1 {
			bad("quotas", -1, "quota %s: want one of %v with a limit >= -1", k, quotaKeys)
		}
	}
	for k, v := range w.GlanceLimits {
		if !slices.Contains(glance.LimitNames, k) || v < 0 {
			bad("glance_limits", -1, "glance limit %s: want one of %v with a limit >= 0", k, glance.LimitNames)
		}
	}
	if w.ComputeMaxMicroversion != "" {
		if _, err := w.computeMaxMinor(); err != nil {
			bad("compute_max_microversion", -1, "%v", err)
		}
	}
	if w.NetworkMTU != 0 && (w.NetworkMTU < 68 || w.NetworkMTU > 9216) {
		bad("network_mtu", -1, "network_mtu %d: want 68-9216", w.NetworkMTU)
	}
	return errors.Join(errs...)
}

var (
	novaQuotas    = []string{"instances", "cores", "ram", "keypairs"}
	neutronQuotas = []string{"network", "subnet", "port", "router", "floatingip", "security_group", "security_group_rule", "trunk"}
	cinderQuotas  = []string{"volumes", "gigabytes"}
	quotaKeys     = slices.Concat(neutronQuotas, novaQuotas, cinderQuotas)
)

// computeMaxMinor is ComputeMaxMicroversion's minor number: "2.60" is 60.
// 0 when unset (the simulator's own maximum).
func (w *World) computeMaxMinor() (int, error) {
	if w.ComputeMaxMicroversion == "" {
		return 0, nil
	}
	maj, mn, ok := strings.Cut(w.ComputeMaxMicroversion, ".")
	minor, err := strconv.Atoi(mn)
	if !ok || maj != "2" || err != nil || minor < 1 || minor > nova.MaxMinor {
		return 0, fmt.Errorf("compute_max_microversion %q: want 2.1 to 2.%d", w.ComputeMaxMicroversion, nova.MaxMinor)
	}
	return minor, nil
}

func (n ExternalNetwork) check() error {
	if n.Name == "" {
		return errors.New("needs a name")
	}
	prefix, err := netip.ParsePrefix(n.CIDR)
	if err != nil {
		return fmt.Errorf("cidr: %v", err)
	}
	for _, a := range []struct{ name, ip string }{{"gateway", n.Gateway}, {"pool_start", n.PoolStart}, {"pool_end", n.PoolEnd}} {
		ip, err := netip.ParseAddr(a.ip)
		if err != nil || !prefix.Contains(ip) {
			return fmt.Errorf("%s %q is not an address in %s", a.name, a.ip, n.CIDR)
		}
	}
	if netip.MustParseAddr(n.PoolStart).Compare(netip.MustParseAddr(n.PoolEnd)) > 0 {
		return fmt.Errorf("pool_start %s is after pool_end %s", n.PoolStart, n.PoolEnd)
	}
	return nil
}

// fillIDs gives everything without an ID one derived from its name, so a
// hand-written world has the same IDs on every run.
func (w *World) fillIDs() {
	for i := range w.Projects {
		setID(&w.Projects[i].ID, "project", w.Projects[i].Name, false)
	}
	for i := range w.Users {
		setID(&w.Users[i].ID, "user", w.Users[i].Name, false)
	}
	for i := range w.ExternalNetworks {
		n := &w.ExternalNetworks[i]
		setID(&n.ID, "network", n.Name, true)
		setID(&n.SubnetID, "subnet", n.Name, true)
	}
	for i := range w.Flavors {
		if w.Flavors[i].ID == "" {
			w.Flavors[i].ID = strconv.Itoa(i + 1) // Nova's classic numeric IDs
		}
	}
	for i := range w.Images {
		setID(&w.Images[i].ID, "image", w.Images[i].Name, true)
	}
}

// setID derives a Keystone-style 32-hex ID, or a UUID, from kind and name.
func setID(id *string, kind, name string, uuid bool) {
	if *id != "" {
		return
	}
	h := sha256.Sum256([]byte(kind + "/" + name))
	if !uuid {
		*id = fmt.Sprintf("%x", h[:16])
		return
	}
	h[6] = h[6]&0x0f | 0x50 // version 5 style: name-based
	h[8] = h[8]&0x3f | 0x80
	*id = fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

func (w *World) region() string {
	if w.Region == "" {
		return "RegionOne"
	}
	return w.Region
}

func (w *World) projectID(name string) string {
	for _, p := range w.Projects {
		if p.Name == name {
			return p.ID
		}
	}
	return ""
}
