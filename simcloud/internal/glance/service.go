// Package glance simulates the OpenStack Image service (Glance v2): image
// records, streamed uploads that keep only size and hashes, JSON-patch
// updates, tags and linked pagination. It also answers Nova's in-process
// image lookups through simcore.Images.
package glance

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// Config seeds the service.
type Config struct {
	Images []Image
	// Knobs supplies the clock (created_at, updated_at); nil means the
	// real clock.
	Knobs *simcore.Knobs
	// Limits are Keystone's registered limits for the service glance
	// (image_size_total and image_stage_total in MiB, image_count_total,
	// image_count_uploading), as a Glance with use_keystone_limits = true
	// reads them. Nil means unified limits off, Glance's default.
	Limits map[string]int
}

// LimitNames are the unified limits Glance reports (glance/quota/keystone.py).
var LimitNames = []string{"image_size_total", "image_stage_total", "image_count_total", "image_count_uploading"}

// Image is a seeded image; it starts active, as if uploaded long ago.
type Image struct {
	ID, Name, DiskFormat, ContainerFormat, Visibility, OwnerID string
	MinDisk, SizeBytes                                         int
	Checksum                                                   string
}

// Service is the simulated Glance. One mutex guards all state.
type Service struct {
	mux *http.ServeMux
	now func() time.Time

	limits map[string]int // nil: unified limits off

	mu     sync.Mutex
	images map[string]*image
}

// image is the stored record. Exported fields are the snapshot format.
type image struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	Status          string            `json:"status"`
	Visibility      string            `json:"visibility"`
	Owner           string            `json:"owner"`
	DiskFormat      string            `json:"disk_format,omitempty"`
	ContainerFormat string            `json:"container_format,omitempty"`
	MinDisk         int               `json:"min_disk"`
	MinRAM          int               `json:"min_ram"`
	Protected       bool              `json:"protected"`
	Hidden          bool              `json:"os_hidden"`
	Size            *int64            `json:"size,omitempty"`
	Checksum        string            `json:"checksum,omitempty"`
	HashAlgo        string            `json:"os_hash_algo,omitempty"`
	HashValue       string            `json:"os_hash_value,omitempty"`
	Tags            []string          `json:"tags"`
	Props           map[string]string `json:"properties,omitempty"`
	Created         time.Time         `json:"created_at"`
	Updated         time.Time         `json:"updated_at"`
}

var _ simcore.Service = (*Service)(nil)
var _ simcore.Images = (*Service)(nil)

// seededAt is when the world's images were "uploaded".
var seededAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// New returns a Glance seeded with cfg.Images, all active.
func New(cfg Config) *Service {
	s := &Service{now: time.Now, images: map[string]*image{}, limits: cfg.Limits}
	if cfg.Knobs != nil {
		s.now = cfg.Knobs.Now
	}
	// Seeded images share one fixed creation time, the same in every
	// process: a read-only command that starts the cloud afresh (no state
	// file yet) must show the same image as the next command, or a saved
	// plan would see it "changed". Ties sort by id.
	t := seededAt
	for _, im := range cfg.Images {
		id := im.ID
		if id == "" {
			id = simcore.NewID()
		}
		vis := im.Visibility
		if vis == "" {
			vis = "public"
		}
		size := int64(im.SizeBytes)
		s.images[id] = &image{
			ID: id, Name: im.Name, Status: "active", Visibility: vis, Owner: im.OwnerID,
			DiskFormat: im.DiskFormat, ContainerFormat: im.ContainerFormat, MinDisk: im.MinDisk,
			Size: &size, Checksum: im.Checksum, Tags: []string{}, Created: t, Updated: t,
		}
	}
	s.routes()
	return s
}

func (s *Service) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", s.versions)
	m.HandleFunc("GET /versions", s.versions)
	m.HandleFunc("GET /v2/schemas/image", s.schema)
	m.HandleFunc("GET /v2/images", s.list)
	m.HandleFunc("POST /v2/images", s.create)
	m.HandleFunc("GET /v2/images/{id}", s.get)
	m.HandleFunc("PATCH /v2/images/{id}", s.patch)
	m.HandleFunc("DELETE /v2/images/{id}", s.delete)
	m.HandleFunc("PUT /v2/images/{id}/file", s.upload)
	m.HandleFunc("PUT /v2/images/{id}/tags/{tag}", s.addTag)
	m.HandleFunc("DELETE /v2/images/{id}/tags/{tag}", s.deleteTag)
	m.HandleFunc("GET /v2/info/usage", s.usage)
	s.mux = m
}

func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Snapshot returns all images as JSON (no image data: only size and hashes
// are ever kept, so state files stay small).
func (s *Service) Snapshot() (json.RawMessage, error) {
	return simcore.Snapshot(&s.mu, func() any { return snapshot{s.images} })
}

// snapshot is Glance's part of the state file.
type snapshot struct {
	Images map[string]*image `json:"images"`
}

// Restore replaces all images with a snapshot's.
func (s *Service) Restore(raw json.RawMessage) error {
	return simcore.Restore("glance", raw, &snapshot{}, func(st *snapshot) error {
		if st.Images == nil {
			return fmt.Errorf("glance: restore: snapshot lacks images")
		}
		if err := simcore.CheckSnapshot(st); err != nil {
			return fmt.Errorf("glance: restore: %w", err)
		}
		return nil
	}, &s.mu, func(st *snapshot) { s.images = st.Images })
}

// Image implements simcore.Images: Nova may boot from an image the project
// can see. A queued image (no data yet) is not bootable, so it is reported
// as absent, which Nova turns into a 400 as for an unknown image.
func (s *Service) Image(projectID, id string) (simcore.ImageView, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	im, ok := s.images[id]
	if !ok || im.Status != "active" || !visible(im, &simcore.Identity{ProjectID: projectID}) {
		return simcore.ImageView{}, false
	}
	v := simcore.ImageView{Name: im.Name, MinDisk: im.MinDisk, MinRAM: im.MinRAM, Checksum: im.Checksum,
		DiskFormat: im.DiskFormat, ContainerFormat: im.ContainerFormat}
	if im.Size != nil {
		v.Size = *im.Size
	}
	return v, true
}

// visible is Glance's read rule: admins see everything; others see public
// and community images and their own project's.
func visible(im *image, id *simcore.Identity) bool {
	if id == nil {
		return false
	}
	if id.Admin || im.Owner == id.ProjectID {
		return true
	}
	return im.Visibility == "public" || im.Visibility == "community"
}

// mayEdit is Glance's write rule: the owner project or an admin.
func mayEdit(im *image, id *simcore.Identity) bool {
	return id != nil && (id.Admin || im.Owner == id.ProjectID)
}

// usage is GET /v2/info/usage. With unified limits off (real Zed's
// default configuration, use_keystone_limits = false) Glance answers 200
// {"usage": {}}. With them on, Glance 25's discovery.get_usage answers
// every limit of glance/quota/keystone.py as {"limit": L, "usage": U} for
// the token's project, a limit Keystone has not registered being 0
// (oslo.limit); the sizes are floored MiB (api-ref sample
// usage-response.json).
func (s *Service) usage(w http.ResponseWriter, r *http.Request) {
	body := map[string]any{}
	if s.limits != nil {
		id := simcore.IdentityFrom(r.Context())
		s.mu.Lock()
		used := s.projectUsage(id.ProjectID)
		s.mu.Unlock()
		for _, name := range LimitNames {
			body[name] = map[string]int{"limit": s.limits[name], "usage": used[name]}
		}
	}
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"usage": body})
}

// projectUsage counts a project's images as Glance's database layer does
// (glance/db/sqlalchemy/api.py): image_size_total sums the sizes of the
// images it owns that hold data (size > 0; killed and deleted ones do not
// count, and the simulator drops deleted ones) once per location, which
// here is always one, floored to MiB; image_count_total counts them all,
// queued ones too; image_count_uploading counts those in saving (an upload
// under way); image_stage_total counts staged imports, which the simulator
// does not offer, so it is 0. Callers hold s.mu.
func (s *Service) projectUsage(project string) map[string]int {
	var bytes int64
	count, uploading := 0, 0
	for _, im := range s.images {
		if im.Owner != project {
			continue
		}
		count++
		if im.Size != nil && *im.Size > 0 {
			bytes += *im.Size
		}
		if im.Status == "saving" {
			uploading++
		}
	}
	return map[string]int{"image_size_total": int(bytes >> 20), "image_stage_total": 0,
		"image_count_total": count, "image_count_uploading": uploading}
}
