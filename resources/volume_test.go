package resources_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/resources/resourcestest"
	"github.com/fuelplan/fuelplan/specs"
)

func volumeSpec(server, name string, sizeGB int, image specs.Address) *specs.Volume {
	return &specs.Volume{Meta: specs.Meta{Address: specs.NewAddress(specs.KindVolume, server, name), Name: "lab1-" + server + "-" + name},
		SizeGB: sizeGB, Image: image}
}

// TestVolumeLifecycle: created with the mark in the create request (read
// back from Cinder's metadata), waited for until available, listed with
// one call, changed in place (name, bootable), deleted.
func TestVolumeLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := newServerLab(t)
	l.sim.Knobs().SetVolumeBuildTime(300 * time.Millisecond)
	a := resources.Volume{}
	iso := volumeSpec("master", "iso", 1, cirrosAddr)
	disk := volumeSpec("master", "disk", 80, "")
	disk.Bootable = true

	var made []*resources.Object
	for _, v := range []*specs.Volume{iso, disk} {
		o, err := a.Create(ctx, l.c, "lab1", v, l.ids)
		if err != nil {
			t.Fatalf("create %s: %v", v.Addr(), err)
		}
		if o.Status != "available" || !o.Owned || o.Address != v.Addr() {
			t.Errorf("created %s = %+v, want available, owned", v.Addr(), o)
		}
		if drift := resourcestest.Drift(a.Desired(v), o, l.ids); len(drift) > 0 {
			t.Errorf("%s drifts right after create: %v", v.Addr(), drift)
		}
		raw, err := volumes.Get(ctx, l.c.Volume, o.ID).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if raw.Metadata["fuelplan-lab"] != "lab1" || raw.Metadata["fuelplan-addr"] != string(v.Addr()) {
			t.Errorf("%s metadata = %v, want the lab's mark", v.Addr(), raw.Metadata)
		}
		made = append(made, o)
		l.ids[v.Addr()] = o.ID
	}
	if made[0].Fields["image"] != l.ids[cirrosAddr] || made[0].Fields["bootable"] != "true" || made[1].Fields["bootable"] != "true" {
		t.Errorf("fields = %v / %v", made[0].Fields, made[1].Fields)
	}

	// An unowned volume using a wanted name is a conflict; others are not read.
	if _, err := volumes.Create(ctx, l.c.Volume, volumes.CreateOpts{Name: "lab1-slave-disk", Size: 1}, nil).Extract(); err != nil {
		t.Fatal(err)
	}
	if _, err := volumes.Create(ctx, l.c.Volume, volumes.CreateOpts{Name: "unrelated", Size: 1}, nil).Extract(); err != nil {
		t.Fatal(err)
	}
	l.sim.ResetRequests()
	slaveDisk := volumeSpec("slave", "disk", 1, "")
	objs, err := a.List(ctx, l.c, resources.Query{Lab: "lab1", Want: []specs.Resource{iso, disk, slaveDisk}})
	if err != nil {
		t.Fatal(err)
	}
	if n := l.sim.Requests()["GET /volume/v3/volumes/detail"]; n != 1 {
		t.Errorf("list took %d calls, want 1", n)
	}
	owned, conflicts := 0, 0
	for _, o := range objs {
		switch {
		case o.Owned:
			owned++
		case o.Address == slaveDisk.Addr():
			conflicts++
		default:
			t.Errorf("listed %+v", o)
		}
	}
	if owned != 2 || conflicts != 1 {
		t.Errorf("list = %d owned, %d conflicts; want 2, 1", owned, conflicts)
	}

	renamed := *disk
	renamed.Name, renamed.Bootable = "lab1-master-root", false
	up, err := a.Update(ctx, l.c, &renamed, made[1], []string{"name", "bootable"}, l.ids)
	if err != nil {
		t.Fatal(err)
	}
	if up.Fields["name"] != "lab1-master-root" || up.Fields["bootable"] != "false" {
		t.Errorf("updated = %v", up.Fields)
	}

	for _, o := range made {
		if err := a.Delete(ctx, l.c, o); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Get(ctx, l.c, o.ID); !errors.Is(err, resources.ErrNotFound) {
			t.Errorf("after delete: %v", err)
		}
	}
}

// TestServerBootsFromVolumes: block devices reach Nova as
// block_device_mapping_v2; the server reads back with its volumes.* and
// layout, without drift; an attached volume cannot be deleted before its
// server; a changed layout forces a replace.
func TestServerBootsFromVolumes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := newServerLab(t)
	va := resources.Volume{}
	// Sequence (a): the blank disk boots first, so it must be bootable.
	iso, disk := volumeSpec("master", "iso", 1, cirrosAddr), volumeSpec("master", "disk", 80, "")
	disk.Bootable = true
	for _, v := range []*specs.Volume{iso, disk} {
		o, err := va.Create(ctx, l.c, "lab1", v, l.ids)
		if err != nil {
			t.Fatal(err)
		}
		l.ids[v.Addr()] = o.ID
	}
	s := masterSpec()
	s.Image = ""
	s.BlockDevices = []specs.BlockDevice{
		{Volume: disk.Addr(), DeviceType: "disk", BootIndex: 0},
		{Volume: iso.Addr(), DeviceType: "cdrom", DiskBus: "ide", BootIndex: 1},
	}
	sa := resources.Server{}
	created, err := sa.Create(ctx, l.c, "lab1", s, l.ids)
	if err != nil {
		t.Fatalf("boot from volumes: %v", err)
	}
	if got := created.Fields["block_devices"]; got != "disk=disk//0;iso=cdrom/ide/1" {
		t.Errorf("layout = %q", got)
	}
	vols, err := va.List(ctx, l.c, resources.Query{Lab: "lab1", Want: []specs.Resource{iso, disk}})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vols {
		if v.Status != "in-use" || v.Fields["attached_to"] != created.ID {
			t.Errorf("%s = %s attached to %q, want in-use on %s", v.Address, v.Status, v.Fields["attached_to"], created.ID)
		}
	}
	l.snap[specs.KindVolume] = vols
	objs := l.list(t, s)
	if len(objs) != 1 {
		t.Fatalf("servers = %v", objs)
	}
	if drift := resourcestest.Drift(sa.Desired(s), objs[0], l.ids); len(drift) > 0 {
		t.Errorf("server booted from volumes drifts: %v", drift)
	}
	if _, ok := objs[0].Fields["metadata.fuelplan_block_devices"]; ok {
		t.Error("the layout shows as spec metadata")
	}
	err = va.Delete(ctx, l.c, vols[0])
	if err == nil || !strings.Contains(err.Error(), "Volume status must be available") {
		t.Errorf("delete an attached volume: %v, want Cinder's refusal", err)
	}

	// Sequence (b)'s second phase: the disk alone, booted first.
	installed := *s
	installed.BlockDevices = []specs.BlockDevice{{Volume: disk.Addr(), DeviceType: "disk", BootIndex: 0}}
	d := sa.Desired(&installed)
	f, _ := sa.Schema().Lookup("block_devices")
	if d.Fields["block_devices"] == objs[0].Fields["block_devices"] || !f.ForceNew {
		t.Errorf("a changed layout must differ and force a replace: %q vs %q", d.Fields["block_devices"], objs[0].Fields["block_devices"])
	}

	if err := sa.Delete(ctx, l.c, objs[0]); err != nil {
		t.Fatal(err)
	}
	for _, v := range vols {
		if err := va.Delete(ctx, l.c, v); err != nil {
			t.Errorf("delete %s after its server: %v", v.Address, err)
		}
	}
}

// TestVolumeNeedsCinder: a cloud without a block-storage endpoint fails
// volume operations with a message that says so.
func TestVolumeNeedsCinder(t *testing.T) {
	t.Parallel()
	c := &resources.Cloud{}
	_, err := resources.Volume{}.List(context.Background(), c, resources.Query{Lab: "lab1",
		Want: []specs.Resource{volumeSpec("master", "disk", 1, "")}})
	if err == nil || !strings.Contains(err.Error(), "no block-storage") {
		t.Errorf("err = %v", err)
	}
	if objs, err := (resources.Volume{}).List(context.Background(), c, resources.Query{Lab: "lab1"}); err != nil || objs != nil {
		t.Errorf("nothing wanted: %v, %v", objs, err)
	}
}

// TestVolumeErrorIsReportedAndRemoved: a volume Cinder could not make
// (status error) fails the create with its status and is deleted again,
// so the next attempt starts clean.
func TestVolumeErrorIsReportedAndRemoved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, c := resourcestest.Admin(t)
	v := volumeSpec("master", "disk", 1, "")
	sim.Knobs().FailVolume(v.Name)
	_, err := resources.Volume{}.Create(ctx, c, "lab1", v, resourcestest.IDs{})
	if err == nil || !strings.Contains(err.Error(), "volume.master.disk: create:") || !strings.Contains(err.Error(), "went to error") {
		t.Fatalf("err = %v, want the address and Cinder's error status", err)
	}
	objs, err := resources.Volume{}.List(ctx, c, resources.Query{Lab: "lab1", Want: []specs.Resource{v}})
	if err != nil || len(objs) != 0 {
		t.Errorf("after a failed create: %v, %v; want the volume removed", objs, err)
	}
}
