package simcloud

import (
	"net"
	"net/http"
	"sync"
)

// unusedConns follows the server's connections that have not begun a
// request (http.StateNew), so that Close can end them at once, as
// net/http/httptest's Server.Close does. http.Server.Shutdown waits for
// such a connection until it is 5 seconds old, and clients leave them
// behind: Go's http.Transport dials a connection for a request, and when
// another connection frees up first the request takes that one and the
// new connection goes to the idle pool with nothing sent on it. Closing
// one loses nothing: no request has been read from it, and none will be
// served once Close has begun.
type unusedConns struct {
	mu      sync.Mutex
	closing bool
	conns   map[net.Conn]struct{}
}

// track is the server's ConnState hook.
func (u *unusedConns) track(c net.Conn, st http.ConnState) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if st != http.StateNew {
		delete(u.conns, c)
		return
	}
	if u.closing {
		// Accepted while Close stops the listener: never served.
		_ = c.Close()
		return
	}
	if u.conns == nil {
		u.conns = map[net.Conn]struct{}{}
	}
	u.conns[c] = struct{}{}
}

// close closes every connection that has not begun a request, and every
// one accepted from now on.
func (u *unusedConns) close() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.closing = true
	for c := range u.conns {
		_ = c.Close()
	}
	clear(u.conns)
}
