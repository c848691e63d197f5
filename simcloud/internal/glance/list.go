package glance

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

const (
	defaultLimit = 25   // Glance's limit_param_default
	maxLimit     = 1000 // Glance's api_limit_max
)

// sortKey is one "key:dir" element of a sort order.
type sortKey struct {
	key  string
	desc bool
}

var sortable = map[string]func(a, b *image) int{
	"name":       func(a, b *image) int { return cmp.Compare(a.Name, b.Name) },
	"id":         func(a, b *image) int { return cmp.Compare(a.ID, b.ID) },
	"status":     func(a, b *image) int { return cmp.Compare(a.Status, b.Status) },
	"created_at": func(a, b *image) int { return a.Created.Compare(b.Created) },
	"updated_at": func(a, b *image) int { return a.Updated.Compare(b.Updated) },
	"size":       func(a, b *image) int { return cmp.Compare(sizeOf(a), sizeOf(b)) },
	"min_disk":   func(a, b *image) int { return cmp.Compare(a.MinDisk, b.MinDisk) },
	"visibility": func(a, b *image) int { return cmp.Compare(a.Visibility, b.Visibility) },
}

func sizeOf(im *image) int64 {
	if im.Size == nil {
		return -1
	}
	return *im.Size
}

// parseSort reads both of Glance's sort syntaxes: sort=k1:dir,k2 and
// repeated sort_key/sort_dir. The default is created_at desc; id desc is
// always appended so the order is total and markers are stable.
func parseSort(q url.Values) ([]sortKey, string) {
	var keys []sortKey
	if v := q.Get("sort"); v != "" {
		for _, part := range strings.Split(v, ",") {
			k, dir, _ := strings.Cut(strings.TrimSpace(part), ":")
			if dir == "" {
				dir = "desc"
			}
			keys = append(keys, sortKey{k, dir == "desc"})
			if dir != "asc" && dir != "desc" {
				return nil, "Invalid sort direction: " + dir
			}
		}
	} else {
		dirs := q["sort_dir"]
		for i, k := range q["sort_key"] {
			dir := "desc"
			if i < len(dirs) {
				dir = dirs[i]
			} else if len(dirs) == 1 {
				dir = dirs[0]
			}
			if dir != "asc" && dir != "desc" {
				return nil, "Invalid sort direction: " + dir
			}
			keys = append(keys, sortKey{k, dir == "desc"})
		}
	}
	if len(keys) == 0 {
		keys = []sortKey{{"created_at", true}}
	}
	for _, k := range keys {
		if sortable[k.key] == nil {
			return nil, "Invalid sort key: " + k.key
		}
	}
	return append(keys, sortKey{"id", true}), ""
}

// matches applies the list filters to one image the caller can see.
func matches(im *image, q url.Values, caller *simcore.Identity) bool {
	vis := q.Get("visibility")
	switch {
	case vis == "all":
	case vis != "":
		if im.Visibility != vis {
			return false
		}
	default:
		// Without a visibility filter Glance leaves out other projects'
		// community images.
		if im.Visibility == "community" && im.Owner != caller.ProjectID {
			return false
		}
	}
	hidden := q.Get("os_hidden") == "true"
	if im.Hidden != hidden {
		return false
	}
	if v := q.Get("name"); v != "" && im.Name != v {
		return false
	}
	if v := q.Get("status"); v != "" && im.Status != v {
		return false
	}
	if v := q.Get("owner"); v != "" && im.Owner != v {
		return false
	}
	if v := q.Get("disk_format"); v != "" && im.DiskFormat != v {
		return false
	}
	if v := q.Get("container_format"); v != "" && im.ContainerFormat != v {
		return false
	}
	for _, t := range q["tag"] {
		if !slices.Contains(im.Tags, t) {
			return false
		}
	}
	return true
}

func (s *Service) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	caller := simcore.IdentityFrom(r.Context())
	limit := defaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			fail(w, r, http.StatusBadRequest, "limit param must be an integer")
			return
		}
		limit = min(n, maxLimit)
	}
	keys, bad := parseSort(q)
	if bad != "" {
		fail(w, r, http.StatusBadRequest, "%s", bad)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*image
	for _, im := range s.images {
		if visible(im, caller) && matches(im, q, caller) {
			all = append(all, im)
		}
	}
	order := func(a, b *image) int {
		for _, k := range keys {
			c := sortable[k.key](a, b)
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	}
	slices.SortFunc(all, order)
	if m := q.Get("marker"); m != "" {
		mk, ok := s.images[m]
		if !ok || !visible(mk, caller) {
			fail(w, r, http.StatusBadRequest, "Invalid marker. Image %s could not be found.", m)
			return
		}
		// Start after the marker's position in the order, even if the
		// marker itself no longer passes the filters.
		i, _ := slices.BinarySearchFunc(all, mk, order)
		for i < len(all) && all[i] == mk {
			i++
		}
		all = all[i:]
	}
	page := all[:min(limit, len(all))]
	out := make([]any, 0, len(page))
	for _, im := range page {
		out = append(out, view(im))
	}
	body := map[string]any{"images": out, "schema": "/v2/schemas/images", "first": "/v2/images" + query(q, "")}
	// Like Glance: a full page gets a next link, even if it is the last.
	if len(page) > 0 && len(page) == limit {
		body["next"] = "/v2/images" + query(q, page[len(page)-1].ID)
	}
	simcore.WriteJSON(w, http.StatusOK, body)
}

// query re-encodes the request's filters with a new marker (none if "").
func query(q url.Values, marker string) string {
	c := url.Values{}
	for k, v := range q {
		if k != "marker" {
			c[k] = v
		}
	}
	if marker != "" {
		c.Set("marker", marker)
	}
	if len(c) == 0 {
		return ""
	}
	return "?" + c.Encode()
}
