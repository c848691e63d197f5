package simcloud

import (
	"net/http"
	"regexp"
	"strings"
)

// Requests returns how many requests the cloud received, by method and
// path with IDs replaced by {id} and the query dropped:
// "GET /network/v2.0/ports/{id}". Injected failures count too.
func (c *Cloud) Requests() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.requests))
	for k, v := range c.requests {
		out[k] = v
	}
	return out
}

// ResetRequests zeroes the request counter.
func (c *Cloud) ResetRequests() {
	c.mu.Lock()
	c.requests = map[string]int{}
	c.mu.Unlock()
}

func (c *Cloud) count(r *http.Request) {
	key := r.Method + " " + normalizePath(r.URL.Path)
	c.mu.Lock()
	c.requests[key]++
	c.mu.Unlock()
}

// idSegment matches the path elements that are IDs: UUIDs, Keystone's
// 32-hex IDs, and numeric IDs such as flavor "1".
var idSegment = regexp.MustCompile(`^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32}|[0-9]+)$`)

// normalizePath replaces the ID elements of path with {id}, so requests
// for different objects of one kind count together.
func normalizePath(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if idSegment.MatchString(p) {
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, "/")
}
