package neutron

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// DefaultExtensions is what an ML2/OVS cloud of the Zed era advertises, as
// far as the simulator implements it. vlan-transparent is off, as on most
// OVS clouds: vlan_transparent in a body is then a 400. trunk and
// trunk-details are on, as the OVS trunk driver provides them.
var DefaultExtensions = []string{
	"allowed-address-pairs", "binding", "external-net", "net-mtu", "net-mtu-writable",
	"port-security", "project-id", "revision-if-match", "router", "security-group",
	"standard-attr-description", "standard-attr-revisions", "standard-attr-tag",
	"standard-attr-timestamp", "tag-creation", "extraroute", "pagination", "sorting", "fields",
	"quotas", "quota_details", "filter-validation", "trunk", "trunk-details",
}

// extensionInfo holds the names and descriptions real Neutron returns.
var extensionInfo = map[string][2]string{
	"allowed-address-pairs":          {"Allowed Address Pairs", "Provides allowed address pairs"},
	"binding":                        {"Port Binding", "Expose port bindings of a virtual port to external application"},
	"external-net":                   {"Neutron external network", "Adds external network attribute to network resource."},
	"extraroute":                     {"Neutron Extra Route", "Extra routes configuration for L3 router"},
	"fields":                         {"Fields", "Enables fields parameter on list requests"},
	"filter-validation":              {"Filter parameters validation", "Provides validation on filter parameters."},
	"net-mtu":                        {"Network MTU", "Provides MTU attribute for a network resource."},
	"net-mtu-writable":               {"Network MTU (writable)", "Provides a writable MTU attribute for a network resource."},
	"pagination":                     {"Pagination support", "Extension that indicates that pagination is enabled."},
	"port-security":                  {"Port Security", "Provides port security"},
	"project-id":                     {"project_id field enabled", "Extension that indicates that project_id field is enabled."},
	"quotas":                         {"Quota management support", "Expose functions for quotas management per project"},
	"quota_details":                  {"Quota details management support", "Expose functions for quotas usage statistics per project"},
	"revision-if-match":              {"If-Match constraints based on revision_number", "Extension indicating that If-Match based on revision_number is supported."},
	"router":                         {"Neutron L3 Router", "Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway."},
	"security-group":                 {"security-group", "The security groups extension."},
	"sorting":                        {"Sorting support", "Extension that indicates that sorting is enabled."},
	"standard-attr-description":      {"standard-attr-description", "Extension to add descriptions to standard attributes"},
	"standard-attr-revisions":        {"Resource revision numbers", "This extension will display the revision number of neutron resources."},
	"standard-attr-tag":              {"Tag support for resources with standard attribute: subnet, trunk, network_segment_range, router, network, policy, subnetpool, port, security_group, floatingip", "Enables to set tag on resources with standard attribute."},
	"standard-attr-timestamp":        {"Resource timestamps", "Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes."},
	"tag-creation":                   {"Tag support for resources during creation", "Enables to set tag on resources during creation."},
	"tag-ports-during-bulk-creation": {"Tag Ports During Bulk Creation", "Allow to tag ports during bulk creation"},
	"trunk":                          {"Trunk Extension", "Provides support for trunk ports"},
	"trunk-details":                  {"Trunk port details", "Expose trunk port details"},
	"vlan-transparent":               {"Vlan transparency", "Provides Vlan Transparent Networks"},
}

// baseURL is the client's view of this service's root: scheme, host and
// the prefix the core stripped (still in RequestURI), with trailing slash.
func baseURL(r *http.Request, servicePath string) string {
	return "http://" + r.Host + strings.TrimSuffix(clientPath(r), servicePath) + "/"
}

// clientPath is the path the client asked for: RequestURI still carries
// the mount prefix that the core stripped from r.URL.Path.
func clientPath(r *http.Request) string {
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
		return u.Path
	}
	return r.URL.Path
}

// versions is Neutron's version document (GET /), used for discovery.
func (s *Service) versions(w http.ResponseWriter, r *http.Request) {
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"versions": []any{map[string]any{
		"id": "v2.0", "status": "CURRENT",
		"links": []any{map[string]string{"rel": "self", "href": baseURL(r, "/") + "v2.0/"}},
	}}})
}

// resources is the v2.0 root (GET /v2.0/): the collections served.
func (s *Service) resources(w http.ResponseWriter, r *http.Request) {
	base := baseURL(r, "/v2.0/") + "v2.0/"
	var out []any
	for _, k := range s.kinds() {
		if k.ext != "" && !s.ext(k.ext) {
			continue
		}
		out = append(out, map[string]any{"name": k.singular, "collection": k.plural,
			"links": []any{map[string]string{"rel": "self", "href": base + k.path}}})
	}
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"resources": out})
}

func (s *Service) extension(alias string) map[string]any {
	info, ok := extensionInfo[alias]
	if !ok {
		info = [2]string{alias, alias}
	}
	return map[string]any{"alias": alias, "name": info[0], "description": info[1],
		"updated": "2013-01-01T10:00:00-00:00", "links": []any{}}
}

func (s *Service) listExtensions(w http.ResponseWriter, r *http.Request, who *simcore.Identity) *apiError {
	out := []map[string]any{}
	for _, a := range s.extOrd {
		out = append(out, s.extension(a))
	}
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"extensions": out})
	return nil
}

func (s *Service) showExtension(w http.ResponseWriter, r *http.Request, who *simcore.Identity) *apiError {
	a := r.PathValue("alias")
	if !s.ext(a) {
		return errf(http.StatusNotFound, "HTTPNotFound", "Extension with alias %s does not exist", a)
	}
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"extension": s.extension(a)})
	return nil
}
