package keystone

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// keystoneTime is Keystone's timestamp format, with microseconds.
func keystoneTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

var defaultDomain = map[string]string{"id": DomainID, "name": DomainName}

// body renders a token as Keystone does (see gophercloud's
// identity/v3/tokens/testing/fixtures.go). Unscoped tokens carry neither
// roles nor a catalog.
func (s *Service) body(t *token) map[string]any {
	b := map[string]any{
		"methods":    t.methods,
		"issued_at":  keystoneTime(t.issuedAt),
		"expires_at": keystoneTime(t.expiresAt),
		"audit_ids":  []string{stableID("audit", keystoneTime(t.issuedAt))[:22]},
		"user": map[string]any{
			"id": t.user.ID, "name": t.user.Name, "domain": defaultDomain,
			"password_expires_at": nil,
		},
	}
	switch {
	case t.project != nil:
		b["is_domain"] = false
		b["project"] = map[string]any{"id": t.project.ID, "name": t.project.Name, "domain": defaultDomain}
	case t.domain:
		b["domain"] = defaultDomain
	default:
		return b
	}
	roles := []map[string]string{}
	for _, r := range t.user.Roles {
		roles = append(roles, map[string]string{"id": stableID("role", r), "name": r})
	}
	b["roles"] = roles
	b["catalog"] = s.catalog()
	return b
}

func (s *Service) catalog() []map[string]any {
	out := []map[string]any{}
	for _, e := range s.cfg.Catalog {
		var eps []map[string]string
		for _, iface := range []string{"public", "internal", "admin"} {
			eps = append(eps, map[string]string{
				"id":        stableID("endpoint", e.Type+"/"+iface),
				"interface": iface, "region": s.cfg.Region, "region_id": s.cfg.Region,
				"url": e.URL,
			})
		}
		out = append(out, map[string]any{
			"id": stableID("service", e.Type), "type": e.Type, "name": e.Name, "endpoints": eps,
		})
	}
	return out
}

// version is the v3 version document; its self link is how clients that
// were given the unversioned URL find /v3.
func (s *Service) version() map[string]any {
	return map[string]any{
		"id":      "v3.14",
		"status":  "stable",
		"updated": "2020-04-07T00:00:00Z",
		"links":   []map[string]string{{"rel": "self", "href": s.cfg.BaseURL + "/v3/"}},
		"media-types": []map[string]string{{
			"base": "application/json", "type": "application/vnd.openstack.identity-v3+json",
		}},
	}
}

// versions answers GET / with 300 Multiple Choices, as Keystone does.
func (s *Service) versions(w http.ResponseWriter) {
	simcore.WriteJSON(w, http.StatusMultipleChoices, map[string]any{
		"versions": map[string]any{"values": []any{s.version()}},
	})
}

// remarshal converts a decoded JSON value into a typed one.
func remarshal(in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}
