package preflight

import (
	"fmt"
	"strconv"

	"github.com/fuelplan/fuelplan/specs"
)

// vlanTag is what an 802.1Q tag adds to a frame.
const vlanTag = 4

// netMTU is a lab network's MTU as the host cloud will have it, and where
// that figure comes from.
type netMTU struct {
	mtu   int
	from  string
	known bool
	// fromDefault: the network takes Neutron's default, the largest MTU
	// its type allows, which the spec does not say.
	fromDefault bool
}

// mtuReader works out the networks' MTUs: the spec's mtu, else the one
// Neutron reports for the network already built, else Neutron's default
// for a new network, known only from a built network of the lab that sets
// no mtu (real Zed gives a new VXLAN network 1450, the largest it allows,
// and refuses a larger mtu with 400 "Requested MTU is too big, maximum is
// 1450"; no API tells the default before a network exists).
type mtuReader struct {
	r   *runner
	def *netMTU
}

func (r *runner) newMTUReader() *mtuReader {
	m := &mtuReader{r: r}
	if r.in.Live == nil {
		return m
	}
	r.each(func(res specs.Resource) {
		n, ok := res.(*specs.Network)
		if !ok || n.MTU != nil || m.def != nil {
			return
		}
		if v, ok := m.live(n.Addr()); ok {
			m.def = &netMTU{mtu: v, known: true, fromDefault: true,
				from: fmt.Sprintf("Neutron's default for a new network, as %s shows", n.Addr())}
		}
	})
	return m
}

func (m *mtuReader) live(a specs.Address) (int, bool) {
	if m.r.in.Live == nil {
		return 0, false
	}
	o, ok := m.r.in.Live(a)
	if !ok || o.ID == "" {
		return 0, false
	}
	v, err := strconv.Atoi(o.Fields["mtu"])
	return v, err == nil && v > 0
}

func (m *mtuReader) of(a specs.Address) netMTU {
	n, ok := m.r.resource(a).(*specs.Network)
	if !ok {
		return netMTU{}
	}
	if n.MTU != nil {
		return netMTU{mtu: *n.MTU, known: true, from: "its mtu in the spec"}
	}
	if v, ok := m.live(a); ok {
		return netMTU{mtu: v, known: true, fromDefault: true, from: "as Neutron reports it"}
	}
	if m.def != nil {
		return *m.def
	}
	return netMTU{fromDefault: true}
}

// mtu: the nested cloud's frames must fit the host networks that carry
// them. A trunk's subport network may not have a larger MTU than its
// parent's (Neutron refuses the trunk); a network tagged inside a
// VLAN-transparent network needs 4 bytes more than its own MTU there.
func (r *runner) mtu() {
	if !r.in.Cloud.HasExtension("net-mtu") {
		return // Neutron shows no MTU, and checks none
	}
	m := r.newMTUReader()
	r.tooLargeMTUs(m)
	r.trunkMTUs(m)
	r.innerVLANMTUs(m)
}

// tooLargeMTUs: a network the lab creates with an mtu above Neutron's
// default, where a built network shows the default: Neutron gives a
// network without mtu the largest its type allows, and refuses a larger
// one.
func (r *runner) tooLargeMTUs(m *mtuReader) {
	if m.def == nil {
		return
	}
	r.each(func(res specs.Resource) {
		n, ok := res.(*specs.Network)
		if !ok || n.MTU == nil || *n.MTU <= m.def.mtu || !r.creates(n.Addr()) {
			return
		}
		r.add(CheckMTU, Error, n, fmt.Sprintf("set mtu to %d or less, or drop it (the network then gets %d)", m.def.mtu, m.def.mtu),
			"network %s: mtu %d is more than %d, the largest Neutron allows for a new network here (%s): Neutron refuses it (400 InvalidInput \"Requested MTU is too big, maximum is %d\")",
			n.Addr().Name(), *n.MTU, m.def.mtu, m.def.from, m.def.mtu)
	})
}

// trunkMTUs: one finding per pair of parent and subport networks, at the
// subport's network, whose mtu is the usual fix.
func (r *runner) trunkMTUs(m *mtuReader) {
	seen := map[[2]specs.Address]bool{}
	r.each(func(res specs.Resource) {
		t, ok := res.(*specs.Trunk)
		if !ok {
			return
		}
		parent, ok := r.resource(t.Parent).(*specs.Port)
		if !ok {
			return
		}
		pm := m.of(parent.Network)
		for _, sp := range t.Subports {
			sub, ok := r.resource(sp.Port).(*specs.Port)
			if !ok {
				continue
			}
			key := [2]specs.Address{parent.Network, sub.Network}
			net, isNet := r.resource(sub.Network).(*specs.Network)
			if seen[key] || !isNet {
				continue
			}
			sm := m.of(sub.Network)
			fix := fmt.Sprintf("give network %s mtu: %d or less (the VLAN's MTU in Fuel's settings too), or raise %s's mtu", sub.NetworkName, pm.mtu, parent.NetworkName)
			why := "Neutron refuses a trunk whose subport's network has a larger MTU than its parent port's (409 SubPortMtuGreaterThanTrunkPortMtu); " +
				"the trunk takes the 4-byte VLAN tag off before the frame enters the subport's network, so that network's MTU is the most the guest's VLAN interface can send, and it cannot exceed the NIC's"
			switch {
			case pm.known && sm.known && sm.mtu > pm.mtu:
				seen[key] = true
				r.add(CheckMTU, Error, net, fix, "trunk %s: VLAN %d's network %s has MTU %d (%s), more than the parent network %s's %d (%s): %s",
					t.Addr(), sp.SegmentationID, sub.NetworkName, sm.mtu, sm.from, parent.NetworkName, pm.mtu, pm.from, why)
			case pm.known && !pm.fromDefault && !sm.known && sm.fromDefault:
				// The subport's network takes Neutron's default, the largest
				// its type allows; the parent's mtu can only equal it.
				seen[key] = true
				r.add(CheckMTU, Warning, net, fix, "trunk %s: VLAN %d's network %s sets no mtu and gets Neutron's default, the largest MTU the cloud allows, while the parent network %s has mtu %d: unless %d is that largest MTU, %s",
					t.Addr(), sp.SegmentationID, sub.NetworkName, parent.NetworkName, pm.mtu, pm.mtu, why)
			}
		}
	})
}

// innerVLANMTUs: a network tagged on a VLAN-transparent one crosses it
// with its frames 4 bytes longer; a full-size frame of the nested cloud
// that does not fit is dropped by the host, silently. Apply would succeed:
// a warning, like Fuel's other needs.
func (r *runner) innerVLANMTUs(m *mtuReader) {
	for _, iv := range r.in.Lab.InnerVLANs() {
		carrier, ok := r.resource(iv.Carrier).(*specs.Network)
		if !ok || iv.MTU == 0 {
			continue
		}
		cm := m.of(iv.Carrier)
		if !cm.known || iv.MTU+vlanTag <= cm.mtu {
			continue
		}
		r.add(CheckMTU, Warning, carrier,
			fmt.Sprintf("set network %s's mtu to %d or less (and that MTU on its VLAN in Fuel's settings), or raise %s's mtu", iv.Network, cm.mtu-vlanTag, iv.Carrier.Name()),
			"network %s (%s) is tagged inside VLAN-transparent network %s: its frames of mtu %d plus the 4-byte VLAN tag need %d, more than %s's MTU %d (%s); the host drops the nested cloud's full-size frames on that VLAN",
			iv.Network, iv.At, iv.Carrier.Name(), iv.MTU, iv.MTU+vlanTag, iv.Carrier.Name(), cm.mtu, cm.from)
	}
}
