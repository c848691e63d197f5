package preflight

import (
	"fmt"
	"strings"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// novaUse is something the spec asks of Nova and the microversion it
// first appeared in (the compute API reference; resources/server.go and
// flavor.go for why fuelplan uses it).
type novaUse struct {
	what string
	need string
}

// novaUses lists what the lab asks of Nova, with each need, and the
// object the microversion finding is reported at: the first server (the
// first flavor or keypair in a lab without one).
func (r *runner) novaUses() (uses []novaUse, at specs.Resource) {
	var bdm, noPorts, flavors, keypairs, servers bool
	var firstOther specs.Resource
	r.each(func(res specs.Resource) {
		switch v := res.(type) {
		case *specs.Server:
			if at == nil {
				at = v
			}
			servers = true
			bdm = bdm || len(v.BlockDevices) > 0
			noPorts = noPorts || len(v.Ports) == 0
		case *specs.Flavor:
			flavors = true
			if firstOther == nil {
				firstOther = v
			}
		case *specs.Keypair:
			keypairs = true
			if firstOther == nil {
				firstOther = v
			}
		}
	})
	if at == nil {
		at = firstOther
	}
	if servers {
		uses = append(uses, novaUse{"servers tagged with the lab's mark at create", "2.52"})
	}
	if flavors {
		uses = append(uses, novaUse{"flavors listed with their extra_specs (the mark)", "2.61"})
	}
	if noPorts {
		uses = append(uses, novaUse{`a server without ports (networks "none")`, "2.37"})
	}
	if bdm {
		// block_device_mapping_v2 has device_type, disk_bus and
		// boot_index from 2.1 on; its tag (2.42) and volume_type (2.67)
		// are not spec fields.
		uses = append(uses, novaUse{"volumes attached at boot with device_type, disk_bus and boot_index (block_device_mapping_v2)", "2.1"})
	}
	if keypairs {
		uses = append(uses, novaUse{"keypairs", "2.1"})
	}
	return uses, at
}

// microversion: the compute API must serve the microversion fuelplan
// sends with every Nova request (resources.ComputeMicroversion), which
// covers everything the spec's Nova objects need. It runs without the
// live read: on a Nova too old, that read is refused too.
func (r *runner) microversion() {
	uses, at := r.novaUses()
	if at == nil {
		return
	}
	lo, hi, err := resources.ComputeVersions(r.ctx, r.in.Cloud)
	if err != nil {
		if r.ctx.Err() == nil {
			r.add(CheckMicroversion, Warning, at, "nothing to do; if Nova is reachable, ask the cloud's admin why its version document is not",
				"Nova's microversions not checked: %v", err)
		}
		return
	}
	sent, err := resources.ParseMicroversion(resources.ComputeMicroversion)
	if err != nil || (!sent.Less(lo) && !hi.Less(sent)) {
		return
	}
	parts := make([]string, len(uses))
	for i, u := range uses {
		parts[i] = fmt.Sprintf("%s: %s", u.what, u.need)
	}
	r.add(CheckMicroversion, Error, at,
		fmt.Sprintf("use a cloud whose Nova serves microversion %s (OpenStack Rocky or later)", sent),
		"the compute API serves microversions %s to %s, and fuelplan sends %s with every Nova request, so Nova would refuse each with 406 Not Acceptable (what this lab needs, by microversion: %s)",
		lo, hi, sent, strings.Join(parts, "; "))
}
