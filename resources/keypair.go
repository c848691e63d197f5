package resources

import (
	"context"
	"fmt"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"

	"github.com/fuelplan/fuelplan/specs"
)

// Keypair manages Nova keypairs. A keypair has no tags, metadata or
// description to carry the ownership mark, so it is identified by name
// alone: a keypair with the spec's name and the spec's public key is the
// lab's (adopting an identical key is harmless: it grants nothing the
// spec does not), one with another key is a conflict. Keypairs belong to
// the user, not the project, and may well be the operator's own, so List
// asks only for the names the spec uses and never sees any other keypair;
// one dropped from the spec is therefore left alone rather than deleted.
type Keypair struct{}

func (Keypair) Kind() specs.Kind { return specs.KindKeypair }

// Schema: Nova cannot change a keypair in place.
func (Keypair) Schema() Schema {
	return Schema{{Name: "name", ForceNew: true}, {Name: "public_key", ForceNew: true}}
}

func (Keypair) Desired(r specs.Resource) Desired {
	k := r.(*specs.Keypair)
	return Desired{Fields: Fields{"name": k.Name, "public_key": canonicalPublicKey(k.PublicKey)}}
}

// canonicalPublicKey keeps the key type and the key itself: the comment
// after them, and line endings, are not part of the key, and Nova returns
// the text as it was given.
func canonicalPublicKey(k string) string {
	f := strings.Fields(k)
	if len(f) > 2 {
		f = f[:2]
	}
	return strings.Join(f, " ")
}

// List gets each wanted keypair by name: one call per keypair in the spec
// (a lab has one or two), instead of listing the user's keypairs.
func (a Keypair) List(ctx context.Context, c *Cloud, q Query) ([]*Object, error) {
	var out []*Object
	for _, r := range q.Want {
		k, ok := r.(*specs.Keypair)
		if !ok {
			return nil, fmt.Errorf("%s: keypair adapter got %T", r.Addr(), r)
		}
		kp, err := keypairs.Get(ctx, c.Compute, k.Name, nil).Extract()
		if gophercloud.ResponseCodeIs(err, 404) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: read keypair %q: %w", k.Addr(), k.Name, err)
		}
		o := keypairObject(kp)
		o.Address = k.Addr()
		o.Owned = o.Fields["public_key"] == canonicalPublicKey(k.PublicKey)
		out = append(out, o)
	}
	return out, nil
}

// keypairObject is the live view; a keypair's ID is its name. Ownership
// cannot be read from the keypair itself, so the caller sets it.
func keypairObject(kp *keypairs.KeyPair) *Object {
	return &Object{
		Kind: specs.KindKeypair,
		ID:   kp.Name,
		Name: kp.Name,
		Fields: Fields{
			"name":       kp.Name,
			"public_key": canonicalPublicKey(kp.PublicKey),
		},
	}
}

func (Keypair) Get(ctx context.Context, c *Cloud, id string) (*Object, error) {
	kp, err := keypairs.Get(ctx, c.Compute, id, nil).Extract()
	if gophercloud.ResponseCodeIs(err, 404) {
		return nil, fmt.Errorf("keypair %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("keypair %q: read: %w", id, err)
	}
	return keypairObject(kp), nil
}

// Create imports the spec's public key; Nova never sees a private key.
func (Keypair) Create(ctx context.Context, c *Cloud, lab string, r specs.Resource, _ IDs) (*Object, error) {
	k, ok := r.(*specs.Keypair)
	if !ok {
		return nil, fmt.Errorf("%s: keypair adapter got %T", r.Addr(), r)
	}
	if canonicalPublicKey(k.PublicKey) == "" {
		// Nova would generate a key pair and hand back the private key,
		// which fuelplan has nowhere safe to put.
		return nil, fmt.Errorf("%s: create: no public key", k.Addr())
	}
	kp, err := keypairs.Create(ctx, c.Compute, keypairs.CreateOpts{Name: k.Name, PublicKey: k.PublicKey}).Extract()
	if err != nil {
		return nil, fmt.Errorf("%s: create: %w", k.Addr(), err)
	}
	o := keypairObject(kp)
	o.Address, o.Owned = k.Addr(), true
	return o, nil
}

func (Keypair) Update(_ context.Context, _ *Cloud, r specs.Resource, _ *Object, fields []string, _ IDs) (*Object, error) {
	return nil, fmt.Errorf("%s: update: keypair fields %s cannot change in place", r.Addr(), strings.Join(fields, ", "))
}

// Delete removes the keypair; one already gone is not an error.
func (Keypair) Delete(ctx context.Context, c *Cloud, live *Object) error {
	err := keypairs.Delete(ctx, c.Compute, live.ID, nil).ExtractErr()
	if err != nil && !gophercloud.ResponseCodeIs(err, 404) {
		return fmt.Errorf("%s: delete: %w", liveLabel(live), err)
	}
	return nil
}

// liveLabel names a live object in an error: its address when it has
// one (always, for the objects the engine deletes), else kind and ID.
func liveLabel(o *Object) string {
	if o.Address != "" {
		return string(o.Address)
	}
	return fmt.Sprintf("%s %s", o.Kind, o.ID)
}
