package resources

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"

	"github.com/fuelplan/fuelplan/specs"
)

// Flavor manages Nova flavors: created for the lab (admin only), or
// looked up by name when the spec marks them existing.
//
// Flavors have no tags; the mark is two extra specs, which Nova lists
// with every flavor at microversion 2.61, so one list call reads them
// all. Extra specs cannot be sent with the create request, so the create
// request carries a mark of its own: a flavor ID derived from the lab and
// the address. A flavor left without extra specs by an interrupted create
// is still recognised by that ID and adopted, instead of blocking the lab
// as an unmarked object with the lab's name.
type Flavor struct{}

// The extra specs that mark a flavor as the lab's.
const (
	flavorLabSpec  = "fuelplan:lab"
	flavorAddrSpec = "fuelplan:address"
	// extraSpecsPrefix is the keyed family of the spec's own extra specs.
	extraSpecsPrefix = "extra_specs."
)

func (Flavor) Kind() specs.Kind { return specs.KindFlavor }

// Schema: Nova flavors are immutable but for their extra specs.
func (Flavor) Schema() Schema {
	return Schema{
		{Name: "name", ForceNew: true},
		{Name: "vcpus", ForceNew: true, Type: Number},
		{Name: "ram_mb", ForceNew: true, Type: Number},
		{Name: "disk_gb", ForceNew: true, Type: Number},
		{Name: "ephemeral_gb", ForceNew: true, Type: Number},
		{Name: extraSpecsPrefix + "*"},
	}
}

func (Flavor) IsLookup(r specs.Resource) bool { return r.(*specs.Flavor).Existing }

// Desired: a looked-up flavor is whatever the cloud has; only its name is
// compared (it is what finds it).
func (Flavor) Desired(r specs.Resource) Desired {
	f := r.(*specs.Flavor)
	fs := Fields{"name": f.Name}
	if f.Existing {
		return Desired{Fields: fs}
	}
	fs["vcpus"] = strconv.Itoa(f.VCPUs)
	fs["ram_mb"] = strconv.Itoa(f.RAM)
	fs["disk_gb"] = strconv.Itoa(f.Disk)
	fs["ephemeral_gb"] = strconv.Itoa(f.Ephemeral)
	for k, v := range f.ExtraSpecs {
		fs[extraSpecsPrefix+k] = v
	}
	return Desired{Fields: fs}
}

// flavorID is the ID the lab's flavor at addr is created with: a UUID
// (version 5 layout) from a hash of lab and address, stable across runs.
func flavorID(lab string, addr specs.Address) string {
	h := sha256.Sum256([]byte("fuelplan-flavor\x00" + lab + "\x00" + string(addr)))
	b := h[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// List reads every flavor in one call (Nova has no name or extra-spec
// filter; an admin asks for private flavors too) and sorts them into the
// lab's own, the lookups' matches, and conflicts.
func (Flavor) List(ctx context.Context, c *Cloud, q Query) ([]*Object, error) {
	opts := flavors.ListOpts{}
	if c.Admin {
		opts.AccessType = flavors.AllAccess
	}
	qs, err := opts.ToFlavorListQuery()
	if err != nil {
		return nil, fmt.Errorf("list flavors: %w", err)
	}
	all, err := readPages[flavors.Flavor, flavorPage](ctx, c.Compute, c.Compute.ServiceURL("flavors", "detail")+qs)
	if err != nil {
		return nil, fmt.Errorf("list flavors: %w", err)
	}

	byID := map[string]specs.Address{} // the IDs interrupted creates would have used
	for _, r := range q.Want {
		if f, ok := r.(*specs.Flavor); ok && !f.Existing {
			byID[flavorID(q.Lab, f.Addr())] = f.Addr()
		}
	}
	var out []*Object
	found := map[specs.Address]bool{}
	for i := range all {
		f := &all[i]
		addr, owned := specs.Address(""), false
		switch {
		case f.ExtraSpecs[flavorLabSpec] == q.Lab:
			addr, owned = specs.Address(f.ExtraSpecs[flavorAddrSpec]), true
		case byID[f.ID] != "":
			addr, owned = byID[f.ID], true
		}
		if owned {
			o := flavorObject(f)
			o.Address, o.Owned = addr, true
			out = append(out, o)
			found[addr] = true
		}
	}

	// Wanted flavors not among the lab's: by name, a lookup's match or a
	// conflict. Nova flavor names are unique, but a lookup refuses to
	// guess if a cloud says otherwise.
	for _, r := range q.Want {
		f, ok := r.(*specs.Flavor)
		if !ok {
			return nil, fmt.Errorf("%s: flavor adapter got %T", r.Addr(), r)
		}
		if found[f.Addr()] {
			continue
		}
		var matches []*Object
		for i := range all {
			if all[i].Name == f.Name && all[i].ExtraSpecs[flavorLabSpec] != q.Lab && byID[all[i].ID] == "" {
				o := flavorObject(&all[i])
				o.Address = f.Addr()
				matches = append(matches, o)
			}
		}
		if f.Existing && len(matches) > 1 {
			return nil, fmt.Errorf("%s: %d flavors are named %q: %s", f.Addr(), len(matches), f.Name, objectIDs(matches))
		}
		out = append(out, matches...)
	}
	return out, nil
}

// objectIDs lists objects' IDs for an ambiguity message, sorted.
func objectIDs(objs []*Object) string {
	ids := make([]string, len(objs))
	for i, o := range objs {
		ids[i] = o.ID
	}
	slices.Sort(ids)
	return strings.Join(ids, ", ")
}

// flavorObject is the live view, without ownership. The marks are not
// fields: the spec never sets them, and they never change.
func flavorObject(f *flavors.Flavor) *Object {
	fs := Fields{
		"name":         f.Name,
		"vcpus":        strconv.Itoa(f.VCPUs),
		"ram_mb":       strconv.Itoa(f.RAM),
		"disk_gb":      strconv.Itoa(f.Disk),
		"ephemeral_gb": strconv.Itoa(f.Ephemeral),
	}
	for k, v := range f.ExtraSpecs {
		if k != flavorLabSpec && k != flavorAddrSpec {
			fs[extraSpecsPrefix+k] = v
		}
	}
	return &Object{Kind: specs.KindFlavor, ID: f.ID, Name: f.Name, Fields: fs}
}

func (Flavor) Get(ctx context.Context, c *Cloud, id string) (*Object, error) {
	f, err := flavors.Get(ctx, c.Compute, id).Extract()
	if gophercloud.ResponseCodeIs(err, 404) {
		return nil, fmt.Errorf("flavor %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("flavor %s: read: %w", id, err)
	}
	return flavorObject(f), nil
}

// Create makes the flavor with the lab's derived ID, then sets the marks
// and the spec's extra specs in one more request. The flavor is public:
// only an admin can create it, and a public flavor is usable by whoever
// later runs the lab with a member's credentials.
func (Flavor) Create(ctx context.Context, c *Cloud, lab string, r specs.Resource, _ IDs) (*Object, error) {
	f, ok := r.(*specs.Flavor)
	if !ok {
		return nil, fmt.Errorf("%s: flavor adapter got %T", r.Addr(), r)
	}
	if f.Existing {
		return nil, fmt.Errorf("%s: create: flavor %q is marked existing: it is looked up, never created", f.Addr(), f.Name)
	}
	if !c.Admin {
		return nil, fmt.Errorf("%s: create: creating flavor %q needs the admin role, which these credentials lack; "+
			"have an admin create it and mark it `existing: true` in the spec", f.Addr(), f.Name)
	}
	disk, eph := f.Disk, f.Ephemeral
	created, err := flavors.Create(ctx, c.Compute, flavors.CreateOpts{
		ID: flavorID(lab, f.Addr()), Name: f.Name, VCPUs: f.VCPUs, RAM: f.RAM, Disk: &disk, Ephemeral: &eph,
	}).Extract()
	if err != nil {
		return nil, fmt.Errorf("%s: create: %w", f.Addr(), err)
	}
	es := flavors.ExtraSpecsOpts{flavorLabSpec: lab, flavorAddrSpec: string(f.Addr())}
	for k, v := range f.ExtraSpecs {
		es[k] = v
	}
	set, err := flavors.CreateExtraSpecs(ctx, c.Compute, created.ID, es).Extract()
	if err != nil {
		return nil, fmt.Errorf("%s: create: set extra specs: %w", f.Addr(), err)
	}
	created.ExtraSpecs = set
	o := flavorObject(created)
	o.Address, o.Owned = f.Addr(), true
	return o, nil
}

// Update sets and removes extra specs; nothing else of a flavor changes.
func (a Flavor) Update(ctx context.Context, c *Cloud, r specs.Resource, live *Object, fields []string, _ IDs) (*Object, error) {
	f, ok := r.(*specs.Flavor)
	if !ok {
		return nil, fmt.Errorf("%s: flavor adapter got %T", r.Addr(), r)
	}
	set := flavors.ExtraSpecsOpts{}
	var unset []string
	for _, name := range fields {
		key, ok := strings.CutPrefix(name, extraSpecsPrefix)
		if !ok {
			return nil, fmt.Errorf("%s: update: flavor field %s cannot change in place", f.Addr(), name)
		}
		if v, ok := f.ExtraSpecs[key]; ok {
			set[key] = v
		} else {
			unset = append(unset, key)
		}
	}
	if len(set) > 0 {
		if _, err := flavors.CreateExtraSpecs(ctx, c.Compute, live.ID, set).Extract(); err != nil {
			return nil, fmt.Errorf("%s: update: set extra specs: %w", f.Addr(), err)
		}
	}
	slices.Sort(unset)
	for _, key := range unset {
		err := flavors.DeleteExtraSpec(ctx, c.Compute, live.ID, key).ExtractErr()
		if err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			return nil, fmt.Errorf("%s: update: remove extra spec %q: %w", f.Addr(), key, err)
		}
	}
	o, err := a.Get(ctx, c, live.ID)
	if err != nil {
		return nil, fmt.Errorf("%s: update: %w", f.Addr(), err)
	}
	o.Address, o.Owned = live.Address, live.Owned
	return o, nil
}

// Delete removes the flavor; servers booted from it keep running (Nova
// copies the flavor into each instance). One already gone is no error.
func (Flavor) Delete(ctx context.Context, c *Cloud, live *Object) error {
	err := flavors.Delete(ctx, c.Compute, live.ID).ExtractErr()
	if err != nil && !gophercloud.ResponseCodeIs(err, 404) {
		return fmt.Errorf("%s: delete: %w", liveLabel(live), err)
	}
	return nil
}
