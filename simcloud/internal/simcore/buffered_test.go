package simcore

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestBuffered: what a handler writes reaches the client only at Send,
// with the first status, the headers and the body as written; a handler
// that writes nothing leaves the answer to net/http.
func TestBuffered(t *testing.T) {
	rec := httptest.NewRecorder()
	b := NewBuffered(rec)
	WriteJSON(b, http.StatusConflict, map[string]string{"a": "<b>"})
	b.WriteHeader(http.StatusOK) // ignored, as net/http ignores a second status
	if rec.Body.Len() != 0 || rec.Code != http.StatusOK || rec.Flushed {
		t.Fatalf("written before Send: %d %q", rec.Code, rec.Body.String())
	}
	b.Send()
	if rec.Code != http.StatusConflict || rec.Header().Get("Content-Type") != "application/json" ||
		rec.Body.String() != "{\"a\":\"\\u003cb\\u003e\"}\n" {
		t.Errorf("sent %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}

	rec = httptest.NewRecorder()
	b = NewBuffered(rec)
	_, _ = b.Write([]byte("x"))
	b.Send()
	if rec.Code != http.StatusOK || rec.Body.String() != "x" {
		t.Errorf("a body without a status: %d %q, want 200 x", rec.Code, rec.Body.String())
	}

	rec = httptest.NewRecorder()
	NewBuffered(rec).Send()
	if rec.Body.Len() != 0 || rec.Code != http.StatusOK {
		t.Errorf("nothing written: %d %q", rec.Code, rec.Body.String())
	}
}
