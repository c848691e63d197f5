package specs

// InnerVLAN is a lab network whose frames cross a VLAN-transparent host
// network tagged, inside it: the network is not built in the host cloud
// (its carrier passes the guest's tagged frames as they are), so its mtu
// is only the MTU the nested cloud uses on that VLAN. The 802.1Q tag adds
// 4 bytes to each of its frames on the carrier.
type InnerVLAN struct {
	Carrier Address // the VLAN-transparent network the NIC is on
	Network string  // the tagged network's name (tenant-1000 for a pattern's)
	MTU     int     // the spec's mtu of the tagged network; 0 when unset
	At      Pos     // the tagged network's position in the spec (its mtu's when set)
}

// InnerVLANs lists, in the order the servers' NICs tag them, each network some NIC
// tags on a network the lab builds VLAN-transparent; nil for a lab built
// without a spec or whose VLANs all go over trunks.
func (l *Lab) InnerVLANs() []InnerVLAN {
	if l.spec == nil || l.spec.v == nil || !l.carriesVLANs {
		return nil
	}
	var out []InnerVLAN
	seen := map[[2]string]bool{}
	for _, s := range l.spec.v.servers {
		for _, p := range s.ports {
			carrier := NewAddress(KindNetwork, p.net.name)
			n, ok := l.byAddr[carrier].(*Network)
			if !ok || n.VLANTransparent == nil || !*n.VLANTransparent {
				continue
			}
			for _, vl := range p.vlans {
				if _, built := l.byAddr[NewAddress(KindNetwork, vl.net.name)]; built {
					continue // a trunk's subport network: a host network of its own
				}
				key := [2]string{p.net.name, vl.net.name}
				if seen[key] {
					continue
				}
				seen[key] = true
				iv := InnerVLAN{Carrier: carrier, Network: vl.net.name, At: vl.net.spec.At}
				if m := vl.net.spec.MTU; m.Set {
					iv.MTU, iv.At = m.V, m.At
				}
				out = append(out, iv)
			}
		}
	}
	return out
}
