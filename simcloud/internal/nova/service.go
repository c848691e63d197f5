// Package nova simulates the OpenStack Compute API (Nova v2.1) closely
// enough for gophercloud and the openstack CLI: microversions, flavors,
// keypairs, servers with lazily computed status, metadata, tags, limits
// and hypervisors. It reaches Neutron and Glance only through the narrow
// simcore.Ports and simcore.Images interfaces.
//
// There are no timers: a server's status is derived from timestamps fixed
// when it was created or deleted, read against Knobs.Now(), so a snapshot
// taken at any moment restores to the same behaviour.
package nova

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// Config seeds the service and wires it to its neighbours.
type Config struct {
	Knobs  *simcore.Knobs
	Ports  simcore.Ports
	Images simcore.Images
	// Volumes is Cinder; nil leaves volume BDMs unchecked (no Cinder).
	Volumes     simcore.Volumes
	Hypervisors []string
	Flavors     []Flavor
	// Quotas per project: instances, cores, ram (MB), and keypairs (per
	// user, as Nova counts them); absent = unlimited.
	Quotas map[string]int
	// MaxMicroversion is the highest 2.x minor served; 0 is MaxMinor.
	MaxMicroversion int
}

// Flavor is a seeded flavor.
type Flavor struct {
	ID, Name                    string
	VCPUs, RAM, Disk, Ephemeral int
	Public                      bool
}

// Service is the simulated Nova. One mutex guards all state and is held
// for the whole of each request: requests are short and in memory.
type Service struct {
	knobs       *simcore.Knobs
	ports       simcore.Ports
	images      simcore.Images
	volumes     simcore.Volumes
	hypervisors []string
	quotas      map[string]int
	maxMinor    int
	mux         *http.ServeMux

	mu sync.Mutex
	st state
}

// state is everything that changes; it is the snapshot format.
type state struct {
	Flavors  map[string]*flavor  `json:"flavors"`
	Keypairs map[string]*keypair `json:"keypairs"` // by userID + "/" + name
	Servers  map[string]*server  `json:"servers"`
	// InstanceSeq and KeypairSeq are the last database ids handed out:
	// instances are named from theirs (instance-0000000N), as in Nova.
	InstanceSeq int `json:"instance_seq"`
	KeypairSeq  int `json:"keypair_seq"`
}

type flavor struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	VCPUs       int               `json:"vcpus"`
	RAM         int               `json:"ram"`
	Disk        int               `json:"disk"`
	Ephemeral   int               `json:"ephemeral"`
	Swap        int               `json:"swap"`
	RxTx        float64           `json:"rxtx_factor"`
	Public      bool              `json:"is_public"`
	Description string            `json:"description,omitempty"`
	ExtraSpecs  map[string]string `json:"extra_specs,omitempty"`
}

type keypair struct {
	ID          int       `json:"id"`
	Name        string    `json:"name"`
	UserID      string    `json:"user_id"`
	Type        string    `json:"type"`
	PublicKey   string    `json:"public_key"`
	Fingerprint string    `json:"fingerprint"`
	Created     time.Time `json:"created_at"`
}

// bdm is one block_device_mapping_v2 entry, stored as given; entries
// whose source is a volume are checked with and attached in Cinder.
type bdm struct {
	BootIndex           *bootIndex `json:"boot_index,omitempty"`
	SourceType          string     `json:"source_type,omitempty"`
	DestinationType     string     `json:"destination_type,omitempty"`
	DeviceType          string     `json:"device_type,omitempty"`
	DiskBus             string     `json:"disk_bus,omitempty"`
	UUID                string     `json:"uuid,omitempty"`
	VolumeSize          int        `json:"volume_size,omitempty"`
	DeleteOnTermination bool       `json:"delete_on_termination,omitempty"`
	Tag                 string     `json:"tag,omitempty"`
	// Device is the guest device Nova assigned (/dev/vdb, /dev/hda).
	Device string `json:"device_name,omitempty"`
}

type server struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	Description  *string           `json:"description,omitempty"`
	ProjectID    string            `json:"project_id"`
	UserID       string            `json:"user_id"`
	FlavorID     string            `json:"flavor_id"`
	Flavor       flavor            `json:"flavor"` // copy at boot: flavors may be deleted later
	ImageID      string            `json:"image_id,omitempty"`
	BDMs         []bdm             `json:"block_device_mapping_v2,omitempty"`
	KeyName      string            `json:"key_name,omitempty"`
	UserData     string            `json:"user_data,omitempty"`
	Metadata     map[string]string `json:"metadata"`
	Tags         []string          `json:"tags"`
	AZ           string            `json:"availability_zone"`
	Host         string            `json:"host"`
	InstanceName string            `json:"instance_name"`
	Ports        []string          `json:"ports"`
	AccessIPv4   string            `json:"access_ipv4,omitempty"`
	AccessIPv6   string            `json:"access_ipv6,omitempty"`
	Created      time.Time         `json:"created"`
	Updated      time.Time         `json:"updated"`
	// ReadyAt is when BUILD ends (created + the build time then in force).
	ReadyAt time.Time `json:"ready_at"`
	// Fault, if set, sends the server to ERROR at ReadyAt.
	Fault string `json:"fault,omitempty"`
	// GoneAt is set by delete: until then the server lists as deleting.
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
	GoneAt    *time.Time `json:"gone_at,omitempty"`
}

var _ simcore.Service = (*Service)(nil)

// New returns a Nova seeded with cfg.Flavors.
func New(cfg Config) *Service {
	knobs := cfg.Knobs
	if knobs == nil {
		knobs = simcore.NewKnobs()
	}
	hv := slices.Clone(cfg.Hypervisors)
	if len(hv) == 0 {
		hv = []string{"compute-1"}
	}
	// Sorted once: placement breaks ties by name.
	slices.Sort(hv)
	s := &Service{knobs: knobs, ports: cfg.Ports, images: cfg.Images, volumes: cfg.Volumes, hypervisors: hv, quotas: cfg.Quotas,
		maxMinor: MaxMinor}
	if cfg.MaxMicroversion >= minMinor && cfg.MaxMicroversion < MaxMinor {
		s.maxMinor = cfg.MaxMicroversion
	}
	s.st = emptyState()
	for _, f := range cfg.Flavors {
		s.st.Flavors[f.ID] = &flavor{ID: f.ID, Name: f.Name, VCPUs: f.VCPUs, RAM: f.RAM, Disk: f.Disk,
			Ephemeral: f.Ephemeral, RxTx: 1, Public: f.Public}
	}
	s.routes()
	return s
}

func emptyState() state {
	return state{Flavors: map[string]*flavor{}, Keypairs: map[string]*keypair{}, Servers: map[string]*server{}}
}

// ServeHTTP negotiates the microversion, then runs the handler under the
// service lock after removing servers whose deletion has completed. The
// answer is sent after the lock is released (simcore.Buffered).
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r, ok := s.negotiate(w, r)
	if !ok {
		return
	}
	b := simcore.NewBuffered(w)
	func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.reap(s.knobs.Now())
		s.mux.ServeHTTP(b, r)
	}()
	b.Send()
}

// Settle completes the deletions that are due, releasing their ports. Nova
// does this itself on every request; the core may call it before serving
// another service (Neutron), so a port is free at DeleteTime even if no
// one has polled Nova since.
func (s *Service) Settle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reap(s.knobs.Now())
}

// reap completes deletions that are due: the server disappears and its
// ports and volumes are released, as when nova-compute finishes
// terminating.
func (s *Service) reap(now time.Time) {
	for id, sv := range s.st.Servers {
		if sv.GoneAt != nil && !now.Before(*sv.GoneAt) {
			for _, p := range sv.Ports {
				if s.ports != nil {
					s.ports.UnbindPort(p, sv.ID)
				}
			}
			s.detachVolumes(sv)
			delete(s.st.Servers, id)
		}
	}
}

// Snapshot returns the whole state as JSON.
func (s *Service) Snapshot() (json.RawMessage, error) {
	return simcore.Snapshot(&s.mu, func() any { return s.st })
}

// Restore replaces the state with a snapshot's.
func (s *Service) Restore(raw json.RawMessage) error {
	return simcore.Restore("nova", raw, &state{}, func(st *state) error {
		if st.Flavors == nil || st.Keypairs == nil || st.Servers == nil {
			return fmt.Errorf("nova: restore: snapshot lacks flavors, keypairs or servers")
		}
		if err := simcore.CheckSnapshot(st); err != nil {
			return fmt.Errorf("nova: restore: %w", err)
		}
		return nil
	}, &s.mu, func(st *state) { s.st = *st })
}

func (s *Service) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", s.versions)
	m.HandleFunc("GET /v2.1", s.version)
	m.HandleFunc("GET /v2.1/{$}", s.version)

	m.HandleFunc("GET /v2.1/flavors", s.listFlavors(false))
	m.HandleFunc("GET /v2.1/flavors/detail", s.listFlavors(true))
	m.HandleFunc("GET /v2.1/flavors/{id}", s.showFlavor)
	m.HandleFunc("POST /v2.1/flavors", s.createFlavor)
	m.HandleFunc("DELETE /v2.1/flavors/{id}", s.deleteFlavor)
	m.HandleFunc("GET /v2.1/flavors/{id}/os-extra_specs", s.listExtraSpecs)
	m.HandleFunc("POST /v2.1/flavors/{id}/os-extra_specs", s.setExtraSpecs)
	m.HandleFunc("GET /v2.1/flavors/{id}/os-extra_specs/{key}", s.showExtraSpec)
	m.HandleFunc("PUT /v2.1/flavors/{id}/os-extra_specs/{key}", s.putExtraSpec)
	m.HandleFunc("DELETE /v2.1/flavors/{id}/os-extra_specs/{key}", s.deleteExtraSpec)

	m.HandleFunc("GET /v2.1/os-keypairs", s.listKeypairs)
	m.HandleFunc("POST /v2.1/os-keypairs", s.createKeypair)
	m.HandleFunc("GET /v2.1/os-keypairs/{name}", s.showKeypair)
	m.HandleFunc("DELETE /v2.1/os-keypairs/{name}", s.deleteKeypair)

	m.HandleFunc("GET /v2.1/servers", s.listServers(false))
	m.HandleFunc("GET /v2.1/servers/detail", s.listServers(true))
	m.HandleFunc("POST /v2.1/servers", s.createServer)
	m.HandleFunc("GET /v2.1/servers/{id}", s.showServer)
	m.HandleFunc("PUT /v2.1/servers/{id}", s.updateServer)
	m.HandleFunc("DELETE /v2.1/servers/{id}", s.deleteServer)
	m.HandleFunc("POST /v2.1/servers/{id}/action", s.action)
	m.HandleFunc("GET /v2.1/servers/{id}/metadata", s.getMetadata)
	m.HandleFunc("PUT /v2.1/servers/{id}/metadata", s.setMetadata(true))
	m.HandleFunc("POST /v2.1/servers/{id}/metadata", s.setMetadata(false))
	m.HandleFunc("GET /v2.1/servers/{id}/metadata/{key}", s.getMetadatum)
	m.HandleFunc("PUT /v2.1/servers/{id}/metadata/{key}", s.putMetadatum)
	m.HandleFunc("DELETE /v2.1/servers/{id}/metadata/{key}", s.deleteMetadatum)
	m.HandleFunc("GET /v2.1/servers/{id}/tags", s.listTags)
	m.HandleFunc("PUT /v2.1/servers/{id}/tags", s.replaceTags)
	m.HandleFunc("DELETE /v2.1/servers/{id}/tags", s.deleteAllTags)
	m.HandleFunc("GET /v2.1/servers/{id}/tags/{tag}", s.checkTag)
	m.HandleFunc("PUT /v2.1/servers/{id}/tags/{tag}", s.addTag)
	m.HandleFunc("DELETE /v2.1/servers/{id}/tags/{tag}", s.deleteTag)

	m.HandleFunc("GET /v2.1/servers/{id}/ips", s.serverIPs)
	m.HandleFunc("GET /v2.1/servers/{id}/os-interface", s.listInterfaces)
	m.HandleFunc("GET /v2.1/servers/{id}/os-volume_attachments", s.listVolumeAttachments)
	m.HandleFunc("DELETE /v2.1/servers/{id}/os-volume_attachments/{volume}", s.detachVolume)
	m.HandleFunc("GET /v2.1/servers/{id}/os-interface/{port}", s.showInterface)

	m.HandleFunc("GET /v2.1/limits", s.limits)
	m.HandleFunc("GET /v2.1/os-availability-zone", s.availabilityZones(false))
	m.HandleFunc("GET /v2.1/os-availability-zone/detail", s.availabilityZones(true))
	m.HandleFunc("GET /v2.1/os-services", s.services)
	m.HandleFunc("GET /v2.1/os-hypervisors", s.listHypervisors(false))
	m.HandleFunc("GET /v2.1/os-hypervisors/detail", s.listHypervisors(true))
	m.HandleFunc("/v2.1/", func(w http.ResponseWriter, r *http.Request) {
		// A known path with another method is a 405, as from Nova's
		// router; anything else is a 404. Both in Nova's fault format.
		for _, method := range []string{"GET", "POST", "PUT", "DELETE"} {
			probe := r.Clone(r.Context())
			probe.Method = method
			if _, pattern := m.Handler(probe); pattern != "/v2.1/" {
				faults.Write(w, http.StatusMethodNotAllowed, "The method specified is not allowed for this resource.")
				return
			}
		}
		faults.Write(w, http.StatusNotFound, "The resource could not be found.")
	})
	s.mux = m
}

// Guests lists the ACTIVE servers (not being deleted), by creation, with
// what runs in them: for the simulated Fuel master.
func (s *Service) Guests() []simcore.Guest {
	s.mu.Lock()
	now := s.knobs.Now()
	var svs []*server
	for _, sv := range s.st.Servers {
		if sv.DeletedAt == nil && sv.phaseAt(now).status == "ACTIVE" {
			svs = append(svs, sv)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(svs, func(a, b *server) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	out := make([]simcore.Guest, 0, len(svs))
	for _, sv := range svs {
		g := simcore.Guest{ID: sv.ID, ProjectID: sv.ProjectID, Name: sv.Name, ActiveSince: sv.ReadyAt, Ports: slices.Clone(sv.Ports)}
		var ids []string
		if sv.ImageID != "" {
			ids = append(ids, sv.ImageID)
		}
		bdms := slices.Clone(sv.BDMs)
		slices.SortStableFunc(bdms, func(a, b bdm) int { return bootOrder(a) - bootOrder(b) })
		for _, b := range bdms {
			switch b.SourceType {
			case "image":
				ids = append(ids, b.UUID)
			case "volume":
				if s.volumes == nil {
					continue
				}
				if v, ok := s.volumes.Volume(sv.ProjectID, b.UUID); ok && v.ImageID != "" {
					ids = append(ids, v.ImageID)
				}
			}
		}
		for _, id := range ids {
			if s.images == nil {
				break
			}
			if im, ok := s.images.Image(sv.ProjectID, id); ok {
				g.BootImages = append(g.BootImages, im.Name)
			}
		}
		out = append(out, g)
	}
	return out
}

// bootOrder sorts block devices by boot_index, the unbootable last.
func bootOrder(b bdm) int {
	if b.BootIndex == nil || *b.BootIndex < 0 {
		return 1 << 30
	}
	return int(*b.BootIndex)
}
