package simcloud

import (
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/fuelplan/fuelplan/simcloud/internal/keystone"
	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// mount is one service under its path prefix.
type mount struct {
	prefix string // "/network"
	name   string // the key of its state in the state file
	svc    simcore.Service
	// public services (Keystone) authenticate their own requests.
	public bool
	// errorBody is the service's own error body, for injected faults.
	errorBody func(status int, msg string) any
	// versions, if set, is the version document the core serves at the
	// mount's root for a service that does not serve its own.
	versions func(base string) any
}

// ServeHTTP counts the request, delays it, maybe fails it, authenticates
// it and hands it to its service with the prefix stripped.
func (c *Cloud) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.count(r)
	m, rest := c.route(r.URL.Path)
	if m == nil {
		http.NotFound(w, r)
		return
	}
	c.mu.Lock()
	latency := c.latency
	c.mu.Unlock()
	if !c.delay(r, latency) {
		return
	}
	if f := c.fault(r); f != nil {
		if f.Delay <= 0 {
			c.fail(w, r, m, f.Status)
			return
		}
		if !c.delay(r, f.Delay) {
			return
		}
	}
	// Version discovery at a service's root needs no token, as on a real
	// cloud; the core answers it for services that do not.
	discovery := rest == "/" && r.Method == http.MethodGet
	if discovery && m.versions != nil {
		simcore.WriteJSON(w, http.StatusOK, m.versions(c.URL+m.prefix))
		return
	}
	if !m.public && !discovery {
		id, ok := c.keystone.Validate(r.Header.Get("X-Auth-Token"))
		if !ok || id.ProjectID == "" {
			// keystonemiddleware answers this, in Keystone's format, for
			// every service.
			w.Header().Set("WWW-Authenticate", `Keystone uri="`+c.URL+`/identity"`)
			simcore.WriteJSON(w, http.StatusUnauthorized, keystone.ErrorBody(http.StatusUnauthorized,
				"The request you have made requires authentication."))
			return
		}
		r = r.WithContext(simcore.WithIdentity(r.Context(), id))
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = rest
	if r.URL.RawPath != "" { // escaped characters, as in a tag with a "/"
		r2.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, m.prefix)
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	c.handle(m, rec, r2)
	if c.stateFile != "" && !m.public && mutating(r.Method) && rec.status < 400 {
		// Ctrl-C (Close) loses nothing; a crash loses at most what
		// changed since the last checkpoint.
		c.changed()
	}
}

// handle runs the service under the shared state lock. A panic in a
// handler (a bug, or state the service did not expect) answers 500 in the
// service's error format, as a real API's WSGI layer answers an unexpected
// exception, and releases the lock: held, it left Save (and Ctrl-C's
// Close) waiting forever.
func (c *Cloud) handle(m *mount, rec *statusRecorder, r *http.Request) {
	c.stateMu.RLock()
	defer c.stateMu.RUnlock()
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		log.Printf("simcloud: %s %s: internal error: %v", r.Method, m.prefix+r.URL.Path, v)
		rec.status = http.StatusInternalServerError
		if !rec.wrote {
			msg, ok := internalErrors[m.name]
			if !ok {
				msg = internalErrors[""]
			}
			simcore.WriteJSON(rec.ResponseWriter, http.StatusInternalServerError, m.errorBody(http.StatusInternalServerError, msg))
		}
	}()
	m.svc.ServeHTTP(rec, r)
}

// internalErrors are the messages each service's API layer answers an
// unexpected exception with, by mount name: Neutron's resource layer
// (neutron/api/v2/resource.py), Nova's expected_errors wrapper
// (nova/api/openstack/wsgi.py); Glance, Cinder and Keystone answer
// webob's HTTPInternalServerError text (the "" entry).
var internalErrors = map[string]string{
	"network": "Request Failed: internal server error while processing your request.",
	"compute": "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.",
	"":        "The server has either erred or is incapable of performing the requested operation.",
}

// route finds the mount for path and the path the service sees.
func (c *Cloud) route(path string) (*mount, string) {
	for i := range c.mounts {
		m := &c.mounts[i]
		if path == m.prefix || strings.HasPrefix(path, m.prefix+"/") {
			rest := strings.TrimPrefix(path, m.prefix)
			if rest == "" {
				rest = "/"
			}
			return m, rest
		}
	}
	return nil, ""
}

// delay holds r for d before it is handled; false when it is not to be
// handled: the cloud is closing, or the client of a request that changes
// nothing gave up. A request that changes something is handled even when
// its client went away, as a real cloud's API does once it has the
// request (probed on Zed's Neutron: three port POSTs whose client, curl
// -m 0.1, gave up after 100 ms without an answer were all created), so a
// create sent by a process killed before the answer still lands.
func (c *Cloud) delay(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	gone := r.Context().Done()
	if mutating(r.Method) {
		gone = nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-gone:
		return false
	case <-c.closing:
		return false
	}
}

func mutating(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// statusRecorder remembers the status a service answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool // the header is sent: a 500 can no longer be
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status, s.wrote = code, true
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}
