package simcloud

import (
	"encoding/json"
	"net/http"

	"github.com/fuelplan/fuelplan/simcloud/internal/glance"
	"github.com/fuelplan/fuelplan/simcloud/internal/keystone"
	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// newServices builds the four services of world, reachable at base, and
// the mounts that route to them.
func newServices(w *World, knobs *Knobs, base string) (*keystone.Service, []mount) {
	ks := keystone.New(keystone.Config{
		Knobs:    knobs,
		BaseURL:  base + "/identity",
		Region:   w.region(),
		Projects: keystoneProjects(w),
		Users:    keystoneUsers(w),
		Catalog: []keystone.Endpoint{
			{Type: "identity", Name: "keystone", URL: base + "/identity/v3/"},
			{Type: "network", Name: "neutron", URL: base + "/network/"},
			{Type: "compute", Name: "nova", URL: base + "/compute/v2.1/"},
			{Type: "image", Name: "glance", URL: base + "/image/"},
		},
	})
	gl := glance.New(glance.Config{Images: glanceImages(w)})
	mounts := []mount{
		{prefix: "/identity", name: "identity", svc: ks, public: true, errorBody: keystone.ErrorBody},
		{prefix: "/network", name: "network", svc: pending{}, errorBody: neutronError, versions: networkVersions},
		{prefix: "/compute", name: "compute", svc: pending{}, errorBody: novaError, versions: computeVersions},
		{prefix: "/image", name: "image", svc: gl, errorBody: glanceError, versions: imageVersions},
	}
	return ks, mounts
}

// pending stands in for a service not written yet.
type pending struct{}

func (pending) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	simcore.WriteJSON(w, http.StatusNotImplemented, map[string]string{"message": "not implemented yet"})
}
func (pending) Snapshot() (json.RawMessage, error) { return json.RawMessage(`{}`), nil }
func (pending) Restore(json.RawMessage) error      { return nil }

func keystoneProjects(w *World) []keystone.Project {
	var out []keystone.Project
	for _, p := range w.Projects {
		out = append(out, keystone.Project{ID: p.ID, Name: p.Name})
	}
	return out
}

func keystoneUsers(w *World) []keystone.User {
	var out []keystone.User
	for _, u := range w.Users {
		out = append(out, keystone.User{ID: u.ID, Name: u.Name, Password: u.Password, Project: u.Project, Roles: u.Roles})
	}
	return out
}

func glanceImages(w *World) []glance.Image {
	var out []glance.Image
	for _, im := range w.Images {
		owner := im.Owner
		if owner == "" {
			owner = "admin"
		}
		out = append(out, glance.Image{
			ID: im.ID, Name: im.Name, DiskFormat: im.DiskFormat, ContainerFormat: im.ContainerFormat,
			Visibility: im.Visibility, OwnerID: w.projectID(owner), MinDisk: im.MinDisk,
			SizeBytes: im.Size, Checksum: im.Checksum,
		})
	}
	return out
}
