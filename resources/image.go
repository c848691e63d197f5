package resources

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/fuelplan/fuelplan/specs"
)

// Image manages Glance images: uploaded from a local file and marked with
// the lab's tags from the create request on, or looked up by name when the
// spec marks them existing. Use a pointer: it remembers the checksums of
// the files it has hashed (see fileSums).
type Image struct {
	sums fileSums
}

// propertiesPrefix is the keyed family of an image's custom properties.
const propertiesPrefix = "properties."

func (*Image) Kind() specs.Kind { return specs.KindImage }

// Schema: Glance changes names and properties in place; the formats and
// the data itself are fixed once uploaded. Status is there so an image
// whose upload never finished (left queued by an interrupted create, but
// marked) is replaced rather than taken for done.
func (*Image) Schema() Schema {
	return Schema{
		{Name: "name"},
		{Name: "disk_format", ForceNew: true},
		{Name: "container_format", ForceNew: true},
		{Name: "checksum", ForceNew: true},
		{Name: "status", ForceNew: true},
		{Name: propertiesPrefix + "*"},
	}
}

func (*Image) IsLookup(r specs.Resource) bool { return r.(*specs.Image).Existing }

// Desired includes the local file's md5 (Glance's `checksum`), so a
// changed file replaces the image. Hashing a multi-gigabyte ISO takes
// seconds, so it is done once per file version (size and mtime) per
// process; a file that cannot be read leaves the checksum out here, and
// Create reports it.
func (a *Image) Desired(r specs.Resource) Desired {
	im := r.(*specs.Image)
	fs := Fields{"name": im.Name}
	if im.Existing {
		return Desired{Fields: fs}
	}
	fs["status"] = string(images.ImageStatusActive)
	if im.DiskFormat != "" {
		fs["disk_format"] = im.DiskFormat
	}
	if im.ContainerFormat != "" {
		fs["container_format"] = im.ContainerFormat
	}
	if sum, err := a.sums.md5(im.File); err == nil {
		fs["checksum"] = sum
	}
	for k, v := range im.Properties {
		fs[propertiesPrefix+k] = v
	}
	return Desired{Fields: fs}
}

// List reads the lab's images with one call filtered on the lab tag, then
// looks up by exact name each wanted image not among them (lookups, and
// conflicts): one call per such name, since Glance ORs names only with
// its `in:` operator, which needs quoting rules and a newer Glance.
func (*Image) List(ctx context.Context, c *Cloud, q Query) ([]*Object, error) {
	owned, err := listImages(ctx, c, images.ListOpts{Tags: []string{LabTag(q.Lab)}})
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	var out []*Object
	found := map[specs.Address]bool{}
	for i := range owned {
		addr := Ownership(q.Lab, owned[i].Tags)
		o := imageObject(&owned[i])
		o.Address, o.Owned = addr, true
		out = append(out, o)
		found[addr] = true
	}
	for _, r := range q.Want {
		im, ok := r.(*specs.Image)
		if !ok {
			return nil, fmt.Errorf("%s: image adapter got %T", r.Addr(), r)
		}
		if found[im.Addr()] {
			continue
		}
		named, err := listImages(ctx, c, images.ListOpts{Name: im.Name})
		if err != nil {
			return nil, fmt.Errorf("%s: find image %q: %w", im.Addr(), im.Name, err)
		}
		var matches []*Object
		for i := range named {
			if slices.Contains(named[i].Tags, LabTag(q.Lab)) {
				continue // the lab's, under another address: already listed
			}
			o := imageObject(&named[i])
			o.Address = im.Addr()
			matches = append(matches, o)
		}
		if im.Existing && len(matches) > 1 {
			return nil, fmt.Errorf("%s: %d images are named %q: %s", im.Addr(), len(matches), im.Name, objectIDs(matches))
		}
		out = append(out, matches...)
	}
	return out, nil
}

// listImages follows pagination and leaves out images on their way out.
func listImages(ctx context.Context, c *Cloud, opts images.ListOpts) ([]images.Image, error) {
	pages, err := images.List(c.Image, opts).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	all, err := images.ExtractImages(pages)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(im images.Image) bool {
		return im.Status == images.ImageStatusDeleted || im.Status == images.ImageStatusPendingDelete
	}), nil
}

// glanceOwnProperties are keys Glance (or its clients) put among an
// image's top-level fields that are not the spec's properties.
var glanceOwnProperties = map[string]bool{
	"os_hash_algo": true, "os_hash_value": true, "stores": true, "locations": true,
	"direct_url": true, "properties": true, "os_glance_failed_import": true, "os_glance_importing_to_stores": true,
}

func isGlanceOwnProperty(k string) bool {
	return glanceOwnProperties[k] || strings.HasPrefix(k, "owner_specified.") || strings.HasPrefix(k, "os_glance")
}

// imageObject is the live view, without ownership.
func imageObject(im *images.Image) *Object {
	fs := Fields{"name": im.Name, "status": string(im.Status)}
	for k, v := range map[string]string{
		"disk_format": im.DiskFormat, "container_format": im.ContainerFormat, "checksum": im.Checksum,
	} {
		if v != "" {
			fs[k] = v
		}
	}
	for k, v := range im.Properties {
		if s, ok := v.(string); ok && !isGlanceOwnProperty(k) {
			fs[propertiesPrefix+k] = s
		}
	}
	return &Object{
		Kind: specs.KindImage, ID: im.ID, Name: im.Name, Status: string(im.Status),
		Revision: im.UpdatedAt.UTC().Format("2006-01-02T15:04:05Z"), Fields: fs,
	}
}

func (*Image) Get(ctx context.Context, c *Cloud, id string) (*Object, error) {
	im, err := images.Get(ctx, c.Image, id).Extract()
	if gophercloud.ResponseCodeIs(err, 404) {
		return nil, fmt.Errorf("image %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("image %s: read: %w", id, err)
	}
	return imageObject(im), nil
}

// Create opens the file first (a missing file costs no API call), creates
// the image record with the lab's tags, streams the file to it and waits
// until Glance says active. An upload that fails leaves a record with no
// data: it is deleted on the way out, and should that fail too, its mark
// lets the next run find it and its status (queued) replaces it.
func (a *Image) Create(ctx context.Context, c *Cloud, lab string, r specs.Resource, _ IDs) (*Object, error) {
	im, ok := r.(*specs.Image)
	if !ok {
		return nil, fmt.Errorf("%s: image adapter got %T", r.Addr(), r)
	}
	if im.Existing {
		return nil, fmt.Errorf("%s: create: image %q is marked existing: it is looked up, never uploaded", im.Addr(), im.Name)
	}
	f, err := os.Open(im.File)
	if err != nil {
		return nil, fmt.Errorf("%s: create: image file: %w", im.Addr(), err)
	}
	defer f.Close()

	created, err := images.Create(ctx, c.Image, images.CreateOpts{
		Name: im.Name, DiskFormat: im.DiskFormat, ContainerFormat: im.ContainerFormat,
		Tags: []string{LabTag(lab), AddrTag(im.Addr())}, Properties: im.Properties,
	}).Extract()
	if err != nil {
		return nil, fmt.Errorf("%s: create: %w", im.Addr(), err)
	}
	// *os.File is streamed as the request body, never read into memory;
	// gophercloud seeks it back to the start if it must re-authenticate.
	// A large file reports its progress where ctx says (WithUploadProgress).
	if err := imagedata.Upload(ctx, c.Image, created.ID, uploadBody(ctx, im.Addr(), f)).ExtractErr(); err != nil {
		err = fmt.Errorf("%s: create: upload %s: %w", im.Addr(), im.File, err)
		if derr := images.Delete(context.WithoutCancel(ctx), c.Image, created.ID).ExtractErr(); derr != nil {
			err = errors.Join(err, fmt.Errorf("%s: create: remove the image left without data (ID %s): %w", im.Addr(), created.ID, derr))
		}
		return nil, err
	}
	var live *images.Image
	err = Poll(ctx, DefaultBackoff, func(ctx context.Context) (bool, error) {
		live, err = images.Get(ctx, c.Image, created.ID).Extract()
		if err != nil {
			return false, err
		}
		switch live.Status {
		case images.ImageStatusActive:
			return true, nil
		case images.ImageStatusKilled, images.ImageStatusDeleted, images.ImageStatusPendingDelete:
			return false, fmt.Errorf("image went %s after upload", live.Status)
		}
		return false, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: create: %w", im.Addr(), err)
	}
	o := imageObject(live)
	o.Address, o.Owned = im.Addr(), true
	return o, nil
}

// Update renames and sets or removes properties in one JSON patch, which
// Glance applies all or nothing.
func (a *Image) Update(ctx context.Context, c *Cloud, r specs.Resource, live *Object, fields []string, _ IDs) (*Object, error) {
	im, ok := r.(*specs.Image)
	if !ok {
		return nil, fmt.Errorf("%s: image adapter got %T", r.Addr(), r)
	}
	var patch images.UpdateOpts
	names := slices.Sorted(slices.Values(fields))
	for _, name := range names {
		if name == "name" {
			patch = append(patch, images.ReplaceImageName{NewName: im.Name})
			continue
		}
		key, ok := strings.CutPrefix(name, propertiesPrefix)
		if !ok {
			return nil, fmt.Errorf("%s: update: image field %s cannot change in place", im.Addr(), name)
		}
		_, had := live.Fields[name]
		v, want := im.Properties[key]
		switch {
		case want && had:
			patch = append(patch, images.UpdateImageProperty{Op: images.ReplaceOp, Name: key, Value: v})
		case want:
			patch = append(patch, images.UpdateImageProperty{Op: images.AddOp, Name: key, Value: v})
		case had:
			patch = append(patch, images.UpdateImageProperty{Op: images.RemoveOp, Name: key})
		}
	}
	if len(patch) == 0 {
		return live, nil
	}
	updated, err := images.Update(ctx, c.Image, live.ID, patch).Extract()
	if err != nil {
		return nil, fmt.Errorf("%s: update: %w", im.Addr(), err)
	}
	o := imageObject(updated)
	o.Address, o.Owned = live.Address, live.Owned
	return o, nil
}

// Delete removes the image (Glance deletes synchronously); one already
// gone is no error.
func (*Image) Delete(ctx context.Context, c *Cloud, live *Object) error {
	err := images.Delete(ctx, c.Image, live.ID).ExtractErr()
	if err != nil && !gophercloud.ResponseCodeIs(err, 404) {
		return fmt.Errorf("%s: delete: %w", liveLabel(live), err)
	}
	return nil
}

// fileSums remembers the md5 of each local file it has hashed, keyed by
// path and checked against size and modification time, so a plan hashes
// an unchanged ISO once per process however often Desired is called.
// The zero value is ready to use.
type fileSums struct {
	mu   sync.Mutex
	sums map[string]fileSum
}

type fileSum struct {
	size  int64
	mtime time.Time
	md5   string
}

// md5 returns the file's md5 in hex, as Glance reports `checksum`.
func (s *fileSums) md5(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	c, ok := s.sums[path]
	s.mu.Unlock()
	if ok && c.size == st.Size() && c.mtime.Equal(st.ModTime()) {
		return c.md5, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	s.mu.Lock()
	if s.sums == nil {
		s.sums = map[string]fileSum{}
	}
	s.sums[path] = fileSum{size: st.Size(), mtime: st.ModTime(), md5: sum}
	s.mu.Unlock()
	return sum, nil
}
