package specs

import (
	"net/netip"
	"sort"
)

// reserveFixedIPs gives every subnet whose spec sets no allocation pools
// pools that leave out the gateway and every fixed IP a port asks for.
// Without this, Neutron may hand a fixed address (the Fuel master's
// 10.20.0.2) to a port created first without one, and the port that asked
// for it fails with IpAddressAlreadyAllocated. Subnets without fixed IPs
// keep Neutron's default pool, so nothing changes for them.
func (c *compiler) reserveFixedIPs() {
	fixed := map[Address][]netip.Addr{}
	for _, a := range c.lab.order {
		p, ok := c.lab.byAddr[a].(*Port)
		if !ok || p.FixedIP == "" {
			continue
		}
		if ip, err := netip.ParseAddr(p.FixedIP); err == nil {
			fixed[p.Subnet] = append(fixed[p.Subnet], ip)
		}
	}
	for sa, ips := range fixed {
		sn, ok := c.lab.byAddr[sa].(*Subnet)
		if !ok || len(sn.AllocationPools) > 0 {
			continue
		}
		prefix, err := netip.ParsePrefix(sn.CIDR)
		if err != nil || !prefix.Addr().Is4() {
			continue
		}
		reserved := append([]netip.Addr(nil), ips...)
		switch {
		case sn.Gateway != "":
			if gw, err := netip.ParseAddr(sn.Gateway); err == nil {
				reserved = append(reserved, gw)
			}
		case !sn.NoGateway:
			reserved = append(reserved, prefix.Masked().Addr().Next()) // Neutron's default gateway
		}
		sn.AllocationPools = poolsExcluding(prefix.Masked(), reserved)
	}
}

// poolsExcluding splits a prefix's host range (network and broadcast
// addresses left out, as Neutron does) around the reserved addresses.
func poolsExcluding(p netip.Prefix, reserved []netip.Addr) []AllocationPool {
	first := p.Addr().Next()
	last := lastAddr(p).Prev()
	sort.Slice(reserved, func(i, j int) bool { return reserved[i].Less(reserved[j]) })
	var pools []AllocationPool
	start := first
	for _, r := range reserved {
		if r.Less(start) || last.Less(r) {
			continue
		}
		if start.Less(r) {
			pools = append(pools, AllocationPool{Start: start.String(), End: r.Prev().String()})
		}
		start = r.Next()
	}
	if !last.Less(start) {
		pools = append(pools, AllocationPool{Start: start.String(), End: last.String()})
	}
	return pools
}
