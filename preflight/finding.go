// Package preflight finds, before apply, what would make it fail or build a
// lab Fuel cannot use: missing local files, exhausted quotas, missing
// lookups, flavors too small for their images, API extensions the spec
// relies on, Fuel's needs on the admin network, nested VLANs, and rights.
// It reads the cloud only through package resources; its findings are
// data, rendered by the CLI (docs/checks.md lists every check).
package preflight

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fuelplan/fuelplan/specs"
)

// Severity says whether a finding stops apply.
type Severity string

const (
	Error   Severity = "error"   // apply refuses to start (unless --skip-check)
	Warning Severity = "warning" // printed; apply goes on
)

// Check names, as `--skip-check NAME` takes them and docs/checks.md lists them.
const (
	CheckImageFile    = "image-file"
	CheckSSHFiles     = "ssh-files"
	CheckKeypair      = "keypair-key"
	CheckQuota        = "quota"
	CheckLookup       = "lookup"
	CheckFlavorFit    = "flavor-fit"
	CheckVolumeFit    = "volume-fit"
	CheckFlavorAdmin  = "flavor-admin"
	CheckExtension    = "extension"
	CheckFuelDHCP     = "fuel-dhcp"
	CheckFuelReplies  = "fuel-dhcp-replies"
	CheckFuelMasterIP = "fuel-master-ip"
	CheckNestedVLAN   = "nested-vlan"
	CheckAdminRole    = "admin-role"
	CheckSSHReach     = "ssh-reach"
	CheckMicroversion = "microversion"
	CheckMTU          = "mtu"
)

// Checks is every check's name, in the order the report lists them.
var Checks = []string{
	CheckImageFile, CheckSSHFiles, CheckKeypair, CheckQuota, CheckLookup, CheckFlavorFit, CheckVolumeFit,
	CheckFlavorAdmin, CheckExtension, CheckMicroversion, CheckFuelDHCP, CheckFuelReplies, CheckFuelMasterIP, CheckMTU,
	CheckNestedVLAN, CheckAdminRole, CheckSSHReach,
}

// Finding is one problem: which check, how bad, the spec position and
// address it concerns, what is wrong and how to fix it.
type Finding struct {
	Check    string        `json:"check"`
	Severity Severity      `json:"severity"`
	Address  specs.Address `json:"address,omitempty"`
	At       specs.Pos     `json:"position"`
	Message  string        `json:"message"`
	Fix      string        `json:"fix"`
}

// String renders "FILE:LINE:COL: error: [check] message (fix: ...)".
func (f Finding) String() string {
	return fmt.Sprintf("%s: %s: [%s] %s\n    fix: %s", f.At, f.Severity, f.Check, f.Message, f.Fix)
}

// Report is what one preflight run found.
type Report struct {
	Findings []Finding `json:"findings"`
	// Quotas is one line per quota kind the lab uses:
	// "port: plan adds 801, 499 left (quota 500, 1 used)".
	Quotas []string `json:"quotas,omitempty"`
	// Files is one line per local file apply uploads, with its size:
	// "image fuel: /labs/fuel.iso, 3.1 GiB".
	Files []string `json:"files,omitempty"`
	// Skipped are the checks the operator overrode with --skip-check.
	Skipped []string `json:"skipped,omitempty"`
}

// Errors counts the findings that stop apply.
func (r *Report) Errors() int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == Error {
			n++
		}
	}
	return n
}

// Summary is the report's last line: "preflight: 2 errors, 1 warning".
func (r *Report) Summary() string {
	e := r.Errors()
	w := len(r.Findings) - e
	s := fmt.Sprintf("preflight: %d error%s, %d warning%s", e, plural(e), w, plural(w))
	if len(r.Skipped) > 0 {
		s += " (skipped: " + strings.Join(r.Skipped, ", ") + ")"
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// ValidCheck reports whether name is a check --skip-check can name.
func ValidCheck(name string) bool { return slices.Contains(Checks, name) }

// sortFindings orders by position, then check and address, so output is
// the same on every run.
func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if c := strings.Compare(a.At.File, b.At.File); c != 0 {
			return c
		}
		if a.At.Line != b.At.Line {
			return a.At.Line - b.At.Line
		}
		if a.At.Col != b.At.Col {
			return a.At.Col - b.At.Col
		}
		if c := strings.Compare(a.Check, b.Check); c != 0 {
			return c
		}
		return strings.Compare(string(a.Address), string(b.Address))
	})
}
