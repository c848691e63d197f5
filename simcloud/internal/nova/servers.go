package nova

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"path"
	"strings"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// createBody is the part of POST /servers the simulator reads.
type createBody struct {
	Server *struct {
		Name        string            `json:"name"`
		Description *string           `json:"description"`
		ImageRef    string            `json:"imageRef"`
		FlavorRef   string            `json:"flavorRef"`
		KeyName     string            `json:"key_name"`
		UserData    *string           `json:"user_data"`
		Metadata    map[string]string `json:"metadata"`
		Tags        []string          `json:"tags"`
		AZ          string            `json:"availability_zone"`
		Networks    json.RawMessage   `json:"networks"`
		BDMs        []bdm             `json:"block_device_mapping_v2"`
		AccessIPv4  string            `json:"accessIPv4"`
		AccessIPv6  string            `json:"accessIPv6"`
		MinCount    int               `json:"min_count"`
		MaxCount    int               `json:"max_count"`
	} `json:"server"`
}

// apiError carries Nova's message for a refused request; the caller picks the status.
type apiError struct{ msg string }

func (e apiError) Error() string { return e.msg }

func msgf(format string, args ...any) error { return apiError{fmt.Sprintf(format, args...)} }

// portsFrom reads "networks": a list of {"port": id}, or "none".
func portsFrom(raw json.RawMessage, minor int) ([]string, error) {
	if len(raw) == 0 {
		if minor >= 37 {
			return nil, msgf("Invalid input for field/attribute server. Value: networks. 'networks' is a required property")
		}
		return nil, nil
	}
	var word string
	if json.Unmarshal(raw, &word) == nil {
		switch word {
		case "none":
			return nil, nil
		case "auto":
			return nil, msgf("networks \"auto\" (get-me-a-network) is not supported by the simulator; pass ports")
		}
		return nil, msgf("Invalid input for field/attribute networks. Value: %s.", word)
	}
	var list []struct {
		Port    string `json:"port"`
		UUID    string `json:"uuid"`
		FixedIP string `json:"fixed_ip"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, msgf("Invalid input for field/attribute networks.")
	}
	var ports []string
	for _, n := range list {
		if n.Port == "" {
			return nil, msgf("networks entries without a port (uuid %q) are not supported by the simulator; create a port in Neutron and pass it", n.UUID)
		}
		for _, p := range ports {
			if p == n.Port {
				return nil, msgf("Port %s is used more than once in the request.", n.Port)
			}
		}
		ports = append(ports, n.Port)
	}
	return ports, nil
}

// validTag is Nova's server tag rule: 1-60 chars, no "/" or ",".
func validTag(t string) bool {
	return t != "" && len(t) <= 60 && !strings.ContainsAny(t, "/,")
}

func (s *Service) createServer(w http.ResponseWriter, r *http.Request) {
	var body createBody
	if err := simcore.ReadJSON(r, &body); err != nil || body.Server == nil {
		msg := "Invalid input for field/attribute server."
		var field apiError // a field that says what is wrong with it
		if errors.As(err, &field) {
			msg = field.msg
		}
		faults.Write(w, http.StatusBadRequest, msg)
		return
	}
	sv, status, err := s.newServer(r, body)
	if err != nil {
		faults.Write(w, status, err.Error())
		return
	}
	// Bind the ports and attach the volumes last: if one fails, the ones
	// already bound or attached are released, so a refused create leaves
	// Neutron and Cinder as they were.
	for i, p := range sv.Ports {
		if err := s.ports.BindPort(sv.ProjectID, p, sv.ID, sv.Host); err != nil {
			for _, q := range sv.Ports[:i] {
				s.ports.UnbindPort(q, sv.ID)
			}
			switch {
			case errors.Is(err, simcore.ErrNotFound):
				faults.Writef(w, http.StatusBadRequest, "Port id %s could not be found.", p)
			case errors.Is(err, simcore.ErrPortInUse):
				faults.Writef(w, http.StatusConflict, "Port %s is still in use.", p)
			case errors.Is(err, simcore.ErrForbidden):
				faults.Writef(w, http.StatusBadRequest, "Port %s is not usable for instance %s.", p, sv.ID)
			default:
				faults.Writef(w, http.StatusInternalServerError, "Port %s could not be bound: %v", p, err)
			}
			return
		}
	}
	if status, err := s.attachVolumes(sv); err != nil {
		for _, q := range sv.Ports {
			s.ports.UnbindPort(q, sv.ID)
		}
		faults.Write(w, status, err.Error())
		return
	}
	s.st.Servers[sv.ID] = sv
	pass := make([]byte, 9)
	_, _ = rand.Read(pass)
	w.Header().Set("Location", baseURL(r)+"/v2.1/servers/"+sv.ID)
	simcore.WriteJSON(w, http.StatusAccepted, map[string]any{"server": map[string]any{
		"id": sv.ID, "links": serverLinks(r, sv.ID), "OS-DCF:diskConfig": "MANUAL",
		"security_groups": []any{map[string]any{"name": "default"}},
		"adminPass":       base64.RawURLEncoding.EncodeToString(pass),
	}})
}

// newServer validates a create request in Nova's order and returns the
// server to store, or a status and error.
func (s *Service) newServer(r *http.Request, body createBody) (*server, int, error) {
	b := body.Server
	c := caller(r)
	minor := mv(r)
	if strings.TrimSpace(b.Name) == "" || len(b.Name) > 255 {
		return nil, 400, msgf("Invalid input for field/attribute name.")
	}
	if b.MinCount > 1 || b.MaxCount > 1 {
		return nil, 400, msgf("min_count/max_count above 1 are not supported by the simulator")
	}
	if b.Description != nil && minor < 19 {
		return nil, 400, msgf("Invalid input for field/attribute server. Additional properties are not allowed ('description' was unexpected)")
	}
	if len(b.Tags) > 0 && minor < 52 {
		return nil, 400, msgf("Invalid input for field/attribute server. Additional properties are not allowed ('tags' was unexpected)")
	}
	if len(b.Tags) > 50 {
		return nil, 400, msgf("Invalid input for field/attribute tags. The number of tags exceeds the per-server limit 50")
	}
	for _, t := range b.Tags {
		if !validTag(t) {
			return nil, 400, msgf("Invalid input for field/attribute tags. Value: %s.", t)
		}
	}
	f, ok := s.st.Flavors[path.Base(b.FlavorRef)]
	if !ok || (!f.Public && !c.Admin) {
		return nil, 400, msgf("Flavor %s could not be found.", b.FlavorRef)
	}
	if err := checkBootSequence(b.BDMs); err != nil {
		return nil, 400, err
	}
	// The root disk is a volume when the boot device (boot_index 0) is
	// one; its image, if any, is then only the volume's source.
	volumeBacked, bootImage := false, ""
	for _, d := range b.BDMs {
		if d.SourceType == "" {
			return nil, 400, msgf("Invalid input for field/attribute block_device_mapping_v2. 'source_type' is a required property")
		}
		if d.BootIndex == nil || *d.BootIndex != 0 {
			continue
		}
		if d.DestinationType == "volume" || d.SourceType == "volume" || d.SourceType == "snapshot" {
			volumeBacked = true
		}
		if d.SourceType == "image" {
			bootImage = d.UUID
		}
	}
	imageID := bootImage
	if b.ImageRef != "" {
		imageID = path.Base(b.ImageRef)
	}
	switch {
	case imageID != "":
		if s.images == nil {
			return nil, 400, msgf("Image %s could not be found.", imageID)
		}
		img, ok := s.images.Image(c.ProjectID, imageID)
		minDisk := img.MinDisk
		if !ok {
			return nil, 400, msgf("Image %s could not be found.", imageID)
		}
		if !volumeBacked && f.Disk > 0 && minDisk > f.Disk {
			return nil, 400, msgf("Flavor's disk is too small for requested image. Flavor disk is %d bytes, image is %d bytes.", f.Disk<<30, minDisk<<30)
		}
	case !volumeBacked:
		return nil, 400, msgf("Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.")
	}
	if volumeBacked {
		imageID = "" // Nova shows a volume-backed server's image as ""
	}
	if status, err := s.checkVolumes(c.ProjectID, b.BDMs); err != nil {
		return nil, status, err
	}
	if err := checkDeviceTypes(b.BDMs); err != nil {
		return nil, http.StatusInternalServerError, err
	}
	if b.KeyName != "" {
		if _, ok := s.st.Keypairs[c.UserID+"/"+b.KeyName]; !ok {
			return nil, 400, msgf("Invalid key_name provided.")
		}
	}
	userData := ""
	if b.UserData != nil {
		if _, err := base64.StdEncoding.DecodeString(*b.UserData); err != nil {
			return nil, 400, msgf("User data needs to be valid base 64.")
		}
		if len(*b.UserData) > 65535 {
			return nil, 400, msgf("Invalid input for field/attribute user_data. Value is too long")
		}
		userData = *b.UserData
	}
	if !validMeta(b.Metadata) {
		return nil, 400, msgf("Invalid input for field/attribute metadata.")
	}
	if b.AZ != "" && b.AZ != "nova" {
		return nil, 400, msgf("The requested availability zone is not available")
	}
	ports, err := portsFrom(b.Networks, minor)
	if err != nil {
		return nil, 400, err
	}
	if len(ports) > 0 && s.ports == nil {
		return nil, 400, msgf("Port id %s could not be found.", ports[0])
	}
	if err := s.checkQuota(c.ProjectID, f); err != nil {
		return nil, 403, err
	}
	now := s.knobs.Now().UTC()
	s.st.InstanceSeq++
	sv := &server{
		ID: simcore.NewID(), Name: b.Name, Description: b.Description, ProjectID: c.ProjectID, UserID: c.UserID,
		FlavorID: f.ID, Flavor: flavorCopy(f), ImageID: imageID, BDMs: b.BDMs, KeyName: b.KeyName, UserData: userData,
		Metadata: b.Metadata, Tags: b.Tags, AZ: "nova", Host: s.place(), Ports: ports,
		InstanceName: fmt.Sprintf("instance-%08x", s.st.InstanceSeq), AccessIPv4: b.AccessIPv4, AccessIPv6: b.AccessIPv6,
		Created: now, Updated: now, ReadyAt: now.Add(s.knobs.BuildTime()),
	}
	if msg, ok := s.knobs.ServerFault(b.Name); ok {
		sv.Fault = msg
	}
	return sv, 0, nil
}

// flavorCopy is the flavor as embedded in an instance: later changes to
// the flavor's extra specs do not reach servers already booted.
func flavorCopy(f *flavor) flavor {
	c := *f
	c.ExtraSpecs = maps.Clone(f.ExtraSpecs)
	return c
}

// place picks the least loaded hypervisor (by servers not yet gone),
// ties going to the first name: deterministic, like a fresh scheduler
// weighing only instance count.
func (s *Service) place() string {
	load := map[string]int{}
	for _, sv := range s.st.Servers {
		load[sv.Host]++
	}
	best := s.hypervisors[0]
	for _, h := range s.hypervisors[1:] {
		if load[h] < load[best] {
			best = h
		}
	}
	return best
}

// serverFor finds a server the caller may see (own project; admins all),
// writing Nova's 404 otherwise.
func (s *Service) serverFor(w http.ResponseWriter, r *http.Request) (*server, bool) {
	id := r.PathValue("id")
	sv, ok := s.st.Servers[id]
	if !ok || (sv.ProjectID != caller(r).ProjectID && !caller(r).Admin) {
		faults.Writef(w, http.StatusNotFound, "Instance %s could not be found.", id)
		return nil, false
	}
	return sv, true
}

func (s *Service) showServer(w http.ResponseWriter, r *http.Request) {
	if sv, ok := s.serverFor(w, r); ok {
		simcore.WriteJSON(w, http.StatusOK, map[string]any{"server": s.serverView(r, sv)})
	}
}

// deleteServer starts an asynchronous delete: the server lists with task
// state "deleting" until Knobs.DeleteTime has passed, then is reaped.
func (s *Service) deleteServer(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.serverFor(w, r)
	if !ok {
		return
	}
	if sv.DeletedAt == nil {
		now := s.knobs.Now().UTC()
		gone := now.Add(s.knobs.DeleteTime())
		sv.DeletedAt, sv.GoneAt, sv.Updated = &now, &gone, now
	}
	w.WriteHeader(http.StatusNoContent)
}

// touch records a change for "updated".
func (s *Service) touch(sv *server) { sv.Updated = s.knobs.Now().UTC() }

// updateServer is PUT /servers/{id}: rename, description (2.19+) and
// access addresses; the rest of a server is changed through other APIs.
func (s *Service) updateServer(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.serverFor(w, r)
	if !ok {
		return
	}
	var body struct {
		Server *struct {
			Name        *string `json:"name"`
			Description *string `json:"description"`
			AccessIPv4  *string `json:"accessIPv4"`
			AccessIPv6  *string `json:"accessIPv6"`
		} `json:"server"`
	}
	if err := simcore.ReadJSON(r, &body); err != nil || body.Server == nil {
		faults.Write(w, http.StatusBadRequest, "Invalid input for field/attribute server.")
		return
	}
	b := body.Server
	switch {
	case b.Name != nil && (strings.TrimSpace(*b.Name) == "" || len(*b.Name) > 255):
		faults.Write(w, http.StatusBadRequest, "Invalid input for field/attribute name.")
		return
	case b.Description != nil && mv(r) < 19:
		faults.Write(w, http.StatusBadRequest, "Invalid input for field/attribute server. Additional properties are not allowed ('description' was unexpected)")
		return
	}
	if b.Name != nil {
		sv.Name = *b.Name
	}
	if b.Description != nil {
		sv.Description = b.Description
	}
	if b.AccessIPv4 != nil {
		sv.AccessIPv4 = *b.AccessIPv4
	}
	if b.AccessIPv6 != nil {
		sv.AccessIPv6 = *b.AccessIPv6
	}
	s.touch(sv)
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"server": s.serverView(r, sv)})
}
