package simcloud

import (
	"github.com/fuelplan/fuelplan/simcloud/internal/cinder"
	"github.com/fuelplan/fuelplan/simcloud/internal/fuel"
	"github.com/fuelplan/fuelplan/simcloud/internal/glance"
	"github.com/fuelplan/fuelplan/simcloud/internal/keystone"
	"github.com/fuelplan/fuelplan/simcloud/internal/neutron"
	"github.com/fuelplan/fuelplan/simcloud/internal/nova"
)

// newServices builds the five services of world, reachable at base, and
// the mounts that route to them.
func newServices(w *World, knobs *Knobs, base string) (*keystone.Service, *fuel.Service, []mount) {
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
			// Without a project ID in the path, as Cinder allows since 3.67;
			// the "v3" in it spares clients a discovery request.
			{Type: "volumev3", Name: "cinderv3", URL: base + "/volume/v3/"},
		},
	})
	gl := glance.New(glance.Config{Images: glanceImages(w), Limits: w.GlanceLimits})
	nt := neutron.New(neutron.Config{
		Knobs:            knobs,
		Extensions:       w.Extensions,
		Quotas:           pick(w.Quotas, neutronQuotas),
		ExternalNetworks: externalNetworks(w),
		NetworkMTU:       w.NetworkMTU,
	})
	cv := cinder.New(cinder.Config{
		Knobs:  knobs,
		Images: gl,
		Quotas: pick(w.Quotas, cinderQuotas),
	})
	nv := nova.New(nova.Config{
		Knobs:       knobs,
		Ports:       nt,
		Images:      gl,
		Volumes:     cv,
		Hypervisors: w.Hypervisors,
		Flavors:     novaFlavors(w),
		Quotas:      pick(w.Quotas, novaQuotas),
		// Checked when the world was read.
		MaxMicroversion: must(w.computeMaxMinor()),
	})
	fm := fuel.New(fuel.Config{Knobs: knobs, Guests: nv.Guests, Ports: nt, Addresses: nt})
	mounts := []mount{
		{prefix: "/identity", name: "identity", svc: ks, public: true, errorBody: keystone.ErrorBody},
		{prefix: "/network", name: "network", svc: nt, errorBody: neutronError, versions: networkVersions},
		{prefix: "/compute", name: "compute", svc: nv, errorBody: novaError},
		{prefix: "/image", name: "image", svc: gl, errorBody: glanceError},
		{prefix: "/volume", name: "volume", svc: cv, errorBody: novaError}, // Cinder's faults are Nova's format
	}
	return ks, fm, mounts
}

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

func externalNetworks(w *World) []neutron.ExternalNetwork {
	var out []neutron.ExternalNetwork
	for _, n := range w.ExternalNetworks {
		out = append(out, neutron.ExternalNetwork{
			ID: n.ID, Name: n.Name, ProjectID: w.projectID("admin"), SubnetID: n.SubnetID,
			CIDR: n.CIDR, Gateway: n.Gateway, PoolStart: n.PoolStart, PoolEnd: n.PoolEnd, MTU: n.MTU,
		})
	}
	return out
}

func novaFlavors(w *World) []nova.Flavor {
	var out []nova.Flavor
	for _, f := range w.Flavors {
		out = append(out, nova.Flavor{ID: f.ID, Name: f.Name, VCPUs: f.VCPUs, RAM: f.RAM, Disk: f.Disk,
			Ephemeral: f.Ephemeral, Public: f.Public == nil || *f.Public})
	}
	return out
}

// pick returns the quotas whose resource is one of keys.
func pick(quotas map[string]int, keys []string) map[string]int {
	out := map[string]int{}
	for _, k := range keys {
		if v, ok := quotas[k]; ok {
			out[k] = v
		}
	}
	return out
}

// must drops the error of a value the world's check has vouched for.
func must(v int, _ error) int { return v }
