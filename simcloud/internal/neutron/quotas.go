package neutron

import (
	"net/http"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// quotaDetails is GET /v2.0/quotas/{project}/details (the quota_details
// extension), as real Zed answers it: every resource with its limit, used
// and reserved count, -1 for unlimited:
//
//	{"quota": {"network": {"limit": 200, "used": 4, "reserved": 0}, ...,
//	 "trunk": {"limit": -1, "used": 0, "reserved": 0}}}
//
// A member asking for another project gets real Neutron's 403 AdminRequired
// ("Only admin is authorized to access quotas for another project.").
// The simulator reserves nothing: its creates complete in one request.
func (s *Service) quotaDetails(w http.ResponseWriter, r *http.Request, who *simcore.Identity) *apiError {
	project := r.PathValue("project")
	if project != who.ProjectID && !who.Admin {
		return errf(http.StatusForbidden, "AdminRequired",
			"User does not have admin privileges: Only admin is authorized to access quotas for another project.")
	}
	used := map[string]int{
		"network":             countProject(s.st.Networks, project),
		"subnet":              countProject(s.st.Subnets, project),
		"subnetpool":          0,
		"port":                countProject(s.st.Ports, project),
		"router":              countProject(s.st.Routers, project),
		"floatingip":          countProject(s.st.FloatingIPs, project),
		"rbac_policy":         0,
		"security_group":      countProject(s.st.SecGroups, project),
		"security_group_rule": countProject(s.st.SGRules, project),
	}
	if s.ext("trunk") {
		used["trunk"] = countProject(s.st.Trunks, project)
	}
	out := map[string]any{}
	for res, n := range used {
		lim, ok := s.quotas[res]
		if !ok {
			lim = -1
		}
		out[res] = map[string]int{"limit": lim, "used": n, "reserved": 0}
	}
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"quota": out})
	return nil
}
