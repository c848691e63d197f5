package neutron

import (
	"net/http"
	"net/netip"
	"slices"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

type interfaceIn struct {
	SubnetID string `json:"subnet_id"`
	PortID   string `json:"port_id"`
}

// readInterface reads the add/remove_router_interface body (not wrapped in
// an envelope) and the router it addresses.
func (s *Service) readInterface(r *http.Request, who *simcore.Identity) (*router, interfaceIn, *apiError) {
	var in interfaceIn
	rt, ok := s.st.Routers[r.PathValue("id")]
	if !ok || !owned(who, rt) {
		return nil, in, routerNotFound(r.PathValue("id"))
	}
	if err := simcore.ReadJSON(r, &in); err != nil {
		return nil, in, badRequest("Malformed request body: %v", err)
	}
	if in.SubnetID != "" && in.PortID != "" {
		return nil, in, badResource("router", "Cannot specify both subnet-id and port-id")
	}
	if in.SubnetID == "" && in.PortID == "" {
		return nil, in, badResource("router", "Either subnet_id or port_id must be specified")
	}
	return rt, in, nil
}

func writeInterface(w http.ResponseWriter, rt *router, p *port) {
	sid := ""
	ids := []string{}
	for _, f := range p.FixedIPs {
		ids = append(ids, f.SubnetID)
	}
	if len(ids) > 0 {
		sid = ids[0]
	}
	// Zed answers with these keys only: tenant_id, no project_id, no tags.
	simcore.WriteJSON(w, http.StatusOK, map[string]any{
		"id": rt.ID, "tenant_id": rt.ProjectID, "port_id": p.ID,
		"network_id": p.NetworkID, "subnet_id": sid, "subnet_ids": ids,
	})
}

// addInterface plugs the router into a subnet (a new port holding the
// subnet's gateway IP) or into an existing unused port.
func (s *Service) addInterface(w http.ResponseWriter, r *http.Request, who *simcore.Identity) *apiError {
	rt, in, err := s.readInterface(r, who)
	if err != nil {
		return err
	}
	var p *port
	if in.PortID != "" {
		p = s.st.Ports[in.PortID]
		if p == nil || !owned(who, p) {
			return portNotFound(in.PortID)
		}
		if p.DeviceID != "" {
			return errf(http.StatusConflict, "PortInUse",
				"Unable to complete operation on port %s for network %s. Port already has an attached device %s.", p.ID, p.NetworkID, p.DeviceID)
		}
		if len(p.FixedIPs) == 0 {
			return badResource("router", "Router port must have at least one fixed IP")
		}
		for _, f := range p.FixedIPs {
			if err := s.checkRouterSubnet(rt, f.SubnetID); err != nil {
				return err
			}
		}
		p.DeviceID, p.DeviceOwner = rt.ID, ownerRouterIf
		p.SecurityGroups = []string{}
		p.touch(s.knobs.Now())
	} else {
		sn := s.st.Subnets[in.SubnetID]
		if sn == nil || !(owned(who, sn) || s.st.Networks[sn.NetworkID].Shared) {
			return subnetNotFound(in.SubnetID)
		}
		if sn.GatewayIP == "" {
			return badResource("router", "Subnet for router interface must have a gateway IP")
		}
		if err := s.checkRouterSubnet(rt, sn.ID); err != nil {
			return err
		}
		if owner, used := s.ipOwner(sn.ID, sn.GatewayIP); used {
			return errf(http.StatusConflict, "IpAddressAlreadyAllocated",
				"IP address %s already allocated in subnet %s (port %s)", sn.GatewayIP, sn.ID, owner)
		}
		mac, _ := s.portMAC(sn.NetworkID, "", nil)
		p = &port{std: s.newStd(rt.ProjectID, "", ""), NetworkID: sn.NetworkID, AdminStateUp: true,
			MAC: mac, FixedIPs: []fixedIP{{sn.ID, sn.GatewayIP}}, DeviceID: rt.ID, DeviceOwner: ownerRouterIf,
			PortSecurity: false, SecurityGroups: []string{}, AddressPairs: []addressPair{}}
		s.putPort(p)
	}
	rt.touch(s.knobs.Now())
	writeInterface(w, rt, p)
	return nil
}

// checkRouterSubnet refuses a second interface on the same subnet and a
// subnet overlapping one already attached (both BadRequest in Neutron).
func (s *Service) checkRouterSubnet(rt *router, subnetID string) *apiError {
	sn := s.st.Subnets[subnetID]
	np, _ := netip.ParsePrefix(sn.CIDR)
	for _, p := range s.routerPorts(rt.ID) {
		for _, f := range p.FixedIPs {
			if f.SubnetID == subnetID {
				return badResource("router", "Router already has a port on subnet %s", subnetID)
			}
			if o := s.st.Subnets[f.SubnetID]; o != nil {
				if op, _ := netip.ParsePrefix(o.CIDR); op.Overlaps(np) {
					return badResource("router", "Cidr %s of subnet %s overlaps with cidr %s of subnet %s", np, subnetID, o.CIDR, o.ID)
				}
			}
		}
	}
	return nil
}

// removeInterface unplugs by port or subnet and deletes the interface
// port, unless a floating IP still needs that path (409
// RouterInterfaceInUseByFloatingIP).
func (s *Service) removeInterface(w http.ResponseWriter, r *http.Request, who *simcore.Identity) *apiError {
	rt, in, err := s.readInterface(r, who)
	if err != nil {
		return err
	}
	var p *port
	for _, rp := range s.routerPorts(rt.ID) {
		if rp.ID == in.PortID || (in.PortID == "" && slices.ContainsFunc(rp.FixedIPs, func(f fixedIP) bool { return f.SubnetID == in.SubnetID })) {
			p = rp
			break
		}
	}
	if p == nil {
		if in.PortID != "" {
			return errf(http.StatusNotFound, "RouterInterfaceNotFound", "Router %s does not have an interface with id %s", rt.ID, in.PortID)
		}
		return errf(http.StatusNotFound, "RouterInterfaceNotFoundForSubnet", "Router %s has no interface on subnet %s", rt.ID, in.SubnetID)
	}
	for _, f := range p.FixedIPs {
		if s.subnetNeededByFIP(rt.ID, f.SubnetID) {
			return errf(http.StatusConflict, "RouterInterfaceInUseByFloatingIP",
				"Router interface for subnet %s on router %s cannot be deleted, as it is required by one or more floating IPs.", f.SubnetID, rt.ID)
		}
	}
	s.dropPort(p.ID)
	rt.touch(s.knobs.Now())
	writeInterface(w, rt, p)
	return nil
}

// subnetNeededByFIP: some floating IP is routed through this router to a
// fixed IP on the subnet.
func (s *Service) subnetNeededByFIP(routerID, subnetID string) bool {
	for _, f := range s.st.FloatingIPs {
		if f.RouterID != routerID {
			continue
		}
		if p := s.st.Ports[f.PortID]; p != nil {
			for _, ip := range p.FixedIPs {
				if ip.SubnetID == subnetID && ip.IPAddress == f.FixedIP {
					return true
				}
			}
		}
	}
	return false
}
