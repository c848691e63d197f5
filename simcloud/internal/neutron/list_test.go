package neutron

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// rawQuery is a list query gophercloud's typed options cannot express
// (repeated parameters, fields=).
type rawQuery string

func (q rawQuery) ToNetworkListQuery() (string, error) { return string(q), nil }

func createNetworks(t *testing.T, c *testCloud, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		net := must[*networks.Network](t)(networks.Create(context.Background(), c.member, networks.CreateOpts{Name: fmt.Sprintf("n%d", i)}).Extract())
		ids = append(ids, net.ID)
	}
	return ids
}

func TestPaginationAllPages(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	want := append(createNetworks(t, c, 5), extNetID)
	slices.Sort(want)
	for _, limit := range []int{1, 2, 3, 4, 6, 7} {
		t.Run(fmt.Sprint("limit=", limit), func(t *testing.T) {
			pages := 0
			var got []string
			err := networks.List(c.member, networks.ListOpts{Limit: limit}).EachPage(context.Background(), func(_ context.Context, p pagination.Page) (bool, error) {
				pages++
				ns, err := networks.ExtractNetworks(p)
				if len(ns) > limit {
					t.Errorf("page of %d with limit %d", len(ns), limit)
				}
				for _, n := range ns {
					got = append(got, n.ID)
				}
				return true, err
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("got %v\nwant %v", got, want)
			}
			if wantPages := (len(want) + limit - 1) / limit; pages != wantPages {
				t.Fatalf("%d pages, want %d", pages, wantPages)
			}
		})
	}
}

func TestPaginationLinks(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ids := append(createNetworks(t, c, 3), extNetID)
	slices.Sort(ids)
	get := func(query string) (names []string, links map[string]url.Values) {
		t.Helper()
		var body struct {
			Networks []struct{ ID string }
			Links    []gophercloud.Link `json:"networks_links"`
		}
		if _, err := c.member.Get(context.Background(), c.member.ServiceURL("networks")+"?"+query, &body, nil); err != nil {
			t.Fatal(err)
		}
		links = map[string]url.Values{}
		for _, l := range body.Links {
			u, err := url.Parse(l.Href)
			if err != nil || !strings.HasPrefix(l.Href, c.srv.URL+"/v2.0/networks?") {
				t.Fatalf("bad href %q", l.Href)
			}
			links[l.Rel] = u.Query()
		}
		for _, n := range body.Networks {
			names = append(names, n.ID)
		}
		return names, links
	}
	// First page: next from the last item, previous from the first (as
	// Neutron does even on the first page); other parameters are kept.
	got, links := get("limit=2&shared=false")
	if !slices.Equal(got, ids[:2]) || links["next"].Get("marker") != ids[1] || links["next"].Get("shared") != "false" ||
		links["previous"].Get("marker") != ids[0] || links["previous"].Get("page_reverse") != "True" {
		t.Fatalf("first page %v links %v", got, links)
	}
	// A short forward page has no next link.
	got, links = get("limit=3&marker=" + ids[1])
	if !slices.Equal(got, ids[2:]) || links["next"] != nil || links["previous"] == nil {
		t.Fatalf("last page %v links %v", got, links)
	}
	// page_reverse walks back from the marker, items still ascending.
	got, links = get("limit=2&page_reverse=True&marker=" + ids[3])
	if !slices.Equal(got, ids[1:3]) || links["previous"].Get("marker") != ids[1] || links["next"].Get("marker") != ids[2] {
		t.Fatalf("reverse page %v links %v", got, links)
	}
	// No limit, no links.
	if _, links = get(""); len(links) != 0 {
		t.Fatalf("links without limit: %v", links)
	}
	_, err := listNetworks(c, c.member, rawQuery("?limit=-1"))
	wantFault(t, err, 400, "HTTPBadRequest")
}

func TestListFiltersAndFields(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	createNetworks(t, c, 3)
	must[*networks.Network](t)(networks.Update(context.Background(), c.member, createNetworks(t, c, 1)[0],
		networks.UpdateOpts{Name: ptr("down"), AdminStateUp: ptr(false)}).Extract())
	tests := []struct {
		query string
		want  []string
	}{
		{"?name=n1", []string{"n1"}},
		{"?name=n0&name=n2", []string{"n0", "n2"}},
		{"?name=n0&name=nope", []string{"n0"}},
		{"?admin_state_up=false", []string{"down"}},
		{"?admin_state_up=False&name=n1", nil},
		{"?router:external=true", []string{"net04_ext"}},
		{"?mtu=1450&name=n0", []string{"n0"}},
		{"?project_id=p-other", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			ns := must[[]networks.Network](t)(listNetworks(c, c.member, rawQuery(tt.query)))
			var names []string
			for _, n := range ns {
				names = append(names, n.Name)
			}
			slices.Sort(names)
			if !slices.Equal(names, tt.want) {
				t.Fatalf("got %v want %v", names, tt.want)
			}
		})
	}
	_, err := listNetworks(c, c.member, rawQuery("?colour=blue"))
	wantFault(t, err, 400, "HTTPBadRequest")

	// fields= keeps only what was asked for, in both spellings.
	for _, q := range []string{"?fields=id&fields=name", "?fields=id,name"} {
		var body struct{ Networks []map[string]any }
		if _, err := c.member.Get(context.Background(), c.member.ServiceURL("networks")+q+"&name=n0", &body, nil); err != nil {
			t.Fatal(err)
		}
		if len(body.Networks) != 1 || len(body.Networks[0]) != 2 || body.Networks[0]["name"] != "n0" {
			t.Fatalf("%s: %v", q, body.Networks)
		}
	}
	var one struct{ Network map[string]any }
	id := must[[]networks.Network](t)(listNetworks(c, c.member, networks.ListOpts{Name: "n1"}))[0].ID
	if _, err := c.member.Get(context.Background(), c.member.ServiceURL("networks", id)+"?fields=mtu", &one, nil); err != nil {
		t.Fatal(err)
	}
	if len(one.Network) != 1 || fmt.Sprint(one.Network["mtu"]) != fmt.Sprint(DefaultMTU) {
		t.Fatalf("show with fields: %v", one.Network)
	}
}

func TestUnknownPaths(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	_, err := c.member.Get(context.Background(), c.member.ServiceURL("widgets"), nil, nil)
	wantFault(t, err, 404, "HTTPNotFound")
	_, err = c.member.Get(context.Background(), c.member.ServiceURL("networks", extNetID, "widgets"), nil, nil)
	wantFault(t, err, 404, "HTTPNotFound")
	_, err = c.member.Request(context.Background(), "PATCH", c.member.ServiceURL("networks", extNetID), &gophercloud.RequestOpts{})
	wantFault(t, err, 405, "HTTPMethodNotAllowed")
}

func TestSortedPagination(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	createNetworks(t, c, 5)
	tests := []struct {
		opts networks.ListOpts
		want []string
	}{
		{networks.ListOpts{SortKey: "name", SortDir: "desc", Limit: 2}, []string{"net04_ext", "n4", "n3", "n2", "n1", "n0"}},
		{networks.ListOpts{SortKey: "name", SortDir: "asc", Limit: 4}, []string{"n0", "n1", "n2", "n3", "n4", "net04_ext"}},
		// Equal keys fall back to id order, so no page repeats or skips.
		{networks.ListOpts{SortKey: "shared", Limit: 1}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.opts.SortKey+" "+tt.opts.SortDir, func(t *testing.T) {
			var names []string
			for _, n := range must[[]networks.Network](t)(listNetworks(c, c.member, tt.opts)) {
				names = append(names, n.Name)
			}
			if tt.want == nil {
				if len(names) != 6 || len(slices.Compact(slices.Sorted(slices.Values(names)))) != 6 {
					t.Fatalf("got %v", names)
				}
				return
			}
			if !slices.Equal(names, tt.want) {
				t.Fatalf("got %v want %v", names, tt.want)
			}
		})
	}
	for _, q := range []string{"?sort_key=colour", "?sort_key=name&sort_dir=up", "?sort_key=name&sort_dir=asc&sort_dir=desc"} {
		_, err := listNetworks(c, c.member, rawQuery(q))
		wantFault(t, err, 400, "HTTPBadRequest")
	}
	_, err := listNetworks(c, c.member, rawQuery("?limit=2&marker=no-such-network"))
	wantFault(t, err, 404, "NetworkNotFound")
}
