package nova

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// deleting refuses a change to a server being deleted, as Nova's
// task-state check does.
func deleting(w http.ResponseWriter, sv *server, action string) bool {
	if sv.DeletedAt == nil {
		return false
	}
	faults.Writef(w, http.StatusConflict, "Cannot '%s' instance %s while it is in task_state deleting", action, sv.ID)
	return true
}

func (s *Service) getMetadata(w http.ResponseWriter, r *http.Request) {
	if sv, ok := s.serverFor(w, r); ok {
		simcore.WriteJSON(w, http.StatusOK, map[string]any{"metadata": metaOf(sv)})
	}
}

func metaOf(sv *server) map[string]string {
	if sv.Metadata == nil {
		return map[string]string{}
	}
	return sv.Metadata
}

// validMeta is Nova's rule: keys 1-255 chars, values up to 255.
func validMeta(m map[string]string) bool {
	for k, v := range m {
		if k == "" || len(k) > 255 || len(v) > 255 {
			return false
		}
	}
	return true
}

// setMetadata is PUT (replace all) or POST (merge) of server metadata.
func (s *Service) setMetadata(replace bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sv, ok := s.serverFor(w, r)
		if !ok || deleting(w, sv, "update_metadata") {
			return
		}
		var body struct {
			Metadata map[string]string `json:"metadata"`
		}
		if err := simcore.ReadJSON(r, &body); err != nil || body.Metadata == nil || !validMeta(body.Metadata) {
			faults.Write(w, http.StatusBadRequest, "Invalid input for field/attribute metadata.")
			return
		}
		if replace || sv.Metadata == nil {
			sv.Metadata = map[string]string{}
		}
		for k, v := range body.Metadata {
			sv.Metadata[k] = v
		}
		s.touch(sv)
		simcore.WriteJSON(w, http.StatusOK, map[string]any{"metadata": sv.Metadata})
	}
}

func (s *Service) getMetadatum(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.serverFor(w, r)
	if !ok {
		return
	}
	key := r.PathValue("key")
	v, ok := sv.Metadata[key]
	if !ok {
		faults.Write(w, http.StatusNotFound, "Metadata item was not found")
		return
	}
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"meta": map[string]string{key: v}})
}

func (s *Service) putMetadatum(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.serverFor(w, r)
	if !ok || deleting(w, sv, "update_metadata") {
		return
	}
	key := r.PathValue("key")
	var body struct {
		Meta map[string]string `json:"meta"`
	}
	if err := simcore.ReadJSON(r, &body); err != nil || len(body.Meta) != 1 || !validMeta(body.Meta) {
		faults.Write(w, http.StatusBadRequest, "Request body contains too many items")
		return
	}
	v, ok := body.Meta[key]
	if !ok {
		faults.Write(w, http.StatusBadRequest, "Request body and URI mismatch")
		return
	}
	if sv.Metadata == nil {
		sv.Metadata = map[string]string{}
	}
	sv.Metadata[key] = v
	s.touch(sv)
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"meta": body.Meta})
}

func (s *Service) deleteMetadatum(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.serverFor(w, r)
	if !ok || deleting(w, sv, "delete_metadata") {
		return
	}
	key := r.PathValue("key")
	if _, ok := sv.Metadata[key]; !ok {
		faults.Write(w, http.StatusNotFound, "Metadata item was not found")
		return
	}
	delete(sv.Metadata, key)
	s.touch(sv)
	w.WriteHeader(http.StatusNoContent)
}

// tagged finds the server for a tags call; the tags API exists from 2.26.
func (s *Service) tagged(w http.ResponseWriter, r *http.Request, change bool) (*server, bool) {
	if mv(r) < 26 {
		faults.Write(w, http.StatusNotFound, "The resource could not be found.")
		return nil, false
	}
	sv, ok := s.serverFor(w, r)
	if !ok || (change && deleting(w, sv, "update_tags")) {
		return nil, false
	}
	return sv, true
}

func tagsOf(sv *server) []string {
	if sv.Tags == nil {
		return []string{}
	}
	return sv.Tags
}

func (s *Service) listTags(w http.ResponseWriter, r *http.Request) {
	if sv, ok := s.tagged(w, r, false); ok {
		simcore.WriteJSON(w, http.StatusOK, map[string]any{"tags": tagsOf(sv)})
	}
}

func (s *Service) replaceTags(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.tagged(w, r, true)
	if !ok {
		return
	}
	var body struct {
		Tags []string `json:"tags"`
	}
	if err := simcore.ReadJSON(r, &body); err != nil || body.Tags == nil {
		faults.Write(w, http.StatusBadRequest, "Invalid input for field/attribute tags.")
		return
	}
	var tags []string
	for _, t := range body.Tags {
		if !validTag(t) {
			faults.Writef(w, http.StatusBadRequest, "Invalid input for field/attribute tags. Value: %s.", t)
			return
		}
		if !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	if len(tags) > 50 {
		faults.Write(w, http.StatusBadRequest, "The number of tags exceeded the per-server limit 50")
		return
	}
	sv.Tags = tags
	s.touch(sv)
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"tags": tagsOf(sv)})
}

func (s *Service) deleteAllTags(w http.ResponseWriter, r *http.Request) {
	if sv, ok := s.tagged(w, r, true); ok {
		sv.Tags = nil
		s.touch(sv)
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Service) checkTag(w http.ResponseWriter, r *http.Request) {
	if sv, ok := s.tagged(w, r, false); ok {
		if !slices.Contains(sv.Tags, r.PathValue("tag")) {
			faults.Writef(w, http.StatusNotFound, "Tag %s could not be found.", r.PathValue("tag"))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// addTag is 201 for a new tag and 204 for one already there, as in Nova.
func (s *Service) addTag(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.tagged(w, r, true)
	if !ok {
		return
	}
	tag := r.PathValue("tag")
	if !validTag(tag) {
		faults.Writef(w, http.StatusBadRequest, "Invalid input for field/attribute tag. Value: %s.", tag)
		return
	}
	w.Header().Set("Location", baseURL(r)+"/v2.1/servers/"+sv.ID+"/tags/"+tag)
	if slices.Contains(sv.Tags, tag) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if len(sv.Tags) >= 50 {
		faults.Write(w, http.StatusBadRequest, "The number of tags exceeded the per-server limit 50")
		return
	}
	sv.Tags = append(sv.Tags, tag)
	s.touch(sv)
	w.WriteHeader(http.StatusCreated)
}

func (s *Service) deleteTag(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.tagged(w, r, true)
	if !ok {
		return
	}
	i := slices.Index(sv.Tags, r.PathValue("tag"))
	if i < 0 {
		faults.Writef(w, http.StatusNotFound, "Tag %s could not be found.", r.PathValue("tag"))
		return
	}
	sv.Tags = slices.Delete(sv.Tags, i, i+1)
	s.touch(sv)
	w.WriteHeader(http.StatusNoContent)
}

// action serves POST /servers/{id}/action; only os-getConsoleOutput is
// simulated.
func (s *Service) action(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.serverFor(w, r)
	if !ok {
		return
	}
	var body map[string]map[string]any
	if err := simcore.ReadJSON(r, &body); err != nil || len(body) != 1 {
		faults.Write(w, http.StatusBadRequest, "Malformed request body")
		return
	}
	args, ok := body["os-getConsoleOutput"]
	if !ok {
		for name := range body {
			faults.Writef(w, http.StatusBadRequest, "There is no such action: %s", name)
		}
		return
	}
	if sv.phaseAt(s.knobs.Now()).status != "ACTIVE" {
		faults.Writef(w, http.StatusConflict, "Instance %s is not ready", sv.ID)
		return
	}
	out := consoleText(sv)
	if n, ok := lengthArg(args["length"]); ok && n >= 0 {
		lines := strings.SplitAfter(out, "\n")
		if lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		out = strings.Join(lines[max(0, len(lines)-n):], "")
	}
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"output": out})
}

// lengthArg reads "length", which clients send as a number or a string.
func lengthArg(v any) (int, bool) {
	switch t := v.(type) {
	case float64:
		return int(t), true
	case string:
		n, err := strconv.Atoi(t)
		return n, err == nil
	}
	return 0, false
}

// consoleText is a fixed boot log that names the server, enough for a
// client to check it reads the right console.
func consoleText(sv *server) string {
	return fmt.Sprintf("[    0.000000] Linux version 3.10.0 (simulated)\n"+
		"Starting %[1]s (%[2]s) on %[3]s\n"+
		"cloud-init: instance %[2]s is up\n"+
		"%[1]s login: \n", sv.Name, sv.ID, sv.InstanceName)
}
