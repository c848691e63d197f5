package resources_test

import (
	"slices"
	"testing"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// Who owns a port's security is decided in one place: with an api or auto
// DHCP patch on it the port leaves port_security and security_groups out
// of its desired view (the patch turns them off); otherwise it keeps them.
func TestPortSecurityFollowsPatch(t *testing.T) {
	t.Parallel()
	off := false
	tests := []struct {
		name       string
		port       specs.Port
		wantFollow bool
		wantFields []string // security fields in the desired view
	}{
		// Groups need port security on: it is desired with them.
		{"no patch", specs.Port{SecurityGroups: []specs.Address{"security_group.lab"}}, false, []string{"port_security", "security_groups"}},
		{"ssh patch", specs.Port{DHCPPatch: "ssh", SecurityGroups: []specs.Address{"security_group.lab"}}, false, []string{"port_security", "security_groups"}},
		{"ssh patch, security off", specs.Port{DHCPPatch: "ssh", PortSecurity: &off}, false, []string{"port_security", "security_groups"}},
		{"api patch", specs.Port{DHCPPatch: "api", SecurityGroups: []specs.Address{"security_group.lab"}}, true, nil},
		{"auto patch", specs.Port{DHCPPatch: "auto", SecurityGroups: []specs.Address{"security_group.lab"}}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.port
			p.Meta = specs.Meta{Address: "port.master.admin", Name: "lab-master-admin"}
			if got := resources.PortSecurityFollowsPatch(&p); got != tt.wantFollow {
				t.Errorf("PortSecurityFollowsPatch = %v, want %v", got, tt.wantFollow)
			}
			d := resources.Port{}.Desired(&p)
			var got []string
			for _, f := range []string{"port_security", "security_groups"} {
				_, inFields := d.Fields[f]
				_, inRefs := d.Refs[f]
				if inFields || inRefs {
					got = append(got, f)
				}
			}
			if !slices.Equal(got, tt.wantFields) {
				t.Errorf("desired security fields %v, want %v", got, tt.wantFields)
			}
		})
	}
}

// The compiler tells the port which patch is on it (fuel-lab: auto).
func TestCompiledPortKnowsItsPatch(t *testing.T) {
	t.Parallel()
	lab, diags := specs.LoadLab("../examples/fuel-lab.yaml", func(string) (string, bool) { return "", false })
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for a, want := range map[specs.Address]string{"port.master.admin": "auto", "port.slave-01.admin": ""} {
		r, ok := lab.Resource(a)
		if !ok {
			t.Fatalf("no %s", a)
		}
		if got := r.(*specs.Port).DHCPPatch; got != want {
			t.Errorf("%s: DHCPPatch %q, want %q", a, got, want)
		}
	}
}
