package resources

// List reads that decode each page once. gophercloud's pagers decode a
// page's body into map[string]any and its Extract functions marshal that
// back to JSON and unmarshal it into structs: reading a 1,000-slave lab
// (about 7,000 objects) cost 1.2 s of CPU and 270 MB, most of it that
// round trip. Here the ServiceClient (auth, reauth, microversion, error
// classes: the same request) decodes the body straight into a typed page
// that holds only the fields the adapters read, and the next page is
// followed as gophercloud's LinkedPageBase follows it.

import (
	"context"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// listPage is one page of a list answer, decoded: its objects and the
// next page's URL ("" on the last page).
type listPage[T any] interface {
	objects() []T
	next() string
}

// pageRef constrains a page type's pointer, so that readPages can decode
// into a fresh B and call its methods.
type pageRef[T, B any] interface {
	*B
	listPage[T]
}

// readPages GETs url and each next page, as gophercloud's Pager.AllPages
// does: the same success codes (a 204 is an empty page), and it stops at
// an empty page or a page without a next link.
func readPages[T, B any, P pageRef[T, B]](ctx context.Context, sc *gophercloud.ServiceClient, url string) ([]T, error) {
	var out []T
	for url != "" {
		p := P(new(B))
		if _, err := sc.Get(ctx, url, p, &gophercloud.RequestOpts{OkCodes: []int{200, 204, 300}}); err != nil {
			return nil, err
		}
		objs := p.objects()
		if len(objs) == 0 {
			break
		}
		if out == nil {
			out = objs
		} else {
			out = append(out, objs...)
		}
		url = p.next()
	}
	return out, nil
}

// nextLink is the href of links' "next" link, as
// gophercloud.ExtractNextURL finds it (the last one, if several).
func nextLink(links []gophercloud.Link) string {
	url, _ := gophercloud.ExtractNextURL(links)
	return url
}

// The pages of the lists the adapters read: Neutron's
// "<collection>_links", Nova's and Cinder's alike.
type (
	networkPage struct {
		Networks []networkView      `json:"networks"`
		Links    []gophercloud.Link `json:"networks_links"`
	}
	subnetPage struct {
		Subnets []subnetView       `json:"subnets"`
		Links   []gophercloud.Link `json:"subnets_links"`
	}
	portPage struct {
		Ports []portView         `json:"ports"`
		Links []gophercloud.Link `json:"ports_links"`
	}
	routerPage struct {
		Routers []routerView       `json:"routers"`
		Links   []gophercloud.Link `json:"routers_links"`
	}
	secGroupPage struct {
		Groups []secGroupView     `json:"security_groups"`
		Links  []gophercloud.Link `json:"security_groups_links"`
	}
	rulePage struct {
		Rules []ruleView         `json:"security_group_rules"`
		Links []gophercloud.Link `json:"security_group_rules_links"`
	}
	floatingIPPage struct {
		FloatingIPs []floatingIPView   `json:"floatingips"`
		Links       []gophercloud.Link `json:"floatingips_links"`
	}
	trunkPage struct {
		Trunks []trunkView        `json:"trunks"`
		Links  []gophercloud.Link `json:"trunks_links"`
	}
	// Flavors and volumes keep gophercloud's types: their keys (extra
	// specs, metadata) are the objects' own, and they are few (flavors)
	// or decoded by the type's UnmarshalJSON once per object (volumes).
	flavorPage struct {
		Flavors []flavors.Flavor   `json:"flavors"`
		Links   []gophercloud.Link `json:"flavors_links"`
	}
	volumePage struct {
		Volumes []volumes.Volume   `json:"volumes"`
		Links   []gophercloud.Link `json:"volumes_links"`
	}
	fullServerPage struct {
		Servers []servers.Server   `json:"servers"`
		Links   []gophercloud.Link `json:"servers_links"`
	}
	serverPage struct {
		Servers []serverView       `json:"servers"`
		Links   []gophercloud.Link `json:"servers_links"`
	}
)

func (p *networkPage) objects() []networkView       { return p.Networks }
func (p *networkPage) next() string                 { return nextLink(p.Links) }
func (p *subnetPage) objects() []subnetView         { return p.Subnets }
func (p *subnetPage) next() string                  { return nextLink(p.Links) }
func (p *portPage) objects() []portView             { return p.Ports }
func (p *portPage) next() string                    { return nextLink(p.Links) }
func (p *routerPage) objects() []routerView         { return p.Routers }
func (p *routerPage) next() string                  { return nextLink(p.Links) }
func (p *secGroupPage) objects() []secGroupView     { return p.Groups }
func (p *secGroupPage) next() string                { return nextLink(p.Links) }
func (p *rulePage) objects() []ruleView             { return p.Rules }
func (p *rulePage) next() string                    { return nextLink(p.Links) }
func (p *floatingIPPage) objects() []floatingIPView { return p.FloatingIPs }
func (p *floatingIPPage) next() string              { return nextLink(p.Links) }
func (p *trunkPage) objects() []trunkView           { return p.Trunks }
func (p *trunkPage) next() string                   { return nextLink(p.Links) }
func (p *flavorPage) objects() []flavors.Flavor     { return p.Flavors }
func (p *flavorPage) next() string                  { return nextLink(p.Links) }
func (p *volumePage) objects() []volumes.Volume     { return p.Volumes }
func (p *volumePage) next() string                  { return nextLink(p.Links) }
func (p *fullServerPage) objects() []servers.Server { return p.Servers }
func (p *fullServerPage) next() string              { return nextLink(p.Links) }
func (p *serverPage) objects() []serverView         { return p.Servers }
func (p *serverPage) next() string                  { return nextLink(p.Links) }

// listNeutron reads every page of a Neutron collection for the query, at
// the URL gophercloud's X.List would ask.
func listNeutron[T, B any, P pageRef[T, B]](ctx context.Context, c *Cloud, collection string, q neutronQuery) ([]T, error) {
	qs, err := q.encode()
	if err != nil {
		return nil, err
	}
	return readPages[T, B, P](ctx, c.Network, c.Network.ServiceURL(collection)+qs)
}
