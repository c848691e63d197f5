package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuelLab copies examples/fuel-lab.yaml into a temp folder with the small
// stand-in files it names (the ISOs, the inventory's key files), as
// scripts/demo.sh does, and returns the spec's path.
func fuelLab(t *testing.T, edits ...[2]string) string {
	t.Helper()
	return fuelLabIn(t, t.TempDir(), edits...)
}

// fuelLabIn writes the edited example into dir (over an earlier one: the
// simulated cloud's state beside it stays).
func fuelLabIn(t *testing.T, dir string, edits ...[2]string) string {
	t.Helper()
	data, err := os.ReadFile("../../examples/fuel-lab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, e := range edits {
		if !strings.Contains(text, e[0]) {
			t.Fatalf("examples/fuel-lab.yaml has no %q", e[0])
		}
		text = strings.Replace(text, e[0], e[1], 1)
	}
	files := map[string]string{
		"fuel-lab.yaml":                    text,
		"images/MirantisOpenStack-6.1.iso": "stand-in for the Fuel ISO\n",
		"images/ipxe.iso":                  "stand-in for the iPXE ISO\n",
		"keys/compute":                     "not a key\n",
		"keys/known_hosts":                 "10.0.0.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "fuel-lab.yaml")
}

// simState is the part of the simulated cloud's state file these tests
// look at: volumes (with attachments), servers (with their block devices),
// images and flavors.
type simState struct {
	Services struct {
		Volume struct {
			Volumes map[string]struct {
				Name        string `json:"name"`
				Attachments []struct {
					ServerID string `json:"server_id"`
				} `json:"attachments"`
			} `json:"volumes"`
		} `json:"volume"`
		Compute struct {
			Servers map[string]struct {
				Name string `json:"name"`
				BDMs []struct {
					UUID       string `json:"uuid"`
					DeviceType string `json:"device_type"`
					BootIndex  *int   `json:"boot_index"`
				} `json:"block_device_mapping_v2"`
			} `json:"servers"`
			Flavors map[string]struct {
				Name string `json:"name"`
			} `json:"flavors"`
		} `json:"compute"`
		Image struct {
			Images map[string]struct {
				Name string `json:"name"`
			} `json:"images"`
		} `json:"image"`
	} `json:"services"`
}

func readSimState(t *testing.T, spec string) *simState {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(filepath.Dir(spec), ".fuelplan", "sim-state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st simState
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

// volumeIDs maps volume names to IDs.
func (st *simState) volumeIDs() map[string]string {
	out := map[string]string{}
	for id, v := range st.Services.Volume.Volumes {
		out[v.Name] = id
	}
	return out
}

func (st *simState) server(name string) (string, []string) {
	for id, s := range st.Services.Compute.Servers {
		if s.Name == name {
			var devs []string
			for _, b := range s.BDMs {
				devs = append(devs, b.UUID+"/"+b.DeviceType)
			}
			return id, devs
		}
	}
	return "", nil
}

// TestFuelLabOnSim is issue 6's done-when: the Fuel example applies end to
// end on the simulated cloud (images uploaded, flavors made, volumes made
// from the ISOs and blank, servers booted from them), a second plan is
// empty, sequence (b)'s second phase rebuilds the master alone from its
// installed disk, and destroy removes the volumes, images and flavors it
// created.
func TestFuelLabOnSim(t *testing.T) {
	spec := fuelLab(t)
	code, out, errOut := run(t, "apply", spec, "--cloud", "sim", "--auto-approve", "--skip-waits", "--no-color")
	if code != 0 {
		t.Fatalf("apply exit %d\n%s\n%s", code, out, errOut)
	}
	st := readSimState(t, spec)
	vols := st.volumeIDs()
	if len(vols) != 6 {
		t.Fatalf("volumes = %v, want 6 (iso and disk of the master, ipxe and disk of 2 slaves)", vols)
	}
	masterID, devs := st.server("fuel-master")
	want := []string{vols["fuel-master-iso"] + "/cdrom", vols["fuel-master-disk"] + "/disk"}
	if strings.Join(devs, " ") != strings.Join(want, " ") {
		t.Errorf("master boots from %v, want %v", devs, want)
	}
	for name, id := range vols {
		v := st.Services.Volume.Volumes[id]
		if len(v.Attachments) != 1 {
			t.Errorf("volume %s has %d attachments, want 1", name, len(v.Attachments))
		}
	}
	uploaded := map[string]bool{}
	for _, im := range st.Services.Image.Images {
		uploaded[im.Name] = true
	}
	if !uploaded["fuel-6.1-432"] || !uploaded["fuel-ipxe"] {
		t.Errorf("images = %v, want the uploaded ISOs", uploaded)
	}

	if code, out, errOut := run(t, "plan", spec, "--cloud", "sim", "--detailed-exitcode", "--no-color"); code != 0 {
		t.Fatalf("second plan exit %d, want 0 (no changes)\n%s\n%s", code, out, errOut)
	}

	// Sequence (b), phase two: the master alone is replaced, booting its
	// installed disk, made bootable in place; the disk (Fuel's
	// installation) is the same volume.
	code, out, errOut = run(t, "apply", spec, "--cloud", "sim", "--auto-approve", "--skip-waits", "--no-color", "--phase", "installed")
	if code != 0 {
		t.Fatalf("apply --phase installed exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"-/+ server.master", "~ volume.master.disk", "bootable = false -> true", "- disk     disk   bus default  boot index 1", "+ disk     disk   bus default  boot index 0", "0 to create, 1 to update, 1 to replace, 0 to delete"} {
		if !strings.Contains(out, want) {
			t.Errorf("phase installed plan lacks %q: it replaces the master and makes its disk bootable, nothing else:\n%s", want, out)
		}
	}
	st = readSimState(t, spec)
	newMaster, devs := st.server("fuel-master")
	if newMaster == masterID || strings.Join(devs, " ") != vols["fuel-master-disk"]+"/disk" {
		t.Errorf("installed master %s boots from %v, want a new server on %s", newMaster, devs, vols["fuel-master-disk"])
	}
	if got := st.volumeIDs(); got["fuel-master-disk"] != vols["fuel-master-disk"] || got["fuel-master-iso"] != vols["fuel-master-iso"] {
		t.Errorf("volumes changed: %v, was %v", got, vols)
	}
	code, out, _ = run(t, "apply", spec, "--cloud", "sim", "--auto-approve", "--skip-waits", "--no-color", "--phase", "installed")
	if code != 0 || strings.Contains(out, "will be") {
		t.Errorf("second apply --phase installed changed something (exit %d):\n%s", code, out)
	}

	if code, out, errOut := run(t, "destroy", spec, "--cloud", "sim", "--auto-approve", "--no-color"); code != 0 {
		t.Fatalf("destroy exit %d\n%s\n%s", code, out, errOut)
	}
	st = readSimState(t, spec)
	if len(st.Services.Volume.Volumes) != 0 {
		t.Errorf("volumes left after destroy: %v", st.volumeIDs())
	}
	for _, im := range st.Services.Image.Images {
		if strings.HasPrefix(im.Name, "fuel-") {
			t.Errorf("image %s left after destroy", im.Name)
		}
	}
	for _, f := range st.Services.Compute.Flavors {
		if strings.HasPrefix(f.Name, "fuel-") {
			t.Errorf("flavor %s left after destroy", f.Name)
		}
	}
}

// TestFuelLabSequenceA: the one-phase master of docs/boot.md (blank
// bootable disk first, ISO cdrom second) boots in one apply, and a second
// plan is empty.
func TestFuelLabSequenceA(t *testing.T) {
	spec := fuelLab(t,
		[2]string{"      boot_index: 0\n    - name: disk                       # the blank disk Fuel installs onto\n      size: 80\n      boot_index: 1",
			"      boot_index: 1\n    - name: disk\n      size: 80\n      boot_index: 0\n      bootable: true"})
	if code, out, errOut := run(t, "apply", spec, "--cloud", "sim", "--auto-approve", "--skip-waits", "--no-color"); code != 0 {
		t.Fatalf("apply exit %d\n%s\n%s", code, out, errOut)
	}
	st := readSimState(t, spec)
	vols := st.volumeIDs()
	_, devs := st.server("fuel-master")
	if want := vols["fuel-master-iso"] + "/cdrom " + vols["fuel-master-disk"] + "/disk"; strings.Join(devs, " ") != want {
		t.Errorf("master devices = %v, want %s", devs, want)
	}
	if code, out, errOut := run(t, "plan", spec, "--cloud", "sim", "--detailed-exitcode", "--no-color"); code != 0 {
		t.Fatalf("second plan exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestPhaseErrors: an unknown phase, and "installed" for a master that
// boots from no cdrom (sequence (a) or an image), are refused before the
// cloud is touched.
func TestPhaseErrors(t *testing.T) {
	spec := fuelLab(t)
	for _, tc := range []struct {
		name, spec, phase, want string
	}{
		{"unknown phase", spec, "done", `--phase "done": want install or installed`},
		{"no cdrom", writeLab(t, t.TempDir(), 1), "installed", "boots from no cdrom volume"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := run(t, "apply", tc.spec, "--cloud", "sim", "--auto-approve", "--phase", tc.phase)
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 with %q", code, errOut, tc.want)
			}
		})
	}
}
