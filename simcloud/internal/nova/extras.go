package nova

import (
	"net/http"
	"slices"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// The smaller read-only APIs clients touch around servers: a server's
// addresses and interfaces, availability zones and compute services.

func (s *Service) serverIPs(w http.ResponseWriter, r *http.Request) {
	if sv, ok := s.serverFor(w, r); ok {
		simcore.WriteJSON(w, http.StatusOK, map[string]any{"addresses": s.addresses(sv)})
	}
}

// interfaceView renders a port as os-interface does.
func (s *Service) interfaceView(portID string) (map[string]any, bool) {
	if s.ports == nil {
		return nil, false
	}
	p, ok := s.ports.Port(portID)
	if !ok {
		return nil, false
	}
	ips := []any{}
	for i, ip := range p.FixedIPs {
		fip := map[string]any{"ip_address": ip}
		if i < len(p.SubnetIDs) {
			fip["subnet_id"] = p.SubnetIDs[i]
		}
		ips = append(ips, fip)
	}
	state := p.Status
	if state == "" {
		state = "ACTIVE"
	}
	return map[string]any{"port_id": portID, "net_id": p.NetworkID, "mac_addr": p.MAC,
		"port_state": state, "fixed_ips": ips}, true
}

func (s *Service) listInterfaces(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.serverFor(w, r)
	if !ok {
		return
	}
	out := []any{}
	for _, id := range sv.Ports {
		if v, ok := s.interfaceView(id); ok {
			out = append(out, v)
		}
	}
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"interfaceAttachments": out})
}

func (s *Service) showInterface(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.serverFor(w, r)
	if !ok {
		return
	}
	id := r.PathValue("port")
	v, ok := s.interfaceView(id)
	if !ok || !slices.Contains(sv.Ports, id) {
		faults.Writef(w, http.StatusNotFound, "Port %s is not attached", id)
		return
	}
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"interfaceAttachment": v})
}

// availabilityZones lists the one zone, "nova"; the detail form (admin)
// names the hosts in it.
func (s *Service) availabilityZones(detail bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if detail && !adminOnly(w, r, "os_compute_api:os-availability-zone:detail") {
			return
		}
		var hosts any
		if detail {
			h := map[string]any{}
			for _, name := range s.hypervisors {
				h[name] = map[string]any{"nova-compute": map[string]any{
					"available": true, "active": true, "updated_at": nil}}
			}
			hosts = h
		}
		simcore.WriteJSON(w, http.StatusOK, map[string]any{"availabilityZoneInfo": []any{
			map[string]any{"zoneName": "nova", "zoneState": map[string]any{"available": true}, "hosts": hosts},
		}})
	}
}

// services lists one enabled, up nova-compute per hypervisor (admin only).
func (s *Service) services(w http.ResponseWriter, r *http.Request) {
	if !adminOnly(w, r, "os_compute_api:os-services:list") {
		return
	}
	now := simcore.Timestamp(s.knobs.Now())
	out := []any{}
	for i, h := range s.hypervisors {
		var id any = i + 1
		if mv(r) >= 53 {
			id = hypervisorID("service:" + h)
		}
		out = append(out, map[string]any{"id": id, "binary": "nova-compute", "host": h, "zone": "nova",
			"status": "enabled", "state": "up", "updated_at": now[:len(now)-1] + ".000000",
			"disabled_reason": nil, "forced_down": false})
	}
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"services": out})
}
