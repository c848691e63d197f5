package waits

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// redactURL hides a password written into a URL's userinfo.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// get fetches a URL and returns the response, body drained by the caller.
func get(ctx context.Context, client *http.Client, rawURL, token string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	return client.Do(req)
}

// errText is a request error without the URL (progress lines name it
// once, in describe) and without Go's wrapping noise.
func errText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer within the attempt timeout"
	}
	return err.Error()
}

// httpProbe: ready when GET URL answers the expected status.
func httpProbe(c *Check, client *http.Client) probe {
	want := c.Status
	if want == 0 {
		want = http.StatusOK
	}
	return func(ctx context.Context) (bool, string, error) {
		resp, err := get(ctx, client, c.URL, "")
		if err != nil {
			return false, errText(err), nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		seen := fmt.Sprintf("answered %s", resp.Status)
		return resp.StatusCode == want, seen, nil
	}
}

// tcpProbe: ready when a TCP connection to the address is accepted (an SSH
// daemon listening is reachability enough; no login is tried).
func tcpProbe(c *Check) probe {
	return func(ctx context.Context) (bool, string, error) {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", c.Address)
		if err != nil {
			return false, errText(err), nil
		}
		conn.Close()
		return true, "connection accepted", nil
	}
}

// consoleProbe: ready when every server's console log holds the marker.
func consoleProbe(c *Check, read func(ctx context.Context, serverID string) (string, error)) probe {
	return func(ctx context.Context) (bool, string, error) {
		var missing []string
		for _, s := range c.Servers {
			out, err := read(ctx, s.ID)
			if err != nil {
				return false, fmt.Sprintf("%s: console: %v", s.Addr, err), nil
			}
			if !strings.Contains(out, c.Marker) {
				missing = append(missing, string(s.Addr))
			}
		}
		if len(missing) > 0 {
			return false, fmt.Sprintf("marker %q not yet in the console of %s", c.Marker, strings.Join(missing, ", ")), nil
		}
		return true, fmt.Sprintf("marker %q found", c.Marker), nil
	}
}
