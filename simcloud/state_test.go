package simcloud_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/fuelplan/fuelplan/simcloud"
)

// builtState saves a cloud holding a port and a server bound to it, and
// returns the state file with the two IDs.
func builtState(t *testing.T) (path, portID, serverID string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "sim-state.json")
	c, err := simcloud.Start(simcloud.Config{StateFile: path})
	if err != nil {
		t.Fatal(err)
	}
	demo := clientsFor(t, c.Member())
	portID = newPort(t, demo, "p")
	srv, err := servers.Create(context.Background(), demo.compute, servers.CreateOpts{
		Name: "s", FlavorRef: "2", ImageRef: simcloud.DefaultWorld().Images[0].ID, Networks: []servers.Network{{Port: portID}},
	}, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return path, portID, srv.ID
}

// editState rewrites one service's part of a state file.
func editState(t *testing.T, path string, edit func(services map[string]map[string]any)) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Format   string                    `json:"format"`
		Services map[string]map[string]any `json:"services"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	edit(st.Services)
	out, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedStateRefused (issue 13, item 4): a state file edited by hand
// or cut short is refused at Start with an error naming the file and the
// entry, and left as it was; it is never taken as an empty cloud.
func TestDamagedStateRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(s map[string]map[string]any, portID, serverID string)
		want string
	}{
		{"null port", func(s map[string]map[string]any, portID, _ string) {
			s["network"]["ports"].(map[string]any)[portID] = nil
		}, `network: neutron: restore: ports["PORT"] is null`},
		{"server under another id", func(s map[string]map[string]any, _, serverID string) {
			srv := s["compute"]["servers"].(map[string]any)[serverID].(map[string]any)
			srv["id"] = "other"
		}, `compute: nova: restore: servers["SERVER"] has id "other"`},
		{"no images", func(s map[string]map[string]any, _, _ string) {
			s["image"]["images"] = nil
		}, "glance: restore: snapshot lacks images"},
		{"no services", func(s map[string]map[string]any, _, _ string) {
			clear(s)
		}, "has no services"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path, portID, serverID := builtState(t)
			editState(t, path, func(s map[string]map[string]any) { tt.edit(s, portID, serverID) })
			if tt.name == "no services" {
				if err := os.WriteFile(path, []byte(`{"format": "fuelplan-simcloud/1"}`), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := os.ReadFile(path)
			c, err := simcloud.Start(simcloud.Config{StateFile: path})
			if err == nil {
				c.Close()
				t.Fatal("Start accepted the state")
			}
			want := strings.NewReplacer("PORT", portID, "SERVER", serverID).Replace(tt.want)
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), want) {
				t.Errorf("error %q should name %s and say %q", err, path, want)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("the state file was rewritten")
			}
		})
	}
}

// TestShortServerIDServed (issue 13, item 4): a server whose id is 5
// characters long (a hand-edited state) used to panic Nova's server view,
// leaving the request lock held and Close waiting forever.
func TestShortServerIDServed(t *testing.T) {
	t.Parallel()
	path, _, serverID := builtState(t)
	editState(t, path, func(s map[string]map[string]any) {
		all := s["compute"]["servers"].(map[string]any)
		srv := all[serverID].(map[string]any)
		srv["id"] = "abcde"
		delete(all, serverID)
		all["abcde"] = srv
	})
	c, err := simcloud.Start(simcloud.Config{StateFile: path})
	if err != nil {
		t.Fatal(err)
	}
	admin := clientsFor(t, c.Admin())
	pages, err := servers.List(admin.compute, servers.ListOpts{AllTenants: true}).AllPages(context.Background())
	if err != nil {
		t.Fatalf("list as admin: %v", err)
	}
	if all, _ := servers.ExtractServers(pages); len(all) != 1 || all[0].ID != "abcde" {
		t.Errorf("servers: %+v", all)
	}
	closeWithin(t, c, 10*time.Second)
}

func closeWithin(t *testing.T, c *simcloud.Cloud, d time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- c.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(d):
		t.Fatal("Close still waiting: a handler kept the request lock")
	}
}
