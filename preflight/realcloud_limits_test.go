package preflight_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"

	"github.com/fuelplan/fuelplan/resources"
)

// limitsLab needs a keypair, a trunk (vlan_mode trunk: real Zed also has
// vlan-transparent, which auto would choose) whose VLAN network (mtu
// 1450) is above its parent's (mtu 1400), and Nova microversion 2.61.
const limitsLab = `apiVersion: fuelplan/v1
lab: LAB
vlan_mode: trunk
images:
  - {name: cirros, existing: true}
flavors:
  - {name: m1.tiny, existing: true}
networks:
  - {name: admin, cidr: 10.20.0.0/24, dhcp: false}
  - {name: mgmt, cidr: 192.168.0.0/24, dhcp: false, mtu: 1400}
  - {name: storage, cidr: 192.168.1.0/24, dhcp: false, mtu: 1450}
keypair:
  name: key
  public_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl pf@test
master:
  flavor: m1.tiny
  image: cirros
  keypair: key
  ports:
    - {network: admin, fixed_ip: 10.20.0.2, port_security: false}
    - network: mgmt
      vlans:
        - {network: storage, id: 102}
`

// TestRealCloudLimits runs the keypair, trunk, microversion and MTU
// checks on the real loopback cloud in a project of its own (newProject):
// the key-pairs quota lowered to 0 with the openstack CLI, the trunk
// quota to 0 through Neutron's API (the CLI has no option for it). Real
// Zed reports maxTotalKeypairs 0 and no keypair usage (the user's
// keypairs are counted), trunk in its quota details, microversions up to
// 2.93 (no finding), the MTUs as the spec sets them, and no Glance quota
// ({"usage": {}}). It runs only with FUELPLAN_TEST_ADMIN_CLOUD naming an
// admin clouds.yaml entry:
//
//	OS_CLIENT_CONFIG_FILE=/tmp/oscloud/clouds.yaml FUELPLAN_TEST_ADMIN_CLOUD=admin \
//	go test -run RealCloudLimits ./preflight/
func TestRealCloudLimits(t *testing.T) {
	admin := os.Getenv("FUELPLAN_TEST_ADMIN_CLOUD")
	if admin == "" {
		t.Skip("FUELPLAN_TEST_ADMIN_CLOUD is not set (make e2e-real sets it)")
	}
	ctx := context.Background()
	adm, err := resources.Connect(ctx, resources.Target{CloudName: admin})
	if err != nil {
		t.Fatal(err)
	}
	project := newProject(t, ctx, admin, adm)
	osc(t, admin, "quota", "set", "--key-pairs", "0", project.ID)
	zero := 0
	if _, err := quotas.Update(ctx, adm.Network, project.ID, quotas.UpdateOpts{Trunk: &zero}).Extract(); err != nil {
		t.Fatal(err)
	}
	c, err := resources.Connect(ctx, resources.Target{CloudName: "pf", CloudsYAML: projectCloud(t, admin, project.Name)})
	if err != nil {
		t.Fatal(err)
	}
	rep := realCheck(t, ctx, c, strings.Replace(limitsLab, "LAB", project.Name, 1))
	var got []string
	for _, f := range rep.Findings {
		got = append(got, f.Check+" "+string(f.Address)+": "+f.Message)
	}
	// The admin user's keypairs (other tests make some) are the used ones.
	want := []string{
		`mtu network\.storage: trunk trunk\.master\.mgmt: VLAN 102's network storage has MTU 1450 \(its mtu in the spec\), more than the parent network mgmt's 1400 \(its mtu in the spec\): .*409 SubPortMtuGreaterThanTrunkPortMtu.*`,
		`quota keypair\.key: keypairs: plan adds 1, 0 left \(quota 0, \d+ used\) \(nova quota\): this object is the first over it`,
		`quota trunk\.master\.mgmt: trunk: plan adds 1, 0 left \(quota 0, 0 used\) \(neutron quota\): this object is the first over it`,
	}
	if !matchAll(got, want) {
		t.Errorf("findings on the real cloud:\n%s\nwant (regular expressions, in any order):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, l := range rep.Quotas {
		if strings.HasPrefix(l, "image_") {
			t.Errorf("a Glance quota line, where real Zed's Glance reports none: %q", l)
		}
	}
	t.Logf("quotas on the real cloud:\n%s", strings.Join(rep.Quotas, "\n"))
}
