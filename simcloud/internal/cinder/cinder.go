// Package cinder simulates the OpenStack Block Storage API (Cinder v3)
// closely enough for gophercloud and the openstack CLI: volumes, blank or
// made from a Glance image, with an asynchronous status, metadata and
// metadata filters, project scoping, quotas (volumes, gigabytes), and the
// attachments Nova makes when it boots a server from volumes, which it
// reaches through simcore.Volumes.
//
// As in Nova, there are no timers: a volume is "creating" until a ready
// time fixed at create (Knobs.VolumeBuildTime), read against Knobs.Now(),
// so a snapshot taken at any moment restores to the same behaviour.
//
// Deliberate simplifications: the endpoint has no project ID in its path
// (Cinder allows that since microversion 3.67); there are no volume types,
// snapshots of volumes, backups or multi-attach; a delete is immediate.
package cinder

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// Config seeds the service and wires it to Glance.
type Config struct {
	Knobs  *simcore.Knobs
	Images simcore.Images
	// Quotas per project: volumes, gigabytes; absent or -1 = unlimited.
	Quotas map[string]int
}

// Service is the simulated Cinder. One mutex guards all state and is held
// for the whole of each request.
type Service struct {
	knobs  *simcore.Knobs
	images simcore.Images
	quotas map[string]int
	mux    *http.ServeMux

	mu sync.Mutex
	st state
}

// state is everything that changes; it is the snapshot format.
type state struct {
	Volumes map[string]*volume `json:"volumes"`
}

type volume struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	ProjectID   string `json:"project_id"`
	UserID      string `json:"user_id"`
	Size        int    `json:"size"`
	ImageID     string `json:"image_id,omitempty"`
	ImageName   string `json:"image_name,omitempty"`
	// ImageMeta is the rest of volume_image_metadata: what Cinder copied
	// of the image (checksum, formats, sizes).
	ImageMeta map[string]string `json:"image_meta,omitempty"`
	Bootable  bool              `json:"bootable"`
	Metadata  map[string]string `json:"metadata"`
	Created   time.Time         `json:"created"`
	Updated   time.Time         `json:"updated"`
	// ReadyAt is when "creating" ends; Failed volumes then show "error".
	ReadyAt     time.Time    `json:"ready_at"`
	Failed      bool         `json:"failed,omitempty"`
	Attachments []attachment `json:"attachments,omitempty"`
}

// attachment is one server's hold on a volume: reserved when Nova asked
// for it, attached at At (when the server has built).
type attachment struct {
	ID       string    `json:"id"`
	ServerID string    `json:"server_id"`
	Host     string    `json:"host"`
	Device   string    `json:"device"`
	Reserved time.Time `json:"reserved_at"`
	At       time.Time `json:"attached_at"`
}

var (
	_ simcore.Service = (*Service)(nil)
	_ simcore.Volumes = (*Service)(nil)
)

// New returns an empty Cinder.
func New(cfg Config) *Service {
	knobs := cfg.Knobs
	if knobs == nil {
		knobs = simcore.NewKnobs()
	}
	s := &Service{knobs: knobs, images: cfg.Images, quotas: cfg.Quotas, st: state{Volumes: map[string]*volume{}}}
	s.routes()
	return s
}

func (s *Service) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", s.versions)
	m.HandleFunc("GET /v3/volumes", s.list(false))
	m.HandleFunc("GET /v3/volumes/detail", s.list(true))
	m.HandleFunc("POST /v3/volumes", s.create)
	m.HandleFunc("GET /v3/volumes/{id}", s.show)
	m.HandleFunc("PUT /v3/volumes/{id}", s.update)
	m.HandleFunc("DELETE /v3/volumes/{id}", s.delete)
	m.HandleFunc("POST /v3/volumes/{id}/action", s.action)
	m.HandleFunc("GET /v3/os-quota-sets/{project}", s.quotaUsage)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		faults.Write(w, http.StatusNotFound, "The resource could not be found.")
	})
	s.mux = m
}

// ServeHTTP runs the handler under the service lock.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mux.ServeHTTP(w, r)
}

// Snapshot returns the whole state as JSON.
func (s *Service) Snapshot() (json.RawMessage, error) {
	return simcore.Snapshot(&s.mu, func() any { return s.st })
}

// Restore replaces the state with a snapshot's.
func (s *Service) Restore(raw json.RawMessage) error {
	return simcore.Restore("cinder", raw, &state{}, func(st *state) error {
		if st.Volumes == nil {
			return fmt.Errorf("cinder: restore: snapshot lacks volumes")
		}
		if err := simcore.CheckSnapshot(st); err != nil {
			return fmt.Errorf("cinder: restore: %w", err)
		}
		return nil
	}, &s.mu, func(st *state) { s.st = *st })
}

// versions is Cinder's version document (GET /), with v3 current.
func (s *Service) versions(w http.ResponseWriter, r *http.Request) {
	simcore.WriteJSON(w, http.StatusMultipleChoices, map[string]any{"versions": []any{map[string]any{
		"id": "v3.0", "status": "CURRENT", "version": "3.70", "min_version": "3.0",
		"updated": "2023-08-31T00:00:00Z",
		"links":   []any{map[string]string{"rel": "self", "href": baseURL(r) + "/v3/"}},
	}}})
}

// faults are the keys of Cinder's error bodies (cinder.api.openstack.wsgi,
// the same Fault format as Nova's).
var faults = simcore.WSGIFaults{
	http.StatusBadRequest:            "badRequest",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "itemNotFound",
	http.StatusConflict:              "conflictingRequest",
	http.StatusRequestEntityTooLarge: "overLimit",
}

// caller is the request's identity (set by the core, or by a test).
func caller(r *http.Request) *simcore.Identity {
	if id := simcore.IdentityFrom(r.Context()); id != nil {
		return id
	}
	return &simcore.Identity{}
}

// baseURL is the service's external URL: scheme, host and the mount
// prefix the core stripped, for links.
func baseURL(r *http.Request) string {
	full, _, _ := strings.Cut(r.RequestURI, "?")
	prefix, _ := strings.CutSuffix(full, r.URL.EscapedPath())
	if prefix == full {
		prefix = ""
	}
	return "http://" + r.Host + prefix
}
