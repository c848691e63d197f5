package neutron

import (
	"net/http"
	"strings"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

func networkNotFound(id string) *apiError {
	return errf(http.StatusNotFound, "NetworkNotFound", "Network %s could not be found.", id)
}

func (s *Service) networkKind() *kind {
	return &kind{
		singular: "network", plural: "networks", path: "networks", tagged: true,
		all: func() []object { return values(s.st.Networks) },
		get: func(id string) object {
			if n, ok := s.st.Networks[id]; ok {
				return n
			}
			return nil
		},
		visible: func(who *simcore.Identity, o object) bool {
			n := o.(*network)
			return owned(who, n) || n.Shared || n.External
		},
		render:   func(who *simcore.Identity, o object) map[string]any { return s.renderNetwork(o.(*network)) },
		notFound: networkNotFound,
		create:   s.createNetwork,
		update:   func(who *simcore.Identity, o object, a attrs) *apiError { return s.updateNetwork(who, o.(*network), a) },
		remove:   func(who *simcore.Identity, o object) *apiError { return s.deleteNetwork(o.(*network)) },
	}
}

func (s *Service) renderNetwork(n *network) map[string]any {
	m := n.attrs()
	m["admin_state_up"] = n.AdminStateUp
	m["status"] = "ACTIVE"
	m["shared"] = n.Shared
	m["subnets"] = s.networkSubnets(n.ID)
	m["availability_zone_hints"] = []string{}
	m["availability_zones"] = []string{"nova"}
	m["ipv4_address_scope"] = nil
	m["ipv6_address_scope"] = nil
	if s.ext("external-net") {
		m["router:external"] = n.External
	}
	if s.ext("net-mtu") {
		m["mtu"] = n.MTU
	}
	if s.ext("port-security") {
		m["port_security_enabled"] = n.PortSecurity
	}
	if s.ext("vlan-transparent") {
		m["vlan_transparent"] = n.VLANTransparent
	}
	return m
}

// networkSubnets lists a network's subnet IDs in creation order, the order
// default allocation tries them in.
func (s *Service) networkSubnets(netID string) []string {
	out := []string{}
	for _, sn := range byCreation(s.st.Subnets) {
		if sn.NetworkID == netID {
			out = append(out, sn.ID)
		}
	}
	return out
}

// networkAttrs are the attributes a network body may carry, which depend
// on the enabled extensions.
func (s *Service) networkAttrs(create bool) []string {
	allowed := []string{"name", "description", "admin_state_up", "shared"}
	if create {
		allowed = append(s.withTags(allowed), "project_id", "tenant_id", "availability_zone_hints")
	}
	if s.ext("external-net") {
		allowed = append(allowed, "router:external")
	}
	if s.ext("net-mtu-writable") {
		allowed = append(allowed, "mtu")
	}
	if s.ext("port-security") {
		allowed = append(allowed, "port_security_enabled")
	}
	if create && s.ext("vlan-transparent") {
		allowed = append(allowed, "vlan_transparent")
	}
	return allowed
}

type networkIn struct {
	AdminStateUp    *bool    `json:"admin_state_up"`
	Shared          *bool    `json:"shared"`
	External        *bool    `json:"router:external"`
	MTU             *int     `json:"mtu"`
	PortSecurity    *bool    `json:"port_security_enabled"`
	VLANTransparent *bool    `json:"vlan_transparent"`
	AZHints         []string `json:"availability_zone_hints"`
}

// validate applies the policy and range checks shared by create and update:
// shared and router:external are admin-only in Neutron's default policy.
func (in *networkIn) validate(who *simcore.Identity, op string, maxMTU int) *apiError {
	if in.Shared != nil && *in.Shared && !who.Admin {
		return policyError(op + "_network:shared")
	}
	if in.External != nil && !who.Admin {
		return policyError(op + "_network:router:external")
	}
	if in.MTU != nil && (*in.MTU < 68 || *in.MTU > maxMTU) {
		if *in.MTU > maxMTU {
			return invalidInput("Requested MTU is too big, maximum is %d", maxMTU)
		}
		return badRequest("Invalid input for mtu. Reason: '%d' is too small - must be at least '68'.", *in.MTU)
	}
	return nil
}

func (s *Service) createNetwork(who *simcore.Identity, a attrs) (object, *apiError) {
	if err := a.check(s.networkAttrs(true)...); err != nil {
		return nil, err
	}
	proj, err := project(who, a)
	if err != nil {
		return nil, err
	}
	var in networkIn
	if err := a.decode(&in); err != nil {
		return nil, err
	}
	if err := in.validate(who, "create", s.netMTU); err != nil {
		return nil, err
	}
	if err := s.checkQuota("network", countProject(s.st.Networks, proj)); err != nil {
		return nil, err
	}
	st, err := s.newStdFrom(a, proj)
	if err != nil {
		return nil, err
	}
	n := &network{std: st, AdminStateUp: true, MTU: s.netMTU, PortSecurity: true}
	setBool(&n.AdminStateUp, in.AdminStateUp)
	setBool(&n.Shared, in.Shared)
	setBool(&n.External, in.External)
	setBool(&n.PortSecurity, in.PortSecurity)
	setBool(&n.VLANTransparent, in.VLANTransparent)
	if in.MTU != nil {
		n.MTU = *in.MTU
	}
	s.st.Networks[n.ID] = n
	return n, nil
}

func (s *Service) updateNetwork(who *simcore.Identity, n *network, a attrs) *apiError {
	if s.ext("vlan-transparent") && a.has("vlan_transparent") {
		// Real Zed: 400 HTTPBadRequest, the attribute being create-only.
		return badRequest("Cannot update read-only attribute vlan_transparent")
	}
	if err := a.check(s.networkAttrs(false)...); err != nil {
		return err
	}
	var in networkIn
	if err := a.decode(&in); err != nil {
		return err
	}
	if err := in.validate(who, "update", s.netMTU); err != nil {
		return err
	}
	if err := updateStd(a, &n.std); err != nil {
		return err
	}
	setBool(&n.AdminStateUp, in.AdminStateUp)
	setBool(&n.Shared, in.Shared)
	setBool(&n.External, in.External)
	setBool(&n.PortSecurity, in.PortSecurity)
	if in.MTU != nil {
		n.MTU = *in.MTU
	}
	return nil
}

// deleteNetwork refuses while ports other than Neutron's own (DHCP) remain
// (NetworkInUse); it removes the DHCP ports and the subnets with it.
func (s *Service) deleteNetwork(n *network) *apiError {
	var inUse []string
	for _, p := range sorted(s.st.Ports) {
		if p.NetworkID == n.ID && p.DeviceOwner != ownerDHCP {
			inUse = append(inUse, p.ID)
		}
	}
	if len(inUse) > 0 {
		// Neutron's _ensure_network_not_in_use names the ports.
		return errf(http.StatusConflict, "NetworkInUse",
			"Unable to complete operation on network %s. There are one or more ports still in use on the network, id for these ports is: %s.",
			n.ID, strings.Join(inUse, ","))
	}
	for id, p := range s.st.Ports {
		if p.NetworkID == n.ID {
			s.dropPort(id)
		}
	}
	for id, sn := range s.st.Subnets {
		if sn.NetworkID == n.ID {
			delete(s.st.Subnets, id)
		}
	}
	delete(s.st.Networks, n.ID)
	return nil
}

func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

// isNetworkOwner reports device owners that Neutron itself manages.
func isNetworkOwner(owner string) bool { return strings.HasPrefix(owner, "network:") }
