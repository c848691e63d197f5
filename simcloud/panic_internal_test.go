package simcloud

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// panicking is a service whose every handler panics, standing in for a
// bug or for state a handler did not expect.
type panicking struct{}

func (panicking) ServeHTTP(http.ResponseWriter, *http.Request) { panic("boom") }
func (panicking) Snapshot() (json.RawMessage, error)           { return json.RawMessage(`{}`), nil }
func (panicking) Restore(json.RawMessage) error                { return nil }

// TestHandlerPanicIs500 (issue 13, item 4): a panic in a service handler
// answers 500 in the service's error format, as a real API's WSGI layer
// does for an unexpected exception (Nova: {"computeFault": {"code": 500,
// ...}}), and releases the request lock: Save and Close still finish.
func TestHandlerPanicIs500(t *testing.T) {
	c, err := Start(Config{StateFile: filepath.Join(t.TempDir(), "state.json")})
	if err != nil {
		t.Fatal(err)
	}
	c.mounts = append(c.mounts, mount{prefix: "/panic", name: "compute", svc: panicking{}, public: true, errorBody: novaError})
	resp, err := http.Post(c.URL+"/panic/v1/things", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), `"computeFault"`) || !strings.Contains(string(body), "Unexpected API Error.") {
		t.Errorf("answer %d %s, want 500 with a computeFault", resp.StatusCode, body)
	}
	done := make(chan error, 1)
	go func() { done <- c.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close still waiting: the panic kept the request lock")
	}
}
