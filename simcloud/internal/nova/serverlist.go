package nova

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// listServers serves GET /servers and /servers/detail with Nova's filters.
// Order is Nova's default: created_at desc, then id desc.
func (s *Service) listServers(detail bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		c := caller(r)
		all := truthy(q.Get("all_tenants"))
		if all && !c.Admin {
			faults.Write(w, http.StatusForbidden, "Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be performed.")
			return
		}
		match, err := s.serverFilter(q, c, all)
		if err != nil {
			faults.Write(w, http.StatusBadRequest, err.Error())
			return
		}
		var list []*server
		for _, sv := range s.st.Servers {
			if match(sv) {
				list = append(list, sv)
			}
		}
		slices.SortFunc(list, func(a, b *server) int {
			if c := b.Created.Compare(a.Created); c != 0 {
				return c
			}
			return strings.Compare(b.ID, a.ID)
		})
		page, links, ok := paginate(w, r, list, func(sv *server) string { return sv.ID })
		if !ok {
			return
		}
		out := []any{}
		for _, sv := range page {
			if detail {
				out = append(out, s.encodeServer(r, sv)) // serverView's JSON, without its maps
			} else {
				out = append(out, map[string]any{"id": sv.ID, "name": sv.Name, "links": serverLinks(r, sv.ID)})
			}
		}
		body := map[string]any{"servers": out}
		if links != nil {
			body["servers_links"] = links
		}
		simcore.WriteJSON(w, http.StatusOK, body)
	}
}

func truthy(v string) bool {
	switch strings.ToLower(v) {
	case "", "0", "false", "f", "off", "no", "n":
		return false
	}
	return true
}

func splitTags(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// serverFilter builds the predicate for a server list query.
func (s *Service) serverFilter(q url.Values, c *simcore.Identity, all bool) (func(*server) bool, error) {
	var name *regexp.Regexp
	if v := q.Get("name"); v != "" {
		// Nova matches name as a regular expression, unanchored (a search,
		// not a full match), so name=slave matches "lab-slave-01".
		re, err := regexp.Compile(v)
		if err != nil {
			re = regexp.MustCompile(regexp.QuoteMeta(v))
		}
		name = re
	}
	var since time.Time
	if v := q.Get("changes-since"); v != "" {
		t, err := parseTime(v)
		if err != nil {
			return nil, msgf("Invalid filter field: changes-since.")
		}
		since = t
	}
	status := strings.ToUpper(q.Get("status"))
	tags, tagsAny := splitTags(q.Get("tags")), splitTags(q.Get("tags-any"))
	notTags, notTagsAny := splitTags(q.Get("not-tags")), splitTags(q.Get("not-tags-any"))
	project := q.Get("tenant_id")
	if project == "" {
		project = q.Get("project_id")
	}
	host := q.Get("host")
	flavorID, imageID := q.Get("flavor"), q.Get("image")
	now := s.knobs.Now()
	return func(sv *server) bool {
		switch {
		case !all && sv.ProjectID != c.ProjectID:
			return false
		case all && project != "" && sv.ProjectID != project:
			return false
		case name != nil && !name.MatchString(sv.Name):
			return false
		case host != "" && c.Admin && sv.Host != host: // ignored for others, as in Nova
			return false
		case flavorID != "" && sv.FlavorID != flavorID:
			return false
		case imageID != "" && sv.ImageID != imageID:
			return false
		}
		p := sv.phaseAt(now)
		if status != "" && p.status != status {
			return false
		}
		if !since.IsZero() && p.updated.Before(since) {
			return false
		}
		has := func(t string) bool { return slices.Contains(sv.Tags, t) }
		if len(tags) > 0 && !every(tags, has) {
			return false
		}
		if len(tagsAny) > 0 && !slices.ContainsFunc(tagsAny, has) {
			return false
		}
		if len(notTags) > 0 && every(notTags, has) {
			return false
		}
		if len(notTagsAny) > 0 && slices.ContainsFunc(notTagsAny, has) {
			return false
		}
		return true
	}, nil
}

func every(list []string, f func(string) bool) bool {
	for _, v := range list {
		if !f(v) {
			return false
		}
	}
	return true
}

// parseTime accepts the ISO 8601 forms clients send for changes-since.
func parseTime(v string) (time.Time, error) {
	var err error
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999", "2006-01-02"} {
		var t time.Time
		if t, err = time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}
