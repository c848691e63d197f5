package neutron

import (
	"encoding/json"
	"net/http"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// kind describes one API resource to the shared machinery (list, show,
// update, delete, tags, If-Match); each resource's file supplies the parts
// that differ.
type kind struct {
	singular, plural string // JSON keys: "security_group", "security_groups"
	path             string // URL collection: "security-groups"
	ext              string // extension that must be enabled; "" = core
	tagged           bool
	bulk             bool                   // POST also takes a list under plural (Neutron's bulk create)
	all              func() []object        // in no particular order
	get              func(id string) object // nil when absent
	visible          func(who *simcore.Identity, o object) bool
	render           func(who *simcore.Identity, o object) map[string]any
	// encode, where a kind has it, is render as a value encoding/json
	// writes byte for byte as it writes render's map, without the map:
	// lists use it when nothing needs the map (no fields=, no filter
	// beyond the standard and exact attributes).
	encode func(who *simcore.Identity, o object) any
	// exact, where a kind has it, gives stored attributes that render
	// shows as they are (strings), so that an equality filter on them
	// is applied before rendering, as stdMatch applies id and name.
	exact    map[string]func(o object) string
	notFound func(id string) *apiError
	create   func(who *simcore.Identity, a attrs) (object, *apiError)
	update   func(who *simcore.Identity, o object, a attrs) *apiError
	remove   func(who *simcore.Identity, o object) *apiError
}

// kinds is the one place resources are registered.
func (s *Service) kinds() []*kind {
	return []*kind{s.networkKind(), s.subnetKind(), s.portKind(), s.routerKind(),
		s.secGroupKind(), s.sgRuleKind(), s.floatingIPKind(), s.trunkKind()}
}

// values lists a store map's objects, in no particular order (lists sort
// them: Service.ordered). Kinds call it on each request (never capture a
// map): Restore replaces the whole store.
func values[T object](m map[string]T) []object {
	out := make([]object, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func owned(who *simcore.Identity, o object) bool {
	return who.Admin || o.base().ProjectID == who.ProjectID
}

// lookup finds a visible object; another project's resource is a 404 to a
// non-admin, exactly like an unknown id, so IDs leak nothing.
func (k *kind) lookup(who *simcore.Identity, id string) (object, *apiError) {
	o := k.get(id)
	if o == nil || !k.visible(who, o) {
		return nil, k.notFound(id)
	}
	return o, nil
}

func (s *Service) showHandler(k *kind) handler {
	return func(w http.ResponseWriter, r *http.Request, who *simcore.Identity) *apiError {
		o, err := k.lookup(who, r.PathValue("id"))
		if err != nil {
			return err
		}
		m := selectFields(k.render(who, o), r.URL.Query()["fields"])
		simcore.WriteJSON(w, http.StatusOK, map[string]any{k.singular: m})
		return nil
	}
}

func (s *Service) createHandler(k *kind) handler {
	return func(w http.ResponseWriter, r *http.Request, who *simcore.Identity) *apiError {
		var env map[string]json.RawMessage
		if err := simcore.ReadJSON(r, &env); err != nil {
			return badRequest("Malformed request body: %v", err)
		}
		if raw, ok := env[k.plural]; ok && k.bulk {
			return s.bulkCreate(w, who, k, raw)
		}
		a, err := bodyAttrs(env, k.singular)
		if err != nil {
			return err
		}
		o, err := k.create(who, a)
		if err != nil {
			return err
		}
		simcore.WriteJSON(w, http.StatusCreated, map[string]any{k.singular: k.render(who, o)})
		return nil
	}
}

// bulkCreate is POST with a list of objects (Neutron's bulk create, for
// ports): all are made or none. Real Zed answers a list with one bad
// item with that item's error (409 IpAddressAlreadyAllocated for an
// address taken) and creates nothing; it ignores tags in the items
// unless it lists tag-ports-during-bulk-creation (Zed does not: the
// ports come back with no tags, 201). It also ignores allowed address
// pairs in the items (probed on Zed: a bulk item with
// allowed_address_pairs comes back, and stays, with [], while a single
// create keeps them; its ML2 bulk create skips that extension).
func (s *Service) bulkCreate(w http.ResponseWriter, who *simcore.Identity, k *kind, raw json.RawMessage) *apiError {
	var items []attrs
	if err := json.Unmarshal(raw, &items); err != nil {
		return badRequest("Malformed request body: '%s' must be a list of objects", k.plural)
	}
	made := make([]object, 0, len(items))
	for _, a := range items {
		if a == nil {
			err := badRequest("Malformed request body: '%s' must be a list of objects", k.plural)
			s.undoCreates(who, k, made)
			return err
		}
		if !s.ext("tag-ports-during-bulk-creation") {
			delete(a, "tags")
		}
		delete(a, "allowed_address_pairs")
		o, err := k.create(who, a)
		if err != nil {
			s.undoCreates(who, k, made)
			return err
		}
		made = append(made, o)
	}
	out := make([]any, len(made))
	for i, o := range made {
		out[i] = k.render(who, o)
	}
	simcore.WriteJSON(w, http.StatusCreated, map[string]any{k.plural: out})
	return nil
}

// undoCreates removes what a failed bulk create made, newest first.
func (s *Service) undoCreates(who *simcore.Identity, k *kind, made []object) {
	for i := len(made) - 1; i >= 0; i-- {
		_ = k.remove(who, made[i])
	}
}

func (s *Service) updateHandler(k *kind) handler {
	return func(w http.ResponseWriter, r *http.Request, who *simcore.Identity) *apiError {
		o, err := k.lookup(who, r.PathValue("id"))
		if err != nil {
			return err
		}
		if !owned(who, o) {
			return policyError("update_" + k.singular)
		}
		if err := s.checkIfMatch(r, o); err != nil {
			return err
		}
		a, err := readBody(r, k.singular)
		if err != nil {
			return err
		}
		before := s.fingerprint(k, o)
		if err := k.update(who, o, a); err != nil {
			return err
		}
		// As in Neutron, an update that changes nothing keeps the revision,
		// so a client re-applying the same values sees no change.
		if s.fingerprint(k, o) != before {
			o.base().touch(s.knobs.Now())
		}
		simcore.WriteJSON(w, http.StatusOK, map[string]any{k.singular: k.render(who, o)})
		return nil
	}
}

func (s *Service) deleteHandler(k *kind) handler {
	return func(w http.ResponseWriter, r *http.Request, who *simcore.Identity) *apiError {
		o, err := k.lookup(who, r.PathValue("id"))
		if err != nil {
			return err
		}
		if !owned(who, o) {
			return policyError("delete_" + k.singular)
		}
		if err := s.checkIfMatch(r, o); err != nil {
			return err
		}
		if err := k.remove(who, o); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// fingerprint is the full (admin) view of an object, for change detection.
func (s *Service) fingerprint(k *kind, o object) string {
	b, _ := json.Marshal(k.render(&simcore.Identity{Admin: true}, o))
	return string(b)
}

// checkQuota returns OverQuota when project already has its limit of
// resource (count is how many it owns now).
func (s *Service) checkQuota(resource string, count int) *apiError {
	if lim, ok := s.quotas[resource]; ok && lim >= 0 && count >= lim {
		return overQuota(resource)
	}
	return nil
}
