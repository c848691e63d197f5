package neutron

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// Trunks (the trunk and trunk-details extensions): a parent port carries
// VLAN-tagged subports, each a port on its own network. Every answer here
// was read from a real Zed Neutron with the trunk service plugin and no
// agents (../shared/realcloud):
//   - a new trunk is at revision_number 0 (not 1 like other resources) and
//     stays status DOWN without agents, even with its parent bound to an
//     ACTIVE server; subports stay unbound (device_owner "", device_id "");
//   - add_subports and remove_subports answer 200 with the trunk itself,
//     not wrapped in {"trunk": ...}; get_subports answers {"sub_ports": [...]};
//   - the parent port shows trunk_details {trunk_id, sub_ports with
//     mac_address}; other ports have no trunk_details key;
//   - deleting a trunk whose parent is bound to a running server succeeds
//     (204) on an OVS-style cloud; a disabled trunk (admin_state_up false)
//     refuses delete and add_subports with 409 TrunkDisabled.
type trunk struct {
	std
	PortID       string    `json:"port_id"`
	AdminStateUp bool      `json:"admin_state_up"`
	Subports     []subport `json:"sub_ports"`
}

type subport struct {
	PortID           string `json:"port_id"`
	SegmentationType string `json:"segmentation_type"`
	SegmentationID   int    `json:"segmentation_id"`
}

func trunkNotFound(id string) *apiError {
	return errf(http.StatusNotFound, "TrunkNotFound", "Trunk %s could not be found.", id)
}

func (s *Service) trunkKind() *kind {
	return &kind{
		singular: "trunk", plural: "trunks", path: "trunks", ext: "trunk", tagged: true,
		all: func() []object { return values(s.st.Trunks) },
		get: func(id string) object {
			if t, ok := s.st.Trunks[id]; ok {
				return t
			}
			return nil
		},
		visible:  owned,
		render:   func(who *simcore.Identity, o object) map[string]any { return renderTrunk(o.(*trunk)) },
		notFound: trunkNotFound,
		create:   s.createTrunk,
		update:   func(who *simcore.Identity, o object, a attrs) *apiError { return updateTrunk(o.(*trunk), a) },
		remove:   func(who *simcore.Identity, o object) *apiError { return s.deleteTrunk(o.(*trunk)) },
	}
}

func renderTrunk(t *trunk) map[string]any {
	m := t.attrs()
	m["port_id"] = t.PortID
	m["admin_state_up"] = t.AdminStateUp
	m["status"] = "DOWN"
	subs := []map[string]any{}
	for _, sp := range t.Subports {
		subs = append(subs, map[string]any{"port_id": sp.PortID, "segmentation_type": sp.SegmentationType,
			"segmentation_id": sp.SegmentationID})
	}
	m["sub_ports"] = subs
	return m
}

// trunkDetails is what the parent port shows (trunk-details extension),
// nil for a port that is no trunk's parent.
func (s *Service) trunkDetails(p *port) map[string]any {
	if !s.ext("trunk-details") {
		return nil
	}
	for _, t := range s.st.Trunks {
		if t.PortID != p.ID {
			continue
		}
		subs := []map[string]any{}
		for _, sp := range t.Subports {
			mac := ""
			if sub, ok := s.st.Ports[sp.PortID]; ok {
				mac = sub.MAC
			}
			subs = append(subs, map[string]any{"segmentation_id": sp.SegmentationID,
				"segmentation_type": sp.SegmentationType, "port_id": sp.PortID, "mac_address": mac})
		}
		return map[string]any{"trunk_id": t.ID, "sub_ports": subs}
	}
	return nil
}

// portTrunk says which trunk uses a port, as its parent or as a subport.
func (s *Service) portTrunk(portID string) (t *trunk, parent bool) {
	for _, t := range sorted(s.st.Trunks) {
		if t.PortID == portID {
			return t, true
		}
		for _, sp := range t.Subports {
			if sp.PortID == portID {
				return t, false
			}
		}
	}
	return nil, false
}

// trunkPortDeletable is the port plugin's check before a port delete:
// Neutron's trunk plugin refuses to delete a port a trunk uses.
func (s *Service) trunkPortDeletable(p *port) *apiError {
	t, parent := s.portTrunk(p.ID)
	switch {
	case t == nil:
		return nil
	case parent:
		return errf(http.StatusConflict, "PortInUseAsTrunkParent",
			"Port %s is currently a parent port for trunk %s.", p.ID, t.ID)
	default:
		return errf(http.StatusConflict, "PortInUseAsSubPort",
			"Port %s is currently a subport for trunk %s.", p.ID, t.ID)
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// subportIn is one element of sub_ports as sent; pointers tell absent
// segmentation details from zero.
type subportIn struct {
	PortID           string  `json:"port_id"`
	SegmentationType *string `json:"segmentation_type"`
	SegmentationID   *int    `json:"segmentation_id"`
}

// parseSubports validates sub_ports the way Neutron's API layer does,
// before any lookup: UUIDs, uniqueness, both segmentation details, type
// vlan, ID 1-4094. removing: only port_id is needed.
func parseSubports(raw json.RawMessage, removing bool) ([]subport, *apiError) {
	var in []subportIn
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, badRequest("Invalid input for sub_ports. Reason: %v", err)
	}
	var out []subport
	seen := map[string]bool{}
	for _, sp := range in {
		if !uuidRE.MatchString(sp.PortID) {
			return nil, invalidInput("Invalid UUID for subport: '%s'", sp.PortID)
		}
		if seen[sp.PortID] {
			return nil, invalidInput("Non unique UUID for subport: '%s'", sp.PortID)
		}
		seen[sp.PortID] = true
		if removing {
			out = append(out, subport{PortID: sp.PortID})
			continue
		}
		if sp.SegmentationType == nil || sp.SegmentationID == nil {
			return nil, invalidInput("Invalid subport details '%s': missing segmentation information. Must specify both segmentation_id and segmentation_type",
				subportRepr(sp))
		}
		if *sp.SegmentationType != "vlan" {
			return nil, invalidInput("Unknown segmentation_type '%s'", *sp.SegmentationType)
		}
		if id := *sp.SegmentationID; id < 1 || id > 4094 {
			return nil, invalidInput("Segmentation ID '%d' is not in range", id)
		}
		out = append(out, subport{PortID: sp.PortID, SegmentationType: *sp.SegmentationType, SegmentationID: *sp.SegmentationID})
	}
	return out, nil
}

// subportRepr prints a subport as Python prints the dict Neutron got.
func subportRepr(sp subportIn) string {
	r := "{'port_id': '" + sp.PortID + "'"
	if sp.SegmentationType != nil {
		r += ", 'segmentation_type': '" + *sp.SegmentationType + "'"
	}
	if sp.SegmentationID != nil {
		b, _ := json.Marshal(*sp.SegmentationID)
		r += ", 'segmentation_id': " + string(b)
	}
	return r + "}"
}

// checkTrunkPort refuses a port another trunk (or this one) already uses:
// a parent port is ParentPortInUse, a subport TrunkPortInUse.
func (s *Service) checkTrunkPort(who *simcore.Identity, portID string) *apiError {
	p, ok := s.st.Ports[portID]
	if !ok || !owned(who, p) {
		return portNotFound(portID)
	}
	if t, parent := s.portTrunk(portID); t != nil {
		if parent {
			return errf(http.StatusConflict, "ParentPortInUse",
				"Port %s is currently in use and is not eligible for use as a parent port.", portID)
		}
		return errf(http.StatusConflict, "TrunkPortInUse", "Port %s is in use by another trunk.", portID)
	}
	return nil
}

// addSubports checks and adds subports to t (a new trunk too): each port
// free, each (type, ID) unused on this trunk (DuplicateSubPort).
func (s *Service) addSubports(who *simcore.Identity, t *trunk, subs []subport) *apiError {
	for _, sp := range subs {
		if sp.PortID == t.PortID {
			return errf(http.StatusConflict, "ParentPortInUse",
				"Port %s is currently in use and is not eligible for use as a parent port.", sp.PortID)
		}
		if err := s.checkTrunkPort(who, sp.PortID); err != nil {
			return err
		}
	}
	if err := s.checkSubportMTU(t, subs); err != nil {
		return err
	}
	used := map[int]bool{}
	for _, sp := range t.Subports {
		used[sp.SegmentationID] = true
	}
	for _, sp := range subs {
		if used[sp.SegmentationID] {
			return errf(http.StatusConflict, "DuplicateSubPort",
				"segmentation_type %s and segmentation_id %d already in use on trunk %s.", sp.SegmentationType, sp.SegmentationID, t.ID)
		}
		used[sp.SegmentationID] = true
	}
	t.Subports = append(t.Subports, subs...)
	return nil
}

// checkSubportMTU refuses a subport whose network's MTU is larger than the
// parent port's network's, as real Zed does (net-mtu on):
// 409 SubPortMtuGreaterThanTrunkPortMtu "MTU 1450 of subport PORT cannot be
// greater than MTU 1400 of trunk PARENT." (Neutron names the parent port
// as the trunk).
func (s *Service) checkSubportMTU(t *trunk, subs []subport) *apiError {
	if !s.ext("net-mtu") {
		return nil
	}
	mtuOf := func(portID string) int {
		if p, ok := s.st.Ports[portID]; ok {
			if n, ok := s.st.Networks[p.NetworkID]; ok {
				return n.MTU
			}
		}
		return 0
	}
	parent := mtuOf(t.PortID)
	for _, sp := range subs {
		if m := mtuOf(sp.PortID); parent > 0 && m > parent {
			return errf(http.StatusConflict, "SubPortMtuGreaterThanTrunkPortMtu",
				"MTU %d of subport %s cannot be greater than MTU %d of trunk %s.", m, sp.PortID, parent, t.PortID)
		}
	}
	return nil
}

type trunkIn struct {
	PortID       string `json:"port_id"`
	AdminStateUp *bool  `json:"admin_state_up"`
}

func (s *Service) createTrunk(who *simcore.Identity, a attrs) (object, *apiError) {
	if a.has("tags") && !s.ext("tag-creation") {
		// Real Zed's answer: tags exist on trunks, but not in a POST.
		return nil, badRequest("Attribute 'tags' not allowed in POST")
	}
	if err := a.check(s.withTags(append(slices.Clone(createCommon), "port_id", "admin_state_up", "sub_ports"))...); err != nil {
		return nil, err
	}
	proj, err := project(who, a)
	if err != nil {
		return nil, err
	}
	var in trunkIn
	if err := a.decode(&in); err != nil {
		return nil, err
	}
	if in.PortID == "" {
		return nil, badRequest("Failed to parse request. Required attribute 'port_id' not specified")
	}
	var subs []subport
	if a.has("sub_ports") && !a.isNull("sub_ports") {
		if subs, err = parseSubports(a["sub_ports"], false); err != nil {
			return nil, err
		}
	}
	// Neutron's API layer counts the project's trunks before the plugin
	// looks at the ports: 409 OverQuota "Quota exceeded for resources:
	// ['trunk']." on real Zed.
	if err := s.checkQuota("trunk", countProject(s.st.Trunks, proj)); err != nil {
		return nil, err
	}
	if err := s.checkTrunkPort(who, in.PortID); err != nil {
		return nil, err
	}
	st, err := s.newStdFrom(a, proj)
	if err != nil {
		return nil, err
	}
	st.Revision = 0
	t := &trunk{std: st, PortID: in.PortID, AdminStateUp: true, Subports: []subport{}}
	setBool(&t.AdminStateUp, in.AdminStateUp)
	if err := s.addSubports(who, t, subs); err != nil {
		return nil, err
	}
	s.st.Trunks[t.ID] = t
	return t, nil
}

// updateTrunk: name, description and admin_state_up; port_id is fixed.
func updateTrunk(t *trunk, a attrs) *apiError {
	for _, ro := range []string{"port_id", "sub_ports"} {
		if a.has(ro) {
			return badRequest("Cannot update read-only attribute %s", ro)
		}
	}
	if err := a.check("name", "description", "admin_state_up"); err != nil {
		return err
	}
	var in trunkIn
	if err := a.decode(&in); err != nil {
		return err
	}
	if err := updateStd(a, &t.std); err != nil {
		return err
	}
	setBool(&t.AdminStateUp, in.AdminStateUp)
	return nil
}

func trunkDisabled(t *trunk) *apiError {
	return errf(http.StatusConflict, "TrunkDisabled", "Trunk %s is currently disabled.", t.ID)
}

func (s *Service) deleteTrunk(t *trunk) *apiError {
	if !t.AdminStateUp {
		return trunkDisabled(t)
	}
	delete(s.st.Trunks, t.ID)
	return nil
}

// subportsHandler serves PUT /v2.0/trunks/{id}/add_subports and
// remove_subports: the body is {"sub_ports": [...]}, without a "trunk"
// envelope, and so is the answer.
func (s *Service) subportsHandler(removing bool) handler {
	return func(w http.ResponseWriter, r *http.Request, who *simcore.Identity) *apiError {
		o, err := s.trunkKind().lookup(who, r.PathValue("id"))
		if err != nil {
			return err
		}
		t := o.(*trunk)
		var body map[string]json.RawMessage
		if e := simcore.ReadJSON(r, &body); e != nil {
			return badRequest("Malformed request body: %v", e)
		}
		raw, ok := body["sub_ports"]
		if !ok {
			return badRequest("Unable to find 'sub_ports' in request body")
		}
		subs, err := parseSubports(raw, removing)
		if err != nil {
			return err
		}
		if !t.AdminStateUp {
			return trunkDisabled(t)
		}
		if removing {
			err = removeSubports(t, subs)
		} else {
			err = s.addSubports(who, t, subs)
		}
		if err != nil {
			return err
		}
		t.touch(s.knobs.Now())
		simcore.WriteJSON(w, http.StatusOK, renderTrunk(t))
		return nil
	}
}

// removeSubports removes all or nothing: an ID that is not a subport of
// this trunk is a 404 SubPortNotFound.
func removeSubports(t *trunk, subs []subport) *apiError {
	keep := slices.Clone(t.Subports)
	for _, sp := range subs {
		i := slices.IndexFunc(keep, func(k subport) bool { return k.PortID == sp.PortID })
		if i < 0 {
			return errf(http.StatusNotFound, "SubPortNotFound", "SubPort %s on trunk %s could not be found.", sp.PortID, t.ID)
		}
		keep = slices.Delete(keep, i, i+1)
	}
	t.Subports = keep
	return nil
}

func (s *Service) getSubports(w http.ResponseWriter, r *http.Request, who *simcore.Identity) *apiError {
	o, err := s.trunkKind().lookup(who, r.PathValue("id"))
	if err != nil {
		return err
	}
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"sub_ports": renderTrunk(o.(*trunk))["sub_ports"]})
	return nil
}
