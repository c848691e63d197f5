package cinder

import (
	"time"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// AttachVolume implements simcore.Volumes: Nova attaches a volume named in
// a server's block_device_mapping_v2. Another project's volume is not
// found, as Cinder would answer Nova acting with the user's token.
func (s *Service) AttachVolume(projectID, volumeID, serverID, host, device string, done time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.st.Volumes[volumeID]
	if !ok || v.ProjectID != projectID {
		return simcore.ErrNotFound
	}
	now := s.knobs.Now().UTC()
	if v.status(now) != "available" {
		for _, a := range v.Attachments {
			if a.ServerID == serverID {
				return nil // already attached to this server
			}
		}
		return simcore.ErrVolumeNotAvailable
	}
	if done.Before(now) {
		done = now
	}
	v.Attachments = append(v.Attachments, attachment{ID: simcore.NewID(), ServerID: serverID, Host: host,
		Device: device, Reserved: now, At: done})
	v.Updated = now
	return nil
}

// DetachVolume implements simcore.Volumes: the server is gone.
func (s *Service) DetachVolume(volumeID, serverID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.st.Volumes[volumeID]
	if !ok {
		return
	}
	kept := v.Attachments[:0]
	for _, a := range v.Attachments {
		if a.ServerID != serverID {
			kept = append(kept, a)
		}
	}
	if len(kept) != len(v.Attachments) {
		v.Updated = s.knobs.Now().UTC()
	}
	v.Attachments = kept
	if len(v.Attachments) == 0 {
		v.Attachments = nil
	}
}

// Volume implements simcore.Volumes.
func (s *Service) Volume(projectID, volumeID string) (simcore.VolumeView, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.st.Volumes[volumeID]
	if !ok || v.ProjectID != projectID {
		return simcore.VolumeView{}, false
	}
	return simcore.VolumeView{Status: v.status(s.knobs.Now()), SizeGB: v.Size, Bootable: v.bootable(s.knobs.Now()), ImageID: v.ImageID}, true
}
