package neutron

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// maxTagLen is Neutron's limit on one tag.
const maxTagLen = 255

// normTags validates tags and returns them sorted and unique, as Neutron
// stores them (a set, shown sorted).
func normTags(tags []string) ([]string, *apiError) {
	out := []string{}
	for _, t := range tags {
		if t == "" || len(t) > maxTagLen || strings.Contains(t, ",") || strings.Contains(t, "/") {
			return nil, badRequest("Invalid input for tags. Reason: '%s' is not a valid tag.", t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out, nil
}

// tagFilter is the four tag query filters: tags (all), tags-any,
// not-tags (not all), not-tags-any (none).
type tagFilter struct{ all, anyOf, notAll, notAny []string }

func parseTagFilters(q url.Values) tagFilter {
	split := func(k string) []string {
		var out []string
		for _, v := range q[k] {
			for _, t := range strings.Split(v, ",") {
				if t != "" {
					out = append(out, t)
				}
			}
		}
		return out
	}
	return tagFilter{all: split("tags"), anyOf: split("tags-any"), notAll: split("not-tags"), notAny: split("not-tags-any")}
}

func (f tagFilter) match(tags []string) bool {
	has := func(t string) bool { return slices.Contains(tags, t) }
	if len(f.all) > 0 && !allOf(f.all, has) {
		return false
	}
	if len(f.anyOf) > 0 && !slices.ContainsFunc(f.anyOf, has) {
		return false
	}
	if len(f.notAll) > 0 && allOf(f.notAll, has) {
		return false
	}
	if len(f.notAny) > 0 && slices.ContainsFunc(f.notAny, has) {
		return false
	}
	return true
}

func allOf(ts []string, has func(string) bool) bool {
	for _, t := range ts {
		if !has(t) {
			return false
		}
	}
	return true
}

// tagRoutes mounts the standard-attr-tag API for one resource kind:
// GET/PUT/DELETE .../tags and GET/PUT/DELETE .../tags/{tag}. Every change
// bumps the resource's revision_number, as in Neutron.
func (s *Service) tagRoutes(mux *http.ServeMux, k *kind) {
	base := "/v2.0/" + k.path + "/{id}/tags"
	// find resolves the resource; writes also need ownership and If-Match.
	find := func(r *http.Request, who *simcore.Identity, write bool) (object, *apiError) {
		if !s.ext("standard-attr-tag") {
			return nil, notFoundPage()
		}
		o, err := k.lookup(who, r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		if write {
			if !owned(who, o) {
				return nil, policyError("update_" + k.singular + ":tags")
			}
			if err := s.checkIfMatch(r, o); err != nil {
				return nil, err
			}
		}
		return o, nil
	}
	mux.HandleFunc("GET "+base, s.wrap(k.ext, func(w http.ResponseWriter, r *http.Request, who *simcore.Identity) *apiError {
		o, err := find(r, who, false)
		if err != nil {
			return err
		}
		simcore.WriteJSON(w, http.StatusOK, map[string]any{"tags": slices.Clone(o.base().Tags)})
		return nil
	}))
	mux.HandleFunc("PUT "+base, s.wrap(k.ext, func(w http.ResponseWriter, r *http.Request, who *simcore.Identity) *apiError {
		o, err := find(r, who, true)
		if err != nil {
			return err
		}
		var in struct {
			Tags *[]string `json:"tags"`
		}
		if err := simcore.ReadJSON(r, &in); err != nil || in.Tags == nil {
			return badRequest("Invalid input for tags. Reason: a body {\"tags\": [...]} is required.")
		}
		tags, aerr := normTags(*in.Tags)
		if aerr != nil {
			return aerr
		}
		o.base().Tags = tags
		o.base().touch(s.knobs.Now())
		simcore.WriteJSON(w, http.StatusOK, map[string]any{"tags": slices.Clone(tags)})
		return nil
	}))
	mux.HandleFunc("DELETE "+base, s.wrap(k.ext, func(w http.ResponseWriter, r *http.Request, who *simcore.Identity) *apiError {
		o, err := find(r, who, true)
		if err != nil {
			return err
		}
		o.base().Tags = []string{}
		o.base().touch(s.knobs.Now())
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	mux.HandleFunc("GET "+base+"/{tag}", s.wrap(k.ext, func(w http.ResponseWriter, r *http.Request, who *simcore.Identity) *apiError {
		o, err := find(r, who, false)
		if err != nil {
			return err
		}
		if !slices.Contains(o.base().Tags, r.PathValue("tag")) {
			return errf(http.StatusNotFound, "TagNotFound", "Tag %s could not be found.", r.PathValue("tag"))
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	mux.HandleFunc("PUT "+base+"/{tag}", s.wrap(k.ext, func(w http.ResponseWriter, r *http.Request, who *simcore.Identity) *apiError {
		o, err := find(r, who, true)
		if err != nil {
			return err
		}
		tags, aerr := normTags(append(slices.Clone(o.base().Tags), r.PathValue("tag")))
		if aerr != nil {
			return aerr
		}
		if !slices.Equal(tags, o.base().Tags) {
			o.base().Tags = tags
			o.base().touch(s.knobs.Now())
		}
		w.WriteHeader(http.StatusCreated)
		return nil
	}))
	mux.HandleFunc("DELETE "+base+"/{tag}", s.wrap(k.ext, func(w http.ResponseWriter, r *http.Request, who *simcore.Identity) *apiError {
		o, err := find(r, who, true)
		if err != nil {
			return err
		}
		t := r.PathValue("tag")
		if !slices.Contains(o.base().Tags, t) {
			return errf(http.StatusNotFound, "TagNotFound", "Tag %s could not be found.", t)
		}
		o.base().Tags = slices.DeleteFunc(slices.Clone(o.base().Tags), func(x string) bool { return x == t })
		o.base().touch(s.knobs.Now())
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
}
