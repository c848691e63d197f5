package cinder

import (
	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
	"net/http"
)

// quotaUsage is GET /v3/os-quota-sets/{project}?usage=true (the project
// ID in the endpoint's path is the core's), as real Zed answers it: each
// quota with limit, in_use and reserved, -1 for unlimited:
//
//	{"quota_set": {"volumes": {"limit": 200, "in_use": 0, "reserved": 0},
//	 "gigabytes": {"limit": 5000, "in_use": 0, "reserved": 0}, ..., "id": "PROJECT"}}
//
// Without usage=true real Cinder answers plain limits; fuelplan always
// asks for the usage, so only that form is modelled (a 400 says so).
func (s *Service) quotaUsage(w http.ResponseWriter, r *http.Request) {
	who, project := caller(r), r.PathValue("project")
	if project != who.ProjectID && !who.Admin {
		faults.Writef(w, http.StatusForbidden, "Policy doesn't allow volume_extension:quotas:show to be performed.")
		return
	}
	if r.URL.Query().Get("usage") != "true" && r.URL.Query().Get("usage") != "True" {
		faults.Writef(w, http.StatusBadRequest, "the simulated Cinder answers os-quota-sets only with usage=true")
		return
	}
	count, gigs := 0, 0
	for _, v := range s.st.Volumes {
		if v.ProjectID == project {
			count++
			gigs += v.Size
		}
	}
	limit := func(k string) int {
		if q, ok := s.quotas[k]; ok {
			return q
		}
		return -1
	}
	set := map[string]any{"id": project}
	for k, used := range map[string]int{"volumes": count, "gigabytes": gigs, "snapshots": 0, "backups": 0,
		"backup_gigabytes": 0, "groups": 0, "per_volume_gigabytes": 0} {
		set[k] = map[string]int{"limit": limit(k), "in_use": used, "reserved": 0}
	}
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"quota_set": set})
}
