package resources

// Shared plumbing of the Neutron adapters: hand-built list queries, the
// ownership mark on create, and the "one list call for the lab, a few for
// conflicts" read every taggable Neutron kind does.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/attributestags"

	"github.com/fuelplan/fuelplan/specs"
)

// neutronQuery is a list query built by hand, because Neutron ORs a
// repeated filter (name=a&name=b) and gophercloud's ListOpts hold one
// value per filter. listNeutron (pages.go) sends it.
type neutronQuery url.Values

func (q neutronQuery) encode() (string, error) {
	if len(q) == 0 {
		return "", nil
	}
	return "?" + url.Values(q).Encode(), nil
}

// with returns a copy with key set to vs.
func (q neutronQuery) with(key string, vs ...string) neutronQuery {
	c := neutronQuery{}
	for k, v := range q {
		c[k] = slices.Clone(v)
	}
	c[key] = vs
	return c
}

// projectQuery scopes a list to the token's project: an admin token sees
// every project's objects, and another project's network named like ours
// is neither ours nor in our way.
func projectQuery(ctx context.Context, c *Cloud) neutronQuery {
	q := pageQuery(ctx)
	if c.ProjectID != "" {
		q["project_id"] = []string{c.ProjectID}
	}
	return q
}

// pageLimitKey carries, in a context, a page size for Neutron lists;
// tests set it to prove that reads follow pagination. Unset, Neutron
// decides (clouds with pagination_max_limit page on their own).
type pageLimitKey struct{}

// pageQuery is an empty query, with the page size ctx asks for.
func pageQuery(ctx context.Context) neutronQuery {
	q := neutronQuery{}
	if n, ok := ctx.Value(pageLimitKey{}).(int); ok && n > 0 {
		q["limit"] = []string{strconv.Itoa(n)}
	}
	return q
}

// nameBatch bounds the names asked for in one request, keeping the URL
// well under the 8 KiB most front ends accept.
const nameBatch = 40

// batches splits vs into runs of at most n.
func batches(vs []string, n int) [][]string {
	var out [][]string
	for len(vs) > n {
		out = append(out, vs[:n])
		vs = vs[n:]
	}
	if len(vs) > 0 {
		out = append(out, vs)
	}
	return out
}

// createBody is a create request body that already holds the ownership
// tags. gophercloud's CreateOpts have no "tags", so the adapters build the
// body with them, add the tags, and pass this as the CreateOptsBuilder.
type createBody map[string]any

func (b createBody) ToNetworkCreateMap() (map[string]any, error)    { return b, nil }
func (b createBody) ToSubnetCreateMap() (map[string]any, error)     { return b, nil }
func (b createBody) ToPortCreateMap() (map[string]any, error)       { return b, nil }
func (b createBody) ToRouterCreateMap() (map[string]any, error)     { return b, nil }
func (b createBody) ToSecGroupCreateMap() (map[string]any, error)   { return b, nil }
func (b createBody) ToFloatingIPCreateMap() (map[string]any, error) { return b, nil }

// updateBody is an update request body built by hand, for the attributes
// gophercloud's UpdateOpts cannot express (an explicit empty list, mtu):
// key is the object's key ("port"), attrs what changes. It is a struct
// because gophercloud reads request headers from the builder's fields; it
// sends no If-Match: Neutron bumps a network's revision when a subnet is
// added, so a revision read at plan time would fail honest updates.
type updateBody struct {
	key   string
	attrs map[string]any
}

func (b updateBody) body() (map[string]any, error)               { return map[string]any{b.key: b.attrs}, nil }
func (b updateBody) ToNetworkUpdateMap() (map[string]any, error) { return b.body() }
func (b updateBody) ToPortUpdateMap() (map[string]any, error)    { return b.body() }

// markedBody wraps the body a gophercloud builder made and, when the cloud
// takes tags in a create request (the tag-creation extension), adds the
// ownership tags to it. It reports whether it did.
func markedBody(c *Cloud, m map[string]any, err error, key string, tags []string) (createBody, bool, error) {
	if err != nil {
		return nil, false, err
	}
	inner, ok := m[key].(map[string]any)
	if !ok {
		return nil, false, fmt.Errorf("request body has no %q object", key)
	}
	if !c.HasExtension("tag-creation") {
		// A floating IP's description already names its address, and it
		// is found by its address rather than its name.
		if key != "floatingip" {
			lab, a := markOfTags(tags)
			inner["description"] = creationMark(lab, a)
		}
		return m, false, nil
	}
	inner["tags"] = tags
	return m, true, nil
}

// markTags is the ownership mark of a new object.
func markTags(lab string, a specs.Address) []string { return []string{LabTag(lab), AddrTag(a)} }

// tagAfterCreate marks an object made without tags in its create request
// (a cloud without tag-creation, such as Zed): the tags go on straight
// away. Between the two calls the object carries only its creation mark
// (mark.go), which a read after a crash in that window recognises. When
// tagging fails the object is deleted, so a failed create leaves nothing
// unmarked behind. description is the spec's, put back once the tags are
// on ("" for none).
func tagAfterCreate(ctx context.Context, c *Cloud, collection, id string, tags []string, description string, undo func() error) error {
	if id == "" {
		return fmt.Errorf("create %s: the response holds no ID", collection)
	}
	_, err := attributestags.ReplaceAll(ctx, c.Network, collection, id, attributestags.ReplaceAllOpts{Tags: tags}).Extract()
	if err == nil {
		return putDescription(ctx, c, collection, id, description)
	}
	if derr := undo(); derr != nil && !gophercloud.ResponseCodeIs(derr, 404) {
		return fmt.Errorf("tag new %s %s: %w (and deleting it failed: %v)", collection, id, err, derr)
	}
	return fmt.Errorf("tag new %s %s: %w", collection, id, err)
}

// ignoreNotFound makes a delete of an object already gone a success.
func ignoreNotFound(err error) error {
	if gophercloud.ResponseCodeIs(err, 404) {
		return nil
	}
	return err
}

// neutronObject starts the live view of a tagged Neutron object: its
// mark, name and revision. With lab == "" (Get, which knows no lab) any
// lab's tag counts as owned and the address tag is taken as is.
func neutronObject(kind specs.Kind, lab, id, name string, tags []string, revision int) *Object {
	o := &Object{Kind: kind, ID: id, Name: name, Revision: strconv.Itoa(revision), Fields: Fields{"name": name}}
	if lab != "" {
		o.Owned = slices.Contains(tags, LabTag(lab))
		o.Address = Ownership(lab, tags)
		return o
	}
	for _, t := range tags {
		switch {
		case strings.HasPrefix(t, labTagPrefix):
			o.Owned = true
		case strings.HasPrefix(t, addrTagPrefix):
			o.Address = specs.Address(strings.TrimPrefix(t, addrTagPrefix))
		}
	}
	if !o.Owned {
		o.Address = ""
	}
	return o
}

// cloudName is the name an instance has in the cloud.
func cloudName(r specs.Resource) string {
	if n, ok := r.(interface{ CloudName() string }); ok {
		return n.CloudName()
	}
	return ""
}

// listTagged reads one taggable Neutron kind for a lab: every object of
// the project carrying the lab's tag (one call, all pages), then, for the
// wanted instances not among them, the objects using their names (one
// call per batch of names): those a create of the lab left half-marked
// (mark.go) are the lab's, the others are returned with Owned false and
// the address whose name they take. list runs one query and returns the
// objects as read for lab. It is the one reader plan, apply and destroy
// share for these kinds.
func listTagged(ctx context.Context, c *Cloud, q Query, list func(neutronQuery) ([]*Object, error)) ([]*Object, error) {
	return listTaggedBy(ctx, c, q, "name", cloudName, list)
}

// listTaggedBy is listTagged for a kind whose objects are found by
// another filter than name (a floating IP by its address): key is the
// filter, want gives a wanted instance's value for it ("" = none), and
// the objects list returns carry that value as their Name.
func listTaggedBy(ctx context.Context, c *Cloud, q Query, key string, want func(specs.Resource) string,
	list func(neutronQuery) ([]*Object, error)) ([]*Object, error) {
	base := projectQuery(ctx, c)
	objs, err := list(base.with("tags", LabTag(q.Lab)))
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	found := map[specs.Address]string{} // address -> the found object's name
	for _, o := range objs {
		seen[o.ID] = true
		if o.Owned && o.Address != "" {
			found[o.Address] = o.Name
		}
	}
	byName := map[string]specs.Address{}
	var names []string
	for _, r := range q.Want {
		n := want(r)
		// A lab object found under the wanted name needs no look-up; one
		// found under another name (the spec renames it) does: an
		// unowned object with the new name is a conflict.
		if name, ok := found[r.Addr()]; n == "" || ok && name == n {
			continue
		}
		if _, dup := byName[n]; !dup {
			byName[n] = r.Addr()
			names = append(names, n)
		}
	}
	for _, b := range batches(names, nameBatch) {
		others, err := list(base.with(key, b...))
		if err != nil {
			return nil, err
		}
		for _, o := range others {
			if seen[o.ID] {
				continue
			}
			seen[o.ID] = true
			if a, ok := halfMarkedFor(o, q.Lab); ok {
				// A create of the lab cut short before its tags went
				// on: the lab's, HalfMarked (mark.go).
				o.Owned, o.Address = true, a
				objs = append(objs, o)
				continue
			}
			o.Owned, o.Address = false, byName[o.Name]
			objs = append(objs, o)
		}
	}
	return objs, nil
}

// boolField renders a boolean field canonically.
func boolField(b bool) string { return strconv.FormatBool(b) }

// unchangeable is the error for an update of a field the API cannot
// change in place (the engine replaces instead; reaching here is a bug).
func unchangeable(a specs.Address, field string) error {
	return fmt.Errorf("%s: update: %s cannot change in place", a, field)
}

// wrongType is the error for an instance of another kind.
func wrongType(r specs.Resource, adapter string) error {
	return fmt.Errorf("%s: %s adapter got %T", r.Addr(), adapter, r)
}

// refID resolves a reference for a create or update request (op).
func refID(ids IDs, op string, from specs.Address, field string, to specs.Address) (string, error) {
	id, ok := "", false
	if ids != nil {
		id, ok = ids.ID(to)
	}
	if !ok || id == "" {
		return "", fmt.Errorf("%s: %s: %s: %s has no ID yet", from, op, field, to)
	}
	return id, nil
}

// getError is Get's error: ErrNotFound for a 404, else the API's error.
func getError(what, id string, err error) error {
	if gophercloud.ResponseCodeIs(err, 404) {
		return fmt.Errorf("%s %s: %w", what, id, ErrNotFound)
	}
	return fmt.Errorf("%s %s: read: %w", what, id, err)
}

// neutronView is what the helpers below need of a taggable kind's view
// type (networkView, portView, ...): its ID, its live object, and a way to
// note the mark tagAfterCreate put on a new object without a second read.
type neutronView interface {
	id() string
	object(lab string) *Object
	marked(tags []string, description string)
}

// neutronRef constrains a view's pointer type, so that the helpers can
// decode into a V and still call the view's methods.
type neutronRef[V any] interface {
	*V
	neutronView
}

// createNeutron is the create sequence every taggable Neutron kind shares,
// in one place so that they all mark their objects the same way: on a
// retried create (RetriedCreate), adopt what the failed attempt may have
// left (adopt; nil object = nothing), build the
// body (build, a gophercloud ToXCreateMap), mark it (markedBody), let fill
// add what the builder cannot express (nil = nothing), POST it and, on a
// cloud without tag-creation, tag the new object at once, deleting it if
// that fails. description is the spec's, for tagAfterCreate ("" = none).
// Every error is "ADDR: create: ...", as each adapter wrapped it before.
func createNeutron[V any, P neutronRef[V]](ctx context.Context, c *Cloud, collection, lab string, a specs.Address,
	description string, adopt func() (*Object, error), build func() (map[string]any, error),
	fill func(inner map[string]any)) (*Object, error) {
	if retriedCreate(ctx) {
		if o, err := adopt(); err != nil || o != nil {
			if err != nil {
				return nil, fmt.Errorf("%s: create: %w", a, err)
			}
			return o, nil
		}
	}
	key, _ := neutronKeys(collection)
	tags := markTags(lab, a)
	m, err := build()
	body, tagged, err := markedBody(c, m, err, key, tags)
	if err != nil {
		return nil, fmt.Errorf("%s: create: %w", a, err)
	}
	if fill != nil {
		fill(body[key].(map[string]any))
	}
	var v V
	if collection == "ports" && !retriedCreate(ctx) && ctx.Value(aloneKey{}) == nil &&
		(!tagged || c.HasExtension("tag-ports-during-bulk-creation")) && bulkKeeps(body[key].(map[string]any)) {
		// With the ports created at about the same time (bulkport.go).
		raw, err := c.portBulk().create(ctx, body[key].(map[string]any))
		var bf *errBulkFailed
		if errors.As(err, &bf) && bulkRefusedForAll(bf.err) {
			// The quota or a policy refused the whole request: sent
			// alone, the ports would be refused the same way, one
			// request each, before the engine stops the kind (a batch
			// of the walker holds up to bulkMax ports at once).
			return nil, fmt.Errorf("%s: create: %w", a, bf.err)
		}
		if errors.As(err, &bf) {
			// Alone, so that a bad port fails with its own error.
			ctx = context.WithValue(ctx, aloneKey{}, true)
			if bf.mayHaveMade() {
				ctx = RetriedCreate(ctx)
			}
			return createNeutron[V, P](ctx, c, collection, lab, a, description, adopt, build, fill)
		}
		if err == nil {
			err = json.Unmarshal(raw, &v)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: create: %w", a, err)
		}
	} else {
		// The same request gophercloud's X.Create sends: POST to the
		// collection, default OK codes, the object under key in the
		// response.
		var r gophercloud.Result
		_, err = c.Network.Post(ctx, c.Network.ServiceURL(collection), body, &r.Body, nil)
		if err == nil {
			err = r.ExtractIntoStructPtr(&v, key)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: create: %w", a, err)
		}
	}
	p := P(&v)
	if !tagged {
		undo := func() error { return deleteNeutronID(ctx, c, collection, p.id()) }
		if err := tagAfterCreate(ctx, c, collection, p.id(), tags, description, undo); err != nil {
			return nil, fmt.Errorf("%s: create: %w", a, err)
		}
		p.marked(tags, description)
	}
	return p.object(lab), nil
}

// bulkKeeps reports whether Neutron's bulk create keeps everything a
// port's body asks for. Zed's drops allowed address pairs (probed: a bulk
// item's pairs come back, and stay, as []; the e2e port-security
// scenario then planned them again after every apply), so a port with
// pairs is created alone.
func bulkKeeps(port map[string]any) bool {
	pairs, ok := port["allowed_address_pairs"]
	if !ok || pairs == nil {
		return true
	}
	v := reflect.ValueOf(pairs)
	return (v.Kind() == reflect.Slice || v.Kind() == reflect.Array) && v.Len() == 0
}

// aloneKey marks the context of a port create whose bulk request failed:
// it is made with a request of its own.
type aloneKey struct{}

// getNeutron reads one object of a taggable kind by ID (what names the
// kind in getError's message), as gophercloud's X.Get would.
func getNeutron[V any, P neutronRef[V]](ctx context.Context, c *Cloud, collection, what, id string) (*Object, error) {
	var v V
	var r gophercloud.Result
	_, err := c.Network.Get(ctx, c.Network.ServiceURL(collection, id), &r.Body, nil)
	if err == nil {
		key, _ := neutronKeys(collection)
		err = r.ExtractIntoStructPtr(&v, key)
	}
	if err != nil {
		return nil, getError(what, id, err)
	}
	return P(&v).object(""), nil
}

// deleteNeutronID is gophercloud's X.Delete for any Neutron collection.
func deleteNeutronID(ctx context.Context, c *Cloud, collection, id string) error {
	_, err := c.Network.Delete(ctx, c.Network.ServiceURL(collection, id), nil)
	return err
}

// deleteNeutron is the Delete of a taggable kind: one already gone is a
// success.
func deleteNeutron(ctx context.Context, c *Cloud, collection string, live *Object) error {
	if err := ignoreNotFound(deleteNeutronID(ctx, c, collection, live.ID)); err != nil {
		return fmt.Errorf("%s: delete: %w", liveLabel(live), err)
	}
	return nil
}

// objectsOf turns the views one list call read for lab into objects.
func objectsOf[V any, P neutronRef[V]](vs []V, lab string) []*Object {
	out := make([]*Object, len(vs))
	for i := range vs {
		out[i] = P(&vs[i]).object(lab)
	}
	return out
}

// updated is the object an Update returns: the view as the API answered,
// the lab's, at the instance's address.
func updated(v neutronView, a specs.Address) *Object {
	o := v.object("")
	o.Address, o.Owned = a, true
	return o
}
