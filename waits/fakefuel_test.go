package waits_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// fakeFuel plays a Fuel master booting: /api/version answers 502 (nginx
// up, nailgun not yet) for the first versionAfter calls, then 200;
// /api/nodes wants a token from its Keystone (/v2.0/tokens) and lists
// more nodes on each call, as slaves PXE-boot and report in.
type fakeFuel struct {
	srv          *httptest.Server
	user, pass   string
	versionAfter int

	mu       sync.Mutex
	versions int
	nodeGets int
	logins   int
	// steps[i] are the nodes listed on the i-th authorised call (the last
	// one repeats).
	steps [][]map[string]any
}

const fuelToken = "fuel-token-1"

func newFakeFuel(t *testing.T, user, pass string, versionAfter int, steps [][]map[string]any) *fakeFuel {
	t.Helper()
	f := &fakeFuel{user: user, pass: pass, versionAfter: versionAfter, steps: steps}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/version", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.versions++
		n := f.versions
		f.mu.Unlock()
		if n <= f.versionAfter {
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"release": "6.1", "api": "1.0"})
	})
	mux.HandleFunc("POST /v2.0/tokens", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Auth struct {
				TenantName string `json:"tenantName"`
				Creds      struct {
					Username, Password string
				} `json:"passwordCredentials"`
			} `json:"auth"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		f.logins++
		f.mu.Unlock()
		if body.Auth.Creds.Username != f.user || body.Auth.Creds.Password != f.pass || body.Auth.TenantName != "admin" {
			http.Error(w, `{"error": {"code": 401, "title": "Unauthorized"}}`, http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"access": map[string]any{"token": map[string]any{"id": fuelToken}}})
	})
	mux.HandleFunc("GET /api/nodes", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Auth-Token") != fuelToken {
			http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
			return
		}
		f.mu.Lock()
		i := min(f.nodeGets, len(f.steps)-1)
		f.nodeGets++
		nodes := f.steps[i]
		f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(nodes)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeFuel) url(path string) string { return f.srv.URL + path }

// node is a Fuel node as /api/nodes lists it.
func node(id int, mac string, online bool, status string) map[string]any {
	return map[string]any{"id": id, "mac": strings.ToUpper(mac), "online": online, "status": status,
		"meta": map[string]any{"interfaces": []any{map[string]any{"name": "eth0", "mac": mac}}}}
}

// silentServer accepts connections and never answers, as a master whose
// nginx hangs would; it returns its address.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String()
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	// A socket bound to a port but not listening refuses connections, and
	// holds the port for the whole test: a port merely closed again could
	// be taken by another test on this machine before the wait dials it.
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
}
