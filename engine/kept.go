package engine

import "github.com/fuelplan/fuelplan/specs"

// Kept lists, in address order, the lab's objects a destroy leaves in
// place: those the spec marks `protect: true` that exist on the cloud.
// (The planner applies the same rule when it plans a destroy.)
func Kept(lab *specs.Lab, st *State) []specs.Address {
	var out []specs.Address
	for _, a := range lab.Addresses() {
		r, _ := lab.Resource(a)
		if isProtected(r) && len(st.owned[a]) > 0 {
			out = append(out, a)
		}
	}
	return out
}
