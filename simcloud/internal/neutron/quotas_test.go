package neutron

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
)

type quotaDetail struct {
	Limit    int `json:"limit"`
	Used     int `json:"used"`
	Reserved int `json:"reserved"`
}

func getDetails(t *testing.T, c *testCloud, token, project string) (map[string]quotaDetail, error) {
	t.Helper()
	sc := c.member
	switch token {
	case "admin":
		sc = c.admin
	case "other":
		sc = c.other
	}
	var body struct {
		Quota map[string]quotaDetail `json:"quota"`
	}
	err := quotas.GetDetail(context.Background(), sc, project).ExtractInto(&body)
	return body.Quota, err
}

// Real Zed answers GET /v2.0/quotas/{project}/details with every resource's
// limit, used and reserved, -1 for unlimited, and a member asking for
// another project gets 403 AdminRequired ("Only admin is authorized to
// access quotas for another project.").
func TestQuotaDetails(t *testing.T) {
	cfg := defaultConfig()
	cfg.Quotas = map[string]int{"network": 3, "port": 500}
	c := newTestCloud(t, cfg)
	ctx := context.Background()
	for _, name := range []string{"a", "b"} {
		must[*networks.Network](t)(networks.Create(ctx, c.member, networks.CreateOpts{Name: name}).Extract())
	}
	got, err := getDetails(t, c, "member", "p-demo")
	if err != nil {
		t.Fatal(err)
	}
	for res, want := range map[string]quotaDetail{
		"network":             {Limit: 3, Used: 2},
		"port":                {Limit: 500, Used: 0},
		"subnet":              {Limit: -1, Used: 0},
		"security_group":      {Limit: -1, Used: 1}, // the project's default group
		"security_group_rule": {Limit: -1, Used: 4},
	} {
		if got[res] != want {
			t.Errorf("%s: got %+v, want %+v", res, got[res], want)
		}
	}
	// The trunk line comes with the trunk extension (the default world
	// has it, as real Zed with the trunk service plugin does).
	if got["trunk"] != (quotaDetail{Limit: -1, Used: 0}) {
		t.Errorf("trunk: got %+v, want limit -1, used 0", got["trunk"])
	}
	noTrunk := defaultConfig()
	noTrunk.Extensions = slices.DeleteFunc(slices.Clone(DefaultExtensions), func(e string) bool { return e == "trunk" || e == "trunk-details" })
	if got, err := getDetails(t, newTestCloud(t, noTrunk), "member", "p-demo"); err != nil {
		t.Fatal(err)
	} else if _, ok := got["trunk"]; ok {
		t.Error("trunk reported by a cloud without the trunk extension")
	}

	if _, err := getDetails(t, c, "member", "p-other"); err == nil {
		t.Fatal("a member read another project's quotas")
	} else {
		wantFault(t, err, http.StatusForbidden, "AdminRequired")
	}
	if got, err := getDetails(t, c, "admin", "p-demo"); err != nil || got["network"].Used != 2 {
		t.Fatalf("admin reading the demo project: %v %+v", err, got["network"])
	}
}

// Without the quota_details extension real Neutron has no such resource: 404.
func TestQuotaDetailsNeedsExtension(t *testing.T) {
	cfg := defaultConfig()
	cfg.Extensions = []string{"quotas", "router", "external-net"}
	c := newTestCloud(t, cfg)
	_, err := getDetails(t, c, "member", "p-demo")
	wantFault(t, err, http.StatusNotFound, "")
}
