package resources

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/attributestags"

	"github.com/fuelplan/fuelplan/specs"
)

// The creation mark closes the window tagAfterCreate leaves on a cloud
// without Neutron's tag-creation extension (Zed): there the tags go on
// in a second request, and a process killed between the two would leave
// an object no read could tell from someone else's. So such objects are
// created with the description "fuelplan lab=LAB address=ADDR" (the
// spec's own description is put back once the tags are on).
//
// The one reader of the taggable Neutron kinds (listTaggedBy) owns an
// object found by a wanted name that carries this lab's creation mark
// and no lab tags, at the address its mark names, as it owns a tagged
// one: plan, apply and destroy all see it as the lab's (destroy deletes
// it; plan does not create it again, nor replace what uses it). It is
// HalfMarked: the plan finishes its mark (an update of MarkField, which
// the engine carries out with CompleteMark). Plans stay read-only.

// creationMarkField holds, in a live object's fields (never desired, so
// never drift), the creation mark of an object without any lab's tags.
const creationMarkField = "creation_mark"

// creationMark is the description a lab object is created with when its
// tags cannot go in the create request.
func creationMark(lab string, a specs.Address) string {
	return "fuelplan lab=" + lab + " address=" + string(a)
}

// readCreationMark notes an untagged object's creation mark, if any.
func readCreationMark(o *Object, tags []string, description string) {
	if strings.HasPrefix(description, "fuelplan lab=") && !hasLabTag(tags) {
		o.Fields[creationMarkField] = description
	}
}

func hasLabTag(tags []string) bool {
	return slices.ContainsFunc(tags, func(t string) bool { return strings.HasPrefix(t, labTagPrefix) })
}

// halfMarkedFor returns the address an untagged object read for lab
// implements by its creation mark: a create of the lab cut short before
// its tags went on.
func halfMarkedFor(o *Object, lab string) (specs.Address, bool) {
	rest, ok := strings.CutPrefix(o.Fields[creationMarkField], "fuelplan lab=")
	if !ok {
		return "", false
	}
	l, a, ok := strings.Cut(rest, " address=")
	if !ok || l != lab || a == "" || strings.ContainsAny(a, " \t") {
		return "", false
	}
	return specs.Address(a), true
}

// MarkField is the plan's pseudo-field of a HalfMarked object: an update
// of it puts the lab's tags on (CompleteMark).
const MarkField = "mark"

// HalfMarked reports whether a lab object carries its mark only in its
// description: a create cut short (a killed apply) between a Neutron
// create and its tagging, on a cloud without tag-creation.
func HalfMarked(o *Object) bool { return o.Owned && o.Fields[creationMarkField] != "" }

// neutronCollections are the taggable Neutron kinds' API collections.
var neutronCollections = map[specs.Kind]string{
	specs.KindNetwork: "networks", specs.KindSubnet: "subnets", specs.KindPort: "ports",
	specs.KindRouter: "routers", specs.KindSecurityGroup: "security-groups",
}

// CompleteMark puts the lab's tags on a HalfMarked object, at the address
// its creation mark names. The description keeps the mark until an
// update sets the spec's (the plan shows that as a change of its own).
func CompleteMark(ctx context.Context, c *Cloud, lab string, o *Object) error {
	collection, ok := neutronCollections[o.Kind]
	if !ok {
		return fmt.Errorf("%s: finish the mark: %s objects are marked in their create request", o.Address, o.Kind)
	}
	tags := markTags(lab, o.Address)
	if _, err := attributestags.ReplaceAll(ctx, c.Network, collection, o.ID, attributestags.ReplaceAllOpts{Tags: tags}).Extract(); err != nil {
		return fmt.Errorf("%s: finish the mark: tag %s %s: %w", o.Address, collection, o.ID, err)
	}
	delete(o.Fields, creationMarkField)
	return nil
}

// markOfTags reads the lab and address back from markTags' tags.
func markOfTags(tags []string) (lab string, a specs.Address) {
	for _, t := range tags {
		if l, ok := strings.CutPrefix(t, labTagPrefix); ok {
			lab = l
		} else if s, ok := strings.CutPrefix(t, addrTagPrefix); ok {
			a = specs.Address(s)
		}
	}
	return lab, a
}

// neutronKeys are a collection's keys for one object in request and
// response bodies and for the list in list responses, as Neutron names
// them: "security-groups" -> "security_group", "security_groups". Derived,
// not listed, so a new Neutron kind needs no entry here.
func neutronKeys(collection string) (one, many string) {
	many = strings.ReplaceAll(collection, "-", "_")
	return strings.TrimSuffix(many, "s"), many
}

// putDescription gives a new object the spec's description in place of
// its creation mark, once its tags are on ("" = the spec has none: the
// mark stays, as the spec does not say).
func putDescription(ctx context.Context, c *Cloud, collection, id, description string) error {
	if description == "" {
		return nil
	}
	one, _ := neutronKeys(collection)
	body := map[string]any{one: map[string]any{"description": description}}
	_, err := c.Network.Put(ctx, c.Network.ServiceURL(collection, id), body, nil, &gophercloud.RequestOpts{OkCodes: []int{200}})
	if err != nil {
		return fmt.Errorf("set the description of new %s %s: %w", collection, id, err)
	}
	return nil
}

// A create looks for what an earlier create of the same object cut short
// only when it retries one that failed (a POST that timed out may have
// been committed): what a killed apply left is found by the next run's
// read (listTaggedBy owns it, the plan finishes its mark), and a saved
// plan is applied only if a fresh plan still agrees with it. So the first
// attempt of a create costs no look-up request.

type retriedKey struct{}

// RetriedCreate marks ctx as that of a create retried after a failed
// attempt: the create first looks for what that attempt may have left.
func RetriedCreate(ctx context.Context) context.Context {
	return context.WithValue(ctx, retriedKey{}, true)
}

func retriedCreate(ctx context.Context) bool { v, _ := ctx.Value(retriedKey{}).(bool); return v }

// adoptCutShort runs before a retried create on a cloud without
// tag-creation: it looks for what a create of r cut short left (same name, no lab tags,
// exactly r's creation mark), tags it, puts back the spec's description
// and returns it, read again. Such an object that differs from the spec
// in a field the API cannot change is deleted instead (it is the lab's:
// it carries the mark), and nil returned, so the caller creates anew.
func adoptCutShort(ctx context.Context, c *Cloud, ad Adapter, collection, lab string, r specs.Resource, description string, ids IDs) (*Object, error) {
	name := cloudName(r)
	if c.HasExtension("tag-creation") || name == "" {
		return nil, nil
	}
	mark := creationMark(lab, r.Addr())
	q := url.Values{"name": {name}}
	if c.ProjectID != "" {
		q.Set("project_id", c.ProjectID)
	}
	var body map[string][]struct {
		ID          string   `json:"id"`
		Description string   `json:"description"`
		Tags        []string `json:"tags"`
	}
	if _, err := c.Network.Get(ctx, c.Network.ServiceURL(collection)+"?"+q.Encode(), &body, nil); err != nil {
		return nil, fmt.Errorf("look for a create cut short: %w", err)
	}
	_, many := neutronKeys(collection)
	for _, o := range body[many] {
		if o.Description != mark || hasLabTag(o.Tags) {
			continue
		}
		live, err := ad.Get(ctx, c, o.ID)
		if err != nil {
			return nil, err
		}
		live.Address = r.Addr()
		if !keepsForceNew(ad, r, live, ids) {
			if err := ignoreNotFound(ad.Delete(ctx, c, live)); err != nil {
				return nil, fmt.Errorf("delete what a create cut short left (%s %s): %w", collection, o.ID, err)
			}
			continue
		}
		tags := markTags(lab, r.Addr())
		if _, err := attributestags.ReplaceAll(ctx, c.Network, collection, o.ID, attributestags.ReplaceAllOpts{Tags: tags}).Extract(); err != nil {
			return nil, fmt.Errorf("tag what a create cut short left (%s %s): %w", collection, o.ID, err)
		}
		if err := putDescription(ctx, c, collection, o.ID, description); err != nil {
			return nil, err
		}
		return ad.Get(ctx, c, o.ID)
	}
	return nil, nil
}

// keepsForceNew reports whether a live object has the spec's value for
// every field the API cannot change (references compared by ID).
func keepsForceNew(ad Adapter, r specs.Resource, o *Object, ids IDs) bool {
	d := ad.Desired(r)
	for _, f := range ad.Schema() {
		if !f.ForceNew {
			continue
		}
		if want, ok := d.Fields[f.Name]; ok && o.Fields[f.Name] != want {
			return false
		}
		refs, ok := d.Refs[f.Name]
		if !ok {
			continue
		}
		var want []string
		for _, a := range refs {
			id, found := "", false
			if ids != nil {
				id, found = ids.ID(a)
			}
			if !found {
				return false
			}
			want = append(want, id)
		}
		if JoinSorted(want) != JoinSorted(strings.Split(o.Fields[f.Name], ",")) {
			return false
		}
	}
	return true
}
