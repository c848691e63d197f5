package nova

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// The microversion range served, as minor numbers of 2.x. MaxMinor is the
// default maximum: the simulator implements the API up to 2.90 (real Zed
// reports 2.93; 2.92's keypair changes are not simulated). Config's
// MaxMicroversion lowers it, to show a cloud whose Nova is older.
const (
	minMinor = 1
	MaxMinor = 90
)

type mvKey struct{}

// mv returns the request's negotiated minor version (2.mv).
func mv(r *http.Request) int {
	v, _ := r.Context().Value(mvKey{}).(int)
	if v == 0 {
		return minMinor
	}
	return v
}

// negotiate reads the requested microversion from either header Nova
// accepts, echoes the chosen one in both, and refuses versions out of
// range with 406 as Nova does. Version documents are unversioned.
func (s *Service) negotiate(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	maxMinor := s.maxMinor
	if !strings.HasPrefix(r.URL.Path, "/v2.1/") {
		return r, true
	}
	raw := r.Header.Get("X-OpenStack-Nova-API-Version")
	for _, h := range r.Header.Values("OpenStack-API-Version") {
		if svc, v, ok := strings.Cut(strings.TrimSpace(h), " "); ok && strings.EqualFold(svc, "compute") {
			raw = strings.TrimSpace(v)
		}
	}
	minor := minMinor
	switch raw {
	case "":
	case "latest":
		minor = maxMinor
	default:
		maj, mn, ok := strings.Cut(raw, ".")
		a, errA := strconv.Atoi(maj)
		b, errB := strconv.Atoi(mn)
		if !ok || errA != nil || errB != nil || a < 0 || b < 0 {
			faults.Write(w, http.StatusBadRequest, fmt.Sprintf("API Version String %s is of invalid format. Must be of format MajorNum.MinorNum.", raw))
			return nil, false
		}
		if a != 2 || b < minMinor || b > maxMinor {
			faults.Write(w, http.StatusNotAcceptable, fmt.Sprintf("Version %s is not supported by the API. Minimum is 2.%d and maximum is 2.%d.", raw, minMinor, maxMinor))
			return nil, false
		}
		minor = b
	}
	v := fmt.Sprintf("2.%d", minor)
	h := w.Header()
	h.Set("OpenStack-API-Version", "compute "+v)
	h.Set("X-OpenStack-Nova-API-Version", v)
	h.Set("Vary", "OpenStack-API-Version, X-OpenStack-Nova-API-Version")
	return r.WithContext(context.WithValue(r.Context(), mvKey{}, minor)), true
}

// versionDoc describes v2.1 with its microversion range, in real Zed's
// words (GET /v2.1/, with or without a token):
//
//	{"version": {"id": "v2.1", "status": "CURRENT", "version": "2.93", "min_version": "2.1",
//	 "updated": "2013-07-23T11:33:21Z", "links": [{"rel": "self", "href": ".../v2.1/"},
//	 {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"}],
//	 "media-types": [...]}}
func (s *Service) versionDoc(r *http.Request) map[string]any {
	return map[string]any{
		"id": "v2.1", "status": "CURRENT", "version": fmt.Sprintf("2.%d", s.maxMinor),
		"min_version": fmt.Sprintf("2.%d", minMinor), "updated": "2013-07-23T11:33:21Z",
		"links": []any{map[string]any{"rel": "self", "href": baseURL(r) + "/v2.1/"},
			map[string]any{"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"}},
		"media-types": []any{map[string]any{"base": "application/json",
			"type": "application/vnd.openstack.compute+json;version=2.1"}},
	}
}

func (s *Service) versions(w http.ResponseWriter, r *http.Request) {
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"versions": []any{s.versionDoc(r)}})
}

func (s *Service) version(w http.ResponseWriter, r *http.Request) {
	simcore.WriteJSON(w, http.StatusOK, map[string]any{"version": s.versionDoc(r)})
}

// baseURL is the service's external URL: scheme, host and the mount
// prefix the core stripped (the request URI's path minus the path this
// service sees). Nova's pagination links are absolute, so they need it.
func baseURL(r *http.Request) string {
	full, _, _ := strings.Cut(r.RequestURI, "?")
	p := r.URL.EscapedPath()
	prefix := ""
	if strings.HasSuffix(full, p) {
		prefix = strings.TrimSuffix(full, p)
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + prefix
}

// faults are the body keys Nova's wsgi.Fault uses per status.
var faults = simcore.WSGIFaults{
	400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
	405: "badMethod", 409: "conflictingRequest", 413: "overLimit", 415: "badMediaType",
	429: "overLimit", 501: "notImplemented", 503: "serviceUnavailable",
}

// caller is the request's identity (set by the core, or by a test).
func caller(r *http.Request) *simcore.Identity {
	if id := simcore.IdentityFrom(r.Context()); id != nil {
		return id
	}
	return &simcore.Identity{}
}
