package neutron

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"slices"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

func subnetNotFound(id string) *apiError {
	return errf(http.StatusNotFound, "SubnetNotFound", "Subnet %s could not be found.", id)
}

func (s *Service) subnetKind() *kind {
	return &kind{
		singular: "subnet", plural: "subnets", path: "subnets", tagged: true,
		all: func() []object { return values(s.st.Subnets) },
		get: func(id string) object {
			if v, ok := s.st.Subnets[id]; ok {
				return v
			}
			return nil
		},
		// Subnets of a shared network are visible to all; those of an
		// external network are not (Neutron's get_subnet policy).
		visible: func(who *simcore.Identity, o object) bool {
			sn := o.(*subnet)
			n := s.st.Networks[sn.NetworkID]
			return owned(who, sn) || (n != nil && n.Shared)
		},
		render:   func(who *simcore.Identity, o object) map[string]any { return renderSubnet(o.(*subnet)) },
		notFound: subnetNotFound,
		create:   s.createSubnet,
		update:   func(who *simcore.Identity, o object, a attrs) *apiError { return s.updateSubnet(o.(*subnet), a) },
		remove:   func(who *simcore.Identity, o object) *apiError { return s.deleteSubnet(o.(*subnet)) },
	}
}

func renderSubnet(sn *subnet) map[string]any {
	m := sn.attrs()
	m["network_id"] = sn.NetworkID
	m["cidr"] = sn.CIDR
	m["ip_version"] = sn.IPVersion
	m["gateway_ip"] = nil
	if sn.GatewayIP != "" {
		m["gateway_ip"] = sn.GatewayIP
	}
	m["enable_dhcp"] = sn.EnableDHCP
	pools := []map[string]any{}
	for _, p := range sn.Pools {
		pools = append(pools, map[string]any{"start": p.Start, "end": p.End})
	}
	m["allocation_pools"] = pools
	m["dns_nameservers"] = slices.Clone(sn.DNS)
	routes := []map[string]any{}
	for _, r := range sn.HostRoutes {
		routes = append(routes, map[string]any{"destination": r.Destination, "nexthop": r.NextHop})
	}
	m["host_routes"] = routes
	m["ipv6_ra_mode"] = nil
	m["ipv6_address_mode"] = nil
	m["subnetpool_id"] = nil
	m["segment_id"] = nil
	m["service_types"] = []string{}
	return m
}

type subnetIn struct {
	NetworkID  string       `json:"network_id"`
	CIDR       string       `json:"cidr"`
	IPVersion  int          `json:"ip_version"`
	EnableDHCP *bool        `json:"enable_dhcp"`
	Pools      *[]pool      `json:"allocation_pools"`
	DNS        *[]string    `json:"dns_nameservers"`
	HostRoutes *[]hostRoute `json:"host_routes"`
	Subnetpool *string      `json:"subnetpool_id"`
	RAMode     *string      `json:"ipv6_ra_mode"`
	AddrMode   *string      `json:"ipv6_address_mode"`
}

func (s *Service) createSubnet(who *simcore.Identity, a attrs) (object, *apiError) {
	allowed := append(s.withTags(slices.Clone(createCommon)), "network_id", "cidr", "ip_version", "gateway_ip",
		"enable_dhcp", "allocation_pools", "dns_nameservers", "host_routes", "subnetpool_id",
		"ipv6_ra_mode", "ipv6_address_mode")
	if err := a.check(allowed...); err != nil {
		return nil, err
	}
	proj, err := project(who, a)
	if err != nil {
		return nil, err
	}
	var in subnetIn
	if err := a.decode(&in); err != nil {
		return nil, err
	}
	for _, req := range []struct {
		name    string
		missing bool
	}{{"network_id", in.NetworkID == ""}, {"cidr", in.CIDR == ""}, {"ip_version", in.IPVersion == 0}} {
		if req.missing {
			return nil, badRequest("Failed to parse request. Required attribute '%s' not specified", req.name)
		}
	}
	if in.IPVersion != 4 {
		return nil, badRequest("Invalid input for ip_version. Reason: %d is not in [4] (the simulator serves IPv4 only).", in.IPVersion)
	}
	if in.Subnetpool != nil || in.RAMode != nil || in.AddrMode != nil {
		return nil, invalidInput("subnet pools and IPv6 modes are not supported for an IPv4 subnet")
	}
	n, ok := s.st.Networks[in.NetworkID]
	if !ok || !(owned(who, n) || n.Shared || n.External) {
		return nil, networkNotFound(in.NetworkID)
	}
	if !owned(who, n) {
		return nil, policyError("create_subnet")
	}
	prefix, err := parseCIDR(in.CIDR)
	if err != nil {
		return nil, err
	}
	for _, o := range s.st.Subnets {
		if op, e := netip.ParsePrefix(o.CIDR); o.NetworkID == n.ID && e == nil && op.Overlaps(prefix) {
			return nil, invalidInput("Requested subnet with cidr: %s for network: %s overlaps with another subnet", prefix, n.ID)
		}
	}
	sn := &subnet{NetworkID: n.ID, CIDR: prefix.String(), IPVersion: 4, EnableDHCP: true, DNS: []string{}, HostRoutes: []hostRoute{}}
	setBool(&sn.EnableDHCP, in.EnableDHCP)
	gw, aerr := subnetGateway(a, prefix, true, netip.Addr{})
	if aerr != nil {
		return nil, aerr
	}
	if gw.IsValid() {
		sn.GatewayIP = gw.String()
	}
	sn.Pools = defaultPools(prefix, gw)
	if in.Pools != nil {
		if err := checkPools(prefix, gw, *in.Pools); err != nil {
			return nil, err
		}
		sn.Pools = slices.Clone(*in.Pools)
	}
	if err := setDNSRoutes(sn, in.DNS, in.HostRoutes); err != nil {
		return nil, err
	}
	if err := s.checkQuota("subnet", countProject(s.st.Subnets, proj)); err != nil {
		return nil, err
	}
	st, aerr := s.newStdFrom(a, proj)
	if aerr != nil {
		return nil, aerr
	}
	sn.std = st
	s.st.Subnets[sn.ID] = sn
	if sn.EnableDHCP {
		s.addDHCP(n, sn)
	}
	return sn, nil
}

// parseCIDR reads an IPv4 subnet CIDR. Host bits are cleared, as real Zed
// does: sent 10.77.0.5/24, it stores and answers 10.77.0.0/24.
func parseCIDR(cidr string) (netip.Prefix, *apiError) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, badRequest("Invalid input for cidr. Reason: '%s' is not a valid IP subnet.", cidr)
	}
	p = p.Masked()
	if p.Bits() > 30 {
		return netip.Prefix{}, invalidInput("cidr %s leaves no room for hosts; use a prefix of /30 or shorter", cidr)
	}
	return p, nil
}

// subnetGateway resolves gateway_ip: absent means the first host address
// on create (the current one on update), null means no gateway.
func subnetGateway(a attrs, p netip.Prefix, create bool, cur netip.Addr) (netip.Addr, *apiError) {
	if !a.has("gateway_ip") {
		if create {
			first, _ := hostRange(p)
			return first, nil
		}
		return cur, nil
	}
	if a.isNull("gateway_ip") {
		return netip.Addr{}, nil
	}
	var v string
	if err := json.Unmarshal(a["gateway_ip"], &v); err != nil {
		return netip.Addr{}, badRequest("Invalid input for gateway_ip. Reason: not a string.")
	}
	gw, err := netip.ParseAddr(v)
	if err != nil || !gw.Is4() {
		return netip.Addr{}, badRequest("Invalid input for gateway_ip. Reason: '%s' is not a valid IP address.", v)
	}
	if first, last := hostRange(p); gw.Less(first) || last.Less(gw) {
		return netip.Addr{}, badResource("subnet", "Gateway IP %s is not in subnet %s", gw, p)
	}
	return gw, nil
}

// setDNSRoutes validates both lists, then sets those given: on error the
// subnet is unchanged.
func setDNSRoutes(sn *subnet, dns *[]string, routes *[]hostRoute) *apiError {
	if dns != nil {
		for _, d := range *dns {
			if _, err := netip.ParseAddr(d); err != nil {
				return badRequest("Invalid input for dns_nameservers. Reason: '%s' is not a valid nameserver.", d)
			}
		}
	}
	if routes != nil {
		for _, r := range *routes {
			_, e1 := netip.ParsePrefix(r.Destination)
			_, e2 := netip.ParseAddr(r.NextHop)
			if e1 != nil || e2 != nil {
				return badRequest("Invalid input for host_routes. Reason: invalid route %s via %s.", r.Destination, r.NextHop)
			}
		}
	}
	if dns != nil {
		sn.DNS = slices.Clone(*dns)
	}
	if routes != nil {
		sn.HostRoutes = slices.Clone(*routes)
	}
	return nil
}

func (s *Service) updateSubnet(sn *subnet, a attrs) *apiError {
	if err := a.check("name", "description", "gateway_ip", "enable_dhcp", "allocation_pools", "dns_nameservers", "host_routes"); err != nil {
		return err
	}
	var in subnetIn
	if err := a.decode(&in); err != nil {
		return err
	}
	prefix, _ := netip.ParsePrefix(sn.CIDR)
	cur, _ := netip.ParseAddr(sn.GatewayIP)
	gw, err := subnetGateway(a, prefix, false, cur)
	if err != nil {
		return err
	}
	pools := sn.Pools
	if in.Pools != nil {
		pools = *in.Pools
	}
	if err := checkPools(prefix, gw, pools); err != nil {
		return err
	}
	// Validate everything before changing anything: a rejected update
	// leaves the subnet as it was.
	var probe subnet
	if err := setDNSRoutes(&probe, in.DNS, in.HostRoutes); err != nil {
		return err
	}
	if err := updateStd(a, &sn.std); err != nil {
		return err
	}
	_ = setDNSRoutes(sn, in.DNS, in.HostRoutes)
	sn.GatewayIP = ""
	if gw.IsValid() {
		sn.GatewayIP = gw.String()
	}
	sn.Pools = slices.Clone(pools)
	if in.EnableDHCP != nil && *in.EnableDHCP != sn.EnableDHCP {
		sn.EnableDHCP = *in.EnableDHCP
		if sn.EnableDHCP {
			s.addDHCP(s.st.Networks[sn.NetworkID], sn)
		} else {
			s.dropDHCP(sn.ID)
		}
	}
	return nil
}

// deleteSubnet refuses while any port other than DHCP holds an address on
// it, router interfaces included (SubnetInUse).
func (s *Service) deleteSubnet(sn *subnet) *apiError {
	for _, p := range s.st.Ports {
		if p.DeviceOwner == ownerDHCP {
			continue
		}
		for _, f := range p.FixedIPs {
			if f.SubnetID == sn.ID {
				return errf(http.StatusConflict, "SubnetInUse",
					"Unable to complete operation on subnet %s: One or more ports have an IP allocation from this subnet.", sn.ID)
			}
		}
	}
	s.dropDHCP(sn.ID)
	delete(s.st.Subnets, sn.ID)
	return nil
}
