package nova

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// phase is a server's state at a moment, derived from its timestamps.
type phase struct {
	status, vmState string
	task            any // string or null
	power           int // 0 NOSTATE, 1 RUNNING
	updated         time.Time
	launched        *time.Time
}

// phaseAt computes the server's status lazily: BUILD until ReadyAt, then
// ACTIVE or ERROR; "deleting" as task state once deleted. The status
// change counts as a change for "updated".
func (sv *server) phaseAt(now time.Time) phase {
	p := phase{status: "BUILD", vmState: "building", task: "spawning", updated: sv.Updated}
	if !now.Before(sv.ReadyAt) {
		if sv.ReadyAt.After(p.updated) {
			p.updated = sv.ReadyAt
		}
		p.task = nil
		if sv.Fault != "" {
			p.status, p.vmState = "ERROR", "error"
		} else {
			p.status, p.vmState, p.power = "ACTIVE", "active", 1
			t := sv.ReadyAt
			p.launched = &t
		}
	}
	if sv.DeletedAt != nil {
		p.task = "deleting"
	}
	return p
}

func serverLinks(r *http.Request, id string) []any {
	return []any{
		map[string]any{"rel": "self", "href": baseURL(r) + "/v2.1/servers/" + id},
		map[string]any{"rel": "bookmark", "href": baseURL(r) + "/servers/" + id},
	}
}

// hostID is Nova's per-project opaque host hash (sha224 of project+host).
func hostID(project, host string) string {
	if host == "" {
		return ""
	}
	h := sha256.Sum224([]byte(project + host))
	return hex.EncodeToString(h[:])
}

// addresses renders the server's ports by network name, fixed addresses
// before floating ones, as Nova's network info cache does.
func (s *Service) addresses(sv *server) map[string]any {
	out := map[string]any{}
	if s.ports == nil {
		return out
	}
	for _, id := range sv.Ports {
		p, ok := s.ports.Port(id)
		if !ok {
			continue
		}
		list, _ := out[p.NetworkName].([]any)
		add := func(ip, typ string) {
			v := 4
			if a := net.ParseIP(ip); a != nil && a.To4() == nil {
				v = 6
			}
			list = append(list, map[string]any{"version": v, "addr": ip,
				"OS-EXT-IPS:type": typ, "OS-EXT-IPS-MAC:mac_addr": p.MAC})
		}
		for _, ip := range p.FixedIPs {
			add(ip, "fixed")
		}
		for _, ip := range p.FloatingIPs {
			add(ip, "floating")
		}
		if list == nil {
			list = []any{}
		}
		out[p.NetworkName] = list
	}
	return out
}

// serverView renders a server as GET /servers/{id} does at the request's
// microversion; admin-only attributes only for an admin token.
func (s *Service) serverView(r *http.Request, sv *server) map[string]any {
	now := s.knobs.Now()
	p := sv.phaseAt(now)
	mvr := mv(r)
	meta := sv.Metadata
	if meta == nil {
		meta = map[string]string{}
	}
	m := map[string]any{
		"id": sv.ID, "name": sv.Name, "status": p.status,
		"tenant_id": sv.ProjectID, "user_id": sv.UserID,
		"created": simcore.Timestamp(sv.Created), "updated": simcore.Timestamp(p.updated),
		"hostId":    hostID(sv.ProjectID, sv.Host),
		"addresses": s.addresses(sv), "metadata": meta, "links": serverLinks(r, sv.ID),
		"key_name": nilIfEmpty(sv.KeyName), "accessIPv4": sv.AccessIPv4, "accessIPv6": sv.AccessIPv6,
		// Nova sets progress only while migrating or resizing: a booted
		// server shows 0 (Zed, seen by the e2e probe; the API reference too).
		"progress": 0, "config_drive": "", "OS-DCF:diskConfig": "MANUAL",
		"OS-EXT-AZ:availability_zone": sv.AZ,
		"OS-EXT-STS:vm_state":         p.vmState, "OS-EXT-STS:task_state": p.task,
		"OS-EXT-STS:power_state": p.power,
		"OS-SRV-USG:launched_at": nil, "OS-SRV-USG:terminated_at": nil,
		"security_groups":                      []any{map[string]any{"name": "default"}},
		"os-extended-volumes:volumes_attached": attachedVolumes(sv),
	}
	if p.launched != nil {
		m["OS-SRV-USG:launched_at"] = p.launched.UTC().Format("2006-01-02T15:04:05.000000")
	}
	if sv.ImageID != "" {
		m["image"] = map[string]any{"id": sv.ImageID, "links": []any{map[string]any{"rel": "bookmark", "href": baseURL(r) + "/images/" + sv.ImageID}}}
	} else {
		m["image"] = "" // booted from volume
	}
	if mvr >= 47 {
		m["flavor"] = map[string]any{"vcpus": sv.Flavor.VCPUs, "ram": sv.Flavor.RAM, "disk": sv.Flavor.Disk,
			"ephemeral": sv.Flavor.Ephemeral, "swap": sv.Flavor.Swap, "original_name": sv.Flavor.Name,
			"extra_specs": specs(&sv.Flavor)}
	} else {
		m["flavor"] = map[string]any{"id": sv.FlavorID, "links": flavorLinks(r, sv.FlavorID)}
	}
	if p.status == "ERROR" {
		m["fault"] = map[string]any{"code": 500, "message": sv.Fault, "created": simcore.Timestamp(sv.ReadyAt)}
	}
	if mvr >= 9 {
		m["locked"] = false
	}
	if mvr >= 19 {
		m["description"] = sv.Description
	}
	if mvr >= 26 {
		tags := slices.Clone(sv.Tags)
		if tags == nil {
			tags = []string{}
		}
		m["tags"] = tags
	}
	if mvr >= 73 {
		m["locked_reason"] = nil
	}
	if caller(r).Admin {
		m["OS-EXT-SRV-ATTR:host"] = nilIfEmpty(sv.Host)
		m["OS-EXT-SRV-ATTR:hypervisor_hostname"] = nilIfEmpty(sv.Host)
		m["OS-EXT-SRV-ATTR:instance_name"] = sv.InstanceName
		if mvr >= 3 {
			m["OS-EXT-SRV-ATTR:user_data"] = nilIfEmpty(sv.UserData)
			m["OS-EXT-SRV-ATTR:hostname"] = sv.Name
			m["OS-EXT-SRV-ATTR:reservation_id"] = "r-" + sv.ID[:min(8, len(sv.ID))]
			m["OS-EXT-SRV-ATTR:launch_index"] = 0
			m["OS-EXT-SRV-ATTR:kernel_id"] = ""
			m["OS-EXT-SRV-ATTR:ramdisk_id"] = ""
			m["OS-EXT-SRV-ATTR:root_device_name"] = "/dev/vda"
		}
	}
	return m
}
