package glance

import (
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

var (
	admin  = &simcore.Identity{UserID: "u-admin", ProjectID: "p-admin", Roles: []string{"admin"}, Admin: true}
	member = &simcore.Identity{UserID: "u-member", ProjectID: "p-member", Roles: []string{"member"}}
	other  = &simcore.Identity{UserID: "u-other", ProjectID: "p-other", Roles: []string{"member"}}
)

// serve starts svc behind a test-only middleware standing in for the
// core's auth: the X-Test-As header picks the identity (default member).
func serve(t testing.TB, svc http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := member
		switch r.Header.Get("X-Test-As") {
		case "admin":
			id = admin
		case "other":
			id = other
		}
		svc.ServeHTTP(w, r.WithContext(simcore.WithIdentity(r.Context(), id)))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// client is a real gophercloud image client acting as "as".
func client(url, as string) *gophercloud.ServiceClient {
	return &gophercloud.ServiceClient{
		ProviderClient: &gophercloud.ProviderClient{TokenID: "t"},
		Endpoint:       url + "/v2/",
		Type:           "image",
		MoreHeaders:    map[string]string{"X-Test-As": as},
	}
}

func newCloud(t *testing.T) (*Service, *gophercloud.ServiceClient, *gophercloud.ServiceClient, *gophercloud.ServiceClient) {
	svc := New(Config{Knobs: simcore.NewKnobs(), Images: []Image{
		{ID: "11111111-0000-4000-8000-000000000001", Name: "fuel-6.0", DiskFormat: "qcow2", ContainerFormat: "bare",
			Visibility: "public", OwnerID: "p-admin", MinDisk: 40, SizeBytes: 1 << 20, Checksum: "abc"},
		{ID: "11111111-0000-4000-8000-000000000002", Name: "admin-only", DiskFormat: "raw", ContainerFormat: "bare",
			Visibility: "private", OwnerID: "p-admin"},
	}})
	url := serve(t, svc)
	return svc, client(url, "admin"), client(url, "member"), client(url, "other")
}

func TestUploadStreamsAndHashes(t *testing.T) {
	ctx := context.Background()
	_, _, mem, oth := newCloud(t)
	im, err := images.Create(ctx, mem, images.CreateOpts{Name: "slave", DiskFormat: "qcow2", ContainerFormat: "bare"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if im.Status != images.ImageStatusQueued || im.SizeBytes != 0 || im.Visibility != images.ImageVisibilityShared {
		t.Fatalf("new image: status %q size %d visibility %q", im.Status, im.SizeBytes, im.Visibility)
	}
	// 5 MiB of pseudo-random bytes, generated while streaming: the test
	// itself never holds the whole file either.
	const size = 5 << 20
	src := io.LimitReader(rand.NewChaCha8([32]byte{7}), size)
	wantMD5, wantSHA := md5.New(), sha512.New()
	if err := imagedata.Upload(ctx, mem, im.ID, io.TeeReader(src, io.MultiWriter(wantMD5, wantSHA))).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	got, err := images.Get(ctx, mem, im.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != images.ImageStatusActive || got.SizeBytes != size {
		t.Errorf("after upload: status %q size %d, want active %d", got.Status, got.SizeBytes, size)
	}
	if want := hex.EncodeToString(wantMD5.Sum(nil)); got.Checksum != want {
		t.Errorf("checksum %s, want %s", got.Checksum, want)
	}
	if got.Properties["os_hash_algo"] != "sha512" || got.Properties["os_hash_value"] != hex.EncodeToString(wantSHA.Sum(nil)) {
		t.Errorf("multihash %v %v", got.Properties["os_hash_algo"], got.Properties["os_hash_value"])
	}
	// Data can go in once: a second upload is a 409, as in Glance.
	err = imagedata.Upload(ctx, mem, im.ID, io.LimitReader(rand.NewChaCha8([32]byte{}), 10)).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Errorf("second upload: %v, want 409", err)
	}
	// Another project may not upload into it (it cannot even see it).
	other, _ := images.Create(ctx, mem, images.CreateOpts{Name: "x"}).Extract()
	err = imagedata.Upload(ctx, oth, other.ID, io.LimitReader(rand.NewChaCha8([32]byte{}), 10)).ExtractErr()
	if !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("upload by another project: %v, want 404", err)
	}
}

func TestPaginationAndSort(t *testing.T) {
	ctx := context.Background()
	_, _, mem, _ := newCloud(t)
	var want []string
	for i := range 7 {
		name := fmt.Sprintf("img-%02d", i)
		want = append(want, name)
		if _, err := images.Create(ctx, mem, images.CreateOpts{Name: name, Tags: []string{"lab"}}).Extract(); err != nil {
			t.Fatal(err)
		}
	}
	pages := 0
	var got []string
	err := images.List(mem, images.ListOpts{Limit: 3, Sort: "name:asc", Tags: []string{"lab"}}).EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
		pages++
		ims, err := images.ExtractImages(p)
		if len(ims) > 3 {
			t.Errorf("page of %d images with limit 3", len(ims))
		}
		for _, im := range ims {
			got = append(got, im.Name)
		}
		return true, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged names %v, want %v", got, want)
	}
	if pages != 3 {
		t.Errorf("%d pages, want 3", pages)
	}
	// Descending by name, via sort_key/sort_dir.
	all, err := images.List(mem, images.ListOpts{SortKey: "name", SortDir: "desc", Tags: []string{"lab"}}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ims, _ := images.ExtractImages(all)
	if len(ims) != 7 || ims[0].Name != "img-06" || ims[6].Name != "img-00" {
		t.Errorf("desc order: %v", names(ims))
	}
	// An unknown marker is a 400.
	_, err = images.List(mem, images.ListOpts{Marker: "nope"}).AllPages(ctx)
	if !gophercloud.ResponseCodeIs(err, http.StatusBadRequest) {
		t.Errorf("bad marker: %v, want 400", err)
	}
}

func names(ims []images.Image) []string {
	var out []string
	for _, im := range ims {
		out = append(out, im.Name)
	}
	return out
}

func TestListFiltersAndVisibility(t *testing.T) {
	ctx := context.Background()
	_, adm, mem, oth := newCloud(t)
	if _, err := images.Create(ctx, mem, images.CreateOpts{Name: "mine", Tags: []string{"a", "b"}}).Extract(); err != nil {
		t.Fatal(err)
	}
	if _, err := images.Create(ctx, mem, images.CreateOpts{Name: "mine-a", Tags: []string{"a"}}).Extract(); err != nil {
		t.Fatal(err)
	}
	list := func(c *gophercloud.ServiceClient, o images.ListOpts) []string {
		t.Helper()
		p, err := images.List(c, o).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ims, err := images.ExtractImages(p)
		if err != nil {
			t.Fatal(err)
		}
		n := names(ims)
		slices.Sort(n)
		return n
	}
	for _, tc := range []struct {
		name string
		c    *gophercloud.ServiceClient
		opts images.ListOpts
		want []string
	}{
		{"member sees public and own", mem, images.ListOpts{}, []string{"fuel-6.0", "mine", "mine-a"}},
		{"other project sees only public", oth, images.ListOpts{}, []string{"fuel-6.0"}},
		{"admin sees all", adm, images.ListOpts{}, []string{"admin-only", "fuel-6.0", "mine", "mine-a"}},
		{"name", mem, images.ListOpts{Name: "mine"}, []string{"mine"}},
		{"tags all match", mem, images.ListOpts{Tags: []string{"a", "b"}}, []string{"mine"}},
		{"one tag", mem, images.ListOpts{Tags: []string{"a"}}, []string{"mine", "mine-a"}},
		{"status", mem, images.ListOpts{Status: images.ImageStatusActive}, []string{"fuel-6.0"}},
		{"visibility", adm, images.ListOpts{Visibility: images.ImageVisibilityPrivate}, []string{"admin-only"}},
		{"owner", adm, images.ListOpts{Owner: "p-member"}, []string{"mine", "mine-a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := list(tc.c, tc.opts); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	// A private image of another project is a 404, not a 403: Glance
	// does not reveal that it exists.
	_, err := images.Get(ctx, mem, "11111111-0000-4000-8000-000000000002").Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("get admin's private image as member: %v, want 404", err)
	}
	pub := images.ImageVisibilityPublic
	_, err = images.Create(ctx, mem, images.CreateOpts{Name: "p", Visibility: &pub}).Extract()
	if !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		t.Errorf("member publicizing: %v, want 403", err)
	}
	if _, err := images.Create(ctx, adm, images.CreateOpts{Name: "p", Visibility: &pub}).Extract(); err != nil {
		t.Errorf("admin publicizing: %v", err)
	}
}

func TestPatch(t *testing.T) {
	ctx := context.Background()
	_, _, mem, oth := newCloud(t)
	im, err := images.Create(ctx, mem, images.CreateOpts{Name: "old", Properties: map[string]string{"os_distro": "centos"}}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if im.Properties["os_distro"] != "centos" {
		t.Fatalf("custom property not top-level: %v", im.Properties)
	}
	got, err := images.Update(ctx, mem, im.ID, images.UpdateOpts{
		images.ReplaceImageName{NewName: "new"},
		images.UpdateImageProperty{Op: images.AddOp, Name: "hw_disk_bus", Value: "virtio"},
		images.UpdateImageProperty{Op: images.RemoveOp, Name: "os_distro"},
		images.ReplaceImageTags{NewTags: []string{"x"}},
	}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "new" || got.Properties["hw_disk_bus"] != "virtio" || got.Properties["os_distro"] != nil || !slices.Equal(got.Tags, []string{"x"}) {
		t.Errorf("after patch: name %q props %v tags %v", got.Name, got.Properties, got.Tags)
	}
	for _, tc := range []struct {
		name string
		c    *gophercloud.ServiceClient
		ops  images.UpdateOpts
		code int
	}{
		{"read-only attribute", mem, images.UpdateOpts{images.ReplaceImageChecksum{Checksum: "x"}}, 403},
		{"remove missing property", mem, images.UpdateOpts{images.UpdateImageProperty{Op: images.RemoveOp, Name: "nope"}}, 409},
		{"replace missing property", mem, images.UpdateOpts{images.UpdateImageProperty{Op: images.ReplaceOp, Name: "nope", Value: "v"}}, 409},
		{"other project", oth, images.UpdateOpts{images.ReplaceImageName{NewName: "x"}}, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := images.Update(ctx, tc.c, im.ID, tc.ops).Extract()
			if !gophercloud.ResponseCodeIs(err, tc.code) {
				t.Errorf("got %v, want %d", err, tc.code)
			}
		})
	}
	// A failed patch changed nothing: it applies all or nothing.
	_, _ = images.Update(ctx, mem, im.ID, images.UpdateOpts{
		images.ReplaceImageName{NewName: "half"},
		images.UpdateImageProperty{Op: images.RemoveOp, Name: "nope"},
	}).Extract()
	if g, _ := images.Get(ctx, mem, im.ID).Extract(); g.Name != "new" {
		t.Errorf("name after failed patch %q, want new", g.Name)
	}
}

func TestTagsAndDelete(t *testing.T) {
	ctx := context.Background()
	_, _, mem, _ := newCloud(t)
	prot := true
	im, err := images.Create(ctx, mem, images.CreateOpts{Name: "t", Protected: &prot}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	tagURL := mem.ServiceURL("images", im.ID, "tags", "blue")
	if _, err := mem.Put(ctx, tagURL, nil, nil, &gophercloud.RequestOpts{OkCodes: []int{204}}); err != nil {
		t.Fatal(err)
	}
	if g, _ := images.Get(ctx, mem, im.ID).Extract(); !slices.Equal(g.Tags, []string{"blue"}) {
		t.Errorf("tags %v", g.Tags)
	}
	if _, err := mem.Delete(ctx, tagURL, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Delete(ctx, tagURL, nil); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("delete missing tag: %v, want 404", err)
	}
	if err := images.Delete(ctx, mem, im.ID).ExtractErr(); !gophercloud.ResponseCodeIs(err, 403) {
		t.Errorf("delete protected: %v, want 403", err)
	}
	unprot := false
	if _, err := images.Update(ctx, mem, im.ID, images.UpdateOpts{images.ReplaceImageProtected{NewProtected: unprot}}).Extract(); err != nil {
		t.Fatal(err)
	}
	if err := images.Delete(ctx, mem, im.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if _, err := images.Get(ctx, mem, im.ID).Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("get deleted: %v, want 404", err)
	}
}

func TestImagesForNovaAndSnapshot(t *testing.T) {
	ctx := context.Background()
	svc, _, mem, _ := newCloud(t)
	queued, _ := images.Create(ctx, mem, images.CreateOpts{Name: "q"}).Extract()
	for _, tc := range []struct {
		name, project, id string
		ok                bool
	}{
		{"public", "p-other", "11111111-0000-4000-8000-000000000001", true},
		{"private of another project", "p-other", "11111111-0000-4000-8000-000000000002", false},
		{"private of own project", "p-admin", "11111111-0000-4000-8000-000000000002", true},
		{"queued has no data", "p-member", queued.ID, false},
		{"unknown", "p-member", "nope", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			im, ok := svc.Image(tc.project, tc.id)
			if ok != tc.ok {
				t.Fatalf("ok %v, want %v", ok, tc.ok)
			}
			if tc.id == "11111111-0000-4000-8000-000000000001" && (im.Name != "fuel-6.0" || im.MinDisk != 40) {
				t.Errorf("name %q min_disk %d", im.Name, im.MinDisk)
			}
		})
	}
	snap, err := svc.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	fresh := New(Config{})
	if err := fresh.Restore(snap); err != nil {
		t.Fatal(err)
	}
	c := client(serve(t, fresh), "member")
	got, err := images.Get(ctx, c, queued.ID).Extract()
	if err != nil || got.Name != "q" || got.Status != images.ImageStatusQueued {
		t.Errorf("restored image: %+v, %v", got, err)
	}
	if err := fresh.Restore([]byte("{")); err == nil {
		t.Error("restore of corrupt JSON succeeded")
	}
}

func TestClockFromKnobs(t *testing.T) {
	ctx := context.Background()
	knobs := simcore.NewKnobs()
	t0 := time.Date(2015, 7, 15, 11, 43, 35, 0, time.UTC)
	knobs.SetNow(func() time.Time { return t0 })
	c := client(serve(t, New(Config{Knobs: knobs})), "member")
	im, err := images.Create(ctx, c, images.CreateOpts{Name: "a"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if !im.CreatedAt.Equal(t0) || !im.UpdatedAt.Equal(t0) {
		t.Errorf("created %v updated %v, want %v", im.CreatedAt, im.UpdatedAt, t0)
	}
	t1 := t0.Add(time.Hour)
	knobs.SetNow(func() time.Time { return t1 })
	im, err = images.Update(ctx, c, im.ID, images.UpdateOpts{images.ReplaceImageName{NewName: "b"}}).Extract()
	if err != nil || !im.UpdatedAt.Equal(t1) || !im.CreatedAt.Equal(t0) {
		t.Errorf("after update: %+v %v", im, err)
	}
}

// Errors are webob's: JSON for a client accepting JSON (gophercloud sends
// Accept: application/json), plain text otherwise.
func TestErrorBodies(t *testing.T) {
	url := serve(t, New(Config{}))
	_, err := images.Get(context.Background(), client(url, "member"), "nope").Extract()
	var e gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &e) || e.Actual != 404 {
		t.Fatalf("got %v, want 404", err)
	}
	var body struct{ Code, Title, Message string }
	if err := json.Unmarshal(e.Body, &body); err != nil || body.Code != "404 Not Found" || body.Message != "No image found with ID nope<br /><br />\n\n\n" {
		t.Errorf("JSON error body %s (%v)", e.Body, err)
	}
	resp, err := http.Get(url + "/v2/images/nope")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 404 || !strings.HasPrefix(string(text), "404 Not Found\n\nNo image found with ID nope") {
		t.Errorf("plain error %d %q", resp.StatusCode, text)
	}
}
