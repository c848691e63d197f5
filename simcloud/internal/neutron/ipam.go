package neutron

import (
	"net/http"
	"net/netip"
)

// IP address management for IPv4 subnets: default gateway and pools,
// pool validation, and lowest-free allocation.

// hostRange is the first and last usable addresses of an IPv4 prefix
// (without the network and broadcast addresses).
func hostRange(p netip.Prefix) (first, last netip.Addr) {
	b := p.Masked().Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	bcast := v | (1<<(32-p.Bits()) - 1)
	return p.Masked().Addr().Next(), netip.AddrFrom4([4]byte{byte(bcast >> 24), byte(bcast >> 16), byte(bcast >> 8), byte(bcast)}).Prev()
}

// defaultPools is the whole host range minus the gateway, split around it.
func defaultPools(p netip.Prefix, gw netip.Addr) []pool {
	first, last := hostRange(p)
	if !gw.IsValid() || gw.Less(first) || last.Less(gw) {
		return []pool{{first.String(), last.String()}}
	}
	var out []pool
	if first.Less(gw) {
		out = append(out, pool{first.String(), gw.Prev().String()})
	}
	if gw.Less(last) {
		out = append(out, pool{gw.Next().String(), last.String()})
	}
	return out
}

// checkPools validates explicit pools against the CIDR, the gateway and
// each other, with Neutron's exception types and codes.
func checkPools(p netip.Prefix, gw netip.Addr, pools []pool) *apiError {
	first, last := hostRange(p)
	type rng struct{ s, e netip.Addr }
	var seen []rng
	for _, pl := range pools {
		s, err1 := netip.ParseAddr(pl.Start)
		e, err2 := netip.ParseAddr(pl.End)
		if err1 != nil || err2 != nil || !s.Is4() || !e.Is4() || e.Less(s) {
			return errf(http.StatusBadRequest, "InvalidAllocationPool", "The allocation pool %s-%s is not valid.", pl.Start, pl.End)
		}
		if s.Less(first) || last.Less(e) {
			return errf(http.StatusBadRequest, "OutOfBoundsAllocationPool",
				"The allocation pool %s-%s spans beyond the subnet cidr %s.", pl.Start, pl.End, p)
		}
		if gw.IsValid() && !gw.Less(s) && !e.Less(gw) {
			return errf(http.StatusConflict, "GatewayConflictWithAllocationPools",
				"Gateway ip %s conflicts with allocation pool %s-%s.", gw, pl.Start, pl.End)
		}
		for _, o := range seen {
			if !e.Less(o.s) && !o.e.Less(s) {
				return errf(http.StatusConflict, "OverlappingAllocationPools",
					"Found overlapping allocation pools: %s-%s %s-%s for subnet %s.", o.s, o.e, s, e, p)
			}
		}
		seen = append(seen, rng{s, e})
	}
	return nil
}

// allocate returns the lowest free address in the subnet's pools, or
// IpAddressGenerationFailure when they are exhausted. The search starts
// at the subnet's low mark (every pool address below it is allocated)
// and moves the mark up to the first address no port holds, so a lab's
// creates do not walk its allocated addresses again each time. Addresses
// in taken (this request's, not yet committed) do not move the mark.
func (s *Service) allocate(sn *subnet, taken map[string]bool) (string, *apiError) {
	fromPool, from := s.lowFree(sn)
	markSet := false
	for i, pl := range sn.Pools {
		if i < fromPool {
			continue
		}
		a, _ := netip.ParseAddr(pl.Start)
		e, _ := netip.ParseAddr(pl.End)
		if i == fromPool && from.IsValid() && a.Less(from) {
			a = from
		}
		for ; a.IsValid() && !e.Less(a); a = a.Next() {
			ip := a.String()
			if _, used := s.ipOwner(sn.ID, ip); used {
				continue
			}
			if !markSet {
				s.setLowFree(sn, i, a)
				markSet = true
			}
			if !taken[ip] {
				return ip, nil
			}
		}
	}
	return "", errf(http.StatusConflict, "IpAddressGenerationFailure", "No more IP addresses available on network %s.", sn.NetworkID)
}
