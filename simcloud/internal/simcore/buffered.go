package simcore

import (
	"bytes"
	"net/http"
)

// Buffered is a response collected while a service holds its lock and
// sent once it has let go: written straight to the connection, a large
// answer (a lab's 5,000 ports) kept the lock until the client had read
// it all, and every other request to the service (Nova asking Neutron
// for a server's ports) waited for the client's decoding.
type Buffered struct {
	w      http.ResponseWriter
	status int
	body   bytes.Buffer
}

// NewBuffered collects what a handler writes to it for w.
func NewBuffered(w http.ResponseWriter) *Buffered { return &Buffered{w: w} }

// Header is w's: headers are sent with the status, by Send.
func (b *Buffered) Header() http.Header { return b.w.Header() }

// WriteHeader records the status; the first one counts, as with net/http.
func (b *Buffered) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *Buffered) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

// Send writes the status and body collected to w; nothing when the
// handler wrote nothing (net/http then answers 200 with no body).
func (b *Buffered) Send() {
	if b.status == 0 {
		return
	}
	b.w.WriteHeader(b.status)
	_, _ = b.w.Write(b.body.Bytes())
}
