package resources

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/fuelplan/fuelplan/specs"
)

// ExternalNetwork looks up the provider network the lab's router and
// floating IPs use. It is never created, changed or deleted: a lab uses
// the host cloud's external network, it does not own it.
type ExternalNetwork struct{}

func (ExternalNetwork) Kind() specs.Kind { return specs.KindExternalNetwork }

// IsLookup: every external network is a lookup.
func (ExternalNetwork) IsLookup(specs.Resource) bool { return true }

// Schema: nothing to compare; the lookup finds it by name or fails.
func (ExternalNetwork) Schema() Schema { return Schema{} }

func (ExternalNetwork) Desired(specs.Resource) Desired { return Desired{Fields: Fields{}} }

// List finds each wanted external network by name among the networks
// with router:external set, with one call for all the names. The networks
// are the provider's, so no project filter applies. Two external networks
// with one name are an error naming both: picking one would be a guess.
// A name that matches nothing returns no object; the engine reports the
// missing lookup.
func (ExternalNetwork) List(ctx context.Context, c *Cloud, q Query) ([]*Object, error) {
	byName := map[string][]specs.Address{}
	var names []string
	for _, r := range q.Want {
		n := cloudName(r)
		if n == "" {
			continue
		}
		if _, dup := byName[n]; !dup {
			names = append(names, n)
		}
		byName[n] = append(byName[n], r.Addr())
	}
	found := map[string][]networkView{}
	for _, b := range batches(names, nameBatch) {
		vs, err := listNetworks(ctx, c, pageQuery(ctx).with("router:external", "true").with("name", b...))
		if err != nil {
			return nil, fmt.Errorf("list external networks: %w", err)
		}
		for _, v := range vs {
			found[v.Name] = append(found[v.Name], v)
		}
	}
	var out []*Object
	for _, n := range names {
		vs := found[n]
		if len(vs) > 1 {
			ids := make([]string, len(vs))
			for i, v := range vs {
				ids[i] = v.ID
			}
			sort.Strings(ids)
			return nil, fmt.Errorf("%s: %d external networks are named %q (%s): name one that is unique",
				byName[n][0], len(vs), n, strings.Join(ids, ", "))
		}
		for _, v := range vs {
			for _, a := range byName[n] {
				o := v.objectAs(specs.KindExternalNetwork, q.Lab)
				o.Owned, o.Address = false, a
				out = append(out, o)
			}
		}
	}
	return out, nil
}

func (ExternalNetwork) Get(ctx context.Context, c *Cloud, id string) (*Object, error) {
	o, err := Network{}.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	o.Kind, o.Owned, o.Address = specs.KindExternalNetwork, false, ""
	return o, nil
}

func (ExternalNetwork) Create(_ context.Context, _ *Cloud, _ string, r specs.Resource, _ IDs) (*Object, error) {
	return nil, fmt.Errorf("%s: create: an external network is looked up, never created", r.Addr())
}

func (ExternalNetwork) Update(_ context.Context, _ *Cloud, r specs.Resource, _ *Object, _ []string, _ IDs) (*Object, error) {
	return nil, fmt.Errorf("%s: update: an external network is looked up, never changed", r.Addr())
}

func (ExternalNetwork) Delete(_ context.Context, _ *Cloud, live *Object) error {
	return fmt.Errorf("%s: delete: an external network is looked up, never deleted", liveLabel(live))
}
