package preflight

import (
	"fmt"
	"os"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

const mib = 1 << 20

// countImage counts an image the lab uploads against Glance's limits:
// one image, and its file's size in MiB (Glance's unit), rounded up.
// Glance reports these only with Keystone's unified limits on; real Zed
// by default reports none, and then nothing is compared.
func (r *runner) countImage(im *specs.Image, count func(specs.Resource, string, int)) {
	if im.Existing {
		return
	}
	count(im, resources.GlanceImageCount, 1)
	if st, err := os.Stat(im.File); err == nil {
		count(im, resources.GlanceImageSize, int((st.Size()+mib-1)/mib))
	}
}

// quotaFix says how to raise quota q to need.
func quotaFix(q resources.Quota, need int) string {
	switch q.Service {
	case "glance":
		return fmt.Sprintf("ask the cloud's admin to raise the project's Glance limit %s to at least %d%s (openstack limit create --service glance --project PROJECT --resource-limit %d %s, or openstack limit set on the project's existing limit), or upload less",
			q.Resource, need, quotaUnit(q.Resource), need, q.Resource)
	}
	switch q.Resource {
	case "keypairs":
		return fmt.Sprintf("raise the project's key-pairs quota to at least %d (openstack quota set --key-pairs %d PROJECT; Nova counts each user's keypairs against it), or delete keypairs of this user", need, need)
	case "trunk":
		return fmt.Sprintf("raise the project's trunk quota to at least %d (openstack quota set has no option for it: PUT /v2.0/quotas/PROJECT {\"quota\": {\"trunk\": %d}} on Neutron), or plan fewer trunks (vlan_mode transparent needs none)", need, need)
	}
	return fmt.Sprintf("raise the project's %s quota to at least %d (openstack quota set --%s %d PROJECT), or plan fewer", q.Resource, need, quotaFlag(q.Resource), need)
}

// quotaUnit is the unit a quota's figures are in where its name does not
// say it: Glance's image_size_total counts MiB (ram and gigabytes name
// theirs).
func quotaUnit(resource string) string {
	if resource == resources.GlanceImageSize {
		return " MiB"
	}
	return ""
}
