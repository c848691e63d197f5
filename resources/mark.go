package resources

import (
	"context"
	"fmt"
	"maps"
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
// spec's own description is put back once the tags are on). A read that
// finds a same-named object without the lab's tags but with exactly that
// description takes it as the lab's; its "mark" field then says
// "description" instead of "tags", so the plan updates it, and the
// update tags it.
const (
	// markField is the pseudo-field that says how an object is marked.
	markField = "mark"
	// markedByTags is the mark of a fully marked object (the desired one).
	markedByTags = "tags"
	// markedByDescription is the mark of an object carrying only the
	// creation mark.
	markedByDescription = "description"
	// markLabField keeps, on an object marked by description only, the
	// lab its creation mark names: the update that tags it needs it.
	markLabField = "mark_lab"
)

// creationMark is the description a lab object is created with when its
// tags cannot go in the create request.
func creationMark(lab string, a specs.Address) string {
	return "fuelplan lab=" + lab + " address=" + string(a)
}

// creationMarkOf reads a creation mark: the lab and address it names.
func creationMarkOf(description string) (lab string, a specs.Address, ok bool) {
	rest, ok := strings.CutPrefix(description, "fuelplan lab=")
	if !ok {
		return "", "", false
	}
	lab, addr, ok := strings.Cut(rest, " address=")
	if !ok || lab == "" || addr == "" || strings.Contains(addr, " ") {
		return "", "", false
	}
	return lab, specs.Address(addr), true
}

// withMark adds the mark pseudo-field to a taggable Neutron kind's schema.
func withMark(s Schema) Schema { return append(s, Field{Name: markField}) }

// desiredMark says that a lab object is wanted fully marked.
func desiredMark(f Fields) Fields {
	f[markField] = markedByTags
	return f
}

// readMark sets an object's mark from its tags and description. lab is
// the lab being read ("" for Get: any lab). An object without the lab's
// tags but with its exact creation mark is the lab's, marked by
// description only.
func readMark(o *Object, lab string, tags []string, description string) {
	if o.Owned {
		o.Fields[markField] = markedByTags
		return
	}
	ml, a, ok := creationMarkOf(description)
	if !ok || (lab != "" && ml != lab) || slices.ContainsFunc(tags, func(t string) bool { return strings.HasPrefix(t, labTagPrefix) }) {
		return
	}
	o.Owned, o.Address = true, a
	o.Fields[markField] = markedByDescription
	o.Fields[markLabField] = ml
}

// retag carries out an update's "mark" field: it puts the lab's tags on
// an object marked by description only (its creation mark names the
// lab), and returns the fields left for the adapter's own update.
func retag(ctx context.Context, c *Cloud, collection string, live *Object, fields []string) ([]string, error) {
	i := slices.Index(fields, markField)
	if i < 0 {
		return fields, nil
	}
	rest := slices.Delete(slices.Clone(fields), i, i+1)
	if live.Fields[markField] == markedByTags {
		return rest, nil
	}
	lab := live.Fields[markLabField]
	if lab == "" {
		return nil, fmt.Errorf("%s: update: no creation mark to take the lab from", liveLabel(live))
	}
	tags := markTags(lab, live.Address)
	if _, err := attributestags.ReplaceAll(ctx, c.Network, collection, live.ID, attributestags.ReplaceAllOpts{Tags: tags}).Extract(); err != nil {
		return nil, fmt.Errorf("%s: tag: %w", liveLabel(live), err)
	}
	return rest, nil
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

// singular is the key of one object of a Neutron collection in request bodies.
var singular = map[string]string{
	"networks": "network", "subnets": "subnet", "ports": "port", "routers": "router",
	"security-groups": "security_group", "floatingips": "floatingip",
}

// putDescription gives a new object the spec's description in place of
// its creation mark, once its tags are on ("" = the spec has none: the
// mark stays, as the spec does not say).
func putDescription(ctx context.Context, c *Cloud, collection, id, description string) error {
	if description == "" {
		return nil
	}
	body := map[string]any{singular[collection]: map[string]any{"description": description}}
	_, err := c.Network.Put(ctx, c.Network.ServiceURL(collection, id), body, nil, &gophercloud.RequestOpts{OkCodes: []int{200}})
	if err != nil {
		return fmt.Errorf("set the description of new %s %s: %w", collection, id, err)
	}
	return nil
}

// markedLive is a live object after retag, when nothing else changed.
func markedLive(live *Object) *Object {
	o := *live
	o.Fields = maps.Clone(live.Fields)
	o.Fields[markField] = markedByTags
	delete(o.Fields, markLabField)
	return &o
}
