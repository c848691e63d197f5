package simcore

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

type testState struct {
	Items map[string]int `json:"items"`
}

func TestRestoreSwapsOnlyAGoodSnapshot(t *testing.T) {
	needItems := func(s *testState) error {
		if s.Items == nil {
			return errors.New("svc: restore: snapshot lacks items")
		}
		return nil
	}
	tests := []struct {
		name, raw, wantErr string
		wantSet            bool
	}{
		{"good", `{"items": {"a": 1}}`, "", true},
		{"not JSON", `{"items": `, "svc: restore: unexpected end of JSON input", false},
		{"refused by the service", `{"other": 1}`, "svc: restore: snapshot lacks items", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			live := &testState{Items: map[string]int{"old": 1}}
			err := Restore("svc", json.RawMessage(tt.raw), &testState{}, needItems, &mu, func(s *testState) { live = s })
			if (err == nil) != (tt.wantErr == "") || (err != nil && err.Error() != tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if set := live.Items["old"] == 0; set != tt.wantSet {
				t.Errorf("state replaced: %v, want %v (%v)", set, tt.wantSet, live.Items)
			}
			snap, err := Snapshot(&mu, func() any { return live })
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantSet && string(snap) != `{"items":{"a":1}}` {
				t.Errorf("snapshot after restore = %s", snap)
			}
		})
	}
}

func TestWSGIFaults(t *testing.T) {
	f := WSGIFaults{404: "itemNotFound"}
	for _, tt := range []struct {
		status int
		want   string
	}{
		{404, `{"itemNotFound":{"code":404,"message":"no server 7"}}`},
		{500, `{"computeFault":{"code":500,"message":"no server 7"}}`},
	} {
		w := httptest.NewRecorder()
		f.Writef(w, tt.status, "no server %d", 7)
		if w.Code != tt.status || strings.TrimSpace(w.Body.String()) != tt.want {
			t.Errorf("status %d: got %d %s, want %s", tt.status, w.Code, w.Body, tt.want)
		}
	}
}
