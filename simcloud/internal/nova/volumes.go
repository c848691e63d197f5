package nova

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

var errVolumeNotAvailable = simcore.ErrVolumeNotAvailable

// checkVolumes validates the volume entries of a create request against
// Cinder, in Nova's words, before anything is bound or attached.
func (s *Service) checkVolumes(projectID string, bdms []bdm) (int, error) {
	if s.volumes == nil {
		return 0, nil // no Cinder: volume entries are taken on trust
	}
	seen := map[string]bool{}
	for _, d := range bdms {
		if d.SourceType != "volume" {
			continue
		}
		if d.DestinationType != "" && d.DestinationType != "volume" {
			return http.StatusBadRequest, msgf("Block Device Mapping is Invalid: Mapping image to local is not supported.")
		}
		if seen[d.UUID] {
			return http.StatusBadRequest, msgf("Block Device Mapping is Invalid: Volume %s is used more than once.", d.UUID)
		}
		seen[d.UUID] = true
		v, ok := s.volumes.Volume(projectID, d.UUID)
		if !ok {
			return http.StatusBadRequest, msgf("Block Device Mapping is Invalid: failed to get volume %s.", d.UUID)
		}
		// As Nova's _get_bdm_image_metadata: the boot volume must be
		// bootable (a blank volume is not, until someone says so).
		if d.BootIndex != nil && *d.BootIndex == 0 && !v.Bootable {
			return http.StatusBadRequest, msgf("Block Device %s is not bootable.", d.UUID)
		}
	}
	return 0, nil
}

// diskBuses and deviceTypes are Nova's BlockDeviceBus and
// BlockDeviceType enums.
var (
	diskBuses   = []string{"fdc", "ide", "sata", "scsi", "usb", "virtio", "xen", "lxc", "uml"}
	deviceTypes = []string{"cdrom", "disk", "floppy", "fs", "lun"}
)

// bootIndex is a block device's boot_index: Nova's schema takes an
// integer or a string of one (^-?[0-9]+$), and names the value it refuses
// (real Zed: "Invalid input for field/attribute boot_index. Value: x. 'x'
// does not match '^-?[0-9]+$'").
type bootIndex int

func (b *bootIndex) UnmarshalJSON(data []byte) error {
	var n int
	if json.Unmarshal(data, &n) == nil {
		*b = bootIndex(n)
		return nil
	}
	var s string
	if json.Unmarshal(data, &s) != nil {
		return msgf("Invalid input for field/attribute boot_index. Value: %s. %s is not of type 'integer', 'string'", data, data)
	}
	digits := strings.TrimPrefix(s, "-")
	if n, err := strconv.Atoi(s); err == nil && digits != "" && strings.Trim(digits, "0123456789") == "" {
		*b = bootIndex(n)
		return nil
	}
	return msgf("Invalid input for field/attribute boot_index. Value: %s. '%s' does not match '^-?[0-9]+$'", s, s)
}

// checkBootSequence is the first check of a create's block devices, in
// Nova's order and words (real Zed): a disk bus Nova does not know is a
// bare "Block Device Mapping is Invalid."; boot indexes (those >= 0) must
// be 0, 1, 2... each once, so no boot_index 0, or two of them, is an
// invalid boot sequence.
func checkBootSequence(bdms []bdm) error {
	var idx []int
	for _, d := range bdms {
		if d.DiskBus != "" && !slices.Contains(diskBuses, d.DiskBus) {
			return msgf("Block Device Mapping is Invalid.")
		}
		if d.BootIndex != nil && *d.BootIndex >= 0 {
			idx = append(idx, int(*d.BootIndex))
		}
	}
	slices.Sort(idx)
	for i, b := range idx {
		if b != i {
			return msgf("Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.")
		}
	}
	return nil
}

// checkDeviceTypes: real Zed takes any device_type through its API schema
// and fails on one outside its enum only when it builds the mapping, after
// checking the volumes: a 500 (and, there, the volumes stay "reserved").
func checkDeviceTypes(bdms []bdm) error {
	for _, d := range bdms {
		if d.DeviceType != "" && !slices.Contains(deviceTypes, d.DeviceType) {
			return msgf("Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.\n<class 'ValueError'>")
		}
	}
	return nil
}

// attachVolumes attaches the server's volumes in Cinder, naming each
// device as libvirt would (per bus: vda.., hda.., sda..). If one fails,
// those already attached are detached again and the error is Nova's.
func (s *Service) attachVolumes(sv *server) (int, error) {
	if s.volumes == nil {
		return 0, nil
	}
	next := map[string]byte{}
	for i := range sv.BDMs {
		d := &sv.BDMs[i]
		if d.SourceType != "volume" {
			continue
		}
		prefix := devicePrefix(d.DiskBus)
		letter, ok := next[prefix]
		if !ok {
			letter = 'a'
		}
		next[prefix] = letter + 1
		d.Device = fmt.Sprintf("/dev/%s%c", prefix, letter)
		err := s.volumes.AttachVolume(sv.ProjectID, d.UUID, sv.ID, sv.Host, d.Device, sv.ReadyAt)
		if err == nil {
			continue
		}
		for _, e := range sv.BDMs[:i] {
			if e.SourceType == "volume" {
				s.volumes.DetachVolume(e.UUID, sv.ID)
			}
		}
		if errors.Is(err, errVolumeNotAvailable) {
			// Nova passes on Cinder's refusal to reserve, in real Zed's words.
			v, _ := s.volumes.Volume(sv.ProjectID, d.UUID)
			return http.StatusBadRequest, msgf("Invalid volume: Invalid input received: Invalid volume: Volume %s status must be "+
				"available or downloading to reserve, but the current status is %s. (HTTP 400) (Request-ID: req-%s)",
				d.UUID, v.Status, simcore.NewID())
		}
		return http.StatusBadRequest, msgf("Block Device Mapping is Invalid: failed to get volume %s.", d.UUID)
	}
	return 0, nil
}

// listVolumeAttachments is GET /servers/{id}/os-volume_attachments: the
// volumes the server holds, with the keys real Nova answers at 2.61.
func (s *Service) listVolumeAttachments(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.serverFor(w, r)
	if !ok {
		return
	}
	out := []any{}
	for _, d := range sv.BDMs {
		if d.SourceType == "volume" && d.UUID != "" {
			out = append(out, map[string]any{"id": d.UUID, "volumeId": d.UUID, "serverId": sv.ID, "device": d.Device})
		}
	}
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"volumeAttachments": out})
}

// detachVolume is DELETE /servers/{id}/os-volume_attachments/{volume}: a
// volume detached by hand. Real Zed refuses the boot volume (400 "Cannot
// detach a root device volume"), answers 202 otherwise and frees the
// volume in Cinder; the simulator frees it at once (real Cinder shows
// "detaching" for about a second first).
func (s *Service) detachVolume(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.serverFor(w, r)
	if !ok {
		return
	}
	vol := r.PathValue("volume")
	if s.volumes != nil {
		if _, ok := s.volumes.Volume(sv.ProjectID, vol); !ok {
			faults.Writef(w, http.StatusNotFound, "Volume %s could not be found.", vol)
			return
		}
	}
	i := slices.IndexFunc(sv.BDMs, func(d bdm) bool { return d.SourceType == "volume" && d.UUID == vol })
	if i < 0 {
		faults.Writef(w, http.StatusNotFound, "Instance %s is not attached to volume %s", sv.ID, vol)
		return
	}
	if b := sv.BDMs[i].BootIndex; b != nil && *b == 0 {
		faults.Write(w, http.StatusBadRequest, "Cannot detach a root device volume")
		return
	}
	if s.volumes != nil {
		s.volumes.DetachVolume(vol, sv.ID)
	}
	sv.BDMs = slices.Delete(sv.BDMs, i, i+1)
	s.touch(sv)
	w.WriteHeader(http.StatusAccepted)
}

// detachVolumes releases a server's volumes (the server is gone).
func (s *Service) detachVolumes(sv *server) {
	if s.volumes == nil {
		return
	}
	for _, d := range sv.BDMs {
		if d.SourceType == "volume" {
			s.volumes.DetachVolume(d.UUID, sv.ID)
		}
	}
}

// devicePrefix is the guest device prefix for a disk bus.
func devicePrefix(bus string) string {
	switch bus {
	case "ide":
		return "hd"
	case "scsi", "sata", "usb":
		return "sd"
	}
	return "vd"
}

// attachedVolumes is the server view's os-extended-volumes:volumes_attached.
func attachedVolumes(sv *server) []any {
	out := []any{}
	for _, d := range sv.BDMs {
		if d.SourceType == "volume" && d.UUID != "" {
			out = append(out, map[string]any{"id": d.UUID, "delete_on_termination": d.DeleteOnTermination})
		}
	}
	return out
}
