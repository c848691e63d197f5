package neutron

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

func fipNotFound(id string) *apiError {
	return errf(http.StatusNotFound, "FloatingIPNotFound", "Floating IP %s could not be found", id)
}

func (s *Service) floatingIPKind() *kind {
	return &kind{
		singular: "floatingip", plural: "floatingips", path: "floatingips", ext: "router", tagged: true,
		all: func() []object { return values(s.st.FloatingIPs) },
		get: func(id string) object {
			if v, ok := s.st.FloatingIPs[id]; ok {
				return v
			}
			return nil
		},
		visible:  owned,
		render:   func(who *simcore.Identity, o object) map[string]any { return s.renderFIP(o.(*floatingIP)) },
		notFound: fipNotFound,
		create:   s.createFIP,
		update:   func(who *simcore.Identity, o object, a attrs) *apiError { return s.updateFIP(who, o.(*floatingIP), a) },
		remove:   func(who *simcore.Identity, o object) *apiError { return s.deleteFIP(o.(*floatingIP)) },
	}
}

func (s *Service) renderFIP(f *floatingIP) map[string]any {
	m := f.attrs()
	delete(m, "name")
	m["floating_network_id"] = f.NetworkID
	m["floating_ip_address"] = f.Address
	m["port_id"] = nilIfEmpty(f.PortID)
	m["fixed_ip_address"] = nilIfEmpty(f.FixedIP)
	m["router_id"] = nilIfEmpty(f.RouterID)
	m["status"] = "DOWN"
	if f.PortID != "" {
		m["status"] = "ACTIVE"
	}
	// Each attribute comes with its extension, as in Neutron (Zed
	// without the port-forwarding plugin shows no port_forwardings).
	if s.ext("expose-port-forwarding-in-fip") {
		m["port_forwardings"] = []any{}
	}
	if s.ext("fip-port-details") {
		m["port_details"] = s.fipPortDetails(f.PortID)
	}
	return m
}

// fipPortDetails is the associated port's summary, as Neutron's
// Fip_port_details_db_mixin makes it; null when not associated.
func (s *Service) fipPortDetails(portID string) any {
	p, ok := s.st.Ports[portID]
	if !ok {
		return nil
	}
	return map[string]any{"name": p.Name, "network_id": p.NetworkID, "mac_address": p.MAC,
		"admin_state_up": p.AdminStateUp, "status": portStatus(p), "device_id": p.DeviceID, "device_owner": p.DeviceOwner}
}

type fipIn struct {
	NetworkID string  `json:"floating_network_id"`
	Address   string  `json:"floating_ip_address"`
	SubnetID  string  `json:"subnet_id"`
	PortID    *string `json:"port_id"`
	FixedIP   string  `json:"fixed_ip_address"`
}

func (s *Service) createFIP(who *simcore.Identity, a attrs) (object, *apiError) {
	allowed := append(s.withTags([]string{"description", "project_id", "tenant_id"}),
		"floating_network_id", "floating_ip_address", "subnet_id", "port_id", "fixed_ip_address")
	if err := a.check(allowed...); err != nil {
		return nil, err
	}
	proj, err := project(who, a)
	if err != nil {
		return nil, err
	}
	var in fipIn
	if err := a.decode(&in); err != nil {
		return nil, err
	}
	if in.NetworkID == "" {
		return nil, badRequest("Failed to parse request. Required attribute 'floating_network_id' not specified")
	}
	n, ok := s.st.Networks[in.NetworkID]
	if !ok || !(owned(who, n) || n.Shared || n.External) {
		return nil, networkNotFound(in.NetworkID)
	}
	if !n.External {
		return nil, badResource("floatingip", "Network %s is not a valid external network", n.ID)
	}
	if in.Address != "" && !who.Admin {
		// Neutron's default policy: only admins pick the address.
		return nil, policyError("create_floatingip:floating_ip_address")
	}
	if err := s.checkQuota("floatingip", countProject(s.st.FloatingIPs, proj)); err != nil {
		return nil, err
	}
	var req *[]fixedIP
	if in.Address != "" || in.SubnetID != "" {
		req = &[]fixedIP{{SubnetID: in.SubnetID, IPAddress: in.Address}}
	}
	st, err := s.newStdFrom(a, proj)
	if err != nil {
		return nil, err
	}
	st.Name = ""
	f := &floatingIP{std: st, NetworkID: n.ID}
	if in.PortID != nil && *in.PortID != "" {
		if err := s.associate(who, f, *in.PortID, in.FixedIP); err != nil {
			return nil, err
		}
	}
	ips, err := s.resolveFixedIPs(n, req, "")
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, errf(http.StatusConflict, "IpAddressGenerationFailure", "No more IP addresses available on network %s.", n.ID)
	}
	f.Address = ips[0].IPAddress
	f.IPPortID = s.internalPort(n.ID, ownerFloatingIP, f.ID, ips).ID
	s.st.FloatingIPs[f.ID] = f
	return f, nil
}

// updateFIP associates (port_id) or disassociates (port_id null).
func (s *Service) updateFIP(who *simcore.Identity, f *floatingIP, a attrs) *apiError {
	if err := a.check("description", "port_id", "fixed_ip_address"); err != nil {
		return err
	}
	var in fipIn
	if err := a.decode(&in); err != nil {
		return err
	}
	if a.has("port_id") {
		if in.PortID == nil || *in.PortID == "" {
			f.PortID, f.FixedIP, f.RouterID = "", "", ""
		} else if err := s.associate(who, f, *in.PortID, in.FixedIP); err != nil {
			return err
		}
	}
	if a.has("description") {
		var d string
		_ = json.Unmarshal(a["description"], &d)
		f.Description = d
	}
	return nil
}

// associate points f at a port's fixed IP. The port must be reachable from
// the floating network: a router of the project with a gateway on that
// network and an interface on the fixed IP's subnet
// (404 ExternalGatewayForFloatingIPNotFound otherwise).
func (s *Service) associate(who *simcore.Identity, f *floatingIP, portID, fixed string) *apiError {
	p := s.st.Ports[portID]
	if p == nil || !owned(who, p) {
		return portNotFound(portID)
	}
	var ip *fixedIP
	for i := range p.FixedIPs {
		if fixed == "" || p.FixedIPs[i].IPAddress == fixed {
			if ip != nil {
				return badResource("floatingip", "Port %s has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP", p.ID)
			}
			ip = &p.FixedIPs[i]
		}
	}
	if ip == nil {
		if fixed != "" {
			return badResource("floatingip", "Port %s does not have fixed ip %s", p.ID, fixed)
		}
		return badResource("floatingip", "Cannot add floating IP to port %s that has no fixed IPv4 addresses", p.ID)
	}
	for _, o := range s.st.FloatingIPs {
		if o.ID != f.ID && o.PortID == p.ID && o.FixedIP == ip.IPAddress && o.NetworkID == f.NetworkID {
			return errf(http.StatusConflict, "FloatingIPPortAlreadyAssociated",
				"Cannot associate floating IP %s (%s) with port %s using fixed IP %s, as that fixed IP already has a floating IP on external network %s.",
				f.Address, f.ID, p.ID, ip.IPAddress, f.NetworkID)
		}
	}
	routerID := ""
	for _, rt := range sorted(s.st.Routers) {
		if rt.Gateway == nil || rt.Gateway.NetworkID != f.NetworkID {
			continue
		}
		if slices.ContainsFunc(s.routerPorts(rt.ID), func(rp *port) bool {
			return slices.ContainsFunc(rp.FixedIPs, func(x fixedIP) bool { return x.SubnetID == ip.SubnetID })
		}) {
			routerID = rt.ID
			break
		}
	}
	if routerID == "" {
		return errf(http.StatusNotFound, "ExternalGatewayForFloatingIPNotFound",
			"External network %s is not reachable from subnet %s.  Therefore, cannot associate Port %s with a Floating IP.",
			f.NetworkID, ip.SubnetID, p.ID)
	}
	f.PortID, f.FixedIP, f.RouterID = p.ID, ip.IPAddress, routerID
	return nil
}

// disassociatePort clears floating IPs from a port that goes away.
func (s *Service) disassociatePort(portID string) {
	for _, f := range sorted(s.st.FloatingIPs) {
		if f.PortID == portID {
			f.PortID, f.FixedIP, f.RouterID = "", "", ""
			f.touch(s.knobs.Now())
		}
	}
}

func (s *Service) deleteFIP(f *floatingIP) *apiError {
	s.dropPort(f.IPPortID)
	delete(s.st.FloatingIPs, f.ID)
	return nil
}
