package simcloud

import (
	"net/http"
	"strconv"
)

// The error bodies of the real services, for what the core answers on a
// service's behalf: injected faults; and Neutron's
// version document, which the simulated Neutron does not serve itself.

// neutronTypes are the NeutronError types of generic failures.
var neutronTypes = map[int]string{
	http.StatusBadRequest:          "BadRequest",
	http.StatusNotFound:            "NotFound",
	http.StatusConflict:            "Conflict",
	http.StatusTooManyRequests:     "OverQuota",
	http.StatusInternalServerError: "HTTPInternalServerError",
	http.StatusServiceUnavailable:  "ServiceUnavailable",
}

func neutronError(status int, msg string) any {
	t := neutronTypes[status]
	if t == "" {
		t = "HTTP" + http.StatusText(status)
	}
	return map[string]any{"NeutronError": map[string]string{"type": t, "message": msg, "detail": ""}}
}

// novaFaults are the keys of Nova's error bodies (nova.api.openstack.wsgi).
var novaFaults = map[int]string{
	http.StatusBadRequest:            "badRequest",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "itemNotFound",
	http.StatusMethodNotAllowed:      "badMethod",
	http.StatusConflict:              "conflictingRequest",
	http.StatusRequestEntityTooLarge: "overLimit",
	http.StatusTooManyRequests:       "overLimit",
	http.StatusNotImplemented:        "notImplemented",
	http.StatusServiceUnavailable:    "serviceUnavailable",
}

func novaError(status int, msg string) any {
	k := novaFaults[status]
	if k == "" {
		k = "computeFault"
	}
	return map[string]any{k: map[string]any{"code": status, "message": msg}}
}

// glanceError is webob's JSON error body, which Glance returns.
func glanceError(status int, msg string) any {
	return map[string]string{
		"code":    strconv.Itoa(status) + " " + http.StatusText(status),
		"title":   http.StatusText(status),
		"message": msg,
	}
}

func selfLink(href string) []map[string]string {
	return []map[string]string{{"rel": "self", "href": href}}
}

func networkVersions(base string) any {
	return map[string]any{"versions": []any{map[string]any{
		"id": "v2.0", "status": "CURRENT", "links": selfLink(base + "/v2.0/"),
	}}}
}
