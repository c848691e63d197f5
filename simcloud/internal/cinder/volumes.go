package cinder

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// status is a volume's status now: creating until ReadyAt, then error
// for a failed one, in-use while attached, else available. A volume made
// from an image spends the second half of its build time downloading, as
// real Cinder shows it while it copies the image (Zed: creating,
// downloading, available).
func (v *volume) status(now time.Time) string {
	switch {
	case now.Before(v.downloadAt()):
		return "creating"
	case now.Before(v.ReadyAt):
		return "downloading"
	case v.Failed:
		return "error"
	case len(v.Attachments) > 0:
		return v.attachStatus(now)
	}
	return "available"
}

// attachStatus is the status of an attached volume, as real Zed shows it
// while Nova builds the server: reserved, attaching for the last quarter
// of the build, in-use once an attachment is complete.
func (v *volume) attachStatus(now time.Time) string {
	st := "reserved"
	for _, a := range v.Attachments {
		switch {
		case !now.Before(a.At):
			return "in-use"
		case !now.Before(a.At.Add(-a.At.Sub(a.Reserved) / 4)):
			st = "attaching"
		}
	}
	return st
}

// downloadAt is when an image volume starts downloading: half-way
// through its build time; a blank volume never does.
func (v *volume) downloadAt() time.Time {
	if v.ImageID == "" {
		return v.ReadyAt
	}
	return v.Created.Add(v.ReadyAt.Sub(v.Created) / 2)
}

// bootable is the flag as Cinder shows it now: a volume made from an
// image becomes bootable only once the copy has begun (real Zed answers
// "false" while it is creating).
func (v *volume) bootable(now time.Time) bool {
	return v.Bootable && !now.Before(v.downloadAt())
}

// cinderTime is Cinder's timestamp format (no zone, microseconds).
func cinderTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000") }

// view renders a volume as Cinder's detailed view; admins see the
// host and tenant attributes.
func (s *Service) view(r *http.Request, v *volume) map[string]any {
	now := s.knobs.Now()
	atts := []any{}
	for _, a := range v.Attachments {
		if now.Before(a.At) {
			continue // reserved or attaching: Cinder lists it once attached
		}
		atts = append(atts, map[string]any{
			"id": v.ID, "attachment_id": a.ID, "volume_id": v.ID, "server_id": a.ServerID,
			"host_name": a.Host, "device": a.Device, "attached_at": cinderTime(a.At),
		})
	}
	meta := v.Metadata
	if meta == nil {
		meta = map[string]string{}
	}
	var description any // null when none was given, as Cinder shows it
	if v.Description != "" {
		description = v.Description
	}
	m := map[string]any{
		"id": v.ID, "name": v.Name, "description": description, "status": v.status(now),
		"size": v.Size, "availability_zone": "nova", "bootable": strconv.FormatBool(v.bootable(now)),
		"created_at": cinderTime(v.Created), "updated_at": cinderTime(v.Updated),
		"attachments": atts, "metadata": meta, "user_id": v.UserID, "volume_type": "__DEFAULT__",
		"encrypted": false, "multiattach": false, "replication_status": nil, "snapshot_id": nil,
		"source_volid": nil, "consistencygroup_id": nil,
		"links": []any{map[string]string{"rel": "self", "href": baseURL(r) + "/v3/volumes/" + v.ID}},
	}
	if v.ImageID != "" {
		im := map[string]string{"image_id": v.ImageID, "image_name": v.ImageName}
		maps.Copy(im, v.ImageMeta)
		m["volume_image_metadata"] = im
	}
	if caller(r).Admin {
		m["os-vol-host-attr:host"] = "cinder@lvm#lvm"
		m["os-vol-tenant-attr:tenant_id"] = v.ProjectID
	}
	return m
}

// summary is the short view of GET /volumes.
func summary(r *http.Request, v *volume) map[string]any {
	return map[string]any{"id": v.ID, "name": v.Name,
		"links": []any{map[string]string{"rel": "self", "href": baseURL(r) + "/v3/volumes/" + v.ID}}}
}

// visible is Cinder's read rule: own project; admins everything.
func visible(v *volume, id *simcore.Identity) bool {
	return id.Admin || v.ProjectID == id.ProjectID
}

func (s *Service) volumeFor(w http.ResponseWriter, r *http.Request) (*volume, bool) {
	id := r.PathValue("id")
	v, ok := s.st.Volumes[id]
	if !ok || !visible(v, caller(r)) {
		faults.Writef(w, http.StatusNotFound, "Volume %s could not be found.", id)
		return nil, false
	}
	return v, true
}

func (s *Service) show(w http.ResponseWriter, r *http.Request) {
	if v, ok := s.volumeFor(w, r); ok {
		simcore.WriteJSON(w, http.StatusOK, map[string]any{"volume": s.view(r, v)})
	}
}

// createBody is the part of POST /volumes the simulator reads.
type createBody struct {
	Volume *struct {
		Name        string            `json:"name"`
		Description string            `json:"description"`
		Size        *int              `json:"size"`
		ImageRef    string            `json:"imageRef"`
		Metadata    map[string]string `json:"metadata"`
		VolumeType  string            `json:"volume_type"`
		AZ          string            `json:"availability_zone"`
		SnapshotID  string            `json:"snapshot_id"`
		SourceVolID string            `json:"source_volid"`
		BackupID    string            `json:"backup_id"`
	} `json:"volume"`
}

func (s *Service) create(w http.ResponseWriter, r *http.Request) {
	var body createBody
	if err := simcore.ReadJSON(r, &body); err != nil || body.Volume == nil {
		faults.Write(w, http.StatusBadRequest, "Invalid input for field/attribute volume.")
		return
	}
	b := body.Volume
	c := caller(r)
	switch {
	case b.SnapshotID != "" || b.SourceVolID != "" || b.BackupID != "":
		faults.Write(w, http.StatusBadRequest, "volumes from snapshots, other volumes or backups are not supported by the simulator")
		return
	case b.Size == nil || *b.Size < 1:
		faults.Write(w, http.StatusBadRequest, "Invalid input for field/attribute size. Value: must be an integer >= 1.")
		return
	case len(b.Name) > 255:
		faults.Write(w, http.StatusBadRequest, "Invalid input for field/attribute name. Value is too long.")
		return
	case b.AZ != "" && b.AZ != "nova":
		faults.Write(w, http.StatusBadRequest, "Invalid input received: Availability zone '"+b.AZ+"' is invalid.")
		return
	case b.VolumeType != "" && b.VolumeType != "__DEFAULT__":
		faults.Writef(w, http.StatusNotFound, "Volume type with name %s could not be found.", b.VolumeType)
		return
	}
	if !validMeta(b.Metadata) {
		faults.Write(w, http.StatusBadRequest, "Invalid input for field/attribute metadata.")
		return
	}
	v := &volume{ID: simcore.NewID(), Name: b.Name, Description: b.Description, ProjectID: c.ProjectID,
		UserID: c.UserID, Size: *b.Size, Metadata: maps.Clone(b.Metadata)}
	if b.ImageRef != "" {
		var img simcore.ImageView
		ok := false
		if s.images != nil {
			img, ok = s.images.Image(c.ProjectID, b.ImageRef)
		}
		if !ok {
			faults.Writef(w, http.StatusBadRequest, "Invalid input received: Invalid image identifier or unable to access requested image.")
			return
		}
		if img.MinDisk > v.Size {
			faults.Writef(w, http.StatusBadRequest, "Invalid input received: Volume size %dGB cannot be smaller than the image minDisk size %dGB.", v.Size, img.MinDisk)
			return
		}
		// A volume made from an image is bootable, as in Cinder, which
		// keeps what it copied of the image (all values strings).
		v.ImageID, v.ImageName, v.Bootable = b.ImageRef, img.Name, true
		v.ImageMeta = map[string]string{
			"checksum": img.Checksum, "container_format": img.ContainerFormat, "disk_format": img.DiskFormat,
			"min_disk": strconv.Itoa(img.MinDisk), "min_ram": strconv.Itoa(img.MinRAM),
			"size": strconv.FormatInt(img.Size, 10), "signature_verified": "False",
		}
	}
	if msg, ok := s.overQuota(c.ProjectID, v.Size); !ok {
		faults.Write(w, http.StatusRequestEntityTooLarge, msg)
		return
	}
	now := s.knobs.Now().UTC()
	v.Created, v.Updated, v.ReadyAt = now, now, now.Add(s.knobs.VolumeBuildTime())
	v.Failed = s.knobs.VolumeFails(v.Name)
	s.st.Volumes[v.ID] = v
	simcore.WriteJSON(w, http.StatusAccepted, map[string]any{"volume": s.view(r, v)})
}

// overQuota checks the project's volumes and gigabytes quotas for one
// more volume of size GB, with Cinder's messages.
func (s *Service) overQuota(project string, size int) (string, bool) {
	count, gigs := 0, 0
	for _, v := range s.st.Volumes {
		if v.ProjectID == project {
			count++
			gigs += v.Size
		}
	}
	if q, ok := s.quotas["gigabytes"]; ok && q >= 0 && gigs+size > q {
		return fmt.Sprintf("VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. "+
			"Requested %dG, quota is %dG and %dG has been consumed.", size, q, gigs), false
	}
	if q, ok := s.quotas["volumes"]; ok && q >= 0 && count+1 > q {
		return fmt.Sprintf("VolumeLimitExceeded: Maximum number of volumes allowed (%d) exceeded for quota 'volumes'.", q), false
	}
	return "", true
}

// validMeta is Cinder's metadata rule: keys 1-255 characters, values at
// most 255.
func validMeta(m map[string]string) bool {
	for k, v := range m {
		if k == "" || len(k) > 255 || len(v) > 255 {
			return false
		}
	}
	return true
}

// update is PUT /volumes/{id}: name, description and metadata (merged, as
// Cinder's volume update does).
func (s *Service) update(w http.ResponseWriter, r *http.Request) {
	v, ok := s.volumeFor(w, r)
	if !ok {
		return
	}
	var body struct {
		Volume *struct {
			Name        *string           `json:"name"`
			Description *string           `json:"description"`
			Metadata    map[string]string `json:"metadata"`
		} `json:"volume"`
	}
	if err := simcore.ReadJSON(r, &body); err != nil || body.Volume == nil {
		faults.Write(w, http.StatusBadRequest, "Invalid input for field/attribute volume.")
		return
	}
	b := body.Volume
	if (b.Name != nil && len(*b.Name) > 255) || !validMeta(b.Metadata) {
		faults.Write(w, http.StatusBadRequest, "Invalid input for field/attribute volume.")
		return
	}
	if b.Name != nil {
		v.Name = *b.Name
	}
	if b.Description != nil {
		v.Description = *b.Description
	}
	if b.Metadata != nil {
		if v.Metadata == nil {
			v.Metadata = map[string]string{}
		}
		maps.Copy(v.Metadata, b.Metadata)
	}
	v.Updated = s.knobs.Now().UTC()
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"volume": s.view(r, v)})
}

// delete refuses a volume that is creating or attached, with Cinder's 400.
func (s *Service) delete(w http.ResponseWriter, r *http.Request) {
	v, ok := s.volumeFor(w, r)
	if !ok {
		return
	}
	if st := v.status(s.knobs.Now()); st != "available" && st != "error" {
		faults.Write(w, http.StatusBadRequest, "Invalid volume: Volume status must be available or error or error_restoring "+
			"or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, "+
			"awaiting a transfer, or be disassociated from snapshots after volume transfer.")
		return
	}
	delete(s.st.Volumes, v.ID)
	w.WriteHeader(http.StatusAccepted)
}

// action serves os-set_bootable and os-extend, with Cinder's statuses;
// other actions are refused.
func (s *Service) action(w http.ResponseWriter, r *http.Request) {
	v, ok := s.volumeFor(w, r)
	if !ok {
		return
	}
	var body struct {
		SetBootable *struct {
			Bootable any `json:"bootable"`
		} `json:"os-set_bootable"`
		Extend *struct {
			NewSize int `json:"new_size"`
		} `json:"os-extend"`
	}
	if err := simcore.ReadJSON(r, &body); err != nil {
		faults.Write(w, http.StatusBadRequest, "Invalid input for field/attribute action.")
		return
	}
	switch {
	case body.SetBootable != nil:
		b, ok := bootableValue(body.SetBootable.Bootable)
		if !ok {
			faults.Writef(w, http.StatusBadRequest, "Invalid input for field/attribute bootable. Value: %v. %s is not one of %s",
				body.SetBootable.Bootable, pyRepr(body.SetBootable.Bootable), bootableValues)
			return
		}
		v.Bootable = b
		v.Updated = s.knobs.Now().UTC()
		w.WriteHeader(http.StatusOK) // Cinder answers this action 200, extend 202
		return
	case body.Extend != nil:
		// Cinder 3.42 extends a volume in use too (Nova tells the guest).
		st := v.status(s.knobs.Now())
		if st != "available" && (st != "in-use" || !atLeast(r, 42)) {
			faults.Writef(w, http.StatusBadRequest, "Invalid volume: Volume %s status must be '{'status': 'available'}' to extend, currently %s.", v.ID, st)
			return
		}
		if body.Extend.NewSize <= v.Size {
			faults.Writef(w, http.StatusBadRequest, "Invalid input received: New size for extend must be greater than current size. (current: %d, extended: %d).", v.Size, body.Extend.NewSize)
			return
		}
		if msg, ok := s.overQuota(v.ProjectID, body.Extend.NewSize-v.Size); !ok {
			faults.Write(w, http.StatusRequestEntityTooLarge, msg)
			return
		}
		v.Size = body.Extend.NewSize
	default:
		faults.Write(w, http.StatusBadRequest, "There is no such action, or the simulator does not support it.")
		return
	}
	v.Updated = s.knobs.Now().UTC()
	w.WriteHeader(http.StatusAccepted)
}

// bootableValues are what os-set_bootable takes, as real Cinder lists
// them when it refuses another (its JSON schema's enum, case as given).
const bootableValues = "[True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', 'y', 't', " +
	"False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no', 'n', 'f']"

// bootableValue reads os-set_bootable's value: a JSON boolean or one of
// bootableValues' strings, exactly.
func bootableValue(x any) (bool, bool) {
	switch b := x.(type) {
	case bool:
		return b, true
	case string:
		switch b {
		case "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes", "y", "t":
			return true, true
		case "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no", "n", "f":
			return false, true
		}
	}
	return false, false
}

// pyRepr writes a JSON value as Python's repr does in Cinder's messages.
func pyRepr(x any) string {
	switch v := x.(type) {
	case string:
		return "'" + v + "'"
	case nil:
		return "None"
	}
	return fmt.Sprint(x)
}

// atLeast reports whether the request asks for volume microversion 3.minor
// or later (OpenStack-API-Version: volume 3.N; none means 3.0).
func atLeast(r *http.Request, minor int) bool {
	h := r.Header.Get("OpenStack-API-Version")
	_, ver, ok := strings.Cut(strings.TrimSpace(h), "volume ")
	if !ok {
		return false
	}
	if strings.TrimSpace(ver) == "latest" {
		return true
	}
	_, m, ok := strings.Cut(strings.TrimSpace(ver), "3.")
	n, err := strconv.Atoi(m)
	return ok && err == nil && n >= minor
}

// boolish reads a boolean as Cinder does (true, "true", "True", "1"...).
func boolish(x any) (bool, bool) {
	switch b := x.(type) {
	case bool:
		return b, true
	case string:
		switch strings.ToLower(b) {
		case "true", "1", "yes", "on", "t", "y":
			return true, true
		case "false", "0", "no", "off", "f", "n":
			return false, true
		}
	}
	return false, false
}

// sortedVolumes are the volumes visible to the caller (all projects for
// an admin asking all_tenants), newest first as Cinder lists them, ties
// by ID so pages are stable.
func (s *Service) sortedVolumes(r *http.Request) []*volume {
	c := caller(r)
	all := c.Admin && truthy(r.URL.Query().Get("all_tenants"))
	var out []*volume
	for _, v := range s.st.Volumes {
		if v.ProjectID == c.ProjectID || all {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b *volume) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

func truthy(s string) bool {
	b, ok := boolish(s)
	return ok && b
}
