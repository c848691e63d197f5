package engine_test

import (
	"slices"
	"testing"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// TestBuildPlanTrunks: drift of a trunk's subports is planned back in
// place; a subport whose port is replaced replaces the trunk (Neutron can
// neither delete a subport nor re-point one), but not the server.
func TestBuildPlanTrunks(t *testing.T) {
	t.Parallel()
	lab, diags := specs.LoadLab("testdata/plandata/vlan.yaml", func(string) (string, bool) { return "", false })
	if diags.HasErrors() {
		t.Fatalf("spec: %v", diags)
	}
	reg := resources.Default()
	const trunk = specs.Address("trunk.slave-01.public")
	tests := []struct {
		name string
		edit func(live)
		want []string
	}{
		{name: "converged lab plans nothing", edit: func(live) {}},
		{
			name: "a subport removed by hand is added back in place",
			edit: func(l live) {
				delete(l[trunk].Fields, "subports.slave-01.mgmt")
				delete(l[trunk].Fields, "vlan.slave-01.mgmt")
			},
			want: []string{"update trunk.slave-01.public [subports.slave-01.mgmt=->port.slave-01.mgmt vlan.slave-01.mgmt=->101]"},
		},
		{
			name: "a subport added by hand is removed in place",
			edit: func(l live) {
				l[trunk].Fields["subports.stray-id"] = "stray-id"
				l[trunk].Fields["vlan.stray-id"] = "999"
			},
			want: []string{"update trunk.slave-01.public [subports.stray-id=stray-id-> vlan.stray-id=999->]"},
		},
		{
			name: "a VLAN ID changed by hand is put back in place",
			edit: func(l live) { l[trunk].Fields["vlan.slave-01.tenant-1000"] = "1999" },
			want: []string{"update trunk.slave-01.public [vlan.slave-01.tenant-1000=1999->1000]"},
		},
		{
			name: "a replaced subport replaces the trunk, not the server",
			edit: func(l live) { l["subnet.tenant-1000"].Fields["cidr"] = "10.99.0.0/24" },
			want: []string{
				"replace subnet.tenant-1000 [cidr=10.99.0.0/24->10.40.0.0/24!] field:cidr",
				"replace port.slave-01.tenant-1000 [subnet=subnet.tenant-1000->subnet.tenant-1000!?] dependency:subnet<-subnet.tenant-1000",
				"replace trunk.slave-01.public [subports.slave-01.tenant-1000=port.slave-01.tenant-1000->port.slave-01.tenant-1000!?] dependency:subports.slave-01.tenant-1000<-port.slave-01.tenant-1000",
			},
		},
		{
			// Removed from the trunk and deleted by hand: Neutron refuses to
			// delete a port while it is a subport.
			name: "a subport missing from the cloud is created and added in place",
			edit: func(l live) {
				delete(l, "port.slave-01.mgmt")
				delete(l[trunk].Fields, "subports.slave-01.mgmt")
			},
			want: []string{
				"create port.slave-01.mgmt [name=pv-slave-01-mgmt network=network.mgmt subnet=subnet.mgmt]",
				"update trunk.slave-01.public [subports.slave-01.mgmt=->port.slave-01.mgmt?]",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := converged(lab, reg)
			tt.edit(l)
			st, err := engine.NewState(lab, reg, l.objects()...)
			if err != nil {
				t.Fatal(err)
			}
			p, err := engine.BuildPlan(lab, st, reg, engine.PlanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := brief(p); !slices.Equal(got, tt.want) {
				t.Errorf("plan:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
