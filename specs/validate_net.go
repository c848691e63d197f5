package specs

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
)

// parsePrefix reads an IPv4 CIDR in canonical form (no host bits set).
func parsePrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, errNotCIDR
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("host bits set; did you mean %s?", p.Masked())
	}
	return p, nil
}

// errNotCIDR: the message already says "invalid CIDR", nothing to add.
var errNotCIDR = errors.New("")

func cidrDetail(err error) string {
	if err == errNotCIDR {
		return ""
	}
	return ": " + err.Error()
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	bits := p.Bits()
	for i := 0; i < 4; i++ {
		for b := 0; b < 8; b++ {
			if i*8+b >= bits {
				a[i] |= 0x80 >> b
			}
		}
	}
	return netip.AddrFrom4(a)
}

// usable reports whether a is a host address of p (not the network or
// broadcast address; /31 and /32 have no such reserved addresses).
func usable(p netip.Prefix, a netip.Addr) bool {
	if !p.Contains(a) {
		return false
	}
	if p.Bits() >= 31 {
		return true
	}
	return a != p.Addr() && a != lastAddr(p)
}

func (v *validator) checkNetworks() {
	v.nets = map[string]*netModel{}
	v.netPatterns = map[string]*netModel{}
	seen := map[string]Pos{}
	for i := range v.doc.Networks {
		ns := &v.doc.Networks[i]
		n := &netModel{spec: ns, index: i, routed: ns.Router.V}
		v.checkVLANMode(ns.VLANMode, ns.Path+".vlan_mode")
		if isVLANPattern(ns.Name.V) {
			v.checkPatternNetwork(n, seen)
		} else if name, ok := v.checkName(ns.Name, ns.At, ns.Path, "network", seen); ok {
			n.name = name
			v.nets[name] = n
			v.netOrder = append(v.netOrder, n)
		}
		if ns.CIDR.Set {
			p, err := parsePrefix(ns.CIDR.V)
			if err != nil {
				v.errorf(ns.CIDR.At, "%s.cidr: invalid CIDR %s%s", ns.Path, ns.CIDR.Q(), cidrDetail(err))
			} else if p.Bits() > 29 {
				v.errorf(ns.CIDR.At, "%s.cidr: %s is too small for a lab network (want /29 or larger)", ns.Path, p)
			} else {
				n.prefix = p
			}
		}
		if ns.MTU.Set && (ns.MTU.V < 68 || ns.MTU.V > 9216) {
			v.errorf(ns.MTU.At, "%s.mtu: %d is out of range 68-9216", ns.Path, ns.MTU.V)
		}
		for j, dns := range ns.DNS {
			if a, err := netip.ParseAddr(dns.V); err != nil || !a.Is4() {
				v.errorf(dns.At, "%s.dns_nameservers[%d]: invalid IPv4 address %s", ns.Path, j, dns.Q())
			}
		}
		v.checkGatewayAndPools(n)
		if n.name == "admin" && ns.DHCP.Or(true) {
			at := ns.DHCP.At
			if !ns.DHCP.Set {
				at = ns.At
			}
			v.warnf(at, "%s: Neutron DHCP is enabled on the admin network; it will fight Fuel's own DHCP (set dhcp: false)", ns.Path)
		}
	}
	if v.doc.Networks != nil && len(v.doc.Networks) == 0 {
		v.errorf(v.doc.At, "networks: a lab needs at least one network")
	}
	// Overlapping CIDRs make routing between lab networks ambiguous. The
	// networks a pattern makes share its CIDR: each is a VLAN of its own,
	// so the pattern is checked once, as itself.
	v.checkNetworkOverlaps()
}

// checkNetworkOverlaps reports each network whose CIDR overlaps one
// before it in address order, naming that one. A sweep over the networks
// sorted by first address finds them in O(n log n): comparing every pair
// made a spec of thousands of equal CIDRs take minutes and gigabytes.
func (v *validator) checkNetworkOverlaps() {
	var nets []*netModel
	for _, n := range append(append([]*netModel(nil), v.netOrder...), v.patternOrder...) {
		if n.prefix.IsValid() {
			nets = append(nets, n)
		}
	}
	sort.SliceStable(nets, func(i, j int) bool {
		if c := nets[i].prefix.Addr().Compare(nets[j].prefix.Addr()); c != 0 {
			return c < 0
		}
		return nets[i].index < nets[j].index
	})
	var reach *netModel // the network reaching furthest so far
	for _, a := range nets {
		if reach != nil && a.prefix.Addr().Compare(lastAddr(reach.prefix)) <= 0 {
			v.errorf(a.spec.CIDR.At, "%s.cidr: %s overlaps network %q (%s)", a.spec.Path, a.prefix, reach.name, reach.prefix)
		}
		if reach == nil || lastAddr(reach.prefix).Less(lastAddr(a.prefix)) {
			reach = a
		}
	}
}

func (v *validator) checkGatewayAndPools(n *netModel) {
	ns := n.spec
	p := n.prefix
	if ns.Gateway.Set {
		if ns.Gateway.V == "none" {
			n.noGateway = true
		} else if a, err := netip.ParseAddr(ns.Gateway.V); err != nil || !a.Is4() {
			v.errorf(ns.Gateway.At, "%s.gateway: invalid IPv4 address %s (or \"none\")", ns.Path, ns.Gateway.Q())
		} else if p.IsValid() && !usable(p, a) {
			v.errorf(ns.Gateway.At, "%s.gateway: %s is not a host address of %s", ns.Path, a, p)
		} else {
			n.gateway = a
		}
	} else if p.IsValid() {
		n.gateway = p.Addr().Next() // Neutron's default
	}
	for j := range ns.AllocationPools {
		ps := &ns.AllocationPools[j]
		s, err1 := netip.ParseAddr(ps.Start.V)
		e, err2 := netip.ParseAddr(ps.End.V)
		switch {
		case !ps.Start.Set || !ps.End.Set:
			continue
		case err1 != nil || !s.Is4():
			v.errorf(ps.Start.At, "%s.start: invalid IPv4 address %s", ps.Path, ps.Start.Q())
			continue
		case err2 != nil || !e.Is4():
			v.errorf(ps.End.At, "%s.end: invalid IPv4 address %s", ps.Path, ps.End.Q())
			continue
		case e.Less(s):
			v.errorf(ps.At, "%s: start %s is after end %s", ps.Path, s, e)
			continue
		case p.IsValid() && (!usable(p, s) || !usable(p, e)):
			v.errorf(ps.At, "%s: pool %s-%s is not inside %s", ps.Path, s, e, p)
			continue
		}
		pr := poolRange{s, e, ps}
		if n.gateway.IsValid() && pr.contains(n.gateway) {
			v.errorf(ps.At, "%s: pool %s-%s contains the gateway %s", ps.Path, s, e, n.gateway)
		}
		n.pools = append(n.pools, pr)
	}
	v.checkPoolOverlaps(n)
}

// checkPoolOverlaps reports each pool that overlaps one before it in
// address order, and leaves n.byStart the pools sorted by start address
// with n.poolReach[i] the pool among its first i+1 that ends last, so a fixed
// IP is looked up in O(log n). A sweep in address order is O(n log n):
// recording every overlapping pair made 4,000 pools take 18 s and 2 GB.
func (v *validator) checkPoolOverlaps(n *netModel) {
	n.byStart = slices.Clone(n.pools)
	sort.SliceStable(n.byStart, func(i, j int) bool { return n.byStart[i].start.Less(n.byStart[j].start) })
	n.poolReach = make([]int, len(n.byStart))
	reach := -1
	for i, pr := range n.byStart {
		if reach >= 0 && pr.start.Compare(n.byStart[reach].end) <= 0 {
			o := n.byStart[reach]
			v.errorf(pr.spec.At, "%s: pool %s-%s overlaps pool %s-%s", pr.spec.Path, pr.start, pr.end, o.start, o.end)
		}
		if reach < 0 || n.byStart[reach].end.Less(pr.end) {
			reach = i
		}
		n.poolReach[i] = reach
	}
}

// poolHolding returns a pool of n that contains a.
func (n *netModel) poolHolding(a netip.Addr) (poolRange, bool) {
	// The last pool starting at or before a; of those, the one ending last.
	i := sort.Search(len(n.byStart), func(i int) bool { return a.Less(n.byStart[i].start) }) - 1
	if i < 0 {
		return poolRange{}, false
	}
	if pr := n.byStart[n.poolReach[i]]; pr.contains(a) {
		return pr, true
	}
	return poolRange{}, false
}

// checkFixedIP checks one port's fixed IP against its network; owner
// names the port for the message.
func (n *netModel) checkFixedIP(a netip.Addr) string {
	p := n.prefix
	if !p.IsValid() {
		return ""
	}
	if !p.Contains(a) {
		return fmt.Sprintf("%s is outside network %q (%s)", a, n.name, p)
	}
	if !usable(p, a) {
		return fmt.Sprintf("%s is the network or broadcast address of network %q (%s)", a, n.name, p)
	}
	if a == n.gateway {
		return fmt.Sprintf("%s is the gateway of network %q", a, n.name)
	}
	if pr, ok := n.poolHolding(a); ok {
		return fmt.Sprintf("%s is inside allocation pool %s-%s of network %q: Neutron may give it to another port", a, pr.start, pr.end, n.name)
	}
	return ""
}

// checkPatternNetwork checks a network named with {vlan}: the name with an
// ID in place must be a valid name, and it can be neither routed (its
// networks share one CIDR) nor a NIC's own network.
func (v *validator) checkPatternNetwork(n *netModel, seen map[string]Pos) {
	ns := n.spec
	if !logicalName.MatchString(vlanName(ns.Name.V, maxVLANID)) {
		v.errorf(ns.Name.At, "%s.name: invalid network pattern %s: with a VLAN ID in place of {vlan}, use letters, digits, '.', '_' and '-'", ns.Path, ns.Name.Q())
		return
	}
	if prev, dup := seen[ns.Name.V]; dup {
		v.errorf(ns.Name.At, "%s.name: duplicate network name %s (first defined at line %d)", ns.Path, ns.Name.Q(), prev.Line)
		return
	}
	seen[ns.Name.V] = ns.Name.At
	if ns.Router.V {
		v.errorf(ns.Router.At, "%s.router: the networks of pattern %s share one CIDR, so the router cannot join them", ns.Path, ns.Name.Q())
	}
	n.name = ns.Name.V
	v.netPatterns[n.name] = n
	v.patternOrder = append(v.patternOrder, n)
}
