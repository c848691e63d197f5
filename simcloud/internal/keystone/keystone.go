// Package keystone simulates the Keystone v3 identity API: password (and
// token) authentication, project, domain and unscoped tokens with a
// service catalog, token validation, and version discovery. Everything
// lives in the "default" domain, as on a freshly deployed cloud.
package keystone

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// The one domain every project and user belongs to.
const (
	DomainID   = "default"
	DomainName = "Default"
)

// Project is a Keystone project in the default domain.
type Project struct {
	ID, Name string
}

// User is a Keystone user with roles on one project, which is also its
// default project (an auth request without scope gets a token on it).
type User struct {
	ID, Name, Password string
	Project            string // project name
	Roles              []string
}

// Endpoint is one catalog entry; it is listed with the public, internal
// and admin interfaces, all at URL, as a single-node deployment does.
type Endpoint struct {
	Type, Name, URL string
}

// Config describes the identity world. BaseURL is where Keystone is
// reachable without its version (".../identity"); it appears in the
// version documents clients use to pick /v3.
type Config struct {
	Knobs    *simcore.Knobs
	BaseURL  string
	Region   string // default "RegionOne"
	Projects []Project
	Users    []User
	Catalog  []Endpoint
	TokenTTL time.Duration // default one hour, as Keystone's default
}

// Service is the simulated Keystone. Tokens live in memory only: they are
// credentials, so they are kept out of the state file; after a restart a
// client's token is unknown (401) and gophercloud re-authenticates.
type Service struct {
	cfg Config

	mu     sync.Mutex
	tokens map[string]*token
}

// token is what an issued token ID stands for.
type token struct {
	user      *User
	project   *Project // nil for domain-scoped and unscoped tokens
	domain    bool     // domain-scoped
	methods   []string
	issuedAt  time.Time
	expiresAt time.Time
}

// New returns a Keystone serving cfg's projects, users and catalog.
func New(cfg Config) *Service {
	if cfg.Knobs == nil {
		cfg.Knobs = simcore.NewKnobs()
	}
	if cfg.Region == "" {
		cfg.Region = "RegionOne"
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = time.Hour
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	return &Service{cfg: cfg, tokens: map[string]*token{}}
}

// Validate returns the identity a project-, domain- or unscoped token
// belongs to, or false for an unknown or expired token.
func (s *Service) Validate(id string) (*simcore.Identity, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.lookup(id)
	if !ok {
		return nil, false
	}
	return t.identity(), true
}

// lookup finds a live token; s.mu is held.
func (s *Service) lookup(id string) (*token, bool) {
	t, ok := s.tokens[id]
	if !ok || !s.cfg.Knobs.Now().Before(t.expiresAt) {
		return nil, false
	}
	return t, true
}

func (t *token) identity() *simcore.Identity {
	id := &simcore.Identity{UserID: t.user.ID, UserName: t.user.Name}
	if t.project == nil && !t.domain {
		return id // unscoped: no roles
	}
	if t.project != nil {
		id.ProjectID, id.ProjectName = t.project.ID, t.project.Name
	}
	id.Roles = append([]string(nil), t.user.Roles...)
	for _, r := range id.Roles {
		if r == "admin" {
			id.Admin = true
		}
	}
	return id
}

// ServeHTTP routes the few Keystone paths clients use. The core has
// stripped "/identity"; Keystone authenticates its own requests.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case path == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		s.versions(w)
	case path == "/v3" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		simcore.WriteJSON(w, http.StatusOK, map[string]any{"version": s.version()})
	case path == "/v3/auth/tokens":
		switch r.Method {
		case http.MethodPost:
			s.issue(w, r)
		case http.MethodGet, http.MethodHead:
			s.check(w, r)
		case http.MethodDelete:
			s.revoke(w, r)
		default:
			writeError(w, http.StatusMethodNotAllowed, "The method is not allowed for the requested URL.")
		}
	default:
		writeError(w, http.StatusNotFound, "The resource could not be found.")
	}
}

// Snapshot records nothing: projects and users come from the world, and
// tokens are deliberately not persisted (see Service).
func (s *Service) Snapshot() (json.RawMessage, error) { return json.RawMessage(`{}`), nil }

// Restore accepts a snapshot; there is no state to bring back.
func (s *Service) Restore(raw json.RawMessage) error {
	var v map[string]json.RawMessage
	return json.Unmarshal(raw, &v)
}

// writeError writes Keystone's error body.
func writeError(w http.ResponseWriter, status int, msg string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Keystone uri=""`)
	}
	simcore.WriteJSON(w, status, ErrorBody(status, msg))
}

// ErrorBody is Keystone's error body,
// {"error": {"code": 401, "message": "...", "title": "Unauthorized"}};
// the core uses it for injected faults too.
func ErrorBody(status int, msg string) any {
	return map[string]any{"error": map[string]any{"code": status, "message": msg, "title": http.StatusText(status)}}
}
