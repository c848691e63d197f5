package e2e

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/engine/session"
	"github.com/fuelplan/fuelplan/specs"
)

// bootLab writes the boot-media lab (testdata/bootmedia.yaml) with its two
// ISO files beside it, each of fresh random bytes, and compiles it. The
// files are written once per scenario; writeISO changes one later.
func (e *env) bootLab() *specs.Lab {
	e.t.Helper()
	for _, f := range []string{"fuel.iso", "ipxe.iso"} {
		if _, err := os.Stat(filepath.Join(e.dir, f)); err != nil {
			e.writeISO(f)
		}
	}
	data, err := os.ReadFile(filepath.Join("testdata", "bootmedia.yaml"))
	if err != nil {
		e.t.Fatal(err)
	}
	path := filepath.Join(e.dir, "bootmedia.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(data), "@LAB@", e.lab)), 0o644); err != nil {
		e.t.Fatal(err)
	}
	lab, diags := specs.LoadLab(path, func(string) (string, bool) { return "", false })
	if diags.HasErrors() {
		e.t.Fatalf("spec: %v", diags)
	}
	return lab
}

// writeISO (re)writes one of the lab's ISO files: 64 KiB of random bytes,
// so every version has a checksum of its own.
func (e *env) writeISO(name string) {
	e.t.Helper()
	data := make([]byte, 64<<10)
	_, _ = rand.Read(data)
	if err := os.WriteFile(filepath.Join(e.dir, name), data, 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// 8. The boot-media lab: ISO files uploaded as images (one under a
// cloud_name), a flavor created, the master booting a blank bootable disk
// first and the ISO as an IDE cdrom second, the slave an iPXE ISO cdrom
// with a blank disk; the plan is empty once applied. `--phase installed`
// then rebuilds the master from its disk alone, and nothing else. The
// suite's destroy and inventory check that no volume, image or flavor
// is left.
func bootMedia(e *env) {
	lab := e.bootLab()
	e.last = lab
	e.step("start")
	p, _ := e.plan(lab, engine.PlanOptions{})
	if s := p.Summary(); s.Create != lab.Len() || s.Update+s.Replace+s.Delete != 0 || len(p.Conflicts) != 0 {
		e.t.Fatalf("first plan %+v, want %d creates only:\n%s", s, lab.Len(), describe(p))
	}
	e.apply(lab, engine.PlanOptions{})
	e.step("plan and apply")
	st := e.convergedState(lab)
	e.serversActiveIn(lab, st, 2)

	fuel := e.image(st, "image.fuel")
	if fuel.Name != e.lab+"-fuel-6.1" || fuel.DiskFormat != "iso" || fuel.Status != images.ImageStatusActive ||
		fuel.Checksum != md5File(e.t, filepath.Join(e.dir, "fuel.iso")) {
		e.t.Errorf("image.fuel: %q %s %s checksum %s; want %q iso active with the file's md5",
			fuel.Name, fuel.DiskFormat, fuel.Status, fuel.Checksum, e.lab+"-fuel-6.1")
	}
	master := e.liveID(st, "server.master")
	e.attached(st, "volume.master.disk", master, true)
	e.attached(st, "volume.master.iso", master, true)
	e.attached(st, "volume.slave-01.ipxe", e.liveID(st, "server.slave-01"), true)
	e.attached(st, "volume.slave-01.disk", e.liveID(st, "server.slave-01"), false)
	e.step("checks")

	installed, err := session.WithPhase(lab, session.PhaseInstalled)
	if err != nil {
		e.t.Fatal(err)
	}
	p, _ = e.plan(installed, engine.PlanOptions{})
	if got := actions(p); len(got) != 1 || got["server.master"] != plan.Replace {
		e.t.Fatalf("--phase installed plan:\n%s want server.master replaced alone", describe(p))
	}
	e.last = installed
	e.apply(installed, engine.PlanOptions{})
	e.step("apply --phase installed")
	st = e.convergedState(installed)
	rebuilt := e.liveID(st, "server.master")
	if rebuilt == master {
		e.t.Errorf("server.master kept its ID %s through --phase installed", master)
	}
	e.attached(st, "volume.master.disk", rebuilt, true)
	if v := e.volume(st, "volume.master.iso"); len(v.Attachments) != 0 || v.Status != "available" {
		e.t.Errorf("volume.master.iso after --phase installed: %s, attachments %+v; want available, none", v.Status, v.Attachments)
	}
	e.serversActiveIn(installed, st, 2)
	e.step("checks")
}

// 9. Drift on boot media, done by hand: the master's ISO volume detached
// (Nova), the iPXE image deleted (Glance), the master's disk grown
// (Cinder, while in use). The plan puts each back with its own action and
// reason, nothing else; apply repairs it.
func bootMediaDrift(e *env) {
	lab := e.bootLab()
	e.last = lab
	e.step("start")
	e.apply(lab, engine.PlanOptions{})
	e.step("apply")
	st := e.convergedState(lab)
	ctx := context.Background()
	master := e.liveID(st, "server.master")
	iso := e.liveID(st, "volume.master.iso")
	if err := volumeattach.Delete(ctx, e.cloud.Compute, master, iso).ExtractErr(); err != nil {
		e.t.Fatalf("detach the master's ISO: %v", err)
	}
	if err := images.Delete(ctx, e.cloud.Image, e.liveID(st, "image.ipxe")).ExtractErr(); err != nil {
		e.t.Fatalf("delete the iPXE image: %v", err)
	}
	// Growing a volume in use needs Cinder 3.42.
	vc := *e.cloud.Volume
	vc.Microversion = "3.42"
	disk := e.liveID(st, "volume.master.disk")
	if err := volumes.ExtendSize(ctx, &vc, disk, volumes.ExtendSizeOpts{NewSize: 2}).ExtractErr(); err != nil {
		e.t.Fatalf("extend the master's disk: %v", err)
	}
	e.eventually("the master's ISO detached and its disk grown", func() bool {
		v, err := volumes.Get(ctx, e.cloud.Volume, iso).Extract()
		d, derr := volumes.Get(ctx, e.cloud.Volume, disk).Extract()
		return err == nil && derr == nil && v.Status == "available" && d.Size == 2
	})
	e.step("drift by hand")

	p, _ := e.plan(lab, engine.PlanOptions{})
	want := map[specs.Address]struct {
		act    plan.Action
		reason string // a field the change names
	}{
		"image.ipxe":           {plan.Create, ""},
		"volume.slave-01.ipxe": {plan.Replace, "image"},
		"server.slave-01":      {plan.Replace, "volumes.ipxe"},
		"volume.master.disk":   {plan.Replace, "size_gb"},
		"server.master":        {plan.Replace, "volumes.iso"},
	}
	got := actions(p)
	for a, w := range want {
		c, _ := p.Change(a)
		if got[a] != w.act || (w.reason != "" && !changesField(c, w.reason)) {
			e.t.Errorf("%s: %q %v, want %q naming %s", a, got[a], c.Reasons, w.act, w.reason)
		}
	}
	if len(got) != len(want) {
		e.t.Errorf("plan after drift:\n%s want only %v", describe(p), slices.Sorted(maps.Keys(want)))
	}
	e.apply(lab, engine.PlanOptions{})
	e.step("plan and repair")
	st = e.convergedState(lab)
	master = e.liveID(st, "server.master")
	e.attached(st, "volume.master.iso", master, true)
	e.attached(st, "volume.master.disk", master, true)
	if v := e.volume(st, "volume.master.disk"); v.Size != 1 {
		e.t.Errorf("volume.master.disk: %d GB, want 1 again", v.Size)
	}
	e.serversActiveIn(lab, st, 2)
	e.step("checks")
}

// 10. A changed ISO file (another checksum) replaces its image, the volume
// made from it and the server booting that volume, and nothing else: the
// master's disk, the slave and its media stay.
func isoChange(e *env) {
	lab := e.bootLab()
	e.last = lab
	e.step("start")
	e.apply(lab, engine.PlanOptions{})
	e.step("apply")
	before := e.convergedState(lab)
	e.writeISO("fuel.iso")
	lab = e.bootLab()
	e.last = lab
	p, _ := e.plan(lab, engine.PlanOptions{})
	want := map[specs.Address]string{
		"image.fuel":        "checksum",
		"volume.master.iso": "image",
		"server.master":     "volumes.iso",
	}
	got := actions(p)
	for a, field := range want {
		c, _ := p.Change(a)
		if got[a] != plan.Replace || !changesField(c, field) {
			e.t.Errorf("%s: %q %v, want replaced naming %s", a, got[a], c.Reasons, field)
		}
	}
	if len(got) != len(want) {
		e.t.Fatalf("plan after the ISO changed:\n%s want only %v replaced", describe(p), slices.Sorted(maps.Keys(want)))
	}
	e.apply(lab, engine.PlanOptions{})
	e.step("plan and apply the new ISO")
	after := e.convergedState(lab)
	for _, a := range []specs.Address{"image.ipxe", "volume.master.disk", "volume.slave-01.ipxe", "volume.slave-01.disk", "server.slave-01", "flavor.node"} {
		if b, c := e.liveID(before, a), e.liveID(after, a); b != c {
			e.t.Errorf("%s: ID %s -> %s, want it kept", a, b, c)
		}
	}
	if fuel := e.image(after, "image.fuel"); fuel.Checksum != md5File(e.t, filepath.Join(e.dir, "fuel.iso")) {
		e.t.Errorf("image.fuel: checksum %s, want the new file's", fuel.Checksum)
	}
	e.serversActiveIn(lab, after, 2)
	e.step("checks")
}

// changesField reports whether a change names field among its changed
// fields or replace reasons.
func changesField(c plan.Change, field string) bool {
	for _, f := range c.Fields {
		if f.Name == field {
			return true
		}
	}
	return slices.ContainsFunc(c.Reasons, func(r plan.Reason) bool { return r.Field == field })
}

// liveID is the cloud ID of a lab object, failing the test when it is
// not on the cloud.
func (e *env) liveID(st *engine.State, a specs.Address) string {
	e.t.Helper()
	o, ok := st.Live(a)
	if !ok || o.ID == "" {
		e.t.Fatalf("%s is not in the cloud", a)
	}
	return o.ID
}

// volume reads a lab volume from Cinder.
func (e *env) volume(st *engine.State, a specs.Address) *volumes.Volume {
	e.t.Helper()
	v, err := volumes.Get(context.Background(), e.cloud.Volume, e.liveID(st, a)).Extract()
	if err != nil {
		e.t.Fatalf("%s: %v", a, err)
	}
	return v
}

// image reads a lab image from Glance.
func (e *env) image(st *engine.State, a specs.Address) *images.Image {
	e.t.Helper()
	im, err := images.Get(context.Background(), e.cloud.Image, e.liveID(st, a)).Extract()
	if err != nil {
		e.t.Fatalf("%s: %v", a, err)
	}
	return im
}

// attached checks, in Cinder and in Nova, that a volume is in use by one
// server only, and whether Cinder calls it bootable.
func (e *env) attached(st *engine.State, a specs.Address, server string, bootable bool) {
	e.t.Helper()
	v := e.volume(st, a)
	if v.Status != "in-use" || len(v.Attachments) != 1 || v.Attachments[0].ServerID != server || v.Attachments[0].Device == "" {
		e.t.Errorf("%s: %s, attachments %+v; want in-use on %s with a device", a, v.Status, v.Attachments, server)
	}
	if want := strconv.FormatBool(bootable); v.Bootable != want {
		e.t.Errorf("%s: bootable %q, want %s", a, v.Bootable, want)
	}
	s, err := servers.Get(context.Background(), e.cloud.Compute, server).Extract()
	if err != nil {
		e.t.Fatalf("%s: server %s: %v", a, server, err)
	}
	if !slices.ContainsFunc(s.AttachedVolumes, func(av servers.AttachedVolume) bool { return av.ID == v.ID }) {
		e.t.Errorf("%s: Nova does not list it on server %s (%+v)", a, server, s.AttachedVolumes)
	}
}

// md5File is a file's md5 in hex, as Glance reports an image's checksum.
func md5File(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)
	return hex.EncodeToString(sum[:])
}
