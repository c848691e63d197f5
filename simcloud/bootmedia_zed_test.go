package simcloud_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/fuelplan/fuelplan/simcloud"
)

// Boot-media behaviour read off the real cloud of ../shared/realcloud
// (Debian bookworm's Zed: Glance with the file store, Cinder with a
// database-only backend, Nova with the fake driver) by the probes behind
// the end-to-end boot-media scenarios, where the simulator used to differ.

// apiError is the status and body of a refused request.
func apiError(t *testing.T, err error) (int, string) {
	t.Helper()
	var e gophercloud.ErrUnexpectedResponseCode
	if !asResponse(err, &e) {
		t.Fatalf("got %v, want an error response", err)
	}
	return e.Actual, string(e.Body)
}

// wantFault checks a refusal's status and that its body says msg.
func wantFault(t *testing.T, what string, err error, status int, msg string) {
	t.Helper()
	got, body := apiError(t, err)
	if got != status || !strings.Contains(body, msg) {
		t.Errorf("%s: %d %s\nwant %d with %q", what, got, body, status, msg)
	}
}

// TestImageUploadStatesAndErrors: real Glance answers a new image queued
// with checksum, size and hashes null and no stores; a request body that
// is not application/octet-stream is a 415 in webob's words; after the
// upload the image is active with the md5 checksum, the sha512 multihash
// and stores "fs"; a second upload is a 409, deleting twice a 404 of its
// own ("Failed to find image ... to delete"). JSON messages end with what
// webob's template leaves: "<br /><br />\n\n\n".
func TestImageUploadStatesAndErrors(t *testing.T) {
	ctx := context.Background()
	c := start(t, simcloud.Config{})
	ic := imageClient(t, login(t, c.Member()))
	im, err := images.Create(ctx, ic, images.CreateOpts{Name: "fuel", DiskFormat: "iso", ContainerFormat: "bare"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	raw := map[string]any{}
	if err := images.Get(ctx, ic, im.ID).ExtractInto(&raw); err != nil {
		t.Fatal(err)
	}
	if raw["status"] != "queued" || raw["checksum"] != nil || raw["size"] != nil || raw["os_hash_algo"] != nil {
		t.Errorf("new image: %v", raw)
	}
	if _, ok := raw["stores"]; ok {
		t.Errorf("new image has stores %v, want none before an upload", raw["stores"])
	}

	// imagedata.Upload always sends application/octet-stream; send text.
	resp, err := ic.Put(ctx, ic.ServiceURL("images", im.ID, "file"), nil, nil, &gophercloud.RequestOpts{
		RawBody: strings.NewReader("abc"), MoreHeaders: map[string]string{"Content-Type": "text/plain"}, OkCodes: []int{204},
	})
	if resp != nil {
		resp.Body.Close()
	}
	wantFault(t, "upload as text/plain", err, 415,
		`"The request media type text/plain is not supported by this server.\n\u003cbr /\u003e\u003cbr /\u003e\n"`)

	data := bytes.Repeat([]byte("iso"), 1000)
	if err := imagedata.Upload(ctx, ic, im.ID, bytes.NewReader(data)).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	raw = map[string]any{}
	if err := images.Get(ctx, ic, im.ID).ExtractInto(&raw); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)
	if raw["status"] != "active" || raw["checksum"] != hex.EncodeToString(sum[:]) || raw["os_hash_algo"] != "sha512" ||
		raw["size"] != float64(len(data)) || raw["stores"] != "fs" {
		t.Errorf("uploaded image: %v", raw)
	}
	err = imagedata.Upload(ctx, ic, im.ID, bytes.NewReader(data)).ExtractErr()
	wantFault(t, "second upload", err, 409, `"Image status transition from active to saving is not allowed\u003cbr /\u003e\u003cbr /\u003e\n\n\n"`)
	if err := images.Delete(ctx, ic, im.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	_, err = images.Get(ctx, ic, im.ID).Extract()
	wantFault(t, "get deleted", err, 404, `"No image found with ID `+im.ID+`\u003cbr /\u003e\u003cbr /\u003e\n\n\n"`)
	err = images.Delete(ctx, ic, im.ID).ExtractErr()
	wantFault(t, "delete deleted", err, 404, `"Failed to find image `+im.ID+` to delete\u003cbr /\u003e\u003cbr /\u003e\n\n\n"`)
}

// TestVolumeFromImageStatusSequence: real Cinder shows a volume made from
// an image creating (bootable "false"), then downloading while it copies
// the image, then available and bootable; a blank volume goes creating,
// available. volume_image_metadata holds what Cinder copied of the image,
// every value a string, and a volume without a description shows null.
func TestVolumeFromImageStatusSequence(t *testing.T) {
	ctx := context.Background()
	c := start(t, simcloud.Config{})
	clock := &manualClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c.Knobs().SetNow(clock.now)
	c.Knobs().SetVolumeBuildTime(10 * time.Second)
	vc := volumeClient(t, c.Member())
	iso, err := volumes.Create(ctx, vc, volumes.CreateOpts{Name: "iso", Size: 1, ImageID: cirrosID}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	disk, err := volumes.Create(ctx, vc, volumes.CreateOpts{Name: "disk", Size: 1}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	type seen struct{ iso, isoBootable, disk string }
	var got []seen
	for range 4 {
		i, d := getVolume(t, vc, iso.ID), getVolume(t, vc, disk.ID)
		got = append(got, seen{i.Status, i.Bootable, d.Status})
		clock.add(3 * time.Second)
	}
	want := []seen{
		{"creating", "false", "creating"}, {"creating", "false", "creating"},
		{"downloading", "true", "creating"}, {"downloading", "true", "creating"},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("at %ds: %+v, want %+v", 3*i, got[i], want[i])
		}
	}
	clock.add(time.Second)
	if i, d := getVolume(t, vc, iso.ID), getVolume(t, vc, disk.ID); i.Status != "available" || i.Bootable != "true" ||
		d.Status != "available" || d.Bootable != "false" {
		t.Errorf("after the build time: image volume %s bootable %s, blank %s bootable %s", i.Status, i.Bootable, d.Status, d.Bootable)
	}

	var raw map[string]json.RawMessage
	res := volumes.Get(ctx, vc, iso.ID)
	if err := res.Result.ExtractIntoStructPtr(&struct {
		V *map[string]json.RawMessage `json:"volume"`
	}{&raw}, ""); err != nil {
		t.Fatal(err)
	}
	if d := string(raw["description"]); d != "null" {
		t.Errorf("description %s, want null", d)
	}
	var meta map[string]string // every value a string, as Cinder answers
	if err := json.Unmarshal(raw["volume_image_metadata"], &meta); err != nil {
		t.Fatalf("volume_image_metadata %s: %v", raw["volume_image_metadata"], err)
	}
	for _, k := range []string{"checksum", "container_format", "disk_format", "image_id", "image_name", "min_disk", "min_ram", "size", "signature_verified"} {
		if meta[k] == "" {
			t.Errorf("volume_image_metadata lacks %s: %v", k, meta)
		}
	}
	if meta["image_id"] != cirrosID || meta["image_name"] != "cirros" || meta["signature_verified"] != "False" || len(meta["checksum"]) != 32 {
		t.Errorf("volume_image_metadata = %v", meta)
	}
}

// bootPair makes an image volume and a blank one (bootable), available.
func bootPair(t *testing.T, vc *gophercloud.ServiceClient) (iso, disk string) {
	t.Helper()
	ctx := context.Background()
	i, err := volumes.Create(ctx, vc, volumes.CreateOpts{Name: "iso", Size: 1, ImageID: cirrosID}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	d, err := volumes.Create(ctx, vc, volumes.CreateOpts{Name: "disk", Size: 1}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if err := volumes.SetBootable(ctx, vc, d.ID, volumes.BootableOpts{Bootable: true}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	return i.ID, d.ID
}

func bdm(uuid string, boot int, deviceType, bus string) servers.BlockDevice {
	return servers.BlockDevice{SourceType: servers.SourceVolume, DestinationType: servers.DestinationVolume,
		UUID: uuid, BootIndex: boot, DeviceType: deviceType, DiskBus: bus}
}

// TestBlockDeviceMappingRefusals: real Nova's answers to bad block
// devices, checked in its order: an unknown disk bus first (a bare
// "Block Device Mapping is Invalid."), then the boot sequence (boot
// indexes 0, 1, ... each once), then the volumes (found, bootable), and
// an unknown device type last, as a 500 (its enum fails while the
// mapping is built).
func TestBlockDeviceMappingRefusals(t *testing.T) {
	ctx := context.Background()
	c := start(t, simcloud.Config{})
	vc := volumeClient(t, c.Member())
	cc := clientsFor(t, c.Member())
	iso, disk := bootPair(t, vc)
	blank, err := volumes.Create(ctx, vc, volumes.CreateOpts{Name: "blank", Size: 1}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	const sequence = "Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid."
	for _, tc := range []struct {
		name   string
		bdms   []servers.BlockDevice
		status int
		msg    string
	}{
		{"unknown disk bus", []servers.BlockDevice{bdm(iso, 0, "cdrom", "pci")}, 400, `"Block Device Mapping is Invalid."`},
		{"no boot index 0", []servers.BlockDevice{bdm(iso, 1, "", "")}, 400, sequence},
		{"two boot index 0, one not bootable", []servers.BlockDevice{bdm(iso, 0, "", ""), bdm(blank.ID, 0, "", "")}, 400, sequence},
		{"boot index -1 only", []servers.BlockDevice{bdm(iso, -1, "", "")}, 400, sequence},
		{"blank volume first", []servers.BlockDevice{bdm(blank.ID, 0, "", ""), bdm(iso, 1, "cdrom", "ide")}, 400,
			"Block Device " + blank.ID + " is not bootable."},
		{"no such volume", []servers.BlockDevice{bdm("00000000-0000-0000-0000-000000000000", 0, "", "")}, 400,
			"Block Device Mapping is Invalid: failed to get volume 00000000-0000-0000-0000-000000000000."},
		{"unknown device type", []servers.BlockDevice{bdm(iso, 0, "tape", "")}, 500,
			`{"computeFault":{"code":500,"message":"Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.\n\u003cclass 'ValueError'\u003e"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := servers.Create(ctx, cc.compute, servers.CreateOpts{Name: "s", FlavorRef: "2", Networks: "none", BlockDevice: tc.bdms}, nil).Extract()
			wantFault(t, tc.name, err, tc.status, tc.msg)
		})
	}
	// boot_index is an integer or a string of one, in Nova's schema.
	for _, tc := range []struct{ index, msg string }{
		{`"x"`, `"Invalid input for field/attribute boot_index. Value: x. 'x' does not match '^-?[0-9]+$'"`},
		{`"+1"`, `"Invalid input for field/attribute boot_index. Value: +1. '+1' does not match '^-?[0-9]+$'"`},
	} {
		body := `{"server":{"name":"s","flavorRef":"2","networks":"none","block_device_mapping_v2":[` +
			`{"source_type":"volume","destination_type":"volume","uuid":"` + iso + `","boot_index":` + tc.index + `}]}}`
		resp, err := cc.compute.Post(ctx, cc.compute.ServiceURL("servers"), json.RawMessage(body), nil, &gophercloud.RequestOpts{OkCodes: []int{202}})
		if resp != nil {
			resp.Body.Close()
		}
		wantFault(t, "boot_index "+tc.index, err, 400, tc.msg)
	}
	// Nothing refused is attached: the good pair still boots.
	if _, err := servers.Create(ctx, cc.compute, servers.CreateOpts{Name: "s", FlavorRef: "2", Networks: "none",
		BlockDevice: []servers.BlockDevice{bdm(disk, 0, "", ""), bdm(iso, 1, "cdrom", "ide")}}, nil).Extract(); err != nil {
		t.Fatal(err)
	}
}

// TestVolumeDetachedByHandAndGrown: real Nova lists a server's volumes
// under os-volume_attachments (id, volumeId, serverId, device at 2.61),
// refuses to detach the boot volume (400 "Cannot detach a root device
// volume"), a volume it does not hold (404 "Instance S is not attached to
// volume V") and one Cinder does not know (404 "Volume V could not be
// found."), and detaches another (202): Cinder then shows it available
// without attachments, and Nova no longer lists it. (The device names are
// libvirt's, vda and hda; Zed's fake driver names every device sdX.) Cinder grows a
// volume in use only from microversion 3.42; before, it answers 400
// naming the status it wants.
func TestVolumeDetachedByHandAndGrown(t *testing.T) {
	ctx := context.Background()
	c := start(t, simcloud.Config{})
	vc := volumeClient(t, c.Member())
	cc := clientsFor(t, c.Member())
	iso, disk := bootPair(t, vc)
	sv, err := servers.Create(ctx, cc.compute, servers.CreateOpts{Name: "s", FlavorRef: "2", Networks: "none",
		BlockDevice: []servers.BlockDevice{bdm(disk, 0, "", ""), bdm(iso, 1, "cdrom", "ide")}}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	pages, err := volumeattach.List(cc.compute, sv.ID).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	atts, err := volumeattach.ExtractVolumeAttachments(pages)
	if err != nil {
		t.Fatal(err)
	}
	if len(atts) != 2 || atts[0].VolumeID != disk || atts[0].ID != disk || atts[0].ServerID != sv.ID || atts[0].Device != "/dev/vda" ||
		atts[1].VolumeID != iso || atts[1].Device != "/dev/hda" {
		t.Errorf("os-volume_attachments = %+v", atts)
	}

	err = volumes.ExtendSize(ctx, vc, disk, volumes.ExtendSizeOpts{NewSize: 2}).ExtractErr()
	wantFault(t, "extend in use at 3.0", err, 400, "Invalid volume: Volume "+disk+" status must be '{'status': 'available'}' to extend, currently in-use.")
	v342 := *vc
	v342.Microversion = "3.42"
	if err := volumes.ExtendSize(ctx, &v342, disk, volumes.ExtendSizeOpts{NewSize: 2}).ExtractErr(); err != nil {
		t.Fatalf("extend in use at 3.42: %v", err)
	}
	if v := getVolume(t, vc, disk); v.Size != 2 || v.Status != "in-use" {
		t.Errorf("grown disk: %d GB %s, want 2 in-use", v.Size, v.Status)
	}

	err = volumeattach.Delete(ctx, cc.compute, sv.ID, disk).ExtractErr()
	wantFault(t, "detach the boot volume", err, 400, `"Cannot detach a root device volume"`)
	other, err := volumes.Create(ctx, vc, volumes.CreateOpts{Name: "other", Size: 1}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	err = volumeattach.Delete(ctx, cc.compute, sv.ID, other.ID).ExtractErr()
	wantFault(t, "detach a volume not attached", err, 404, `"Instance `+sv.ID+` is not attached to volume `+other.ID+`"`)
	err = volumeattach.Delete(ctx, cc.compute, sv.ID, "00000000-0000-0000-0000-000000000000").ExtractErr()
	wantFault(t, "detach no volume", err, 404, `"Volume 00000000-0000-0000-0000-000000000000 could not be found."`)
	if err := volumeattach.Delete(ctx, cc.compute, sv.ID, iso).ExtractErr(); err != nil {
		t.Fatalf("detach the cdrom: %v", err)
	}
	if v := getVolume(t, vc, iso); v.Status != "available" || len(v.Attachments) != 0 {
		t.Errorf("detached volume: %s %+v", v.Status, v.Attachments)
	}
	got, err := servers.Get(ctx, cc.compute, sv.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if len(got.AttachedVolumes) != 1 || got.AttachedVolumes[0].ID != disk {
		t.Errorf("volumes_attached after the detach: %+v", got.AttachedVolumes)
	}
}

// TestSetBootableValues: os-set_bootable takes a JSON boolean or one of
// the strings of Cinder's schema, exactly as listed; real Zed names them
// all when it refuses another.
func TestSetBootableValues(t *testing.T) {
	ctx := context.Background()
	c := start(t, simcloud.Config{})
	vc := volumeClient(t, c.Member())
	d, err := volumes.Create(ctx, vc, volumes.CreateOpts{Name: "d", Size: 1}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		value any
		ok    bool
	}{{true, true}, {"True", true}, {"on", true}, {"f", true}, {"tRuE", false}, {"maybe", false}} {
		resp, err := vc.Post(ctx, vc.ServiceURL("volumes", d.ID, "action"),
			map[string]any{"os-set_bootable": map[string]any{"bootable": tc.value}}, nil, &gophercloud.RequestOpts{OkCodes: []int{200}})
		if resp != nil {
			resp.Body.Close()
		}
		if tc.ok {
			if err != nil {
				t.Errorf("bootable %#v: %v", tc.value, err)
			}
			continue
		}
		wantFault(t, "bootable "+tc.value.(string), err, 400, "Invalid input for field/attribute bootable. Value: "+tc.value.(string)+". '"+
			tc.value.(string)+"' is not one of [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', 'y', 't', "+
			"False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no', 'n', 'f']")
	}
}

// TestVolumeAttachSequence: while Nova builds a server, real Cinder shows
// its volumes reserved (no attachment listed yet), then attaching, then
// in-use with the attachment; a second server asking for a volume in use
// gets Cinder's refusal to reserve, passed on by Nova.
func TestVolumeAttachSequence(t *testing.T) {
	ctx := context.Background()
	c := start(t, simcloud.Config{})
	clock := &manualClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c.Knobs().SetNow(clock.now)
	c.Knobs().SetBuildTime(8 * time.Second)
	vc := volumeClient(t, c.Member())
	cc := clientsFor(t, c.Member())
	iso, disk := bootPair(t, vc)
	sv, err := servers.Create(ctx, cc.compute, servers.CreateOpts{Name: "s", FlavorRef: "2", Networks: "none",
		BlockDevice: []servers.BlockDevice{bdm(disk, 0, "", ""), bdm(iso, 1, "cdrom", "ide")}}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 5 {
		v := getVolume(t, vc, iso)
		got = append(got, v.Status+"/"+strconv.Itoa(len(v.Attachments)))
		clock.add(2 * time.Second)
	}
	want := []string{"reserved/0", "reserved/0", "reserved/0", "attaching/0", "in-use/1"}
	if !slices.Equal(got, want) {
		t.Errorf("the ISO volume every 2 s of an 8 s build: %v, want %v", got, want)
	}
	if v := getVolume(t, vc, iso); v.Attachments[0].ServerID != sv.ID || v.Attachments[0].HostName == "" || v.Attachments[0].AttachmentID == "" {
		t.Errorf("attachment = %+v", v.Attachments[0])
	}
	_, err = servers.Create(ctx, cc.compute, servers.CreateOpts{Name: "t", FlavorRef: "2", Networks: "none",
		BlockDevice: []servers.BlockDevice{bdm(iso, 0, "", "")}}, nil).Extract()
	wantFault(t, "boot from a volume in use", err, 400, "Invalid volume: Invalid input received: Invalid volume: Volume "+iso+
		" status must be available or downloading to reserve, but the current status is in-use. (HTTP 400) (Request-ID: req-")
}
