package glance

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// readOnly are attributes Glance computes itself; a client setting one
// gets 403, as from the real service.
var readOnly = map[string]bool{
	"status": true, "checksum": true, "size": true, "virtual_size": true, "created_at": true,
	"updated_at": true, "self": true, "file": true, "schema": true, "os_hash_algo": true,
	"os_hash_value": true, "direct_url": true, "locations": true, "owner": true,
}

var visibilities = map[string]bool{"public": true, "private": true, "shared": true, "community": true}

// lookup returns the image if the caller may see it, else writes 404.
// Callers hold s.mu.
func (s *Service) lookup(w http.ResponseWriter, r *http.Request) (*image, bool) {
	id := r.PathValue("id")
	im, ok := s.images[id]
	if !ok || !visible(im, simcore.IdentityFrom(r.Context())) {
		fail(w, r, http.StatusNotFound, "No image found with ID %s", id)
		return nil, false
	}
	return im, true
}

// editable is lookup plus the owner-or-admin rule for changes.
func (s *Service) editable(w http.ResponseWriter, r *http.Request) (*image, bool) {
	im, ok := s.lookup(w, r)
	if !ok {
		return nil, false
	}
	if !mayEdit(im, simcore.IdentityFrom(r.Context())) {
		fail(w, r, http.StatusForbidden, "You are not permitted to modify image %s.", im.ID)
		return nil, false
	}
	return im, true
}

func (s *Service) get(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if im, ok := s.lookup(w, r); ok {
		simcore.WriteJSON(w, http.StatusOK, view(im))
	}
}

func (s *Service) create(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := simcore.ReadJSON(r, &body); err != nil {
		fail(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	caller := simcore.IdentityFrom(r.Context())
	now := s.now().UTC()
	im := &image{ID: simcore.NewID(), Status: "queued", Visibility: "shared", Owner: caller.ProjectID,
		Tags: []string{}, Created: now, Updated: now}
	if v, ok := body["id"].(string); ok {
		im.ID = v
		delete(body, "id")
	}
	// Sorted keys: with several bad attributes the error names the same one
	// every time.
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if status, msg := set(im, k, body[k], caller); status != 0 {
			fail(w, r, status, "%s", msg)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.images[im.ID]; dup {
		fail(w, r, http.StatusConflict, "Image with identifier %s already exists!", im.ID)
		return
	}
	s.images[im.ID] = im
	w.Header().Set("Location", "/v2/images/"+im.ID)
	simcore.WriteJSON(w, http.StatusCreated, view(im))
}

// set applies one attribute from a create body or a patch; it returns a
// status and message on refusal.
func set(im *image, key string, v any, caller *simcore.Identity) (int, string) {
	if readOnly[key] {
		return http.StatusForbidden, fmt.Sprintf("Attribute '%s' is read-only.", key)
	}
	switch key {
	case "name", "disk_format", "container_format":
		s, ok := v.(string)
		if !ok && v != nil {
			return http.StatusBadRequest, fmt.Sprintf("Invalid value for '%s': must be a string", key)
		}
		switch key {
		case "name":
			im.Name = s
		case "disk_format":
			im.DiskFormat = s
		default:
			im.ContainerFormat = s
		}
	case "visibility":
		s, _ := v.(string)
		if !visibilities[s] {
			return http.StatusBadRequest, fmt.Sprintf("Invalid visibility value: %v", v)
		}
		if s == "public" && !caller.Admin {
			return http.StatusForbidden, "You are not authorized to complete publicize_image action."
		}
		im.Visibility = s
	case "min_disk", "min_ram":
		f, ok := v.(float64)
		if !ok || f < 0 || f != float64(int(f)) {
			return http.StatusBadRequest, fmt.Sprintf("Invalid value for '%s': must be a non-negative integer", key)
		}
		if key == "min_disk" {
			im.MinDisk = int(f)
		} else {
			im.MinRAM = int(f)
		}
	case "protected", "os_hidden":
		b, ok := v.(bool)
		if !ok {
			return http.StatusBadRequest, fmt.Sprintf("Invalid value for '%s': must be a boolean", key)
		}
		if key == "protected" {
			im.Protected = b
		} else {
			im.Hidden = b
		}
	case "tags":
		list, ok := v.([]any)
		if !ok {
			return http.StatusBadRequest, "Invalid value for 'tags': must be a list"
		}
		im.Tags = []string{}
		for _, t := range list {
			s, ok := t.(string)
			if !ok || s == "" {
				return http.StatusBadRequest, "Invalid tag: must be a non-empty string"
			}
			if !slices.Contains(im.Tags, s) {
				im.Tags = append(im.Tags, s)
			}
		}
	default:
		s, ok := v.(string)
		if !ok {
			return http.StatusBadRequest, fmt.Sprintf("Invalid value for property '%s': must be a string", key)
		}
		if im.Props == nil {
			im.Props = map[string]string{}
		}
		im.Props[key] = s
	}
	return 0, ""
}

// patchOp is one RFC 6902 operation as Glance accepts it.
type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

func (s *Service) patch(w http.ResponseWriter, r *http.Request) {
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/openstack-images-v2.1-json-patch") &&
		!strings.HasPrefix(ct, "application/openstack-images-v2.0-json-patch") {
		fail(w, r, http.StatusUnsupportedMediaType, "Unsupported Content-Type")
		return
	}
	var ops []patchOp
	if err := simcore.ReadJSON(r, &ops); err != nil {
		fail(w, r, http.StatusBadRequest, "%v", err)
		return
	}
	caller := simcore.IdentityFrom(r.Context())
	s.mu.Lock()
	defer s.mu.Unlock()
	im, ok := s.editable(w, r)
	if !ok {
		return
	}
	// Apply to a copy so a failing operation leaves the image unchanged, as
	// Glance applies a patch all or nothing.
	c := *im
	c.Tags = slices.Clone(im.Tags)
	c.Props = map[string]string{}
	for k, v := range im.Props {
		c.Props[k] = v
	}
	for _, op := range ops {
		key := strings.TrimPrefix(op.Path, "/")
		if key == "" || strings.Contains(key, "/") {
			fail(w, r, http.StatusBadRequest, "Invalid JSON pointer for this resource: '%s'", op.Path)
			return
		}
		_, custom := c.Props[key]
		switch op.Op {
		case "add", "replace":
			if op.Op == "replace" && isCustom(key) && !custom {
				fail(w, r, http.StatusConflict, "Property %s does not exist.", key)
				return
			}
			if status, msg := set(&c, key, op.Value, caller); status != 0 {
				fail(w, r, status, "%s", msg)
				return
			}
		case "remove":
			if !isCustom(key) || readOnly[key] {
				fail(w, r, http.StatusForbidden, "Attribute '%s' is read-only.", key)
				return
			}
			if !custom {
				fail(w, r, http.StatusConflict, "Property %s does not exist.", key)
				return
			}
			delete(c.Props, key)
		default:
			fail(w, r, http.StatusBadRequest, "Operation objects must contain exactly one member named \"add\", \"remove\", or \"replace\".")
			return
		}
	}
	c.Updated = s.now().UTC()
	*im = c
	simcore.WriteJSON(w, http.StatusOK, view(im))
}

// isCustom reports whether key is a free-form property rather than a
// built-in attribute.
func isCustom(key string) bool {
	switch key {
	case "name", "disk_format", "container_format", "visibility", "min_disk", "min_ram",
		"protected", "os_hidden", "tags", "id":
		return false
	}
	return !readOnly[key]
}

func (s *Service) delete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if im, ok := s.images[r.PathValue("id")]; !ok || !visible(im, simcore.IdentityFrom(r.Context())) {
		fail(w, r, http.StatusNotFound, "Failed to find image %s to delete", r.PathValue("id"))
		return
	}
	im, ok := s.editable(w, r)
	if !ok {
		return
	}
	if im.Protected {
		fail(w, r, http.StatusForbidden, "Image %s is protected and cannot be deleted.", im.ID)
		return
	}
	delete(s.images, im.ID)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) addTag(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	im, ok := s.editable(w, r)
	if !ok {
		return
	}
	if tag := r.PathValue("tag"); !slices.Contains(im.Tags, tag) {
		im.Tags = append(im.Tags, tag)
		im.Updated = s.now().UTC()
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) deleteTag(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	im, ok := s.editable(w, r)
	if !ok {
		return
	}
	tag := r.PathValue("tag")
	i := slices.Index(im.Tags, tag)
	if i < 0 {
		fail(w, r, http.StatusNotFound, "Tag %s not found", tag)
		return
	}
	im.Tags = slices.Delete(im.Tags, i, i+1)
	im.Updated = s.now().UTC()
	w.WriteHeader(http.StatusNoContent)
}
