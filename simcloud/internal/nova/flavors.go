package nova

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

func flavorLinks(r *http.Request, id string) []any {
	return []any{
		map[string]any{"rel": "self", "href": baseURL(r) + "/v2.1/flavors/" + id},
		map[string]any{"rel": "bookmark", "href": baseURL(r) + "/flavors/" + id},
	}
}

func flavorView(r *http.Request, f *flavor, detail bool) map[string]any {
	m := map[string]any{"id": f.ID, "name": f.Name, "links": flavorLinks(r, f.ID)}
	if mv(r) >= 55 {
		m["description"] = nilIfEmpty(f.Description)
	}
	if !detail {
		return m
	}
	swap := any("") // Nova shows no swap as ""
	if f.Swap > 0 {
		swap = f.Swap
	}
	m["vcpus"], m["ram"], m["disk"], m["swap"] = f.VCPUs, f.RAM, f.Disk, swap
	m["OS-FLV-EXT-DATA:ephemeral"] = f.Ephemeral
	m["OS-FLV-DISABLED:disabled"] = false
	m["os-flavor-access:is_public"] = f.Public
	if mv(r) < 75 { // removed in 2.75
		m["rxtx_factor"] = f.RxTx
	}
	if mv(r) >= 61 {
		m["extra_specs"] = specs(f)
	}
	return m
}

func specs(f *flavor) map[string]string {
	if f.ExtraSpecs == nil {
		return map[string]string{}
	}
	return f.ExtraSpecs
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// listFlavors shows public flavors; an admin may ask for all with
// is_public=none (or private ones with is_public=false), as in Nova.
func (s *Service) listFlavors(detail bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		pub := "true"
		if caller(r).Admin && q.Get("is_public") != "" {
			pub = strings.ToLower(q.Get("is_public"))
		}
		minDisk, _ := strconv.Atoi(q.Get("minDisk"))
		minRAM, _ := strconv.Atoi(q.Get("minRam"))
		var fs []*flavor
		for _, f := range s.st.Flavors {
			if (pub == "true" && !f.Public) || (pub == "false" && f.Public) {
				continue
			}
			if f.Disk < minDisk || f.RAM < minRAM {
				continue
			}
			fs = append(fs, f)
		}
		slices.SortFunc(fs, func(a, b *flavor) int { return cmp.Compare(a.ID, b.ID) })
		page, links, ok := paginate(w, r, fs, func(f *flavor) string { return f.ID })
		if !ok {
			return
		}
		out := []any{}
		for _, f := range page {
			out = append(out, flavorView(r, f, detail))
		}
		body := map[string]any{"flavors": out}
		if links != nil {
			body["flavors_links"] = links
		}
		simcore.WriteJSON(w, http.StatusOK, body)
	}
}

// flavorFor finds a flavor, writing Nova's 404 if there is none. Private
// flavors are visible to admins only (no os-flavor-access here).
func (s *Service) flavorFor(w http.ResponseWriter, r *http.Request) (*flavor, bool) {
	id := r.PathValue("id")
	f, ok := s.st.Flavors[id]
	if !ok || (!f.Public && !caller(r).Admin) {
		faults.Writef(w, http.StatusNotFound, "Flavor %s could not be found.", id)
		return nil, false
	}
	return f, true
}

func (s *Service) showFlavor(w http.ResponseWriter, r *http.Request) {
	if f, ok := s.flavorFor(w, r); ok {
		simcore.WriteJSON(w, http.StatusOK, map[string]any{"flavor": flavorView(r, f, true)})
	}
}

// adminOnly writes Nova's policy 403 for non-admins.
func adminOnly(w http.ResponseWriter, r *http.Request, rule string) bool {
	if caller(r).Admin {
		return true
	}
	faults.Writef(w, http.StatusForbidden, "Policy doesn't allow %s to be performed.", rule)
	return false
}

func (s *Service) createFlavor(w http.ResponseWriter, r *http.Request) {
	if !adminOnly(w, r, "os_compute_api:os-flavor-manage:create") {
		return
	}
	var body struct {
		Flavor *struct {
			Name        string   `json:"name"`
			ID          *string  `json:"id"`
			VCPUs       int      `json:"vcpus"`
			RAM         int      `json:"ram"`
			Disk        *int     `json:"disk"`
			Ephemeral   int      `json:"OS-FLV-EXT-DATA:ephemeral"`
			Swap        int      `json:"swap"`
			RxTx        *float64 `json:"rxtx_factor"`
			Public      *bool    `json:"os-flavor-access:is_public"`
			Description string   `json:"description"`
		} `json:"flavor"`
	}
	if err := simcore.ReadJSON(r, &body); err != nil || body.Flavor == nil {
		faults.Write(w, http.StatusBadRequest, "Invalid input for field/attribute flavor.")
		return
	}
	b := body.Flavor
	switch {
	case strings.TrimSpace(b.Name) == "" || len(b.Name) > 255:
		faults.Write(w, http.StatusBadRequest, "Invalid input for field/attribute name.")
		return
	case b.VCPUs < 1:
		faults.Write(w, http.StatusBadRequest, "Invalid input for field/attribute vcpus. Value: 0. 0 is less than the minimum of 1")
		return
	case b.RAM < 1:
		faults.Write(w, http.StatusBadRequest, "Invalid input for field/attribute ram. Value: 0. 0 is less than the minimum of 1")
		return
	case b.Disk == nil || *b.Disk < 0 || b.Ephemeral < 0 || b.Swap < 0:
		faults.Write(w, http.StatusBadRequest, "Invalid input for field/attribute disk.")
		return
	case b.Description != "" && mv(r) < 55:
		faults.Write(w, http.StatusBadRequest, "Invalid input for field/attribute flavor. Additional properties are not allowed ('description' was unexpected)")
		return
	}
	f := &flavor{Name: b.Name, VCPUs: b.VCPUs, RAM: b.RAM, Disk: *b.Disk, Ephemeral: b.Ephemeral,
		Swap: b.Swap, RxTx: 1, Public: true, Description: b.Description}
	if b.ID != nil && *b.ID != "" && *b.ID != "auto" {
		f.ID = *b.ID
	} else {
		f.ID = simcore.NewID()
	}
	if b.RxTx != nil {
		f.RxTx = *b.RxTx
	}
	if b.Public != nil {
		f.Public = *b.Public
	}
	if _, dup := s.st.Flavors[f.ID]; dup {
		faults.Writef(w, http.StatusConflict, "Flavor with ID %s already exists.", f.ID)
		return
	}
	for _, o := range s.st.Flavors {
		if o.Name == f.Name {
			faults.Writef(w, http.StatusConflict, "Flavor with name %s already exists.", f.Name)
			return
		}
	}
	s.st.Flavors[f.ID] = f
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"flavor": flavorView(r, f, true)})
}

func (s *Service) deleteFlavor(w http.ResponseWriter, r *http.Request) {
	if !adminOnly(w, r, "os_compute_api:os-flavor-manage:delete") {
		return
	}
	if f, ok := s.flavorFor(w, r); ok {
		delete(s.st.Flavors, f.ID)
		w.WriteHeader(http.StatusAccepted)
	}
}

func (s *Service) listExtraSpecs(w http.ResponseWriter, r *http.Request) {
	if f, ok := s.flavorFor(w, r); ok {
		simcore.WriteJSON(w, http.StatusOK, map[string]any{"extra_specs": specs(f)})
	}
}

func (s *Service) setExtraSpecs(w http.ResponseWriter, r *http.Request) {
	if !adminOnly(w, r, "os_compute_api:os-flavor-extra-specs:create") {
		return
	}
	f, ok := s.flavorFor(w, r)
	if !ok {
		return
	}
	var body struct {
		ExtraSpecs map[string]string `json:"extra_specs"`
	}
	if err := simcore.ReadJSON(r, &body); err != nil || body.ExtraSpecs == nil {
		faults.Write(w, http.StatusBadRequest, "Invalid input for field/attribute extra_specs.")
		return
	}
	if f.ExtraSpecs == nil {
		f.ExtraSpecs = map[string]string{}
	}
	for k, v := range body.ExtraSpecs {
		f.ExtraSpecs[k] = v
	}
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"extra_specs": body.ExtraSpecs})
}

func (s *Service) showExtraSpec(w http.ResponseWriter, r *http.Request) {
	f, ok := s.flavorFor(w, r)
	if !ok {
		return
	}
	key := r.PathValue("key")
	v, ok := f.ExtraSpecs[key]
	if !ok {
		faults.Writef(w, http.StatusNotFound, "Flavor %s has no extra specs with key %s.", f.ID, key)
		return
	}
	simcore.WriteJSON(w, http.StatusOK, map[string]string{key: v})
}

func (s *Service) putExtraSpec(w http.ResponseWriter, r *http.Request) {
	if !adminOnly(w, r, "os_compute_api:os-flavor-extra-specs:update") {
		return
	}
	f, ok := s.flavorFor(w, r)
	if !ok {
		return
	}
	key := r.PathValue("key")
	var body map[string]string
	if err := simcore.ReadJSON(r, &body); err != nil || len(body) != 1 {
		faults.Write(w, http.StatusBadRequest, "Request body contains too many items")
		return
	}
	v, ok := body[key]
	if !ok {
		faults.Write(w, http.StatusBadRequest, "Request body and URI mismatch")
		return
	}
	if f.ExtraSpecs == nil {
		f.ExtraSpecs = map[string]string{}
	}
	f.ExtraSpecs[key] = v
	simcore.WriteJSON(w, http.StatusOK, body)
}

func (s *Service) deleteExtraSpec(w http.ResponseWriter, r *http.Request) {
	if !adminOnly(w, r, "os_compute_api:os-flavor-extra-specs:delete") {
		return
	}
	f, ok := s.flavorFor(w, r)
	if !ok {
		return
	}
	key := r.PathValue("key")
	if _, ok := f.ExtraSpecs[key]; !ok {
		faults.Writef(w, http.StatusNotFound, "Flavor %s has no extra specs with key %s.", f.ID, key)
		return
	}
	delete(f.ExtraSpecs, key)
	w.WriteHeader(http.StatusOK)
}
