package e2e

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/fuelplan/fuelplan/resources"
)

// inventory is what the user's project holds, by kind, as sorted
// "ID name" lines: "the cloud as it was" is an equal inventory. It is
// scoped to the project so that a shared cloud's other tenants do not
// count; tag is set to list only objects carrying that tag instead.
type inventory map[string][]string

func (e *env) inventory(tag string) inventory {
	e.t.Helper()
	ctx := context.Background()
	q := resources.InventoryQuery{ProjectID: e.cloud.ProjectID, Tag: tag, NamePrefix: e.lab + "-"}
	inv := inventory{}
	// others are the IDs of objects of another e2e lab, listed so far: on
	// a real cloud the suite's lanes run side by side in one project.
	others := map[string]bool{}
	// Kinds in build order: what a floating IP's Via names is listed first.
	for _, k := range resources.Kinds() {
		if k.Inventory == nil {
			continue
		}
		objs, err := k.Inventory(ctx, e.cloud, q)
		if err != nil {
			e.t.Fatalf("inventory of %s: %v", k.Kind, err)
		}
		for _, o := range objs {
			if e.othersLab(o.Name, o.Tags) || (o.Via != "" && others[o.Via]) {
				others[o.ID] = true
				continue
			}
			inv[string(k.Kind)] = append(inv[string(k.Kind)], o.ID+" "+o.Name)
		}
	}
	for k := range inv {
		slices.Sort(inv[k])
	}
	return inv
}

// othersLab reports whether an object belongs to another e2e lab: it
// carries another lab's tag, or an e2e lab name that is not this one's.
func (e *env) othersLab(name string, tags []string) bool {
	for _, t := range tags {
		if strings.HasPrefix(t, "fuelplan-lab:") && t != resources.LabTag(e.lab) {
			return true
		}
	}
	return strings.HasPrefix(name, "e2e-") && !strings.HasPrefix(name, e.lab+"-")
}

// diff says how two inventories differ, kind by kind ("" when equal).
func (inv inventory) diff(other inventory) string {
	kinds := map[string]bool{}
	for k := range inv {
		kinds[k] = true
	}
	for k := range other {
		kinds[k] = true
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		if slices.Equal(inv[k], other[k]) {
			continue
		}
		fmt.Fprintf(&b, "%s: before %q, after %q\n", k, inv[k], other[k])
	}
	return b.String()
}

// asItWas checks a scenario's end: nothing carrying the lab's mark or
// name is left, and the project holds what it held before.
func (e *env) asItWas(before inventory) {
	e.t.Helper()
	if left := e.inventory(resources.LabTag(e.lab)); len(left) > 0 {
		e.t.Errorf("left behind by lab %s: %v", e.lab, left)
	}
	if d := before.diff(e.inventory("")); d != "" {
		e.t.Errorf("the cloud is not as it was:\n%s", d)
	}
}
