package glance

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// view renders an image as Glance v2 does: fixed attributes plus custom
// properties as top-level fields.
func view(im *image) map[string]any {
	m := map[string]any{}
	for k, v := range im.Props {
		m[k] = v
	}
	var size any // null until data is uploaded, as Glance shows it
	if im.Size != nil {
		size = *im.Size
	}
	opt := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	tags := im.Tags
	if tags == nil {
		tags = []string{}
	}
	for k, v := range map[string]any{
		"id":               im.ID,
		"name":             opt(im.Name),
		"status":           im.Status,
		"visibility":       im.Visibility,
		"owner":            im.Owner,
		"disk_format":      opt(im.DiskFormat),
		"container_format": opt(im.ContainerFormat),
		"min_disk":         im.MinDisk,
		"min_ram":          im.MinRAM,
		"protected":        im.Protected,
		"os_hidden":        im.Hidden,
		"size":             size,
		"virtual_size":     nil,
		"checksum":         opt(im.Checksum),
		"os_hash_algo":     opt(im.HashAlgo),
		"os_hash_value":    opt(im.HashValue),
		"tags":             tags,
		"created_at":       simcore.Timestamp(im.Created),
		"updated_at":       simcore.Timestamp(im.Updated),
		"self":             "/v2/images/" + im.ID,
		"file":             "/v2/images/" + im.ID + "/file",
		"schema":           "/v2/schemas/image",
	} {
		m[k] = v
	}
	// Where the data is: Glance's file store, once there is data; the key
	// is absent before.
	if im.Size != nil {
		m["stores"] = "fs"
	}
	return m
}

// fail writes an error the way Glance (webob) does: JSON {"code": "404
// Not Found", "title", "message"} to a client that accepts JSON, as
// gophercloud and the openstack CLI do, else plain text starting with the
// status line.
//
// In JSON the message ends as real Zed's does, in what webob's HTML
// template leaves of the detail: "<br /><br />\n\n\n".
func fail(w http.ResponseWriter, r *http.Request, status int, format string, args ...any) {
	failWith(w, r, status, fmt.Sprintf(format, args...), "<br /><br />\n\n\n")
}

// failWith writes msg with a JSON trailer of its own: webob's errors
// without a detail (an unsupported media type) end "\n<br /><br />\n".
func failWith(w http.ResponseWriter, r *http.Request, status int, msg, jsonTrailer string) {
	code := fmt.Sprintf("%d %s", status, http.StatusText(status))
	if strings.Contains(r.Header.Get("Accept"), "json") {
		simcore.WriteJSON(w, status, map[string]string{"code": code, "title": http.StatusText(status), "message": msg + jsonTrailer})
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "%s\n\n%s\n\n   ", code, msg)
}

// versions is the unversioned endpoint's document; clients discover v2 here.
func (s *Service) versions(w http.ResponseWriter, r *http.Request) {
	base := "http://" + r.Host + prefix(r) + "/v2/"
	simcore.WriteJSON(w, http.StatusMultipleChoices, map[string]any{"versions": []any{
		map[string]any{"id": "v2.16", "status": "CURRENT", "links": []any{map[string]any{"rel": "self", "href": base}}},
	}})
}

// schema returns a minimal image schema; clients that fetch it only read
// the property names.
func (s *Service) schema(w http.ResponseWriter, r *http.Request) {
	props := map[string]any{}
	for _, k := range []string{"id", "name", "status", "visibility", "protected", "os_hidden", "checksum",
		"os_hash_algo", "os_hash_value", "owner", "size", "virtual_size", "min_ram", "min_disk",
		"container_format", "disk_format", "created_at", "updated_at", "tags", "self", "file", "schema"} {
		props[k] = map[string]any{}
	}
	simcore.WriteJSON(w, http.StatusOK, map[string]any{
		"name": "image", "properties": props, "additionalProperties": map[string]any{"type": "string"},
	})
}

// prefix is the mount path the core stripped: the original request path
// minus what this service sees. Empty when served directly.
func prefix(r *http.Request) string {
	p := r.URL.RawPath
	if p == "" {
		p = r.URL.Path
	}
	full, _, _ := strings.Cut(r.RequestURI, "?")
	if len(full) >= len(p) && full[len(full)-len(p):] == p {
		return full[:len(full)-len(p)]
	}
	return ""
}
