package resources_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/resources/resourcestest"
	"github.com/fuelplan/fuelplan/specs"
)

// sshPublicKey returns a fresh ed25519 public key in authorized_keys form.
func sshPublicKey(t testing.TB, comment string) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var wire []byte
	for _, part := range [][]byte{[]byte("ssh-ed25519"), pub} {
		wire = binary.BigEndian.AppendUint32(wire, uint32(len(part)))
		wire = append(wire, part...)
	}
	return "ssh-ed25519 " + base64.StdEncoding.EncodeToString(wire) + " " + comment
}

func keypairSpec(name, key string) *specs.Keypair {
	return &specs.Keypair{Meta: specs.Meta{Address: specs.NewAddress(specs.KindKeypair, name), Name: name}, PublicKey: key}
}

func TestKeypairLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, c := resourcestest.Admin(t)
	a := resources.Keypair{}
	key := sshPublicKey(t, "operator@laptop")
	want := keypairSpec("lab1-key", key)

	got, err := a.Create(ctx, c, "lab1", want, resourcestest.IDs{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if !got.Owned || got.Address != want.Addr() || got.ID != "lab1-key" {
		t.Errorf("created = %+v, want owned %s with ID lab1-key", got, want.Addr())
	}

	sim.ResetRequests()
	// The spec may carry the key with another comment and a newline: the
	// key is the same, so the keypair is still the lab's and no drift.
	again := keypairSpec("lab1-key", strings.TrimSuffix(key, "operator@laptop")+"other comment\n")
	objs, err := a.List(ctx, c, resources.Query{Lab: "lab1", Want: []specs.Resource{again}})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(objs) != 1 || !objs[0].Owned || objs[0].Address != want.Addr() {
		t.Fatalf("list = %+v, want the one owned keypair", objs)
	}
	if d := resourcestest.Drift(a.Desired(again), objs[0], nil); len(d) > 0 {
		t.Errorf("drift after create: %v", d)
	}
	// Only the named keypair was asked for: the user's others are never read.
	if reqs := sim.Requests(); len(reqs) != 1 || reqs["GET /compute/v2.1/os-keypairs/lab1-key"] != 1 {
		t.Errorf("requests = %v, want one GET of the named keypair and no list", reqs)
	}

	if _, err := a.Update(ctx, c, want, got, []string{"public_key"}, nil); err == nil {
		t.Error("update of public_key succeeded, want an error: keypairs cannot change")
	}

	if err := a.Delete(ctx, c, got); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := a.Get(ctx, c, got.ID); !errors.Is(err, resources.ErrNotFound) {
		t.Errorf("get after delete: %v, want ErrNotFound", err)
	}
	if err := a.Delete(ctx, c, got); err != nil {
		t.Errorf("delete of a gone keypair: %v, want success", err)
	}
	objs, err = a.List(ctx, c, resources.Query{Lab: "lab1", Want: []specs.Resource{want}})
	if err != nil || len(objs) != 0 {
		t.Errorf("list after delete = %v, %v; want nothing", objs, err)
	}
}

// A keypair with the spec's name but not its key belongs to someone else;
// one with the same key is adopted, since it grants nothing more.
func TestKeypairOwnershipByKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := resourcestest.Admin(t)
	a := resources.Keypair{}
	mine, theirs := sshPublicKey(t, "me"), sshPublicKey(t, "them")
	for _, kp := range []keypairs.CreateOpts{
		{Name: "same-key", PublicKey: mine},
		{Name: "other-key", PublicKey: theirs},
		{Name: "not-in-spec", PublicKey: theirs},
	} {
		if _, err := keypairs.Create(ctx, c.Compute, kp).Extract(); err != nil {
			t.Fatalf("seed keypair %s: %v", kp.Name, err)
		}
	}
	cases := []struct {
		name      string
		wantOwned bool
	}{
		{"same-key", true},
		{"other-key", false},
	}
	var want []specs.Resource
	for _, tc := range cases {
		want = append(want, keypairSpec(tc.name, mine))
	}
	objs, err := a.List(ctx, c, resources.Query{Lab: "lab1", Want: want})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(objs) != len(cases) {
		t.Fatalf("list found %d keypairs, want %d (never one the spec does not name): %+v", len(objs), len(cases), objs)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := resourcestest.Find(objs, specs.NewAddress(specs.KindKeypair, tc.name))
			if o == nil {
				t.Fatalf("keypair %s not found", tc.name)
			}
			if o.Owned != tc.wantOwned {
				t.Errorf("owned = %v, want %v", o.Owned, tc.wantOwned)
			}
		})
	}
}

func TestKeypairCreateNeedsPublicKey(t *testing.T) {
	t.Parallel()
	_, c := resourcestest.Admin(t)
	_, err := resources.Keypair{}.Create(context.Background(), c, "lab1", keypairSpec("k", "  "), nil)
	if err == nil || !strings.Contains(err.Error(), "keypair.k: create: no public key") {
		t.Errorf("create without a key: %v, want an error naming the address", err)
	}
}
