package resources

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/utils"
)

// Microversion is a Nova API microversion, 2.61 as {2, 61}.
type Microversion struct{ Major, Minor int }

func (v Microversion) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// Less orders microversions: 2.9 comes before 2.61.
func (v Microversion) Less(w Microversion) bool {
	return v.Major < w.Major || (v.Major == w.Major && v.Minor < w.Minor)
}

// ParseMicroversion reads "2.61".
func ParseMicroversion(s string) (Microversion, error) {
	maj, mn, ok := strings.Cut(s, ".")
	a, errA := strconv.Atoi(maj)
	b, errB := strconv.Atoi(mn)
	if !ok || errA != nil || errB != nil {
		return Microversion{}, fmt.Errorf("microversion %q is not MAJOR.MINOR", s)
	}
	return Microversion{a, b}, nil
}

// ComputeVersions reads the microversion range the compute API serves
// from its version document (GET on the compute endpoint, which real Zed
// answers {"version": {"id": "v2.1", "min_version": "2.1", "version":
// "2.93", ...}}). The request carries no microversion: Nova answers a
// version it does not serve with 406, even for this document.
func ComputeVersions(ctx context.Context, c *Cloud) (lo, hi Microversion, err error) {
	sc := *c.Compute
	sc.Microversion = ""
	mv, err := utils.GetSupportedMicroversions(ctx, &sc)
	if err != nil {
		return lo, hi, fmt.Errorf("read the compute API's version document at %s: %w", sc.Endpoint, Humanize(err))
	}
	return Microversion{mv.MinMajor, mv.MinMinor}, Microversion{mv.MaxMajor, mv.MaxMinor}, nil
}

// keypairQuota is Nova's keypair quota for the token's user: the limit
// from the absolute limits (maxTotalKeypairs; Nova counts keypairs per
// user) and, as real Zed's limits report no totalKeypairsUsed, the user's
// keypairs counted by listing them.
func keypairQuota(ctx context.Context, c *Cloud, limit int) (Quota, error) {
	pages, err := keypairs.List(c.Compute, nil).AllPages(ctx)
	if err != nil {
		return Quota{}, fmt.Errorf("list keypairs: %w", Humanize(err))
	}
	ks, err := keypairs.ExtractKeyPairs(pages)
	if err != nil {
		return Quota{}, fmt.Errorf("list keypairs: %w", err)
	}
	return Quota{Service: "nova", Resource: "keypairs", Limit: limit, Used: len(ks)}, nil
}

// glanceQuotas reads Glance's per-project limits and usage from GET
// /v2/info/usage. Glance reports them only with Keystone's unified limits
// on (use_keystone_limits, off by default): real Zed answers {"usage": {}}
// otherwise, and a Glance older than Xena has no such URL (404); both mean
// there is no quota to compare, and give none. With them on, Glance lists
// image_size_total, image_stage_total (MiB), image_count_total and
// image_count_uploading, {"limit", "usage"} each (Glance 25's
// discovery.get_usage); fuelplan compares the first and third.
func glanceQuotas(ctx context.Context, c *Cloud) ([]Quota, error) {
	var body struct {
		Usage map[string]struct {
			Limit int `json:"limit"`
			Usage int `json:"usage"`
		} `json:"usage"`
	}
	_, err := c.Image.Get(ctx, c.Image.ServiceURL("info", "usage"), &body, nil)
	if gophercloud.ResponseCodeIs(err, 404) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read usage: %w", Humanize(err))
	}
	var qs []Quota
	for _, name := range []string{GlanceImageSize, GlanceImageCount} {
		if u, ok := body.Usage[name]; ok {
			qs = append(qs, Quota{Service: "glance", Resource: name, Limit: u.Limit, Used: u.Usage})
		}
	}
	return qs, nil
}

// Glance's unified-limit names the checks compare: the total size of the
// project's images in MiB, and their number.
const (
	GlanceImageSize  = "image_size_total"
	GlanceImageCount = "image_count_total"
)
