package resources

import (
	"context"
	"fmt"
	"sort"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/limits"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
)

// Quota is one project quota as its service reports it: Neutron's quota
// details, Nova's absolute limits (keypairs: the user's, counted),
// Cinder's quota usage, Glance's usage where unified limits are on. Limit
// -1 is unlimited. Used includes what the service holds reserved.
type Quota struct {
	Service  string // "neutron", "nova", "cinder", "glance"
	Resource string // the service's own name: "port", "cores", "gigabytes"
	Limit    int
	Used     int
}

// Left is what the project may still add; ok is false when unlimited.
func (q Quota) Left() (left int, ok bool) {
	if q.Limit < 0 {
		return 0, false
	}
	return max(q.Limit-q.Used, 0), true
}

// Quotas reads the project's quotas from every service that reports them.
// A service that cannot say (Neutron without quota_details, a cloud
// without Cinder, a policy refusal) is named in unread with the reason,
// not an error: the check then says the kind went unchecked.
func Quotas(ctx context.Context, c *Cloud) (qs []Quota, unread []string) {
	if !c.HasExtension("quota_details") {
		unread = append(unread, "neutron: the cloud lacks the quota_details extension")
	} else {
		var body struct {
			Quota map[string]struct {
				Limit    int `json:"limit"`
				Used     int `json:"used"`
				Reserved int `json:"reserved"`
			} `json:"quota"`
		}
		if err := quotas.GetDetail(ctx, c.Network, c.ProjectID).ExtractInto(&body); err != nil {
			unread = append(unread, fmt.Sprintf("neutron: %v", Humanize(err)))
		}
		for res, d := range body.Quota {
			qs = append(qs, Quota{Service: "neutron", Resource: res, Limit: d.Limit, Used: d.Used + d.Reserved})
		}
	}
	lres := limits.Get(ctx, c.Compute, limits.GetOpts{})
	if l, err := lres.Extract(); err != nil {
		unread = append(unread, fmt.Sprintf("nova: %v", Humanize(err)))
	} else {
		a := l.Absolute
		qs = append(qs,
			Quota{Service: "nova", Resource: "instances", Limit: a.MaxTotalInstances, Used: a.TotalInstancesUsed},
			Quota{Service: "nova", Resource: "cores", Limit: a.MaxTotalCores, Used: a.TotalCoresUsed},
			Quota{Service: "nova", Resource: "ram", Limit: a.MaxTotalRAMSize, Used: a.TotalRAMUsed})
		// Absent (gophercloud would say 0), the keypair limit is unknown.
		var raw struct {
			Limits struct {
				Absolute map[string]*int `json:"absolute"`
			} `json:"limits"`
		}
		if lres.ExtractInto(&raw) == nil && raw.Limits.Absolute["maxTotalKeypairs"] != nil {
			if kq, err := keypairQuota(ctx, c, *raw.Limits.Absolute["maxTotalKeypairs"]); err != nil {
				unread = append(unread, fmt.Sprintf("nova keypairs: %v", err))
			} else {
				qs = append(qs, kq)
			}
		}
	}
	if gq, err := glanceQuotas(ctx, c); err != nil {
		unread = append(unread, fmt.Sprintf("glance: %v", err))
	} else {
		qs = append(qs, gq...)
	}
	if c.Volume == nil {
		unread = append(unread, "cinder: the cloud has no block-storage endpoint")
	} else if u, err := quotasets.GetUsage(ctx, c.Volume, c.ProjectID).Extract(); err != nil {
		unread = append(unread, fmt.Sprintf("cinder: %v", Humanize(err)))
	} else {
		qs = append(qs,
			Quota{Service: "cinder", Resource: "volumes", Limit: u.Volumes.Limit, Used: u.Volumes.InUse + u.Volumes.Reserved},
			Quota{Service: "cinder", Resource: "gigabytes", Limit: u.Gigabytes.Limit, Used: u.Gigabytes.InUse + u.Gigabytes.Reserved})
	}
	sort.Slice(qs, func(i, j int) bool {
		if qs[i].Service != qs[j].Service {
			return qs[i].Service < qs[j].Service
		}
		return qs[i].Resource < qs[j].Resource
	})
	return qs, unread
}

// ImageFacts are what a server or volume needs of an image: its size and
// the disk and RAM it asks for.
type ImageFacts struct {
	SizeBytes int64
	MinDiskGB int
	MinRAMMB  int
}

// ReadImageFacts reads an image's size and minimums by ID.
func ReadImageFacts(ctx context.Context, c *Cloud, id string) (ImageFacts, error) {
	im, err := images.Get(ctx, c.Image, id).Extract()
	if err != nil {
		return ImageFacts{}, Humanize(err)
	}
	return ImageFacts{SizeBytes: im.SizeBytes, MinDiskGB: im.MinDiskGigabytes, MinRAMMB: im.MinRAMMegabytes}, nil
}
