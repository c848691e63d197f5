package nova

import (
	"net/http"
	"net/url"
	"strconv"
)

// maxLimit is Nova's osapi_max_limit.
const maxLimit = 1000

// paginate applies limit and marker to an ordered list, as Nova's common
// limited_by_marker does: the page starts after the marker, and a full
// page gets a "next" link (even if nothing follows, like Nova).
func paginate[T any](w http.ResponseWriter, r *http.Request, items []T, id func(T) string) ([]T, []any, bool) {
	q := r.URL.Query()
	limit := maxLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			faults.Write(w, http.StatusBadRequest, "limit param must be an integer")
			return nil, nil, false
		}
		limit = min(n, maxLimit)
	}
	if m := q.Get("marker"); m != "" {
		i := -1
		for j, it := range items {
			if id(it) == m {
				i = j
				break
			}
		}
		if i < 0 {
			faults.Writef(w, http.StatusBadRequest, "marker [%s] not found", m)
			return nil, nil, false
		}
		items = items[i+1:]
	}
	page := items[:min(limit, len(items))]
	var links []any
	if len(page) > 0 && len(page) == limit {
		c := url.Values{}
		for k, v := range q {
			c[k] = v
		}
		c.Set("marker", id(page[len(page)-1]))
		links = []any{map[string]any{"rel": "next", "href": baseURL(r) + r.URL.EscapedPath() + "?" + c.Encode()}}
	}
	return page, links, true
}
