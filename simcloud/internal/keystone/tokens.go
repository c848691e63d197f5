package keystone

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"slices"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// authRequest is the body of POST /v3/auth/tokens.
type authRequest struct {
	Auth struct {
		Identity struct {
			Methods  []string `json:"methods"`
			Password *struct {
				User struct {
					ID       string  `json:"id"`
					Name     string  `json:"name"`
					Password string  `json:"password"`
					Domain   *domain `json:"domain"`
				} `json:"user"`
			} `json:"password"`
			Token *struct {
				ID string `json:"id"`
			} `json:"token"`
		} `json:"identity"`
		// Scope is an object ({"project": ...} or {"domain": ...}) or the
		// string "unscoped".
		Scope any `json:"scope"`
	} `json:"auth"`
}

type domain struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type scope struct {
	Project *struct {
		ID     string  `json:"id"`
		Name   string  `json:"name"`
		Domain *domain `json:"domain"`
	} `json:"project"`
	Domain *domain `json:"domain"`
}

// msgUnauthorized is Keystone's one message for every failed login or
// scope: it never says which part was wrong.
const msgUnauthorized = "The request you have made requires authentication."

// issue authenticates and answers 201 with X-Subject-Token and the token.
func (s *Service) issue(w http.ResponseWriter, r *http.Request) {
	var req authRequest
	if err := simcore.ReadJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	id := req.Auth.Identity
	if len(id.Methods) == 0 {
		writeError(w, http.StatusBadRequest, "Expecting to find methods in identity.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	t := &token{methods: id.Methods}
	switch {
	case slices.Contains(id.Methods, "password") && id.Password != nil:
		u := id.Password.User
		t.user = s.findUser(u.ID, u.Name, u.Domain)
		if t.user == nil || t.user.Password != u.Password {
			writeError(w, http.StatusUnauthorized, msgUnauthorized)
			return
		}
	case slices.Contains(id.Methods, "token") && id.Token != nil:
		old, ok := s.lookup(id.Token.ID)
		if !ok {
			writeError(w, http.StatusUnauthorized, msgUnauthorized)
			return
		}
		t.user = old.user
	default:
		writeError(w, http.StatusUnauthorized, msgUnauthorized)
		return
	}

	status, msg := s.scope(t, req.Auth.Scope)
	if status != 0 {
		writeError(w, status, msg)
		return
	}
	now := s.cfg.Knobs.Now()
	t.issuedAt, t.expiresAt = now, now.Add(s.cfg.TokenTTL)
	s.prune()
	tid := newTokenID()
	s.tokens[tid] = t
	w.Header().Set("X-Subject-Token", tid)
	simcore.WriteJSON(w, http.StatusCreated, map[string]any{"token": s.body(t)})
}

// scope applies the requested scope to t; no scope means the user's
// default project, as Keystone does for a user with default_project_id.
func (s *Service) scope(t *token, raw any) (int, string) {
	if raw == "unscoped" {
		return 0, ""
	}
	if raw == nil {
		t.project = s.findProject("", t.user.Project)
		return 0, ""
	}
	var sc scope
	if err := remarshal(raw, &sc); err != nil {
		return http.StatusBadRequest, "Invalid scope: " + err.Error()
	}
	switch {
	case sc.Project != nil:
		p := sc.Project
		if p.ID == "" && !inDefaultDomain(p.Domain) {
			return http.StatusUnauthorized, msgUnauthorized
		}
		t.project = s.findProject(p.ID, p.Name)
		// A user has roles on its own project only.
		if t.project == nil || t.project.Name != t.user.Project {
			return http.StatusUnauthorized, msgUnauthorized
		}
	case sc.Domain != nil:
		if !inDefaultDomain(sc.Domain) {
			return http.StatusUnauthorized, msgUnauthorized
		}
		t.domain = true
	default:
		return http.StatusBadRequest, "Expecting to find project or domain in scope."
	}
	return 0, ""
}

// subject finds X-Subject-Token for a caller holding a valid
// X-Auth-Token; otherwise it answers 401 for a bad caller token or 404 for
// a bad subject token. s.mu is held.
func (s *Service) subject(w http.ResponseWriter, r *http.Request) (string, *token, bool) {
	if _, ok := s.lookup(r.Header.Get("X-Auth-Token")); !ok {
		writeError(w, http.StatusUnauthorized, msgUnauthorized)
		return "", nil, false
	}
	id := r.Header.Get("X-Subject-Token")
	t, ok := s.lookup(id)
	if !ok {
		writeError(w, http.StatusNotFound, "Could not find token.")
	}
	return id, t, ok
}

// check validates a token (GET or HEAD /v3/auth/tokens).
func (s *Service) check(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, t, ok := s.subject(w, r)
	if !ok {
		return
	}
	w.Header().Set("X-Subject-Token", id)
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"token": s.body(t)})
}

// revoke deletes a token (openstack token revoke).
func (s *Service) revoke(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, _, ok := s.subject(w, r); ok {
		delete(s.tokens, id)
		w.WriteHeader(http.StatusNoContent)
	}
}

// prune drops expired tokens so a long-running server does not grow.
func (s *Service) prune() {
	now := s.cfg.Knobs.Now()
	for id, t := range s.tokens {
		if !now.Before(t.expiresAt) {
			delete(s.tokens, id)
		}
	}
}

func (s *Service) findUser(id, name string, d *domain) *User {
	for i := range s.cfg.Users {
		u := &s.cfg.Users[i]
		if (id != "" && u.ID == id) || (id == "" && name != "" && u.Name == name && inDefaultDomain(d)) {
			return u
		}
	}
	return nil
}

func (s *Service) findProject(id, name string) *Project {
	for i := range s.cfg.Projects {
		p := &s.cfg.Projects[i]
		if (id != "" && p.ID == id) || (id == "" && name != "" && p.Name == name) {
			return p
		}
	}
	return nil
}

// inDefaultDomain accepts the default domain by id or name; a missing
// domain is the default one too (keystoneauth always sends it, curl users
// often do not).
func inDefaultDomain(d *domain) bool {
	return d == nil || d.ID == DomainID || (d.ID == "" && (d.Name == DomainName || d.Name == DomainID))
}

// newTokenID returns an opaque, unguessable token in the alphabet of
// Keystone's Fernet tokens.
func newTokenID() string {
	var b [48]byte
	_, _ = rand.Read(b[:])
	return "gAAAAA" + base64.RawURLEncoding.EncodeToString(b[:])
}

// stableID derives a Keystone-style 32-hex ID from a name, so role and
// endpoint IDs are the same on every run.
func stableID(kind, name string) string {
	h := sha256.Sum256([]byte(kind + "/" + name))
	return hex.EncodeToString(h[:16])
}
