package resources

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
)

// Humanize rewrites the gophercloud "Expected HTTP response code [...]
// when accessing [...], but got N instead: {json}" inside an error's
// message as "HTTP 409 IpAddressAlreadyAllocated: IP address ... (POST
// /v2.0/ports)": what the API said, first. The error still unwraps to the
// original, so status checks keep working.
func Humanize(err error) error {
	var ue gophercloud.ErrUnexpectedResponseCode
	if err == nil || !errors.As(err, &ue) {
		return err
	}
	long := ue.Error()
	msg := err.Error()
	if !strings.Contains(msg, long) {
		return err
	}
	return &humanError{msg: strings.Replace(msg, long, describe(ue), 1), err: err}
}

type humanError struct {
	msg string
	err error
}

func (e *humanError) Error() string { return e.msg }
func (e *humanError) Unwrap() error { return e.err }

// describe extracts the service's own error type and message from the
// body formats OpenStack services use.
func describe(ue gophercloud.ErrUnexpectedResponseCode) string {
	kind, message := parseBody(ue.Body)
	path := ue.URL
	if u, err := url.Parse(ue.URL); err == nil {
		path = u.Path
	}
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %d", ue.Actual)
	if kind != "" {
		b.WriteString(" " + kind)
	}
	if message != "" {
		b.WriteString(": " + message)
	} else if body := strings.TrimSpace(string(ue.Body)); body != "" && len(body) < 300 {
		b.WriteString(": " + body)
	}
	fmt.Fprintf(&b, " (%s %s)", ue.Method, path)
	return b.String()
}

func parseBody(body []byte) (kind, message string) {
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &raw) != nil {
		return "", ""
	}
	// Neutron: {"NeutronError": {"type": ..., "message": ...}}
	if ne, ok := raw["NeutronError"]; ok {
		var v struct{ Type, Message string }
		if json.Unmarshal(ne, &v) == nil {
			return v.Type, v.Message
		}
	}
	// Keystone: {"error": {"title": ..., "message": ...}}
	if ke, ok := raw["error"]; ok {
		var v struct{ Title, Message string }
		if json.Unmarshal(ke, &v) == nil {
			return v.Title, v.Message
		}
	}
	// Nova: {"itemNotFound": {"code": 404, "message": ...}} and the like.
	if len(raw) == 1 {
		for k, v := range raw {
			var f struct{ Message string }
			if json.Unmarshal(v, &f) == nil && f.Message != "" {
				return k, f.Message
			}
		}
	}
	return "", ""
}
