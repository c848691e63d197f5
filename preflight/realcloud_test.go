package preflight_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack"
	volquotas "github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"gopkg.in/yaml.v3"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/preflight"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// realLab uses what the loopback cloud of /work/shared/realcloud offers
// (external network public, image cirros, flavor m1.tiny: 1 vCPU, 512 MB)
// and every extension-dependent field, so an alias misspelled here would
// show as a finding on a cloud that has them all. It adds one or more of
// every quota kind preflight compares.
const realLab = `apiVersion: fuelplan/v1
lab: LAB
external_network: public
images:
  - {name: cirros, existing: true}
flavors:
  - {name: m1.tiny, existing: true}
networks:
  - {name: admin, cidr: 10.20.0.0/24, dhcp: false, router: true}
  - {name: mgmt, cidr: 192.168.0.0/24, dhcp: false, mtu: 1400, vlan_transparent: true, port_security: false}
router:
  name: router
  external_gateway: true
security_groups:
  - name: lab
    rules:
      - {protocol: tcp, ports: 22, remote_ip: 0.0.0.0/0}
      - {protocol: icmp, remote_ip: 0.0.0.0/0}
master:
  flavor: m1.tiny
  ports:
    - {network: admin, fixed_ip: 10.20.0.2}
    - {network: mgmt}
  volumes:
    - {name: root, image: cirros, size: 1, boot_index: 0}
  floating_ip: true
slaves:
  count: 2
  name: slave-{index}
  flavor: m1.tiny
  image: cirros
  ports:
    - {network: admin}
    - {network: mgmt}
patches:
  - {name: master-dhcp, type: allow-dhcp-server, port: master.admin, method: api}
`

// TestRealCloudQuotas runs the checks on the real cloud in a project of
// its own, made for the test and deleted after it (failed or not), whose
// quotas of every kind preflight compares it lowers with the openstack
// CLI: real Neutron's quota details, Nova's limits and Cinder's quota
// usage give exactly one finding per kind, at the first object over it,
// and the extensions real Zed lists give none. The shared projects'
// quotas are never touched. make e2e-real runs it (as CI does); by hand:
//
//	OS_CLIENT_CONFIG_FILE=/tmp/oscloud/clouds.yaml FUELPLAN_TEST_ADMIN_CLOUD=admin \
//	go test -count=1 -v -run RealCloud ./preflight/
func TestRealCloudQuotas(t *testing.T) {
	admin := os.Getenv("FUELPLAN_TEST_ADMIN_CLOUD")
	if admin == "" {
		t.Skip("FUELPLAN_TEST_ADMIN_CLOUD is not set (make e2e-real sets it)")
	}
	began := time.Now()
	ctx := context.Background()
	adm, err := resources.Connect(ctx, resources.Target{CloudName: admin})
	if err != nil {
		t.Fatal(err)
	}
	project := newProject(t, ctx, admin, adm)

	// Each quota is set so that a known object of the lab is the first
	// over it. Real Neutron makes the project's default security group (1
	// group, 4 rules) on its first list of groups, which the read makes:
	// with fewer than 4 rules left that list fails (409 OverQuota), so
	// the groups' quotas leave room for it.
	osc(t, admin, "quota", "set",
		"--networks", "1", "--subnets", "1", "--ports", "4", "--routers", "0", "--floating-ips", "0",
		"--secgroups", "1", "--secgroup-rules", "5",
		"--instances", "1", "--cores", "2", "--ram", "1000",
		"--volumes", "0", "--gigabytes", "0", project.ID)

	c, err := resources.Connect(ctx, resources.Target{CloudName: "pf", CloudsYAML: projectCloud(t, admin, project.Name)})
	if err != nil {
		t.Fatal(err)
	}
	if c.Admin {
		t.Fatal("the project's token carries the admin role; want a member")
	}
	rep := realCheck(t, ctx, c, strings.Replace(realLab, "LAB", project.Name, 1))
	var got []string
	for _, f := range rep.Findings {
		got = append(got, f.Check+" "+string(f.Address)+": "+f.Message)
	}
	want := []string{ // in spec order
		`quota network\.mgmt: network: plan adds 2, 1 left \(quota 1, 0 used\) \(neutron quota\): this object is the first over it`,
		`quota subnet\.mgmt: subnet: plan adds 2, 1 left \(quota 1, 0 used\) \(neutron quota\): this object is the first over it`,
		`quota router\.router: router: plan adds 1, 0 left \(quota 0, 0 used\) \(neutron quota\): this object is the first over it`,
		`quota security_group\.lab: security_group: plan adds 1, 0 left \(quota 1, 1 used\) \(neutron quota\): this object is the first over it`,
		`quota security_group_rule\.lab\.ingress-ipv4-tcp-22-from-0\.0\.0\.0/0: security_group_rule: plan adds 2, 1 left \(quota 5, 4 used\) \(neutron quota\): this object is the first over it`,
		`quota volume\.master\.root: volumes: plan adds 1, 0 left \(quota 0, 0 used\) \(cinder quota\): this object is the first over it`,
		`quota volume\.master\.root: gigabytes: plan adds 1, 0 left \(quota 0, 0 used\) \(cinder quota\): this object is the first over it`,
		`quota port\.slave-1\.mgmt: port: plan adds 7, 4 left \(quota 4, 0 used\) \(neutron quota\): this object is the first over it`,
		`quota server\.slave-1: instances: plan adds 3, 1 left \(quota 1, 0 used\) \(nova quota\): this object is the first over it`,
		`quota server\.slave-1: ram: plan adds 1536, 1000 left \(quota 1000, 0 used\) \(nova quota\): this object is the first over it`,
		`quota server\.slave-2: cores: plan adds 3, 2 left \(quota 2, 0 used\) \(nova quota\): this object is the first over it`,
		`quota floating_ip\.master: floatingip: plan adds 1, 0 left \(quota 0, 0 used\) \(neutron quota\): this object is the first over it`,
	}
	if !matchAll(got, want) {
		t.Errorf("findings on the real cloud:\n%s\nwant (regular expressions, in any order):\n%s\nquotas:\n%s",
			strings.Join(got, "\n"), strings.Join(want, "\n"), strings.Join(rep.Quotas, "\n"))
	}
	t.Logf("quotas on the real cloud:\n%s", strings.Join(rep.Quotas, "\n"))
	t.Logf("TestRealCloudQuotas took %s", time.Since(began).Round(100*time.Millisecond))
}

// matchAll: every line matches exactly one pattern and every pattern one
// line (each finding exactly once).
func matchAll(lines, patterns []string) bool {
	if len(lines) != len(patterns) {
		return false
	}
	used := make([]bool, len(lines))
	for _, p := range patterns {
		re := regexp.MustCompile("^" + p + "$")
		n := 0
		for i, l := range lines {
			if re.MatchString(l) {
				n++
				used[i] = true
			}
		}
		if n != 1 {
			return false
		}
	}
	return !slices.Contains(used, false)
}

// realCheck plans lab (realLab, named) on c and runs the checks, as
// fuelplan check does.
func realCheck(t *testing.T, ctx context.Context, c *resources.Cloud, spec string) *preflight.Report {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lab.yaml")
	if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	lab, diags := specs.LoadLab(path, func(string) (string, bool) { return "", false })
	if diags.HasErrors() {
		t.Fatal(diags.Errors())
	}
	reg := resources.Default()
	t.Cleanup(func() { _ = reg.Close() })
	st, err := engine.Read(ctx, c, reg, lab)
	if err != nil {
		t.Fatal(err)
	}
	p, err := engine.BuildPlan(lab, st, reg, engine.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var creates []specs.Address
	for _, ch := range p.Changes {
		if ch.Action == plan.Create {
			creates = append(creates, ch.Address)
		}
	}
	rep, err := preflight.Run(ctx, preflight.Input{Lab: lab, Cloud: c, Live: st.Live, Creates: creates})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// osc runs the openstack CLI as cloud.
func osc(t *testing.T, cloud string, args ...string) {
	t.Helper()
	out, err := exec.Command("openstack", append([]string{"--os-cloud", cloud}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("openstack %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// newProject makes a project for the test with the admin user as its
// member (not admin: a token scoped to it is a member's), and deletes it
// when the test ends, failed or not, with what Neutron, Nova and Cinder
// keep for it outside Keystone (its default security group, its quotas).
func newProject(t *testing.T, ctx context.Context, cloud string, adm *resources.Cloud) *projects.Project {
	t.Helper()
	_, eo, _, err := clouds.Parse(clouds.WithCloudName(cloud))
	if err != nil {
		t.Fatal(err)
	}
	id, err := openstack.NewIdentityV3(adm.Network.ProviderClient, eo)
	if err != nil {
		t.Fatal(err)
	}
	tok, ok := adm.Network.ProviderClient.GetAuthResult().(tokens.CreateResult)
	if !ok {
		t.Fatal("no token details from the admin's authentication")
	}
	user, err := tok.ExtractUser()
	if err != nil {
		t.Fatal(err)
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	p, err := projects.Create(ctx, id, projects.CreateOpts{Name: "fuelplan-preflight-" + hex.EncodeToString(rnd[:]),
		DomainID: user.Domain.ID, Description: "fuelplan's preflight quota test; it deletes the project when it ends"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pages, err := groups.List(adm.Network, groups.ListOpts{ProjectID: p.ID}).AllPages(ctx)
		if err == nil {
			gs, _ := groups.ExtractGroups(pages)
			for _, g := range gs {
				if err := groups.Delete(ctx, adm.Network, g.ID).ExtractErr(); err != nil {
					t.Errorf("delete security group %s of project %s: %v", g.ID, p.Name, err)
				}
			}
		}
		if err := quotas.Delete(ctx, adm.Network, p.ID).ExtractErr(); err != nil {
			t.Errorf("reset Neutron quotas of %s: %v", p.Name, err)
		}
		if err := quotasets.Delete(ctx, adm.Compute, p.ID).Err; err != nil {
			t.Errorf("reset Nova quotas of %s: %v", p.Name, err)
		}
		if adm.Volume != nil {
			if err := volquotas.Delete(ctx, adm.Volume, p.ID).ExtractErr(); err != nil {
				t.Errorf("reset Cinder quotas of %s: %v", p.Name, err)
			}
		}
		if err := projects.Delete(ctx, id, p.ID).ExtractErr(); err != nil {
			t.Errorf("delete project %s: %v", p.Name, err)
		}
	})
	pages, err := roles.List(id, roles.ListOpts{Name: "member"}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := roles.ExtractRoles(pages)
	if err != nil || len(rs) != 1 {
		t.Fatalf("role member: %v (%d found)", err, len(rs))
	}
	if err := roles.Assign(ctx, id, rs[0].ID, roles.AssignOpts{UserID: user.ID, ProjectID: p.ID}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	return p
}

// projectCloud is the admin entry of the clouds.yaml in use, scoped to
// project.
func projectCloud(t *testing.T, admin, project string) []byte {
	t.Helper()
	data, err := os.ReadFile(os.Getenv("OS_CLIENT_CONFIG_FILE"))
	if err != nil {
		t.Fatalf("the clouds.yaml of OS_CLIENT_CONFIG_FILE: %v", err)
	}
	var doc struct {
		Clouds map[string]map[string]any `yaml:"clouds"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal("clouds.yaml does not parse")
	}
	entry, ok := doc.Clouds[admin]
	if !ok {
		t.Fatalf("no cloud %q in clouds.yaml", admin)
	}
	auth, _ := entry["auth"].(map[string]any)
	if auth == nil {
		t.Fatalf("cloud %q has no auth section", admin)
	}
	auth["project_name"] = project
	delete(auth, "project_id")
	out, err := yaml.Marshal(map[string]any{"clouds": map[string]any{"pf": entry}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
