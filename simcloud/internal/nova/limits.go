package nova

import (
	"crypto/md5"
	"fmt"
	"net/http"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// usage counts a project's instances, cores and RAM, deleting servers
// included: Nova frees quota only when the instance is gone.
func (s *Service) usage(project string) map[string]int {
	u := map[string]int{"instances": 0, "cores": 0, "ram": 0}
	for _, sv := range s.st.Servers {
		if sv.ProjectID == project {
			u["instances"]++
			u["cores"] += sv.Flavor.VCPUs
			u["ram"] += sv.Flavor.RAM
		}
	}
	return u
}

// quota returns a limit, -1 meaning unlimited as Nova shows it.
func (s *Service) quota(name string) int {
	if v, ok := s.quotas[name]; ok {
		return v
	}
	return -1
}

// checkQuota refuses a server that would exceed a project quota, with
// Nova's TooManyInstances message (a 403).
func (s *Service) checkQuota(project string, f *flavor) error {
	u := s.usage(project)
	for _, c := range []struct {
		name string
		req  int
	}{{"instances", 1}, {"cores", f.VCPUs}, {"ram", f.RAM}} {
		if lim := s.quota(c.name); lim >= 0 && u[c.name]+c.req > lim {
			return msgf("Quota exceeded for %s: Requested %d, but already used %d of %d %s",
				c.name, c.req, u[c.name], lim, c.name)
		}
	}
	return nil
}

func (s *Service) limits(w http.ResponseWriter, r *http.Request) {
	c := caller(r)
	project := c.ProjectID
	if t := r.URL.Query().Get("tenant_id"); t != "" && c.Admin {
		project = t
	}
	u := s.usage(project)
	// Real Zed reports maxTotalKeypairs (a per-user limit) but no
	// totalKeypairsUsed: a client counts its keypairs itself.
	abs := map[string]any{
		"maxTotalInstances": s.quota("instances"), "totalInstancesUsed": u["instances"],
		"maxTotalCores": s.quota("cores"), "totalCoresUsed": u["cores"],
		"maxTotalRAMSize": s.quota("ram"), "totalRAMUsed": u["ram"],
		"maxServerMeta": 128, "maxImageMeta": 128, "maxPersonality": 5, "maxPersonalitySize": 10240,
		"maxTotalKeypairs": s.quota("keypairs"), "maxServerGroups": 10, "maxServerGroupMembers": 10,
		"totalServerGroupsUsed": 0,
	}
	if mv(r) < 36 {
		for k, v := range map[string]any{"maxSecurityGroups": 10, "maxSecurityGroupRules": 20,
			"maxTotalFloatingIps": 10, "totalFloatingIpsUsed": 0, "totalSecurityGroupsUsed": 0} {
			abs[k] = v
		}
	}
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"limits": map[string]any{"absolute": abs, "rate": []any{}}})
}

// hypervisorID is a stable UUID-shaped id per host name (ids are UUIDs
// from 2.53).
func hypervisorID(name string) string {
	h := md5.Sum([]byte("hypervisor:" + name))
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// listHypervisors is admin-only, like Nova's policy.
func (s *Service) listHypervisors(detail bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !adminOnly(w, r, "os_compute_api:os-hypervisors:list") {
			return
		}
		running := map[string]int{}
		for _, sv := range s.st.Servers {
			running[sv.Host]++
		}
		out := []any{}
		for i, h := range s.hypervisors {
			var id any = i + 1
			if mv(r) >= 53 {
				id = hypervisorID(h)
			}
			m := map[string]any{"id": id, "hypervisor_hostname": h, "state": "up", "status": "enabled"}
			if detail {
				m["hypervisor_type"] = "QEMU"
				m["hypervisor_version"] = 4002000
				m["host_ip"] = fmt.Sprintf("192.168.0.%d", 10+i)
				m["service"] = map[string]any{"host": h, "id": id, "disabled_reason": nil}
				if mv(r) < 88 {
					m["vcpus"], m["vcpus_used"] = 32, 0
					m["memory_mb"], m["memory_mb_used"], m["free_ram_mb"] = 131072, 0, 131072
					m["local_gb"], m["local_gb_used"], m["free_disk_gb"], m["disk_available_least"] = 1000, 0, 1000, 1000
					m["running_vms"], m["current_workload"] = running[h], 0
					m["cpu_info"] = "{}"
				}
			}
			out = append(out, m)
		}
		simcore.WriteJSON(w, http.StatusOK, map[string]any{"hypervisors": out})
	}
}
