package engine_test

import (
	"slices"
	"testing"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/specs"
)

const trunkSpec = `apiVersion: fuelplan/v1
lab: g
vlan_mode: trunk
images: [{name: cirros, existing: true}]
flavors: [{name: m1.small, existing: true}]
networks:
  - {name: public, cidr: 172.16.0.0/24}
  - {name: "tenant-{vlan}", cidr: 10.40.0.0/24}
master:
  flavor: m1.small
  image: cirros
  ports:
    - network: public
      vlans: [{network: "tenant-{vlan}", ids: 1001-1002}]
`

// TestOrphanSubportWaitsForItsTrunk: a port the spec dropped may still be
// a subport (Neutron answers 409 PortInUseAsSubPort to its delete), so its
// delete waits for the trunk's update that removes it from the trunk.
func TestOrphanSubportWaitsForItsTrunk(t *testing.T) {
	s, diags := specs.Parse("lab.yaml", []byte(trunkSpec), nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	lab, err := specs.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	trunk := specs.Address("trunk.master.public")
	orphan := specs.Address("port.master.tenant-1000")
	p := &plan.Plan{Changes: []plan.Change{
		{Address: trunk, Action: plan.Update},
		{Address: orphan, Action: plan.Delete},
	}}
	g, err := engine.Graph(lab, p)
	if err != nil {
		t.Fatal(err)
	}
	del := engine.Op{Phase: engine.PhaseDestroy, Address: orphan}
	if !slices.Contains(g[del], engine.Op{Phase: engine.PhaseUpdate, Address: trunk}) {
		t.Fatalf("the orphan subport's delete waits for %v, not for the trunk's update", g[del])
	}
}
