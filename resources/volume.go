package resources

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"

	"github.com/fuelplan/fuelplan/specs"
)

// Volume manages Cinder volumes, blank or made from a lab image. Cinder
// has no tags, so the ownership mark is two metadata keys, sent in the
// create request so a crash mid-create leaves nothing unmarked.
type Volume struct{}

// The metadata keys of the ownership mark on a volume.
const (
	volumeLabKey  = "fuelplan-lab"
	volumeAddrKey = "fuelplan-addr"
)

func (Volume) Kind() specs.Kind { return specs.KindVolume }

// Schema: Cinder renames and flips bootable in place; a volume's size and
// source are what it was made with (a volume only grows, and a smaller
// size in the spec cannot be honoured), so they replace it. status is read
// for the operator, never desired.
func (Volume) Schema() Schema {
	return Schema{
		{Name: "name"},
		{Name: "size_gb", ForceNew: true, Type: Number},
		{Name: "image", ForceNew: true},
		{Name: "bootable", Type: Boolean},
		{Name: "status"},
		// attached_to (server IDs) is read for Server.Relate, never desired.
		{Name: "attached_to"},
	}
}

// Desired: a volume made from an image is bootable in Cinder whatever the
// spec says, so that is not drift.
func (Volume) Desired(r specs.Resource) Desired {
	v := r.(*specs.Volume)
	fs := Fields{"name": v.Name, "size_gb": strconv.Itoa(v.SizeGB),
		"bootable": strconv.FormatBool(v.Bootable || v.Image != "")}
	refs := Refs{}
	if v.Image != "" {
		refs["image"] = []specs.Address{v.Image}
	}
	return Desired{Fields: fs, Refs: refs}
}

func needVolume(c *Cloud) error {
	if c.Volume == nil {
		return errors.New("the cloud has no block-storage (Cinder v3) endpoint in its catalog")
	}
	return nil
}

// List reads every volume of the project with one paged call and sorts
// them into the lab's (by the mark) and unowned ones using a wanted name:
// one call rather than a metadata query plus one name query per volume.
func (Volume) List(ctx context.Context, c *Cloud, q Query) ([]*Object, error) {
	if len(q.Want) == 0 && c.Volume == nil {
		return nil, nil // nothing wanted, nothing to read
	}
	if err := needVolume(c); err != nil {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	qs, err := volumes.ListOpts{}.ToVolumeListQuery()
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	all, err := readPages[volumes.Volume, volumePage](ctx, c.Volume, c.Volume.ServiceURL("volumes", "detail")+qs)
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	byName := map[string]specs.Address{}
	for _, r := range q.Want {
		v, ok := r.(*specs.Volume)
		if !ok {
			return nil, fmt.Errorf("%s: volume adapter got %T", r.Addr(), r)
		}
		byName[v.Name] = v.Addr()
	}
	var out []*Object
	for i := range all {
		v := &all[i]
		o := volumeObject(v)
		switch {
		case v.Metadata[volumeLabKey] == q.Lab:
			o.Address, o.Owned = specs.Address(v.Metadata[volumeAddrKey]), true
		case byName[v.Name] != "":
			o.Address = byName[v.Name]
		default:
			continue
		}
		out = append(out, o)
	}
	return out, nil
}

func volumeObject(v *volumes.Volume) *Object {
	fs := Fields{"name": v.Name, "size_gb": strconv.Itoa(v.Size), "status": v.Status}
	b, _ := strconv.ParseBool(v.Bootable)
	fs["bootable"] = strconv.FormatBool(b)
	if id := v.VolumeImageMetadata["image_id"]; id != "" {
		fs["image"] = id
	}
	var servers []string
	for _, a := range v.Attachments {
		servers = append(servers, a.ServerID)
	}
	if len(servers) > 0 {
		fs["attached_to"] = JoinSorted(servers)
	}
	return &Object{Kind: specs.KindVolume, ID: v.ID, Name: v.Name, Status: v.Status,
		Revision: v.UpdatedAt.UTC().Format(time.RFC3339Nano), Fields: fs}
}

func (Volume) Get(ctx context.Context, c *Cloud, id string) (*Object, error) {
	if err := needVolume(c); err != nil {
		return nil, fmt.Errorf("volume %s: %w", id, err)
	}
	v, err := volumes.Get(ctx, c.Volume, id).Extract()
	if gophercloud.ResponseCodeIs(err, 404) {
		return nil, fmt.Errorf("volume %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("volume %s: read: %w", id, err)
	}
	return volumeObject(v), nil
}

// Create makes the volume with its mark, waits for "available" (an image
// copy can take minutes), then sets bootable on a blank volume that asks
// for it. A volume that goes to error is deleted again: it is of no use.
func (a Volume) Create(ctx context.Context, c *Cloud, lab string, r specs.Resource, ids IDs) (*Object, error) {
	v, ok := r.(*specs.Volume)
	if !ok {
		return nil, fmt.Errorf("%s: volume adapter got %T", r.Addr(), r)
	}
	if err := needVolume(c); err != nil {
		return nil, fmt.Errorf("%s: create: %w", v.Addr(), err)
	}
	opts := volumes.CreateOpts{Name: v.Name, Size: v.SizeGB,
		Metadata: map[string]string{volumeLabKey: lab, volumeAddrKey: string(v.Addr())}}
	if v.Image != "" {
		id, ok := ids.ID(v.Image)
		if !ok || id == "" {
			return nil, fmt.Errorf("%s: create: image: %s has no ID yet", v.Addr(), v.Image)
		}
		opts.ImageID = id
	}
	created, err := volumes.Create(ctx, c.Volume, opts, nil).Extract()
	if err != nil {
		return nil, fmt.Errorf("%s: create: %w", v.Addr(), err)
	}
	live, err := waitVolumeAvailable(ctx, c, created.ID)
	if err != nil {
		err = fmt.Errorf("%s: create: %w", v.Addr(), err)
		var ve *volumeErrorStatus
		if errors.As(err, &ve) {
			if derr := a.deleteAndWait(context.WithoutCancel(ctx), c, created.ID); derr != nil {
				err = errors.Join(err, fmt.Errorf("%s: create: remove the failed volume %s: %w", v.Addr(), created.ID, derr))
			}
		}
		return nil, err
	}
	if v.Bootable && live.Bootable != "true" {
		if err := volumes.SetBootable(ctx, c.Volume, live.ID, volumes.BootableOpts{Bootable: true}).ExtractErr(); err != nil {
			return nil, fmt.Errorf("%s: create: set bootable: %w", v.Addr(), err)
		}
		live.Bootable = "true"
	}
	o := volumeObject(live)
	o.Address, o.Owned = v.Addr(), true
	return o, nil
}

// volumeErrorStatus is a volume Cinder could not make.
type volumeErrorStatus struct{ id, status string }

func (e *volumeErrorStatus) Error() string {
	return fmt.Sprintf("volume %s went to %s (see the volume's messages: openstack volume message list)", e.id, e.status)
}

// waitVolumeAvailable waits until the volume is available, failing on an
// error status, with the Cloud's volume watcher.
func waitVolumeAvailable(ctx context.Context, c *Cloud, id string) (*volumes.Volume, error) {
	var live *volumes.Volume
	err := watchFor(ctx, c, "volumes", listWatchedVolumes, DefaultBackoff, DefaultBackoff.Initial, watchItem{ID: id},
		func(v volumes.Volume, found bool) (bool, error) {
			if !found {
				return false, fmt.Errorf("wait for volume %s: %w", id, ErrNotFound)
			}
			live = &v
			switch v.Status {
			case "available":
				return true, nil
			case "error", "error_restoring", "error_extending":
				return false, &volumeErrorStatus{id: id, status: v.Status}
			}
			return false, nil
		})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			last := "unknown"
			if live != nil {
				last = live.Status
			}
			err = fmt.Errorf("volume %s not available (last status %s): %w", id, last, err)
		}
		return nil, err
	}
	return live, nil
}

// listWatchedVolumes lists the project's volumes (all pages) for the
// volume watcher: Cinder filters by one exact name at a time, and the
// project's list is what List reads anyway.
func listWatchedVolumes(ctx context.Context, c *Cloud, _ []watchItem) (map[string]volumes.Volume, error) {
	pages, err := volumes.List(c.Volume, volumes.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("wait for volumes: %w", err)
	}
	all, err := volumes.ExtractVolumes(pages)
	if err != nil {
		return nil, fmt.Errorf("wait for volumes: %w", err)
	}
	out := make(map[string]volumes.Volume, len(all))
	for _, v := range all {
		out[v.ID] = v
	}
	return out, nil
}

// Update renames the volume or flips bootable; the rest replaces it.
func (a Volume) Update(ctx context.Context, c *Cloud, r specs.Resource, live *Object, fields []string, _ IDs) (*Object, error) {
	v, ok := r.(*specs.Volume)
	if !ok {
		return nil, fmt.Errorf("%s: volume adapter got %T", r.Addr(), r)
	}
	if err := needVolume(c); err != nil {
		return nil, fmt.Errorf("%s: update: %w", v.Addr(), err)
	}
	for _, f := range fields {
		var err error
		switch f {
		case "name":
			name := v.Name
			_, err = volumes.Update(ctx, c.Volume, live.ID, volumes.UpdateOpts{Name: &name}).Extract()
		case "bootable":
			err = volumes.SetBootable(ctx, c.Volume, live.ID, volumes.BootableOpts{Bootable: v.Bootable || v.Image != ""}).ExtractErr()
		default:
			return nil, fmt.Errorf("%s: update: volume field %s cannot change in place", v.Addr(), f)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: update: %s: %w", v.Addr(), f, err)
		}
	}
	o, err := a.Get(ctx, c, live.ID)
	if err != nil {
		return nil, fmt.Errorf("%s: update: %w", v.Addr(), err)
	}
	o.Address, o.Owned = live.Address, live.Owned
	return o, nil
}

// Delete deletes the volume and waits until Cinder no longer knows it.
// The engine deletes servers first; a volume still attached is Cinder's
// 400, reported as it is.
func (a Volume) Delete(ctx context.Context, c *Cloud, live *Object) error {
	if err := needVolume(c); err != nil {
		return fmt.Errorf("%s: delete: %w", liveLabel(live), err)
	}
	if err := a.deleteAndWait(ctx, c, live.ID); err != nil {
		return fmt.Errorf("%s: delete: %w", liveLabel(live), err)
	}
	return nil
}

func (Volume) deleteAndWait(ctx context.Context, c *Cloud, id string) error {
	err := volumes.Delete(ctx, c.Volume, id, nil).ExtractErr()
	if gophercloud.ResponseCodeIs(err, 404) {
		return nil
	}
	if err != nil {
		return err
	}
	return watchFor(ctx, c, "volumes", listWatchedVolumes, DefaultBackoff, deleteFirstLook, watchItem{ID: id},
		func(_ volumes.Volume, found bool) (bool, error) { return !found, nil })
}
