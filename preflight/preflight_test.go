package preflight_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/attributestags"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/internal/sshx"
	"github.com/fuelplan/fuelplan/preflight"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/resources/resourcestest"
	"github.com/fuelplan/fuelplan/simcloud"
	"github.com/fuelplan/fuelplan/specs"
)

// want is one expected finding: its check and the address it concerns.
type want struct {
	check string
	addr  specs.Address
}

// setup describes one cloud and lab: how the world differs from the
// default one, how the spec differs from testdata/lab.yaml, which file is
// removed or resized, and whether the user is a member.
type setup struct {
	world  func(w *simcloud.World)
	spec   func(s string) string
	files  func(t *testing.T, dir string)
	member bool
	ssh    sshx.Config // how the reach check connects
	// cloud runs on the cloud before the checks read it.
	cloud func(t *testing.T, c *resources.Cloud)
}

func withoutExtension(aliases ...string) func(w *simcloud.World) {
	return func(w *simcloud.World) {
		w.Extensions = slices.DeleteFunc(slices.Clone(w.Extensions), func(e string) bool { return slices.Contains(aliases, e) })
	}
}

func withQuota(name string, limit int) func(w *simcloud.World) {
	return func(w *simcloud.World) {
		w.Quotas = map[string]int{}
		for k, v := range simcloud.DefaultWorld().Quotas {
			w.Quotas[k] = v
		}
		w.Quotas[name] = limit
	}
}

// withGlanceLimits switches Glance's unified limits on with these
// registered limits (image_size_total in MiB). The default world's two
// public images are the admin project's: 260 MiB and 2 images used, as
// Glance counts them (the sum of their sizes floored to MiB).
func withGlanceLimits(sizeMiB, count int) func(w *simcloud.World) {
	return func(w *simcloud.World) {
		w.GlanceLimits = map[string]int{"image_size_total": sizeMiB, "image_count_total": count}
	}
}

// isoOf makes the lab's fuel.iso n bytes long (sparse: nothing is written).
func isoOf(n int64) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		if err := os.Truncate(filepath.Join(dir, "fuel.iso"), n); err != nil {
			t.Fatal(err)
		}
	}
}

// withTrunk makes the slave's mgmt NIC (mtu 1400) carry VLAN 102 of a
// new network storage (with storageMTU, "mtu: N" or "") over a trunk.
func withTrunk(storageMTU string) func(string) string {
	return func(s string) string {
		return strings.Replace(withVLAN(storageMTU)(s), "lab: pf\n", "lab: pf\nvlan_mode: trunk\n", 1)
	}
}

// withTransparent is withTrunk with the VLAN carried by a VLAN-transparent
// mgmt network.
func withTransparent(storageMTU string) func(string) string {
	return func(s string) string {
		return strings.Replace(withVLAN(storageMTU)(s), "lab: pf\n", "lab: pf\nvlan_mode: transparent\n", 1)
	}
}

func withVLAN(storageMTU string) func(string) string {
	return func(s string) string {
		net := "  - name: storage\n    cidr: 192.168.1.0/24\n    dhcp: false\n"
		if storageMTU != "" {
			net += "    " + storageMTU + "\n"
		}
		s = strings.Replace(s, "\nrouter:\n", net+"\nrouter:\n", 1)
		return strings.Replace(s, "  ports:\n    - network: admin\n    - network: mgmt\n\npatches:",
			"  ports:\n    - network: admin\n    - network: mgmt\n      vlans:\n        - {network: storage, id: 102}\n\npatches:", 1)
	}
}

// run starts the simulated cloud, reads it for the lab, plans and runs the
// checks, as `fuelplan check` does.
func run(t *testing.T, s setup) (*preflight.Report, *specs.Lab, *simcloud.Cloud) {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile("testdata/lab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec := string(data)
	if s.spec != nil {
		spec = s.spec(spec)
	}
	path := filepath.Join(dir, "lab.yaml")
	if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fuel.iso"), []byte("fuel iso bytes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if s.files != nil {
		s.files(t, dir)
	}
	w := simcloud.DefaultWorld()
	if s.world != nil {
		s.world(w)
	}
	sim, err := simcloud.Start(simcloud.Config{World: w})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	cred := sim.Admin()
	if s.member {
		cred = sim.Member()
	}
	cloud := resourcestest.Connect(t, sim, cred)
	lab, diags := specs.LoadLab(path, func(string) (string, bool) { return "", false })
	if diags.HasErrors() {
		t.Fatal(diags.Errors())
	}
	if s.cloud != nil {
		s.cloud(t, cloud)
	}
	ctx := context.Background()
	st, err := engine.Read(ctx, cloud, resources.Default(), lab)
	if err != nil {
		// As the CLI does: the checks that need no live objects say why.
		rep, cerr := preflight.Run(ctx, preflight.Input{Lab: lab, Cloud: cloud, SSH: s.ssh})
		if cerr != nil || rep.Errors() == 0 {
			t.Fatalf("read: %v, and no check explains it (%v)", err, cerr)
		}
		return rep, lab, sim
	}
	// A missing lookup fails the plan; the lookup check reports it.
	p, _ := engine.BuildPlan(lab, st, resources.Default(), engine.PlanOptions{})
	var creates []specs.Address
	for _, c := range p.Changes {
		if c.Action == plan.Create || c.Action == plan.Replace {
			creates = append(creates, c.Address)
		}
	}
	rep, err := preflight.Run(ctx, preflight.Input{Lab: lab, Cloud: cloud, Live: st.Live, Creates: creates, SSH: s.ssh})
	if err != nil {
		t.Fatal(err)
	}
	return rep, lab, sim
}

// TestFindings: each way a cloud or lab can fail gives its findings, each
// exactly once, at the spec position of the object it concerns; the
// default world and the test lab give none.
func TestFindings(t *testing.T) {
	tests := []struct {
		name string
		setup
		want []want
	}{
		{name: "clean cloud"},

		// API capabilities.
		{name: "no port-security", setup: setup{world: withoutExtension("port-security")},
			want: []want{{preflight.CheckExtension, "port.master.admin"}}},
		{name: "no net-mtu-writable", setup: setup{world: withoutExtension("net-mtu-writable")},
			want: []want{{preflight.CheckExtension, "network.mgmt"}}},
		{name: "no vlan-transparent nor trunk", setup: setup{world: withoutExtension("vlan-transparent", "trunk", "trunk-details")},
			want: []want{{preflight.CheckNestedVLAN, "server.master"}}},
		{name: "no quota_details", setup: setup{world: withoutExtension("quota_details")},
			want: []want{{preflight.CheckQuota, "image.fuel"}}},

		// Quotas: one finding per quota, at the first object over it.
		{name: "network quota", setup: setup{world: withQuota("network", 2)},
			want: []want{{preflight.CheckQuota, "network.mgmt"}}},
		{name: "subnet quota", setup: setup{world: withQuota("subnet", 1)},
			want: []want{{preflight.CheckQuota, "subnet.admin"}}},
		// 4 ports and the router interface's: the third server port is over.
		{name: "port quota", setup: setup{world: withQuota("port", 3)},
			want: []want{{preflight.CheckQuota, "port.slave-1.admin"}}},
		{name: "router quota", setup: setup{world: withQuota("router", 0)},
			want: []want{{preflight.CheckQuota, "router.router"}}},
		{name: "floatingip quota", setup: setup{world: withQuota("floatingip", 0)},
			want: []want{{preflight.CheckQuota, "floating_ip.master"}}},
		{name: "security_group quota", setup: setup{world: withQuota("security_group", 1)},
			want: []want{{preflight.CheckQuota, "security_group.lab"}}},
		{name: "security_group_rule quota", setup: setup{world: withQuota("security_group_rule", 4)},
			want: []want{{preflight.CheckQuota, "security_group_rule.lab.ingress-ipv4-tcp-22-from-0.0.0.0/0"}}},
		{name: "instances quota", setup: setup{world: withQuota("instances", 1)},
			want: []want{{preflight.CheckQuota, "server.slave-1"}}},
		{name: "cores quota", setup: setup{world: withQuota("cores", 2)},
			want: []want{{preflight.CheckQuota, "server.slave-1"}}},
		{name: "ram quota", setup: setup{world: withQuota("ram", 4000)},
			want: []want{{preflight.CheckQuota, "server.slave-1"}}},
		{name: "volumes quota", setup: setup{world: withQuota("volumes", 1)},
			want: []want{{preflight.CheckQuota, "volume.master.iso"}}},
		{name: "gigabytes quota", setup: setup{world: withQuota("gigabytes", 20)},
			want: []want{{preflight.CheckQuota, "volume.master.iso"}}},
		// Glance's limits, reported only with Keystone's unified limits
		// on: the 3 MiB ISO against 2 MiB left, the one image against none.
		{name: "image_size_total limit", setup: setup{world: withGlanceLimits(262, 10), files: isoOf(3 << 20)},
			want: []want{{preflight.CheckQuota, "image.fuel"}}},
		{name: "image_count_total limit", setup: setup{world: withGlanceLimits(1000, 2)},
			want: []want{{preflight.CheckQuota, "image.fuel"}}},
		{name: "images within Glance's limits", setup: setup{world: withGlanceLimits(263, 3), files: isoOf(3 << 20)}},

		// Nova's microversions: fuelplan sends 2.61 with every request.
		{name: "Nova older than microversion 2.61", setup: setup{world: func(w *simcloud.World) { w.ComputeMaxMicroversion = "2.60" }},
			want: []want{{preflight.CheckMicroversion, "server.master"}}},

		// Nova's keypair quota is per user; real Zed's limits give
		// maxTotalKeypairs and no usage, so the user's keypairs are counted.
		{name: "keypairs quota", setup: setup{world: withQuota("keypairs", 0)},
			want: []want{{preflight.CheckQuota, "keypair.key"}}},
		{name: "trunk quota", setup: setup{world: withQuota("trunk", 0), spec: withTrunk("mtu: 1400")},
			want: []want{{preflight.CheckQuota, "trunk.slave-1.mgmt"}}},
		{name: "trunks whose networks' MTUs fit", setup: setup{spec: withTrunk("mtu: 1400")}},

		// MTUs: a subport's network above its parent's (Neutron refuses the
		// trunk with 409 SubPortMtuGreaterThanTrunkPortMtu on real Zed).
		{name: "subport network MTU above the parent's", setup: setup{spec: withTrunk("mtu: 1450")},
			want: []want{{preflight.CheckMTU, "network.storage"}}},
		{name: "subport network on Neutron's default MTU", setup: setup{spec: withTrunk("")},
			want: []want{{preflight.CheckMTU, "network.storage"}}},
		{name: "tagged network too large for its VLAN-transparent carrier", setup: setup{spec: withTransparent("mtu: 1400")},
			want: []want{{preflight.CheckMTU, "network.mgmt"}}},
		{name: "tagged network that fits its carrier with the tag", setup: setup{spec: withTransparent("mtu: 1396")}},

		// Existence and fit.
		{name: "missing image", setup: setup{world: func(w *simcloud.World) {
			w.Images = slices.DeleteFunc(w.Images, func(i simcloud.Image) bool { return i.Name == "ubuntu-14.04" })
		}}, want: []want{{preflight.CheckLookup, "image.ubuntu-14.04"}}},
		{name: "missing flavor", setup: setup{world: func(w *simcloud.World) {
			w.Flavors = slices.DeleteFunc(w.Flavors, func(f simcloud.Flavor) bool { return f.Name == "m1.small" })
		}}, want: []want{{preflight.CheckLookup, "flavor.m1.small"}}},
		{name: "missing external network", setup: setup{world: func(w *simcloud.World) { w.ExternalNetworks = nil }},
			want: []want{{preflight.CheckLookup, "external_network.net04_ext"}}},
		{name: "flavor too small for its image", setup: setup{world: func(w *simcloud.World) {
			for i := range w.Flavors {
				if w.Flavors[i].Name == "m1.small" {
					w.Flavors[i].Disk = 2 // ubuntu-14.04 has min_disk 3
				}
			}
		}}, want: []want{{preflight.CheckFlavorFit, "server.slave-1"}}},
		{name: "missing ISO file", setup: setup{files: func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "fuel.iso")); err != nil {
				t.Fatal(err)
			}
		}}, want: []want{{preflight.CheckImageFile, "image.fuel"}}},
		{name: "volume smaller than its image", setup: setup{spec: func(s string) string {
			// ubuntu-14.04 has min_disk 3 in the default world.
			return strings.Replace(s, "      image: fuel\n      size: 1\n", "      image: ubuntu-14.04\n      size: 1\n", 1)
		}}, want: []want{{preflight.CheckVolumeFit, "volume.master.iso"}}},
		{name: "no router extension", setup: setup{world: withoutExtension("router")},
			want: []want{{preflight.CheckExtension, "router.router"}}},
		{name: "no external-net extension", setup: setup{world: withoutExtension("external-net")},
			want: []want{{preflight.CheckExtension, "router.router"}}},
		{name: "no tags", setup: setup{world: func(w *simcloud.World) {
			withoutExtension("standard-attr-tag")(w)
			withoutExtension("standard-attr-description")(w)
		}}, want: []want{{preflight.CheckExtension, "network.admin"}}},
		{name: "as a member", setup: setup{member: true},
			want: []want{{preflight.CheckFlavorAdmin, "flavor.master"}}},
		{name: "member with an SSH patch", setup: setup{member: true, spec: func(s string) string {
			return strings.Replace(s, "method: api", "method: ssh", 1) + `
inventory:
  node-1:
    address: 10.0.0.11
    key_file: keys/id
    known_hosts: keys/known_hosts
`
		}, files: func(t *testing.T, dir string) {
			if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "keys", "id"), []byte("not read by the check\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}}, want: []want{
			{preflight.CheckFlavorAdmin, "flavor.master"},
			{preflight.CheckAdminRole, "patch.master-dhcp"},
			{preflight.CheckSSHFiles, "patch.master-dhcp"},
		}},

		// Fuel's needs.
		{name: "Neutron DHCP on the admin network", setup: setup{spec: func(s string) string {
			return strings.Replace(s, "dhcp: false\n    router: true", "dhcp: true\n    router: true", 1)
		}}, want: []want{{preflight.CheckFuelDHCP, "subnet.admin"}}},
		{name: "no way out for the master's DHCP replies", setup: setup{spec: func(s string) string {
			s, _, _ = strings.Cut(s, "patches:")
			return s
		}}, want: []want{{preflight.CheckFuelReplies, "server.master"}}},
		{name: "no fixed admin IP for the master", setup: setup{spec: func(s string) string {
			return strings.Replace(s, "      fixed_ip: 10.20.0.2\n", "", 1)
		}}, want: []want{{preflight.CheckFuelMasterIP, "port.master.admin"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep, lab, _ := run(t, tt.setup)
			var got []want
			for _, f := range rep.Findings {
				got = append(got, want{f.Check, f.Address})
				r, ok := lab.Resource(f.Address)
				if !ok {
					t.Errorf("%s: finding for %s, which is not in the lab", f.Check, f.Address)
					continue
				}
				if f.At != r.Declared() || f.At.Line == 0 {
					t.Errorf("%s: finding at %s, want %s's position %s", f.Check, f.At, f.Address, r.Declared())
				}
				if f.Message == "" || f.Fix == "" {
					t.Errorf("%s: finding without message or fix: %+v", f.Check, f)
				}
			}
			wantSorted := slices.Clone(tt.want)
			less := func(a, b want) int {
				if c := strings.Compare(a.check, b.check); c != 0 {
					return c
				}
				return strings.Compare(string(a.addr), string(b.addr))
			}
			slices.SortFunc(wantSorted, less)
			slices.SortFunc(got, less)
			if !slices.Equal(got, wantSorted) {
				var lines []string
				for _, f := range rep.Findings {
					lines = append(lines, f.String())
				}
				t.Errorf("got findings %v, want %v:\n%s", got, wantSorted, strings.Join(lines, "\n"))
			}
		})
	}
}

// TestFileLines: check lists each file apply uploads with its size.
func TestFileLines(t *testing.T) {
	rep, _, _ := run(t, setup{})
	if len(rep.Files) != 1 || !strings.HasPrefix(rep.Files[0], "image pf-fuel: ") || !strings.HasSuffix(rep.Files[0], "/fuel.iso, 15 bytes") {
		t.Errorf("file lines: %q", rep.Files)
	}
}

// TestImageReadOnce: a hundred slaves booting one image read it once.
func TestImageReadOnce(t *testing.T) {
	rep, _, sim := run(t, setup{
		spec: func(s string) string { return strings.Replace(s, "count: 1", "count: 100", 1) },
		world: func(w *simcloud.World) {
			for k := range w.Quotas {
				w.Quotas[k] = -1
			}
		},
	})
	if len(rep.Findings) != 0 {
		t.Errorf("findings: %v", rep.Findings)
	}
	if n := sim.Requests()["GET /image/v2/images/{id}"]; n != 1 {
		t.Errorf("the image was read %d times, want once", n)
	}
}

// TestQuotaLines: check prints a line for the keypair (Nova's limit
// against the user's keypairs, counted) and the trunk (Neutron's quota
// details), and none for Glance: real Zed's Glance, without Keystone's
// unified limits, answers GET /v2/info/usage with {"usage": {}}, so there
// is no image-size quota to compare.
func TestQuotaLines(t *testing.T) {
	rep, _, _ := run(t, setup{spec: withTrunk("mtu: 1400"), world: withQuota("trunk", 3)})
	for _, want := range []string{
		"keypairs: plan adds 1, 100 left (quota 100, 0 used)",
		"trunk: plan adds 1, 3 left (quota 3, 0 used)",
	} {
		if !slices.Contains(rep.Quotas, want) {
			t.Errorf("no quota line %q in:\n%s", want, strings.Join(rep.Quotas, "\n"))
		}
	}
	for _, l := range rep.Quotas {
		if strings.HasPrefix(l, "image_") {
			t.Errorf("a Glance quota line where Glance reports none: %q", l)
		}
	}
	if len(rep.Findings) != 0 {
		t.Errorf("findings: %v", rep.Findings)
	}
}

// TestGlanceQuotaLines: with Keystone's unified limits on, Glance reports
// image_size_total (MiB) and image_count_total in GET /v2/info/usage
// (Glance 25's discovery.get_usage), and check prints what the lab's
// upload adds to each; within them there is no finding.
func TestGlanceQuotaLines(t *testing.T) {
	rep, _, _ := run(t, setup{world: withGlanceLimits(263, 3), files: isoOf(3 << 20)})
	for _, want := range []string{
		"image_size_total: plan adds 3 MiB, 3 MiB left (quota 263 MiB, 260 MiB used)",
		"image_count_total: plan adds 1, 1 left (quota 3, 2 used)",
	} {
		if !slices.Contains(rep.Quotas, want) {
			t.Errorf("no quota line %q in:\n%s", want, strings.Join(rep.Quotas, "\n"))
		}
	}
	if len(rep.Findings) != 0 {
		t.Errorf("findings: %v", rep.Findings)
	}
}

// TestFindingMessages shows the arithmetic each new finding states.
func TestFindingMessages(t *testing.T) {
	for _, tt := range []struct {
		name string
		setup
		want string
	}{
		{"microversion", setup{world: func(w *simcloud.World) { w.ComputeMaxMicroversion = "2.60" }},
			"the compute API serves microversions 2.1 to 2.60, and fuelplan sends 2.61 with every Nova request"},
		{"keypairs", setup{world: withQuota("keypairs", 0)},
			"keypairs: plan adds 1, 0 left (quota 0, 0 used) (nova quota)"},
		{"image_size_total", setup{world: withGlanceLimits(262, 10), files: isoOf(3<<20 + 1)},
			"image_size_total: plan adds 4 MiB, 2 MiB left (quota 262 MiB, 260 MiB used) (glance quota)"},
		{"image_count_total", setup{world: withGlanceLimits(1000, 2)},
			"image_count_total: plan adds 1, 0 left (quota 2, 2 used) (glance quota)"},
		{"trunk mtu", setup{spec: withTrunk("mtu: 1450")},
			"VLAN 102's network storage has MTU 1450 (its mtu in the spec), more than the parent network mgmt's 1400 (its mtu in the spec)"},
		{"inner mtu", setup{spec: withTransparent("mtu: 1400")},
			"its frames of mtu 1400 plus the 4-byte VLAN tag need 1404, more than mgmt's MTU 1400 (its mtu in the spec)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep, _, _ := run(t, tt.setup)
			if len(rep.Findings) != 1 || !strings.Contains(rep.Findings[0].Message, tt.want) {
				t.Errorf("findings %v, want one saying %q", rep.Findings, tt.want)
			}
			for _, f := range rep.Findings {
				t.Log(f.String())
			}
		})
	}
}

// builtAdmin makes the lab's admin network (pf-admin, no mtu) in the
// cloud, as a first apply would have.
func builtAdmin(t *testing.T, c *resources.Cloud) {
	ctx := context.Background()
	n, err := networks.Create(ctx, c.Network, networks.CreateOpts{Name: "pf-admin"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	tags := []string{resources.LabTag("pf"), resources.AddrTag("network.admin")}
	if _, err := attributestags.ReplaceAll(ctx, c.Network, "networks", n.ID, attributestags.ReplaceAllOpts{Tags: tags}).Extract(); err != nil {
		t.Fatal(err)
	}
}

// TestMTUAboveNeutronsMaximum: the built admin network shows Neutron's
// default, 1450, the largest it allows (real Zed refuses mtu 1451 with 400
// "Requested MTU is too big, maximum is 1450"): a network the lab still
// has to create with mtu 1500 is an error.
func TestMTUAboveNeutronsMaximum(t *testing.T) {
	rep, _, _ := run(t, setup{
		spec:  func(s string) string { return strings.Replace(s, "    mtu: 1400\n", "    mtu: 1500\n", 1) },
		cloud: builtAdmin,
	})
	const want = "network mgmt: mtu 1500 is more than 1450, the largest Neutron allows for a new network here (Neutron's default for a new network, as network.admin shows)"
	if len(rep.Findings) != 1 || rep.Findings[0].Severity != preflight.Error || rep.Findings[0].Address != "network.mgmt" ||
		!strings.Contains(rep.Findings[0].Message, want) {
		t.Errorf("findings %v, want one error at network.mgmt saying %q", rep.Findings, want)
	}
}

// TestMTULearnedDefault: on a cloud whose new networks get MTU 1500 (VLAN
// tenant networks), a lab network already built without an mtu shows
// Neutron's default, so a subport network without mtu is known to get
// 1500, over its parent's 1400: an error, not the warning a fresh lab gets.
func TestMTULearnedDefault(t *testing.T) {
	rep, _, _ := run(t, setup{
		spec:  withTrunk(""),
		world: func(w *simcloud.World) { w.NetworkMTU = 1500 },
		cloud: builtAdmin,
	})
	const want = "VLAN 102's network storage has MTU 1500 (Neutron's default for a new network, as network.admin shows), more than the parent network mgmt's 1400"
	if len(rep.Findings) != 1 || rep.Findings[0].Severity != preflight.Error || !strings.Contains(rep.Findings[0].Message, want) {
		t.Errorf("findings %v, want one error saying %q", rep.Findings, want)
	}
}
