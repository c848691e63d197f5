package nova

import (
	"errors"
	"fmt"
	"net/http"

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
		err := s.volumes.AttachVolume(sv.ProjectID, d.UUID, sv.ID, sv.Host, d.Device)
		if err == nil {
			continue
		}
		for _, e := range sv.BDMs[:i] {
			if e.SourceType == "volume" {
				s.volumes.DetachVolume(e.UUID, sv.ID)
			}
		}
		if errors.Is(err, errVolumeNotAvailable) {
			return http.StatusBadRequest, msgf("Invalid volume: volume '%s' status must be 'available'", d.UUID)
		}
		return http.StatusBadRequest, msgf("Block Device Mapping is Invalid: failed to get volume %s.", d.UUID)
	}
	return 0, nil
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
