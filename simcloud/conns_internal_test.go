package simcloud

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
)

// TestCloseLeavesUnusedConnections: a connection a client opened and
// never sent a request on (Go's http.Transport leaves one in its idle
// pool when another connection freed up first) does not hold Close:
// http.Server.Shutdown alone waits for it until it is 5 seconds old, so
// sim-backed tests paid 5 s at random on cleanup. Requests served before
// still leave their (idle) connections, which Shutdown closes itself.
func TestCloseLeavesUnusedConnections(t *testing.T) {
	c, err := Start(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	nc := networkClient(t, c.Admin())
	if _, err := networks.List(nc, nil).AllPages(context.Background()); err != nil {
		t.Fatal(err)
	}
	raw, err := net.Dial("tcp", c.URL[len("http://"):])
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// The server has accepted it and waits for its first request.
	for deadline := time.Now().Add(10 * time.Second); c.unusedCount() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the server never accepted the connection")
		}
	}

	done := make(chan error, 1)
	go func() { done <- c.Close() }()
	// Not a speed target: the bound only tells "did not wait for the
	// unused connection" (milliseconds) from "waited" (5 s or more).
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close waits for a connection that carries no request")
	}
	// The server closed it: the client reads EOF, not a hang.
	_ = raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := raw.Read(make([]byte, 1)); err == nil {
		t.Error("the unused connection is still open after Close")
	}
}

// unusedCount is how many connections wait for their first request.
func (c *Cloud) unusedCount() int {
	c.unused.mu.Lock()
	defer c.unused.mu.Unlock()
	return len(c.unused.conns)
}
