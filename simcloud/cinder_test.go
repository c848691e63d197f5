package simcloud_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/fuelplan/fuelplan/simcloud"
)

const cirrosID = "3b7c1f2e-8a4d-4e6b-9c0a-1d2e3f4a5b6c"

func volumeClient(t *testing.T, cred simcloud.Credentials) *gophercloud.ServiceClient {
	t.Helper()
	vc, err := openstack.NewBlockStorageV3(login(t, cred), gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatalf("block-storage endpoint: %v", err)
	}
	return vc
}

// manualClock is a clock tests move by hand.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *manualClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func getVolume(t *testing.T, vc *gophercloud.ServiceClient, id string) *volumes.Volume {
	t.Helper()
	v, err := volumes.Get(context.Background(), vc, id).Extract()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestVolumeBootLifecycle drives what fuelplan does with volumes through
// Keystone's catalog, Cinder and Nova: an image volume and a blank one,
// creating until the build time has passed, booted as cdrom + disk, in-use
// with attachments while the server lives (and not deletable), available
// once the server is gone, then deleted.
func TestVolumeBootLifecycle(t *testing.T) {
	ctx := context.Background()
	c := start(t, simcloud.Config{})
	clock := &manualClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c.Knobs().SetNow(clock.now)
	c.Knobs().SetVolumeBuildTime(30 * time.Second)
	c.Knobs().SetDeleteTime(10 * time.Second)
	vc := volumeClient(t, c.Member())
	cc := clientsFor(t, c.Member())

	iso, err := volumes.Create(ctx, vc, volumes.CreateOpts{Name: "iso", Size: 1, ImageID: cirrosID,
		Metadata: map[string]string{"fuelplan-lab": "fuel"}}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	disk, err := volumes.Create(ctx, vc, volumes.CreateOpts{Name: "disk", Size: 80}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if iso.Status != "creating" || iso.Bootable != "false" || iso.VolumeImageMetadata["image_id"] != cirrosID {
		t.Fatalf("image volume = status %s bootable %s image %v", iso.Status, iso.Bootable, iso.VolumeImageMetadata)
	}
	if disk.Bootable != "false" {
		t.Errorf("blank volume bootable = %s", disk.Bootable)
	}

	bdm := []servers.BlockDevice{
		{SourceType: servers.SourceVolume, DestinationType: servers.DestinationVolume, UUID: iso.ID, BootIndex: 0, DeviceType: "cdrom", DiskBus: "ide"},
		{SourceType: servers.SourceVolume, DestinationType: servers.DestinationVolume, UUID: disk.ID, BootIndex: 1},
	}
	boot := func() (*servers.Server, error) {
		return servers.Create(ctx, cc.compute, servers.CreateOpts{Name: "master", FlavorRef: "2", Networks: "none", BlockDevice: bdm}, nil).Extract()
	}
	// Still creating: Nova refuses (Cinder calls an image volume bootable
	// only once it is downloading), and attaches nothing.
	if _, err := boot(); !gophercloud.ResponseCodeIs(err, 400) || !strings.Contains(err.Error(), "is not bootable") {
		t.Fatalf("boot on creating volumes: %v", err)
	}
	clock.add(30 * time.Second)
	if v := getVolume(t, vc, disk.ID); v.Status != "available" || len(v.Attachments) != 0 {
		t.Fatalf("after build time: %s, %d attachments", v.Status, len(v.Attachments))
	}
	sv, err := boot()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ id, device string }{{iso.ID, "/dev/hda"}, {disk.ID, "/dev/vda"}} {
		v := getVolume(t, vc, tc.id)
		if v.Status != "in-use" || len(v.Attachments) != 1 || v.Attachments[0].ServerID != sv.ID || v.Attachments[0].Device != tc.device {
			t.Errorf("volume %s attached = %s %+v, want in-use on %s at %s", tc.id, v.Status, v.Attachments, sv.ID, tc.device)
		}
	}
	got, err := servers.Get(ctx, cc.compute, sv.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if len(got.AttachedVolumes) != 2 || got.AttachedVolumes[0].ID != iso.ID {
		t.Errorf("volumes_attached = %+v", got.AttachedVolumes)
	}
	// A second server cannot take a volume in use.
	if _, err := boot(); !gophercloud.ResponseCodeIs(err, 400) {
		t.Errorf("boot on in-use volumes: %v", err)
	}
	if err := volumes.Delete(ctx, vc, disk.ID, nil).ExtractErr(); !gophercloud.ResponseCodeIs(err, 400) {
		t.Errorf("delete in-use volume: %v, want 400", err)
	}

	if err := servers.Delete(ctx, cc.compute, sv.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if v := getVolume(t, vc, disk.ID); v.Status != "in-use" {
		t.Errorf("while the server is deleting: %s", v.Status)
	}
	clock.add(10 * time.Second)
	if _, err := servers.Get(ctx, cc.compute, sv.ID).Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Fatalf("server after delete time: %v", err)
	}
	for _, id := range []string{iso.ID, disk.ID} {
		if v := getVolume(t, vc, id); v.Status != "available" || len(v.Attachments) != 0 {
			t.Errorf("volume %s after its server: %s %+v", id, v.Status, v.Attachments)
		}
		if err := volumes.Delete(ctx, vc, id, nil).ExtractErr(); err != nil {
			t.Fatal(err)
		}
		if _, err := volumes.Get(ctx, vc, id).Extract(); !gophercloud.ResponseCodeIs(err, 404) {
			t.Errorf("deleted volume: %v", err)
		}
	}
}

// TestVolumeRefusals: the requests Cinder and Nova turn down, each with
// its status.
func TestVolumeRefusals(t *testing.T) {
	ctx := context.Background()
	c := start(t, simcloud.Config{})
	vc := volumeClient(t, c.Member())
	cc := clientsFor(t, c.Member())
	for _, tc := range []struct {
		name   string
		opts   volumes.CreateOpts
		status int
		msg    string
	}{
		{"no size", volumes.CreateOpts{Name: "x"}, 400, "size"},
		{"unknown image", volumes.CreateOpts{Size: 1, ImageID: "no-such-image"}, 400, "image"},
		{"over gigabytes", volumes.CreateOpts{Size: 1001}, 413, "gigabytes quota"},
		{"unknown type", volumes.CreateOpts{Size: 1, VolumeType: "ssd"}, 404, "Volume type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := volumes.Create(ctx, vc, tc.opts, nil).Extract()
			if !gophercloud.ResponseCodeIs(err, tc.status) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want %d with %q", err, tc.status, tc.msg)
			}
		})
	}
	t.Run("unknown volume in a BDM", func(t *testing.T) {
		_, err := servers.Create(ctx, cc.compute, servers.CreateOpts{Name: "s", FlavorRef: "2", Networks: "none",
			BlockDevice: []servers.BlockDevice{{SourceType: servers.SourceVolume, DestinationType: servers.DestinationVolume,
				UUID: "00000000-0000-4000-8000-000000000000", BootIndex: 0}}}, nil).Extract()
		if !gophercloud.ResponseCodeIs(err, 400) || !strings.Contains(err.Error(), "failed to get volume") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("blank boot volume", func(t *testing.T) {
		blank, err := volumes.Create(ctx, vc, volumes.CreateOpts{Name: "blank", Size: 1}, nil).Extract()
		if err != nil {
			t.Fatal(err)
		}
		boot := func() error {
			_, err := servers.Create(ctx, cc.compute, servers.CreateOpts{Name: "s", FlavorRef: "2", Networks: "none",
				BlockDevice: []servers.BlockDevice{{SourceType: servers.SourceVolume, DestinationType: servers.DestinationVolume,
					UUID: blank.ID, BootIndex: 0}}}, nil).Extract()
			return err
		}
		if err := boot(); !gophercloud.ResponseCodeIs(err, 400) || !strings.Contains(err.Error(), "is not bootable") {
			t.Errorf("boot from a blank volume: %v", err)
		}
		if err := volumes.SetBootable(ctx, vc, blank.ID, volumes.BootableOpts{Bootable: true}).ExtractErr(); err != nil {
			t.Fatal(err)
		}
		if err := boot(); err != nil {
			t.Errorf("boot once bootable: %v", err)
		}
	})
	t.Run("volumes quota", func(t *testing.T) {
		var err error
		for i := 0; i < 21 && err == nil; i++ {
			_, err = volumes.Create(ctx, vc, volumes.CreateOpts{Size: 1}, nil).Extract()
		}
		if !gophercloud.ResponseCodeIs(err, 413) || !strings.Contains(err.Error(), "'volumes'") {
			t.Errorf("21st volume: %v", err)
		}
	})
}

// TestVolumeListScopeAndFilters: a project sees its own volumes only (an
// admin all with all_tenants), metadata filters as gophercloud sends
// them, and pages that follow volumes_links.
func TestVolumeListScopeAndFilters(t *testing.T) {
	ctx := context.Background()
	c := start(t, simcloud.Config{})
	member, admin := volumeClient(t, c.Member()), volumeClient(t, c.Admin())
	mine, err := volumes.Create(ctx, member, volumes.CreateOpts{Name: "a", Size: 1,
		Metadata: map[string]string{"fuelplan-lab": "fuel", "fuelplan-addr": "volume.master.disk"}}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"b", "c"} {
		if _, err := volumes.Create(ctx, member, volumes.CreateOpts{Name: n, Size: 1,
			Metadata: map[string]string{"fuelplan-lab": "other"}}, nil).Extract(); err != nil {
			t.Fatal(err)
		}
	}
	theirs, err := volumes.Create(ctx, admin, volumes.CreateOpts{Name: "admins", Size: 1}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	list := func(sc *gophercloud.ServiceClient, opts volumes.ListOpts) []string {
		t.Helper()
		pages, err := volumes.List(sc, opts).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		vs, err := volumes.ExtractVolumes(pages)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, v := range vs {
			names = append(names, v.Name)
		}
		return names
	}
	for _, tc := range []struct {
		name string
		sc   *gophercloud.ServiceClient
		opts volumes.ListOpts
		want int
	}{
		{"own project", member, volumes.ListOpts{}, 3},
		{"metadata", member, volumes.ListOpts{Metadata: map[string]string{"fuelplan-lab": "fuel"}}, 1},
		{"two keys", member, volumes.ListOpts{Metadata: map[string]string{"fuelplan-lab": "fuel", "fuelplan-addr": "volume.master.disk"}}, 1},
		{"no match", member, volumes.ListOpts{Metadata: map[string]string{"fuelplan-lab": "none"}}, 0},
		{"by name", member, volumes.ListOpts{Name: "b"}, 1},
		{"paged", member, volumes.ListOpts{Limit: 1}, 3},
		{"admin own", admin, volumes.ListOpts{}, 1},
		{"admin all", admin, volumes.ListOpts{AllTenants: true}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := list(tc.sc, tc.opts); len(got) != tc.want {
				t.Errorf("got %v, want %d volumes", got, tc.want)
			}
		})
	}
	if _, err := volumes.Get(ctx, member, theirs.ID).Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("another project's volume: %v", err)
	}
	if v, err := volumes.Get(ctx, admin, mine.ID).Extract(); err != nil || v.TenantID == "" {
		t.Errorf("admin reads a member's volume: %+v, %v", v, err)
	}
}

// TestVolumeStateSurvivesRestart: volumes and their attachments are in the
// state file.
func TestVolumeStateSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "state.json")
	c := start(t, simcloud.Config{StateFile: file})
	vc := volumeClient(t, c.Member())
	v, err := volumes.Create(ctx, vc, volumes.CreateOpts{Name: "kept", Size: 2}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2 := start(t, simcloud.Config{StateFile: file})
	got, err := volumes.Get(ctx, volumeClient(t, c2.Member()), v.ID).Extract()
	var ue gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &ue) || err != nil || got.Name != "kept" || got.Size != 2 {
		t.Fatalf("after restart: %+v, %v", got, err)
	}
}
