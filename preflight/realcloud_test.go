package preflight_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/preflight"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// realLab uses what the loopback cloud of /work/shared/realcloud offers
// (external network public, image cirros, flavor m1.tiny) and every
// extension-dependent field, so an alias misspelled here would show as a
// finding on a cloud that has them all.
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
master:
  flavor: m1.tiny
  ports:
    - {network: admin, fixed_ip: 10.20.0.2}
    - {network: mgmt}
  volumes:
    - {name: root, image: cirros, size: 1, boot_index: 0}
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

// TestRealCloudQuotas runs the checks on the real loopback cloud in a
// project of its own whose port and volume quotas it lowers with the
// openstack CLI: real Neutron's quota details and Cinder's quota usage
// give exactly one finding each, and the extensions real Zed lists give
// none. It runs only with FUELPLAN_TEST_ADMIN_CLOUD naming an admin
// clouds.yaml entry (it creates and deletes a project):
//
//	OS_CLIENT_CONFIG_FILE=/tmp/oscloud/clouds.yaml FUELPLAN_TEST_ADMIN_CLOUD=admin \
//	go test -run RealCloud ./preflight/
func TestRealCloudQuotas(t *testing.T) {
	admin := os.Getenv("FUELPLAN_TEST_ADMIN_CLOUD")
	if admin == "" {
		t.Skip("FUELPLAN_TEST_ADMIN_CLOUD is not set")
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	project := "preflight-" + hex.EncodeToString(rnd[:])
	osc := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("/usr/bin/openstack", append([]string{"--os-cloud", admin}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("openstack %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	osc("project", "create", "--domain", "Default", project)
	t.Cleanup(func() { osc("project", "delete", project) })
	osc("role", "add", "--project", project, "--user", "admin", "member")
	// The lab adds 6 server ports and a router interface, and one volume.
	osc("quota", "set", "--ports", "4", "--volumes", "0", project)

	cloudsYAML := projectCloud(t, admin, project)
	c, err := resources.Connect(context.Background(), resources.Target{CloudName: "pf", CloudsYAML: cloudsYAML})
	if err != nil {
		t.Fatal(err)
	}
	if c.Admin {
		t.Fatal("the project's token carries the admin role; want a member")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "lab.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(realLab, "LAB", project, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	lab, diags := specs.LoadLab(path, func(string) (string, bool) { return "", false })
	if diags.HasErrors() {
		t.Fatal(diags.Errors())
	}
	reg := resources.Default()
	t.Cleanup(func() { _ = reg.Close() })
	ctx := context.Background()
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
	var got []string
	for _, f := range rep.Findings {
		got = append(got, f.Check+" "+string(f.Address)+": "+f.Message)
	}
	want := []string{ // in spec order
		"quota volume.master.root: volumes: plan adds 1, 0 left (quota 0, 0 used) (cinder quota): this object is the first over it",
		"quota port.slave-1.mgmt: port: plan adds 7, 4 left (quota 4, 0 used) (neutron quota): this object is the first over it",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings on the real cloud:\n%s\nwant:\n%s\nquotas:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), strings.Join(rep.Quotas, "\n"))
	}
	t.Logf("quotas on the real cloud:\n%s", strings.Join(rep.Quotas, "\n"))
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
