package resources_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/resources/resourcestest"
	"github.com/fuelplan/fuelplan/simcloud"
	"github.com/fuelplan/fuelplan/specs"
)

// imageFile writes data to a file in a fresh temporary folder.
func imageFile(t testing.TB, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fuel.iso")
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func md5Hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

func imageSpec(name, file string, props map[string]string) *specs.Image {
	return &specs.Image{
		Meta: specs.Meta{Address: specs.NewAddress(specs.KindImage, name), Name: "lab1-" + name},
		File: file, DiskFormat: "iso", ContainerFormat: "bare", Properties: props,
	}
}

func existingImage(name string) *specs.Image {
	return &specs.Image{Meta: specs.Meta{Address: specs.NewAddress(specs.KindImage, name), Name: name}, Existing: true}
}

func TestImageLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, c := resourcestest.Admin(t)
	a := &resources.Image{}
	const data = "not really an ISO, but Glance cannot tell"
	want := imageSpec("fuel", imageFile(t, data), map[string]string{"hw_disk_bus": "ide", "os_distro": "centos"})

	got, err := a.Create(ctx, c, "lab1", want, nil)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if !got.Owned || got.Address != want.Addr() || got.Status != "active" || got.Fields["checksum"] != md5Hex(data) {
		t.Errorf("created = %+v, want owned, active, with the file's md5", got)
	}
	raw, err := images.Get(ctx, c.Image, got.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(raw.Tags, resources.LabTag("lab1")) || !slices.Contains(raw.Tags, resources.AddrTag(want.Addr())) {
		t.Errorf("tags = %v, want the lab's mark", raw.Tags)
	}

	sim.ResetRequests()
	objs, err := a.List(ctx, c, resources.Query{Lab: "lab1", Want: []specs.Resource{want}})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(objs) != 1 || objs[0].ID != got.ID || !objs[0].Owned || objs[0].Address != want.Addr() {
		t.Fatalf("list = %+v, want the created image, owned", objs)
	}
	if n := sim.Requests()["GET /image/v2/images"]; n != 1 {
		t.Errorf("list made %d list calls, want 1 for a lab whose images all exist", n)
	}
	if d := resourcestest.Drift(a.Desired(want), objs[0], nil); len(d) > 0 {
		t.Errorf("drift after create: %v", d)
	}
	for k := range objs[0].Fields {
		if strings.HasPrefix(k, "properties.os_hash") {
			t.Errorf("Glance's own %s shows as a spec property", k)
		}
	}

	// Rename, change a property, drop one, add one: one patch.
	changed := imageSpec("fuel", want.File, map[string]string{"hw_disk_bus": "virtio", "hw_vif_model": "e1000"})
	changed.Name = "lab1-fuel-renamed"
	fields := []string{"name", "properties.hw_disk_bus", "properties.hw_vif_model", "properties.os_distro"}
	updated, err := a.Update(ctx, c, changed, objs[0], fields, nil)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if d := resourcestest.Drift(a.Desired(changed), updated, nil); len(d) > 0 {
		t.Errorf("drift after update: %v", d)
	}
	if _, ok := updated.Fields["properties.os_distro"]; ok {
		t.Error("property dropped from the spec is still there")
	}
	if _, err := a.Update(ctx, c, changed, updated, []string{"disk_format"}, nil); err == nil {
		t.Error("update of disk_format succeeded, want an error")
	}

	// A changed file is drift in checksum, which forces a replace.
	if err := os.WriteFile(want.File, []byte(data+" v2"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := resourcestest.Drift(a.Desired(changed), updated, nil)
	if len(d) != 1 || !strings.HasPrefix(d[0], "checksum") {
		t.Errorf("drift after the file changed = %v, want checksum", d)
	}
	if f, _ := a.Schema().Lookup("checksum"); !f.ForceNew {
		t.Error("checksum does not force a replace")
	}

	if err := a.Delete(ctx, c, updated); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := a.Get(ctx, c, updated.ID); !errors.Is(err, resources.ErrNotFound) {
		t.Errorf("get after delete: %v, want ErrNotFound", err)
	}
	if err := a.Delete(ctx, c, updated); err != nil {
		t.Errorf("delete of a gone image: %v", err)
	}
}

func TestImageCreateFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, c := resourcestest.Admin(t)
	a := &resources.Image{}

	missing := imageSpec("gone", filepath.Join(t.TempDir(), "no-such.iso"), nil)
	sim.ResetRequests()
	_, err := a.Create(ctx, c, "lab1", missing, nil)
	if err == nil || !strings.Contains(err.Error(), "image.gone: create:") || !strings.Contains(err.Error(), missing.File) {
		t.Errorf("create from a missing file: %v, want an error naming address and path", err)
	}
	if n := sim.Requests()["POST /image/v2/images"]; n != 0 {
		t.Errorf("%d image records made for a missing file, want none", n)
	}
	if _, ok := a.Desired(missing).Fields["checksum"]; ok {
		t.Error("Desired has a checksum for a missing file")
	}

	// An upload that fails leaves no image behind.
	broken := imageSpec("broken", imageFile(t, "data"), nil)
	sim.InjectFaults(simcloud.Fault{Method: "PUT", Path: "/image/v2/images/", Status: 503, Max: 1})
	if _, err := a.Create(ctx, c, "lab1", broken, nil); err == nil || !strings.Contains(err.Error(), "image.broken: create: upload") {
		t.Errorf("create with failing upload: %v, want an upload error naming the address", err)
	}
	objs, err := a.List(ctx, c, resources.Query{Lab: "lab1", Want: []specs.Resource{broken}})
	if err != nil || len(objs) != 0 {
		t.Errorf("after a failed upload list = %+v, %v; want nothing left", objs, err)
	}
}

// An image record whose upload never happened (a crash between the two
// requests) is the lab's, and its status forces a replace.
func TestImageWithoutDataIsReplaced(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := resourcestest.Admin(t)
	a := &resources.Image{}
	want := imageSpec("fuel", imageFile(t, "data"), nil)
	_, err := images.Create(ctx, c.Image, images.CreateOpts{
		Name: want.Name, DiskFormat: "iso", ContainerFormat: "bare",
		Tags: []string{resources.LabTag("lab1"), resources.AddrTag(want.Addr())},
	}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	objs, err := a.List(ctx, c, resources.Query{Lab: "lab1", Want: []specs.Resource{want}})
	if err != nil || len(objs) != 1 || !objs[0].Owned {
		t.Fatalf("list = %+v, %v; want the queued image, owned", objs, err)
	}
	var forced []string
	for _, d := range resourcestest.Drift(a.Desired(want), objs[0], nil) {
		name, _, _ := strings.Cut(d, ":")
		if f, _ := a.Schema().Lookup(name); f.ForceNew {
			forced = append(forced, name)
		}
	}
	if !slices.Contains(forced, "status") {
		t.Errorf("fields forcing a replace = %v, want status among them", forced)
	}
}

func TestImageListByName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := resourcestest.Admin(t)
	a := &resources.Image{}
	for _, name := range []string{"dup", "dup", "lab1-taken"} {
		if _, err := images.Create(ctx, c.Image, images.CreateOpts{Name: name}).Extract(); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name    string
		want    specs.Resource
		found   int
		wantErr string
	}{
		{name: "lookup found", want: existingImage("cirros"), found: 1},
		{name: "lookup not found", want: existingImage("no-such-image"), found: 0},
		{name: "lookup ambiguous", want: existingImage("dup"), wantErr: `image.dup: 2 images are named "dup"`},
		{name: "conflict", want: imageSpec("taken", "x.iso", nil), found: 1},
		{name: "free name", want: imageSpec("free", "x.iso", nil), found: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := a.List(ctx, c, resources.Query{Lab: "lab1", Want: []specs.Resource{tc.want}})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("list: %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			if len(objs) != tc.found {
				t.Fatalf("list = %+v, want %d", objs, tc.found)
			}
			for _, o := range objs {
				if o.Owned || o.Address != tc.want.Addr() {
					t.Errorf("object %+v: want unowned with address %s", o, tc.want.Addr())
				}
			}
		})
	}
}

// TestImageUploadStreams uploads a 64 MiB file and checks the process
// allocated far less than that: the file went to Glance as a stream.
// Not parallel, so other tests' allocations do not count.
func TestImageUploadStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 64 MiB")
	}
	ctx := context.Background()
	_, c := resourcestest.Admin(t)
	const size = 64 << 20
	p := filepath.Join(t.TempDir(), "big.iso")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil { // sparse: cheap to make, real to read
		t.Fatal(err)
	}
	f.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	o, err := (&resources.Image{}).Create(ctx, c, "lab1", imageSpec("big", p, nil), nil)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("uploading %d MiB allocated %.1f MiB (client and simulated Glance together)", size>>20, float64(alloc)/(1<<20))
	if alloc > size/4 {
		t.Errorf("allocated %d bytes for a %d-byte upload: the file was not streamed", alloc, size)
	}
	if o.Fields["checksum"] != md5Hex(string(make([]byte, size))) {
		t.Errorf("checksum = %s, want the md5 of %d zero bytes", o.Fields["checksum"], size)
	}
}
