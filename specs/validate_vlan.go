package specs

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// VLANs tagged on a NIC (docs/vlan.md). A NIC's vlans name the lab
// networks the guest's tagged frames belong to; a network whose name holds
// {vlan} is a pattern, made once per VLAN ID the NICs tag with it
// (tenant-{vlan} with ids 1000-1030: tenant-1000 ... tenant-1030).

// vlanPlaceholder marks a network pattern's name.
const vlanPlaceholder = "{vlan}"

// The ways a NIC's VLANs reach the host cloud.
const (
	VLANModeAuto        = "auto"        // transparent where the cloud can, else trunk
	VLANModeTrunk       = "trunk"       // the NIC is a trunk's parent; one subport per VLAN
	VLANModeTransparent = "transparent" // the NIC's network is VLAN-transparent
)

var vlanModes = []string{VLANModeAuto, VLANModeTrunk, VLANModeTransparent}

// maxVLANID is the largest 802.1Q VLAN ID (4095 is reserved).
const maxVLANID = 4094

// maxTaggedVLANs bounds the VLAN IDs all NICs' vlans entries name, in all:
// each may make a network, a subnet and, per server, a port. Fuel's
// layout tags 33 (101, 102, 1000-1030).
const maxTaggedVLANs = 8192

// vlanModel is one VLAN of a NIC, resolved: its network and ID.
type vlanModel struct {
	net *netModel
	id  int
	at  Pos
}

func isVLANPattern(name string) bool { return strings.Contains(name, vlanPlaceholder) }

// vlanName is the network a pattern makes for one ID.
func vlanName(pattern string, id int) string {
	return strings.ReplaceAll(pattern, vlanPlaceholder, strconv.Itoa(id))
}

func (v *validator) checkVLANMode(s String, path string) {
	if s.Set && !slices.Contains(vlanModes, s.V) {
		v.errorf(s.At, "%s: unknown vlan_mode %s: want one of %s", path, s.Q(), strings.Join(vlanModes, ", "))
	}
}

// parseVLANIDs reads "1000-1030", "101" or "1000-1010,1020": sorted,
// unique, each 1-4094.
func parseVLANIDs(s string) ([]int, string) {
	set := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(strings.TrimSpace(lo))
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(strings.TrimSpace(hi))
		}
		switch {
		case err1 != nil || err2 != nil:
			return nil, fmt.Sprintf("invalid VLAN range %q: want FIRST-LAST (e.g. 1000-1030) or a comma-separated list", s)
		case a < 1 || b > maxVLANID:
			return nil, fmt.Sprintf("VLAN IDs go from 1 to %d, not %q", maxVLANID, part)
		case a > b:
			return nil, fmt.Sprintf("range %q runs backwards", part)
		}
		for id := a; id <= b; id++ {
			set[id] = true
		}
	}
	ids := make([]int, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids, ""
}

// nicLists are every list of NICs in the document, with whether it
// belongs to a slave override (which cannot change vlans).
func (v *validator) nicLists() (lists [][]PortSpec, overrides [][]PortSpec) {
	d := v.doc
	if d.Master != nil {
		lists = append(lists, d.Master.Ports)
	}
	if d.Slaves != nil {
		lists = append(lists, d.Slaves.Ports)
		for _, o := range d.Slaves.Overrides {
			overrides = append(overrides, o.Ports)
		}
	}
	return lists, overrides
}

// checkVLANs runs after checkNetworks and before checkServers: it checks
// every vlans list once (not once per slave), makes the networks patterns
// stand for, and records which networks are tagged, so that servers do
// not get NICs on them.
func (v *validator) checkVLANs() {
	v.checkVLANMode(v.doc.VLANMode, "vlan_mode")
	v.tagged = map[string]Pos{}
	v.vlanItems = map[*VLANSpec][]vlanModel{}
	patternIDs := map[string]map[int]bool{}
	lists, overrides := v.nicLists()
	for _, ports := range overrides {
		for _, ps := range ports {
			for _, it := range ps.VLANs {
				v.errorf(it.At, "%s: a slave override cannot change a NIC's vlans; change them on the template", it.Path)
			}
		}
	}
	type item struct {
		spec *VLANSpec
		tmpl *netModel // a pattern's template
		ids  []int
	}
	var items []item
	total := 0
	for _, ports := range lists {
		for i := range ports {
			ps := &ports[i]
			byID := map[int]Pos{}
			byNet := map[string]Pos{}
			for j := range ps.VLANs {
				it := &ps.VLANs[j]
				if !it.Network.Set {
					continue // the decoder reported the missing field
				}
				name := it.Network.V
				var ids []int
				var tmpl *netModel
				if isVLANPattern(name) {
					tmpl = v.netPatterns[name]
					if tmpl == nil {
						v.errorf(it.Network.At, "%s.network: undefined network pattern %s%s", it.Path, it.Network.Q(), v.didYouMean(name, v.patternNames()))
						continue
					}
					if it.ID.Set || !it.IDs.Set {
						v.errorf(it.At, "%s: a network pattern takes a range of VLANs: give ids (e.g. ids: 1000-1030), not id", it.Path)
						continue
					}
					var msg string
					if ids, msg = parseVLANIDs(it.IDs.V); msg != "" {
						v.errorf(it.IDs.At, "%s.ids: %s", it.Path, msg)
						continue
					}
				} else {
					n := v.nets[name]
					if n == nil {
						v.errorf(it.Network.At, "%s.network: undefined network %s%s", it.Path, it.Network.Q(), v.didYouMean(name, v.netNames()))
						continue
					}
					if it.IDs.Set || !it.ID.Set {
						v.errorf(it.At, "%s: a network takes one VLAN: give id (e.g. id: 101); ids is for a network pattern such as tenant-{vlan}", it.Path)
						continue
					}
					if it.ID.V < 1 || it.ID.V > maxVLANID {
						v.errorf(it.ID.At, "%s.id: VLAN IDs go from 1 to %d, not %d", it.Path, maxVLANID, it.ID.V)
						continue
					}
					if name == ps.Network.V {
						v.errorf(it.Network.At, "%s.network: %q is the NIC's own (untagged) network; a VLAN needs a network of its own", it.Path, name)
						continue
					}
					if prev, dup := byNet[name]; dup {
						v.errorf(it.Network.At, "%s.network: network %q is already tagged on this NIC (line %d)", it.Path, name, prev.Line)
						continue
					}
					byNet[name] = it.At
					ids = []int{it.ID.V}
				}
				for _, id := range ids {
					if prev, dup := byID[id]; dup {
						v.errorf(it.At, "%s: VLAN %d is tagged twice on this NIC (also at line %d)", it.Path, id, prev.Line)
						ids = nil
						break
					}
					byID[id] = it.At
				}
				if ids == nil {
					continue
				}
				if total += len(ids); total > maxTaggedVLANs {
					v.errorf(it.At, "%s: with this entry the NICs tag %s VLANs in all; at most %s", it.Path, thousands(total), thousands(maxTaggedVLANs))
					return
				}
				if tmpl != nil {
					if patternIDs[name] == nil {
						patternIDs[name] = map[int]bool{}
					}
					for _, id := range ids {
						patternIDs[name][id] = true
					}
				} else if _, seen := v.tagged[name]; !seen {
					v.tagged[name] = it.At
				}
				items = append(items, item{spec: it, tmpl: tmpl, ids: ids})
			}
		}
	}
	v.expandPatterns(patternIDs)
	for _, it := range items {
		var out []vlanModel
		for _, id := range it.ids {
			name := it.spec.Network.V
			if it.tmpl != nil {
				name = vlanName(name, id)
			}
			if n := v.nets[name]; n != nil {
				out = append(out, vlanModel{net: n, id: id, at: it.spec.At})
			}
		}
		v.vlanItems[it.spec] = out
	}
}

// taggedCount is how many VLANs a NIC list tags, for bounding what the
// slaves expand to.
func (v *validator) taggedCount(ports []PortSpec) int {
	n := 0
	for i := range ports {
		for j := range ports[i].VLANs {
			n += len(v.vlanItems[&ports[i].VLANs[j]])
		}
		if len(ports[i].VLANs) > 0 {
			n++ // the trunk
		}
	}
	return n
}

// expandPatterns makes one network per (pattern, used ID), in spec order
// then ID order, as if the spec listed them where the pattern stands.
func (v *validator) expandPatterns(used map[string]map[int]bool) {
	for _, t := range v.patternOrder {
		ids := make([]int, 0, len(used[t.name]))
		for id := range used[t.name] {
			ids = append(ids, id)
		}
		sort.Ints(ids)
		if len(ids) == 0 {
			v.warnf(t.spec.Name.At, "%s: network pattern %q is tagged on no NIC, so it makes no network", t.spec.Path, t.name)
		}
		for _, id := range ids {
			name := vlanName(t.name, id)
			if prev, dup := v.nets[name]; dup {
				v.errorf(t.spec.Name.At, "%s.name: pattern %q makes network %q for VLAN %d, which %s also defines", t.spec.Path, t.name, name, id, prev.spec.Path)
				continue
			}
			m := *t
			m.name, m.family, m.vlanID = name, t.name, id
			v.nets[name] = &m
			v.netOrder = append(v.netOrder, &m)
			v.tagged[name] = t.spec.At
		}
	}
}

func (v *validator) patternNames() []string {
	out := make([]string, 0, len(v.patternOrder))
	for _, n := range v.patternOrder {
		out = append(out, n.name)
	}
	return out
}

// vlanMode is how NICs on network n carry their VLANs: the network's
// vlan_mode, else the lab's, else auto.
func (v *validator) vlanMode(n *netModel) string {
	if n.spec.VLANMode.Set {
		return n.spec.VLANMode.V
	}
	return v.doc.VLANMode.Or(VLANModeAuto)
}

// checkCarrier: a NIC's network that must be VLAN-transparent cannot say
// vlan_transparent: false.
func (v *validator) checkCarrier(n *netModel, ps *PortSpec) {
	ns := n.spec
	if v.vlanMode(n) == VLANModeTransparent && ns.VLANTransparent.Set && !ns.VLANTransparent.V {
		v.errorf(ns.VLANTransparent.At, "%s.vlan_transparent: false, but %s carries VLANs with vlan_mode transparent; drop vlan_transparent or use vlan_mode trunk", ns.Path, ps.Path)
	}
}
