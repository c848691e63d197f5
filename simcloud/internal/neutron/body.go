package neutron

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// attrs is the inner object of a request body ({"network": {...}}), kept
// raw so handlers can tell an absent attribute from an explicit null and
// reject attributes Neutron does not know.
type attrs map[string]json.RawMessage

// readBody decodes {"<key>": {...}}; a missing envelope is a 400, as in
// Neutron ("Resource body required" / "Unable to find 'network' in request body").
func readBody(r *http.Request, key string) (attrs, *apiError) {
	var env map[string]json.RawMessage
	if err := simcore.ReadJSON(r, &env); err != nil {
		return nil, badRequest("Malformed request body: %v", err)
	}
	return bodyAttrs(env, key)
}

// bodyAttrs is the object under key of a request body.
func bodyAttrs(env map[string]json.RawMessage, key string) (attrs, *apiError) {
	raw, ok := env[key]
	if !ok {
		return nil, badRequest("Unable to find '%s' in request body", key)
	}
	var a attrs
	if err := json.Unmarshal(raw, &a); err != nil || a == nil {
		return nil, badRequest("Malformed request body: '%s' must be an object", key)
	}
	return a, nil
}

// check rejects attributes outside allowed, as Neutron's API layer does
// ("Unrecognized attribute(s) 'foo'"), and read-only ones on create/update.
func (a attrs) check(allowed ...string) *apiError {
	var bad []string
	for k := range a {
		if !slices.Contains(allowed, k) {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return badRequest("Unrecognized attribute(s) '%s'", strings.Join(bad, ", "))
	}
	return nil
}

// decode fills v (a struct with json tags) from the attributes.
func (a attrs) decode(v any) *apiError {
	b, _ := json.Marshal(map[string]json.RawMessage(a))
	if err := json.Unmarshal(b, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return badRequest("Invalid input for %s. Reason: '%s' is not a valid %s.", te.Field, te.Value, te.Type)
		}
		return badRequest("Invalid input: %v", err)
	}
	return nil
}

func (a attrs) has(k string) bool { _, ok := a[k]; return ok }

func (a attrs) isNull(k string) bool { return string(a[k]) == "null" }

// project resolves the owner of a new resource: the caller's project, or
// project_id/tenant_id, which only an admin may set to another project.
func project(who *simcore.Identity, a attrs) (string, *apiError) {
	p := who.ProjectID
	for _, k := range []string{"project_id", "tenant_id"} {
		if !a.has(k) {
			continue
		}
		var v string
		if err := json.Unmarshal(a[k], &v); err != nil {
			return "", badRequest("Invalid input for %s. Reason: not a string.", k)
		}
		if v != "" && v != who.ProjectID && !who.Admin {
			return "", badRequest("Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges")
		}
		if v != "" {
			p = v
		}
	}
	return p, nil
}

// checkIfMatch honours "If-Match: revision_number=N" (revision-if-match
// extension): a stale revision is a 412, so concurrent writers notice.
func (s *Service) checkIfMatch(r *http.Request, o object) *apiError {
	h := r.Header.Get("If-Match")
	if h == "" || !s.ext("revision-if-match") {
		return nil
	}
	for _, c := range strings.Split(h, ",") {
		v, ok := strings.CutPrefix(strings.TrimSpace(c), "revision_number=")
		if !ok {
			return badRequest("Unrecognized If-Match header %q: only revision_number=N is supported", c)
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return badRequest("Invalid revision_number %q in If-Match header", v)
		}
		if cur := o.base().Revision; n != cur {
			return errf(http.StatusPreconditionFailed, "RevisionNumberConstraintFailed",
				"Constrained to %d, but current revision is %d", n, cur)
		}
	}
	return nil
}

// common attributes every resource accepts on create.
var createCommon = []string{"name", "description", "project_id", "tenant_id"}

// withTags adds "tags" to the allowed create attributes when the
// tag-creation extension is on (Neutron's tags-in-POST, since Yoga).
func (s *Service) withTags(allowed []string) []string {
	if s.ext("tag-creation") {
		return append(allowed, "tags")
	}
	return allowed
}

// newStdFrom fills name, description and tags from a create body.
func (s *Service) newStdFrom(a attrs, projectID string) (std, *apiError) {
	var in struct {
		Name        string   `json:"name"`
		Description string   `json:"description"`
		Tags        []string `json:"tags"`
	}
	if err := a.decode(&in); err != nil {
		return std{}, err
	}
	st := s.newStd(projectID, in.Name, in.Description)
	if in.Tags != nil {
		tags, err := normTags(in.Tags)
		if err != nil {
			return std{}, err
		}
		st.Tags = tags
	}
	return st, nil
}

// updateStd applies name and description from an update body (the update
// handler bumps the revision if anything changed).
func updateStd(a attrs, st *std) *apiError {
	var in struct {
		Name        *string `json:"name"`
		Description *string `json:"description"`
	}
	if err := a.decode(&in); err != nil {
		return err
	}
	if in.Name != nil {
		st.Name = *in.Name
	}
	if in.Description != nil {
		st.Description = *in.Description
	}
	return nil
}
