package neutron

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// Query parameters that are not attribute filters.
var listControls = map[string]bool{
	"fields": true, "limit": true, "marker": true, "page_reverse": true,
	"sort_key": true, "sort_dir": true,
	"tags": true, "tags-any": true, "not-tags": true, "not-tags-any": true,
}

// listHandler serves GET /v2.0/<collection>: visibility, then attribute and
// tag filters, then sorting (sort_key/sort_dir, id last), then pagination
// from the marker's position in that order, then fields= selection.
func (s *Service) listHandler(k *kind) handler {
	return func(w http.ResponseWriter, r *http.Request, who *simcore.Identity) *apiError {
		q := r.URL.Query()
		pg, err := parsePage(q)
		if err != nil {
			return err
		}
		order, err := parseSort(q)
		if err != nil {
			return err
		}
		var items []listItem
		if len(order) == 0 {
			items, err = s.idOrderPage(k, who, q, pg)
		} else {
			items, err = s.sortedPage(k, who, q, pg, order)
		}
		if err != nil {
			return err
		}
		out := make([]any, 0, len(items))
		ids := make([]string, 0, len(items))
		for _, it := range items {
			if it.m == nil {
				out = append(out, it.v)
			} else {
				out = append(out, selectFields(it.m, q["fields"]))
			}
			ids = append(ids, it.id)
		}
		body := map[string]any{k.plural: out}
		if links := pageLinks(r, pg, ids); links != nil {
			body[k.plural+"_links"] = links
		}
		simcore.WriteJSON(w, http.StatusOK, body)
		return nil
	}
}

// listItem is one object of a list answer, rendered for the caller: as
// a map (m), or, where nothing needs the map, as the kind's encode value
// (v, m nil).
type listItem struct {
	id string
	m  map[string]any
	v  any
}

// stdFilters are the filters stdMatch applies exactly as matchFilters
// does on a rendered object.
var stdFilters = map[string]bool{"id": true, "name": true, "project_id": true, "tenant_id": true}

// encodes reports whether a list of k for q can skip rendering maps: k
// has an encode, no fields= selection needs a map, and every filter is
// one stdMatch or exactMatch already applied.
func encodes(k *kind, q url.Values) bool {
	if k.encode == nil || q.Has("fields") {
		return false
	}
	for key := range q {
		if _, exact := k.exact[key]; !listControls[key] && !stdFilters[key] && !exact {
			return false
		}
	}
	return true
}

// exactMatch applies the filters on k's exact attributes before
// rendering (repeated values are OR, as in matchFilters).
func (k *kind) exactMatch(o object, q url.Values) bool {
	for key, attr := range k.exact {
		if want, ok := q[key]; ok && !slices.Contains(want, attr(o)) {
			return false
		}
	}
	return true
}

// idOrderPage answers a list in Neutron's default order (by id) without
// rendering the whole collection: the objects are kept sorted by id
// (ordered), the marker is found by binary search, and only the objects
// of the page, and those the filters pass over, are rendered. A lab's
// refresh reads thousands of ports in pages of a hundred; rendering and
// sorting all of them for every page was most of a plan's time.
func (s *Service) idOrderPage(k *kind, who *simcore.Identity, q url.Values, pg page) ([]listItem, *apiError) {
	tf := parseTagFilters(q)
	objs := s.selected(k, q)
	candidate := func(o object) bool {
		return k.visible(who, o) && tf.match(o.base().Tags) && stdMatch(o.base(), q) && k.exactMatch(o, q)
	}
	// An unknown filter attribute is a 400 whatever page is asked for and
	// whatever else is filtered on, as in Neutron; it is checked on one
	// object the caller sees.
	if hasFilters(q) {
		for _, o := range k.all() { // a kind renders the same attributes for every object
			if k.visible(who, o) {
				if _, err := matchFilters(k.render(who, o), q); err != nil {
					return nil, err
				}
				break
			}
		}
	}
	start, end := 0, len(objs) // [start, end) in id order
	if pg.marker != "" {
		// As in Neutron, the marker is looked up (404 if it is gone)
		// and the page starts after its position in the sort order.
		if mo := k.get(pg.marker); mo == nil || !k.visible(who, mo) {
			return nil, k.notFound(pg.marker)
		}
		pos, found := slices.BinarySearchFunc(objs, pg.marker, func(o object, id string) int {
			return strings.Compare(o.base().ID, id)
		})
		if pg.reverse {
			end = pos
		} else {
			start = pos
			if found {
				start++
			}
		}
	}
	var items []listItem
	encode := encodes(k, q)
	take := func(o object) (bool, *apiError) {
		if !candidate(o) {
			return false, nil
		}
		if encode {
			items = append(items, listItem{id: o.base().ID, v: k.encode(who, o)})
			return pg.limit > 0 && len(items) == pg.limit, nil
		}
		m := k.render(who, o)
		ok, err := matchFilters(m, q)
		if err != nil || !ok {
			return false, err
		}
		items = append(items, listItem{id: o.base().ID, m: m})
		return pg.limit > 0 && len(items) == pg.limit, nil
	}
	if pg.reverse && pg.limit > 0 {
		// The last limit items before the marker, in ascending order.
		for i := end - 1; i >= start; i-- {
			full, err := take(objs[i])
			if err != nil {
				return nil, err
			}
			if full {
				break
			}
		}
		slices.Reverse(items)
		return items, nil
	}
	for i := start; i < end; i++ {
		full, err := take(objs[i])
		if err != nil {
			return nil, err
		}
		if full {
			break
		}
	}
	return items, nil
}

// sortedPage answers a list with sort_key: every visible object is
// rendered and sorted by the keys (id last), then paged from the
// marker's position in that order.
func (s *Service) sortedPage(k *kind, who *simcore.Identity, q url.Values, pg page, order []sortKey) ([]listItem, *apiError) {
	tf := parseTagFilters(q)
	var items []listItem
	for _, o := range s.selected(k, q) {
		if !k.visible(who, o) || !tf.match(o.base().Tags) || !stdMatch(o.base(), q) {
			continue
		}
		m := k.render(who, o)
		ok, err := matchFilters(m, q)
		if err != nil {
			return nil, err
		}
		if ok {
			items = append(items, listItem{id: o.base().ID, m: m})
		}
	}
	for _, sk := range order {
		if len(items) > 0 {
			if _, ok := items[0].m[sk.key]; !ok {
				return nil, badRequest("%s is an invalid attribute for sort_keys", sk.key)
			}
		}
	}
	cmp := func(a, b map[string]any, aid, bid string) int {
		for _, sk := range order {
			if c := compareValues(a[sk.key], b[sk.key]); c != 0 {
				if sk.desc {
					return -c
				}
				return c
			}
		}
		return strings.Compare(aid, bid)
	}
	slices.SortStableFunc(items, func(a, b listItem) int { return cmp(a.m, b.m, a.id, b.id) })
	if pg.marker != "" {
		mo := k.get(pg.marker)
		if mo == nil || !k.visible(who, mo) {
			return nil, k.notFound(pg.marker)
		}
		mm := k.render(who, mo)
		var kept []listItem
		for _, it := range items {
			c := cmp(it.m, mm, it.id, pg.marker)
			if (!pg.reverse && c > 0) || (pg.reverse && c < 0) {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	if pg.limit > 0 && len(items) > pg.limit {
		if pg.reverse {
			items = items[len(items)-pg.limit:]
		} else {
			items = items[:pg.limit]
		}
	}
	return items, nil
}

// stdMatch applies the filters on standard attributes that every kind
// renders as they are stored (id, name, project), before an object is
// rendered: a lookup by name (as an apply makes before each create, for
// leftovers of an interrupted run) used to render every port of the lab
// to compare one string. It is only a pre-filter: matchFilters still
// checks the rendered object.
func stdMatch(o *std, q url.Values) bool {
	for _, f := range []struct {
		key, v string
	}{{"id", o.ID}, {"name", o.Name}, {"project_id", o.ProjectID}, {"tenant_id", o.ProjectID}} {
		if want, ok := q[f.key]; ok && !slices.Contains(want, f.v) {
			return false
		}
	}
	return true
}

// hasFilters reports whether the query filters on attributes.
func hasFilters(q url.Values) bool {
	for k := range q {
		if !listControls[k] {
			return true
		}
	}
	return false
}

type page struct {
	limit   int
	marker  string
	reverse bool
}

func parsePage(q url.Values) (page, *apiError) {
	var pg page
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return pg, badRequest("Limit must be an integer 0 or greater and not '%s'", v)
		}
		pg.limit = n
	}
	pg.marker = q.Get("marker")
	pg.reverse = strings.EqualFold(q.Get("page_reverse"), "true")
	return pg, nil
}

type sortKey struct {
	key  string
	desc bool
}

// parseSort reads sort_key/sort_dir pairs; Neutron requires as many
// directions as keys when directions are given.
func parseSort(q url.Values) ([]sortKey, *apiError) {
	keys, dirs := q["sort_key"], q["sort_dir"]
	if len(dirs) > 0 && len(dirs) != len(keys) {
		return nil, badRequest("The number of sort_keys and sort_dirs must be same")
	}
	var out []sortKey
	for i, k := range keys {
		sk := sortKey{key: k}
		if i < len(dirs) {
			switch strings.ToLower(dirs[i]) {
			case "asc":
			case "desc":
				sk.desc = true
			default:
				return nil, badRequest("%s is an invalid value for sort_dirs, valid values are: 'asc', 'desc'", dirs[i])
			}
		}
		out = append(out, sk)
	}
	return out, nil
}

// compareValues orders attribute values of one kind: null first, then
// false before true, numbers numerically, everything else as text.
func compareValues(a, b any) int {
	if a == nil || b == nil {
		switch {
		case a == nil && b == nil:
			return 0
		case a == nil:
			return -1
		}
		return 1
	}
	switch x := a.(type) {
	case bool:
		y, _ := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case int:
		y, _ := b.(int)
		return x - y
	case string:
		y, _ := b.(string)
		return strings.Compare(x, y)
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// pageLinks builds <collection>_links the way Neutron's
// get_pagination_links does: a "next" link unless a forward page came back
// short, a "previous" link unless a reverse page came back short. The
// hrefs are absolute and keep the client's path (RequestURI still carries
// the /network prefix the core stripped) and its other query parameters.
func pageLinks(r *http.Request, pg page, ids []string) []map[string]string {
	if pg.limit == 0 || len(ids) == 0 {
		return nil
	}
	path := clientPath(r)
	href := func(marker string, reverse bool) string {
		q := r.URL.Query()
		q.Set("limit", strconv.Itoa(pg.limit))
		q.Set("marker", marker)
		q.Del("page_reverse")
		if reverse {
			q.Set("page_reverse", "True")
		}
		return fmt.Sprintf("http://%s%s?%s", r.Host, path, q.Encode())
	}
	var links []map[string]string
	short := len(ids) < pg.limit
	if !(short && !pg.reverse) {
		links = append(links, map[string]string{"rel": "next", "href": href(ids[len(ids)-1], false)})
	}
	if !(short && pg.reverse) {
		links = append(links, map[string]string{"rel": "previous", "href": href(ids[0], true)})
	}
	return links
}

// matchFilters applies attribute filters: every named attribute must match
// one of its values (repeated parameters are OR, as in Neutron). An
// attribute the resource does not have is a 400, as with Neutron's
// filter-validation.
func matchFilters(m map[string]any, q url.Values) (bool, *apiError) {
	keys := make([]string, 0, len(q))
	for k := range q {
		if !listControls[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, ok := m[k]
		if !ok {
			return false, badRequest("['%s'] is invalid attribute for filtering", k)
		}
		if !slices.ContainsFunc(q[k], func(want string) bool { return valueMatches(k, v, want) }) {
			return false, nil
		}
	}
	return true, nil
}

func valueMatches(key string, v any, want string) bool {
	switch x := v.(type) {
	case nil:
		return want == "" || strings.EqualFold(want, "none") || strings.EqualFold(want, "null")
	case string:
		return x == want
	case bool:
		return strings.EqualFold(strconv.FormatBool(x), want)
	case int:
		return strconv.Itoa(x) == want
	case []string:
		return slices.Contains(x, want)
	case []map[string]any:
		// fixed_ips=ip_address=10.0.0.5 or fixed_ips=subnet_id=ID
		sub, val, ok := strings.Cut(want, "=")
		if !ok {
			return false
		}
		if sub == "ip_address_substr" {
			return slices.ContainsFunc(x, func(e map[string]any) bool { return strings.Contains(fmt.Sprint(e["ip_address"]), val) })
		}
		return slices.ContainsFunc(x, func(e map[string]any) bool { return fmt.Sprint(e[sub]) == val })
	}
	return fmt.Sprint(v) == want
}

// selectFields keeps only the requested attributes (fields=a&fields=b or
// fields=a,b); none requested means all.
func selectFields(m map[string]any, fields []string) map[string]any {
	var want []string
	for _, f := range fields {
		for _, p := range strings.Split(f, ",") {
			if p != "" {
				want = append(want, p)
			}
		}
	}
	if len(want) == 0 {
		return m
	}
	out := map[string]any{}
	for _, f := range want {
		if v, ok := m[f]; ok {
			out[f] = v
		}
	}
	return out
}
