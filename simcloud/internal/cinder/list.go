package cinder

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// list serves GET /volumes and /volumes/detail with Cinder's filters
// (name, status, bootable, metadata) and limit/marker paging with a
// "volumes_links" next link.
func (s *Service) list(detail bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		meta, err := parseMetadataFilter(q.Get("metadata"))
		if err != nil {
			faults.Write(w, http.StatusBadRequest, "Invalid input received: metadata filter: "+err.Error())
			return
		}
		now := s.knobs.Now()
		var match []*volume
		for _, v := range s.sortedVolumes(r) {
			if n := q.Get("name"); n != "" && v.Name != n {
				continue
			}
			if st := q.Get("status"); st != "" && v.status(now) != st {
				continue
			}
			if b := q.Get("bootable"); b != "" && truthy(b) != v.bootable(now) {
				continue
			}
			if !hasMeta(v, meta) {
				continue
			}
			match = append(match, v)
		}
		if m := q.Get("marker"); m != "" {
			i := indexOf(match, m)
			if i < 0 {
				faults.Writef(w, http.StatusBadRequest, "Invalid input received: marker [%s] not found", m)
				return
			}
			match = match[i+1:]
		}
		var links []any
		if l := q.Get("limit"); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil || n < 0 {
				faults.Write(w, http.StatusBadRequest, "Invalid input received: limit must be a non-negative integer.")
				return
			}
			if n < len(match) {
				match = match[:n]
				if n > 0 {
					next := url.Values{}
					for k, vs := range q {
						next[k] = vs
					}
					next.Set("marker", match[n-1].ID)
					path := "/v3/volumes"
					if detail {
						path += "/detail"
					}
					links = append(links, map[string]string{"rel": "next", "href": baseURL(r) + path + "?" + next.Encode()})
				}
			}
		}
		out := []any{}
		for _, v := range match {
			if detail {
				out = append(out, s.view(r, v))
			} else {
				out = append(out, summary(r, v))
			}
		}
		body := map[string]any{"volumes": out}
		if links != nil {
			body["volumes_links"] = links
		}
		simcore.WriteJSON(w, http.StatusOK, body)
	}
}

func indexOf(vs []*volume, id string) int {
	for i, v := range vs {
		if v.ID == id {
			return i
		}
	}
	return -1
}

func hasMeta(v *volume, want map[string]string) bool {
	for k, val := range want {
		if got, ok := v.Metadata[k]; !ok || got != val {
			return false
		}
	}
	return true
}

// parseMetadataFilter reads the metadata query parameter as Cinder does
// (a Python dict literal, which is what clients send:
// {'fuelplan-lab':'fuel', 'k':'v'}); JSON's double quotes are taken too.
// Keys and values are plain quoted strings without escapes.
func parseMetadataFilter(s string) (map[string]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return nil, errBadMeta
	}
	rest := strings.TrimSpace(s[1 : len(s)-1])
	out := map[string]string{}
	for rest != "" {
		k, r, ok := quoted(rest)
		if !ok {
			return nil, errBadMeta
		}
		r = strings.TrimSpace(r)
		if !strings.HasPrefix(r, ":") {
			return nil, errBadMeta
		}
		v, r, ok := quoted(strings.TrimSpace(r[1:]))
		if !ok {
			return nil, errBadMeta
		}
		out[k] = v
		r = strings.TrimSpace(r)
		if r != "" {
			if !strings.HasPrefix(r, ",") {
				return nil, errBadMeta
			}
			r = strings.TrimSpace(r[1:])
		}
		rest = r
	}
	return out, nil
}

type metaError struct{}

func (metaError) Error() string { return "want a dict such as {'key':'value'}" }

var errBadMeta error = metaError{}

// quoted reads one '...' or "..." string from the front of s.
func quoted(s string) (string, string, bool) {
	if s == "" || (s[0] != '\'' && s[0] != '"') {
		return "", s, false
	}
	end := strings.IndexByte(s[1:], s[0])
	if end < 0 {
		return "", s, false
	}
	return s[1 : 1+end], s[2+end:], true
}
