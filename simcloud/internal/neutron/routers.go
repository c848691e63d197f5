package neutron

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

func routerNotFound(id string) *apiError {
	return errf(http.StatusNotFound, "RouterNotFound", "Router %s could not be found", id)
}

func (s *Service) routerKind() *kind {
	return &kind{
		singular: "router", plural: "routers", path: "routers", ext: "router", tagged: true,
		all: func() []object { return values(s.st.Routers) },
		get: func(id string) object {
			if v, ok := s.st.Routers[id]; ok {
				return v
			}
			return nil
		},
		visible:  owned,
		render:   func(who *simcore.Identity, o object) map[string]any { return s.renderRouter(who, o.(*router)) },
		notFound: routerNotFound,
		create:   s.createRouter,
		update:   func(who *simcore.Identity, o object, a attrs) *apiError { return s.updateRouter(who, o.(*router), a) },
		remove:   func(who *simcore.Identity, o object) *apiError { return s.deleteRouter(o.(*router)) },
	}
}

func (s *Service) renderRouter(who *simcore.Identity, r *router) map[string]any {
	m := r.attrs()
	m["admin_state_up"] = r.AdminStateUp
	m["status"] = "ACTIVE"
	m["external_gateway_info"] = nil
	if gw := r.Gateway; gw != nil {
		ips := []map[string]any{}
		if p, ok := s.st.Ports[gw.PortID]; ok {
			for _, f := range p.FixedIPs {
				ips = append(ips, map[string]any{"subnet_id": f.SubnetID, "ip_address": f.IPAddress})
			}
		}
		m["external_gateway_info"] = map[string]any{"network_id": gw.NetworkID, "enable_snat": gw.EnableSNAT, "external_fixed_ips": ips}
	}
	routes := []map[string]any{}
	for _, rt := range r.Routes {
		routes = append(routes, map[string]any{"destination": rt.Destination, "nexthop": rt.NextHop})
	}
	m["routes"] = routes
	m["availability_zone_hints"] = slices.Clone(r.AZHints)
	m["availability_zones"] = []string{"nova"}
	m["flavor_id"] = nil
	if who.Admin {
		m["distributed"] = r.Distributed
		m["ha"] = false
	}
	return m
}

type gatewayIn struct {
	NetworkID  string    `json:"network_id"`
	EnableSNAT *bool     `json:"enable_snat"`
	FixedIPs   []fixedIP `json:"external_fixed_ips"`
}

type routerIn struct {
	AdminStateUp *bool        `json:"admin_state_up"`
	Distributed  *bool        `json:"distributed"`
	Routes       *[]hostRoute `json:"routes"`
	AZHints      []string     `json:"availability_zone_hints"`
}

func (s *Service) createRouter(who *simcore.Identity, a attrs) (object, *apiError) {
	allowed := append(s.withTags(slices.Clone(createCommon)), "admin_state_up", "external_gateway_info",
		"distributed", "ha", "availability_zone_hints", "flavor_id")
	if err := a.check(allowed...); err != nil {
		return nil, err
	}
	proj, err := project(who, a)
	if err != nil {
		return nil, err
	}
	var in routerIn
	if err := a.decode(&in); err != nil {
		return nil, err
	}
	if in.Distributed != nil && !who.Admin {
		return nil, policyError("create_router:distributed")
	}
	if err := s.checkQuota("router", countProject(s.st.Routers, proj)); err != nil {
		return nil, err
	}
	st, err := s.newStdFrom(a, proj)
	if err != nil {
		return nil, err
	}
	r := &router{std: st, AdminStateUp: true, Routes: []hostRoute{}, AZHints: []string{}}
	setBool(&r.AdminStateUp, in.AdminStateUp)
	setBool(&r.Distributed, in.Distributed)
	if in.AZHints != nil {
		r.AZHints = in.AZHints
	}
	if err := s.setGateway(who, r, a); err != nil {
		return nil, err
	}
	s.st.Routers[r.ID] = r
	return r, nil
}

func (s *Service) updateRouter(who *simcore.Identity, r *router, a attrs) *apiError {
	if err := a.check("name", "description", "admin_state_up", "external_gateway_info", "distributed", "routes"); err != nil {
		return err
	}
	var in routerIn
	if err := a.decode(&in); err != nil {
		return err
	}
	if in.Distributed != nil && !who.Admin {
		return policyError("update_router:distributed")
	}
	if in.Routes != nil {
		if err := s.checkRoutes(r, *in.Routes); err != nil {
			return err
		}
	}
	if err := s.setGateway(who, r, a); err != nil {
		return err
	}
	if err := updateStd(a, &r.std); err != nil {
		return err
	}
	setBool(&r.AdminStateUp, in.AdminStateUp)
	setBool(&r.Distributed, in.Distributed)
	if in.Routes != nil {
		r.Routes = slices.Clone(*in.Routes)
	}
	return nil
}

// checkRoutes: each nexthop must be on one of the router's interface
// subnets (InvalidRoutes), as in Neutron's extraroute.
func (s *Service) checkRoutes(r *router, routes []hostRoute) *apiError {
	for _, rt := range routes {
		_, e1 := netip.ParsePrefix(rt.Destination)
		hop, e2 := netip.ParseAddr(rt.NextHop)
		if e1 != nil || e2 != nil {
			return errf(http.StatusBadRequest, "InvalidRoutes", "Invalid format for routes: %s, invalid route", rt.Destination)
		}
		reachable := false
		for _, p := range s.routerPorts(r.ID) {
			for _, f := range p.FixedIPs {
				if sn, ok := s.st.Subnets[f.SubnetID]; ok {
					if pf, _ := netip.ParsePrefix(sn.CIDR); pf.Contains(hop) {
						reachable = true
					}
				}
			}
		}
		if !reachable {
			return errf(http.StatusBadRequest, "InvalidRoutes",
				"Invalid format for routes: %s->%s, the nexthop is not connected with router", rt.Destination, rt.NextHop)
		}
	}
	return nil
}

// setGateway applies external_gateway_info when present: null or {} clears
// it (refused while floating IPs depend on it), a network sets it,
// allocating the gateway port on the external network.
func (s *Service) setGateway(who *simcore.Identity, r *router, a attrs) *apiError {
	if !a.has("external_gateway_info") {
		return nil
	}
	var in *gatewayIn
	if err := json.Unmarshal(a["external_gateway_info"], &in); err != nil {
		return badRequest("Invalid input for external_gateway_info. Reason: %v.", err)
	}
	if in == nil || in.NetworkID == "" {
		if r.Gateway == nil {
			return nil
		}
		for _, f := range s.st.FloatingIPs {
			if f.RouterID == r.ID {
				return errf(http.StatusConflict, "RouterExternalGatewayInUseByFloatingIp",
					"Gateway cannot be updated for router %s, since a gateway to external network %s is required by one or more floating IPs.", r.ID, r.Gateway.NetworkID)
			}
		}
		s.dropPort(r.Gateway.PortID)
		r.Gateway = nil
		return nil
	}
	n, ok := s.st.Networks[in.NetworkID]
	if !ok || !(owned(who, n) || n.Shared || n.External) {
		return networkNotFound(in.NetworkID)
	}
	if !n.External {
		return badResource("router", "Network %s is not an external network", n.ID)
	}
	if in.EnableSNAT != nil && !who.Admin {
		return policyError("update_router:external_gateway_info:enable_snat")
	}
	if r.Gateway != nil && r.Gateway.NetworkID == n.ID && in.FixedIPs == nil {
		setBool(&r.Gateway.EnableSNAT, in.EnableSNAT)
		return nil
	}
	if in.FixedIPs != nil && !who.Admin {
		return policyError("update_router:external_gateway_info:external_fixed_ips")
	}
	var req *[]fixedIP
	if in.FixedIPs != nil {
		req = &in.FixedIPs
	}
	self := ""
	if r.Gateway != nil {
		self = r.Gateway.PortID
	}
	ips, err := s.resolveFixedIPs(n, req, self)
	if err != nil {
		return err
	}
	if r.Gateway != nil {
		s.dropPort(r.Gateway.PortID)
	}
	gp := s.internalPort(n.ID, ownerRouterGW, r.ID, ips)
	r.Gateway = &gatewayInfo{NetworkID: n.ID, EnableSNAT: true, PortID: gp.ID}
	setBool(&r.Gateway.EnableSNAT, in.EnableSNAT)
	return nil
}

// internalPort creates a port Neutron owns (router gateway, floating IP):
// no project, so tenants never list it, as in real Neutron.
func (s *Service) internalPort(netID, owner, deviceID string, ips []fixedIP) *port {
	mac, _ := s.portMAC(netID, "", nil)
	p := &port{std: s.newStd("", "", ""), NetworkID: netID, AdminStateUp: true, MAC: mac,
		FixedIPs: ips, DeviceID: deviceID, DeviceOwner: owner, SecurityGroups: []string{}, AddressPairs: []addressPair{}}
	s.putPort(p)
	return p
}

// routerPorts are the router's interface ports.
func (s *Service) routerPorts(routerID string) []*port {
	var out []*port
	for _, p := range sorted(s.st.Ports) {
		if p.DeviceID == routerID && p.DeviceOwner == ownerRouterIf {
			out = append(out, p)
		}
	}
	return out
}

func (s *Service) deleteRouter(r *router) *apiError {
	if ps := s.routerPorts(r.ID); len(ps) > 0 {
		// Neutron's _ensure_router_not_in_use names the ports.
		ids := make([]string, len(ps))
		for i, p := range ps {
			ids[i] = p.ID
		}
		return errf(http.StatusConflict, "RouterInUse", "Router %s has ports still attached: %s", r.ID, strings.Join(ids, ", "))
	}
	if r.Gateway != nil {
		s.dropPort(r.Gateway.PortID)
	}
	delete(s.st.Routers, r.ID)
	return nil
}
