package specs

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Caps is what the host cloud's Neutron offers for carrying a guest's
// VLANs, as far as the spec's vlan_mode auto needs to know. Known is false
// offline (validate, graph): auto then compiles as trunks.
type Caps struct {
	Known           bool
	Trunk           bool // the trunk extension
	VLANTransparent bool // the vlan-transparent extension
}

// How a carrier network's VLANs are built, once vlan_mode is resolved.
const vlanNone = "none" // neither way is available: the VLANs are not built

// ForCloud returns the lab as the cloud's capabilities make it: a lab whose
// NICs carry VLANs in vlan_mode auto (or in a mode the cloud lacks) is
// compiled again for caps; any other lab is returned as it is.
func (l *Lab) ForCloud(caps Caps) (*Lab, error) {
	if l.spec == nil || !l.carriesVLANs {
		return l, nil
	}
	return CompileFor(l.spec, caps)
}

// carrier is a network NICs tag VLANs on, and what those VLANs are.
type carrier struct {
	net *netModel
	ids map[int]bool
}

// resolveVLANs decides, per carrier network, how its VLANs are built, and
// which tagged networks are then needed (only trunks' subports use them).
// Each decision of auto, and each way the cloud cannot provide, is said
// in the lab's notes and warnings, in network order.
func (c *compiler) resolveVLANs(caps Caps) {
	c.vlanModes = map[string]string{}
	c.neededNets = map[string]bool{}
	byNet := map[string]*carrier{}
	var carriers []*carrier
	for _, s := range c.v.servers {
		for _, p := range s.ports {
			if len(p.vlans) == 0 {
				continue
			}
			cr := byNet[p.net.name]
			if cr == nil {
				cr = &carrier{net: p.net, ids: map[int]bool{}}
				byNet[p.net.name] = cr
				carriers = append(carriers, cr)
			}
			for _, vl := range p.vlans {
				cr.ids[vl.id] = true
			}
		}
	}
	sort.Slice(carriers, func(i, j int) bool { return carriers[i].net.index < carriers[j].net.index })
	c.lab.carriesVLANs = len(carriers) > 0
	for _, cr := range carriers {
		mode := c.resolveMode(cr, caps)
		c.vlanModes[cr.net.name] = mode
		if mode != VLANModeTrunk {
			continue
		}
		for _, s := range c.v.servers {
			if p := s.port(cr.net.name); p != nil {
				for _, vl := range p.vlans {
					c.neededNets[vl.net.name] = true
				}
			}
		}
	}
}

func (c *compiler) resolveMode(cr *carrier, caps Caps) string {
	n := cr.net
	asked := c.v.vlanMode(n)
	what := fmt.Sprintf("network.%s carries VLANs %s (vlan_mode %s)", n.name, idRanges(cr.ids), asked)
	vtOff := n.spec.VLANTransparent.Set && !n.spec.VLANTransparent.V
	switch {
	case asked == VLANModeTrunk:
		if caps.Known && !caps.Trunk {
			c.lab.Warnings = append(c.lab.Warnings, what+", but the cloud's Neutron has no trunk extension: creating the trunks will fail; "+
				"use vlan_mode auto or transparent, or ask the cloud's operators for the trunk service plugin (docs/vlan.md)")
		}
		return VLANModeTrunk
	case asked == VLANModeTransparent:
		if caps.Known && !caps.VLANTransparent {
			c.lab.Warnings = append(c.lab.Warnings, what+", but the cloud's Neutron has no vlan-transparent extension: creating the network will fail; "+
				"use vlan_mode auto or trunk (docs/vlan.md)")
		}
		return VLANModeTransparent
	case !caps.Known:
		// Offline: show the trunks; plan decides against the cloud.
		return VLANModeTrunk
	case caps.VLANTransparent && !vtOff:
		c.lab.Notes = append(c.lab.Notes, what+": a VLAN-transparent network, because the cloud's Neutron has the vlan-transparent extension")
		return VLANModeTransparent
	case caps.Trunk:
		why := "the cloud's Neutron has no vlan-transparent extension"
		if vtOff && caps.VLANTransparent {
			why = "the spec sets vlan_transparent: false on the network"
		}
		c.lab.Notes = append(c.lab.Notes, what+": trunks with one subport per VLAN, because "+why+" and has the trunk extension")
		return VLANModeTrunk
	}
	c.lab.Warnings = append(c.lab.Warnings, what+", but the cloud's Neutron has neither the vlan-transparent nor the trunk extension, "+
		"so the host's Open vSwitch will drop the tagged frames and the VLANs are not built; fix: ask the cloud's operators for "+
		"the trunk service plugin (neutron.conf service_plugins += trunk) or VLAN-transparent networks (ml2 vlan_transparent = true), "+
		"or give each VLAN network a NIC of its own (docs/vlan.md)")
	return vlanNone
}

// idRanges prints VLAN IDs compactly: "101-102, 1000-1030".
func idRanges(set map[int]bool) string {
	ids := make([]int, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	var parts []string
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, strconv.Itoa(ids[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", ids[i], ids[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// skipNetwork: a tagged network no trunk uses is not built (its carrier
// is VLAN-transparent, or neither way is available).
func (c *compiler) skipNetwork(n *netModel) bool {
	_, tagged := c.v.tagged[n.name]
	return tagged && !c.neededNets[n.name]
}

// networkCloudName is a network's name in the cloud; a pattern's networks
// take its cloud_name with the ID in place of {vlan}.
func (c *compiler) networkCloudName(n *netModel) string {
	if n.family != "" {
		if cn := n.spec.CloudName; cn.Set && cn.V != "" {
			return vlanName(cn.V, n.vlanID)
		}
		return c.v.lab + "-" + n.name
	}
	return c.v.cloudName(n.spec.Named, n.name)
}

// trunk adds the subport ports and the trunk of a server's NIC whose
// VLANs go over a trunk.
func (c *compiler) trunk(s *serverModel, srv *Server, p portModel, parent *Port) {
	if c.vlanModes[p.net.name] != VLANModeTrunk || len(p.vlans) == 0 {
		return
	}
	t := &Trunk{Meta: Meta{Address: NewAddress(KindTrunk, s.name, p.net.name), Name: s.cloudName + "-" + p.net.name, At: p.at},
		Parent: parent.Address}
	vlans := slices.Clone(p.vlans)
	sort.Slice(vlans, func(i, j int) bool { return vlans[i].net.name < vlans[j].net.name })
	for _, vl := range vlans {
		pa := NewAddress(KindPort, s.name, vl.net.name)
		// A subport keeps the NIC's port security and groups, and its MAC:
		// the guest's VLAN interfaces send with the NIC's MAC, and
		// Neutron's anti-spoofing checks it against the subport's.
		sp := &Port{Meta: Meta{Address: pa, Name: s.cloudName + "-" + vl.net.name, At: vl.at}, Server: srv.Address,
			Network: NewAddress(KindNetwork, vl.net.name), Subnet: NewAddress(KindSubnet, vl.net.name),
			NetworkName: vl.net.name, MAC: parent.MAC, PortSecurity: parent.PortSecurity, SecurityGroups: parent.SecurityGroups}
		if sp.MAC == "" {
			sp.MACOf = parent.Address
		}
		c.add(sp)
		t.Subports = append(t.Subports, Subport{Port: pa, NetworkName: vl.net.name, SegmentationID: vl.id})
	}
	c.add(t)
	srv.Trunks = append(srv.Trunks, t.Address)
}
