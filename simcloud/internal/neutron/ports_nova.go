package neutron

import (
	"slices"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// The simcore.Ports implementation: what Nova does to ports in-process, as
// real Nova does over Neutron's API with its service credentials.

// BindPort plugs a port into a server on a host.
func (s *Service) BindPort(projectID, portID, deviceID, host string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.st.Ports[portID]
	if !ok {
		return simcore.ErrNotFound
	}
	if p.ProjectID != projectID {
		return simcore.ErrForbidden
	}
	if p.DeviceID != "" && p.DeviceID != deviceID {
		return simcore.ErrPortInUse
	}
	p.DeviceID, p.DeviceOwner, p.HostID = deviceID, ownerCompute, host
	p.touch(s.knobs.Now())
	return nil
}

// UnbindPort unplugs a port from a server; a pre-created port survives its
// server, so it is cleared, not deleted. A port already re-bound elsewhere
// or deleted is left alone.
func (s *Service) UnbindPort(portID, deviceID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.st.Ports[portID]
	if !ok || p.DeviceID != deviceID {
		return
	}
	p.DeviceID, p.DeviceOwner, p.HostID = "", "", ""
	p.touch(s.knobs.Now())
}

// Port describes a port for a server's "addresses".
func (s *Service) Port(portID string) (simcore.PortView, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.st.Ports[portID]
	if !ok {
		return simcore.PortView{}, false
	}
	v := simcore.PortView{MAC: p.MAC, FixedIPs: []string{}, FloatingIPs: []string{}, PortSecurity: p.PortSecurity, NetworkID: p.NetworkID}
	if n, ok := s.st.Networks[p.NetworkID]; ok {
		v.NetworkName = n.Name
	}
	for _, f := range p.FixedIPs {
		v.FixedIPs = append(v.FixedIPs, f.IPAddress)
	}
	for _, f := range sorted(s.st.FloatingIPs) {
		if f.PortID == p.ID {
			v.FloatingIPs = append(v.FloatingIPs, f.Address)
		}
	}
	slices.Sort(v.FloatingIPs)
	return v, true
}

// PortAt is the port holding ip: the port a floating IP is associated
// with, or the port with that fixed IP; "" for none.
func (s *Service) PortAt(ip string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range sorted(s.st.FloatingIPs) {
		if f.Address == ip {
			return f.PortID
		}
	}
	for _, p := range sorted(s.st.Ports) {
		for _, f := range p.FixedIPs {
			if f.IPAddress == ip {
				return p.ID
			}
		}
	}
	return ""
}
