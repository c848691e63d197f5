package cli

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fuelMaster is a local stand-in for a Fuel master's API: the version
// answers at once; the nodes list shows the two slaves of the engine's
// test lab (by their admin MACs) from the second call on. (Fuel's login is
// tested in package waits: its Keystone is at port 5000 of the master,
// which a test server cannot be.)
func fuelMaster(t *testing.T) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	calls := 0
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/version", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"release": "6.1"}`)
	})
	mux.HandleFunc("GET /api/nodes", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n < 2 {
			fmt.Fprint(w, `[]`)
			return
		}
		fmt.Fprint(w, `[{"id": 1, "mac": "aa:0a:14:00:03:01", "online": true, "status": "discover"},
			{"id": 2, "mac": "AA:0A:14:00:04:01", "online": true, "status": "discover"}]`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// withWaits appends waits against a Fuel API at base to the engine's test
// lab, as examples/fuel-lab.yaml has them (with a literal URL: the lab's
// floating IP is not where the test server listens).
func withWaits(base, timeout string) func(string) string {
	return func(s string) string {
		return s + fmt.Sprintf(`
waits:
  - name: fuel-api
    type: http
    url: %s/api/version
    timeout: %s
    interval: 1s
  - name: slaves-discovered
    type: fuel-nodes
    url: %s/api/nodes
    after: [fuel-api, slaves]
    timeout: %s
    interval: 1s
`, base, timeout, base, timeout)
	}
}

// withReachability adds a TCP wait on addr and a console wait for the
// simulated Nova's login prompt on the master.
func withReachability(addr string) func(string) string {
	return func(s string) string {
		return s + fmt.Sprintf(`  - {name: ssh, type: tcp, address: "%s", timeout: 10s, interval: 1s}
  - {name: login, type: console, marker: "login:", after: [master], timeout: 10s, interval: 1s}
`, addr)
	}
}

// TestApplyRunsWaits: a successful apply runs the waits, which pass
// against the local Fuel API (both slaves discovered by MAC), a listening
// port and the master's console log read through Nova; `fuelplan wait`
// runs them again on demand.
func TestApplyRunsWaits(t *testing.T) {
	fuel := fuelMaster(t)
	spec := writeLab(t, t.TempDir(), 2, withWaits(fuel.URL, "30s"), withReachability(fuel.Listener.Addr().String()))

	code, out, errOut := run(t, "apply", spec, "--cloud", "sim", "--auto-approve", "--no-color")
	if code != 0 {
		t.Fatalf("apply exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"Waiting for 4 readiness check(s)", "wait.fuel-api: ready", "wait.slaves-discovered: ready",
		"2 of 2 node(s) online in discover", "wait.ssh: ready", `wait.login: ready after`, `marker "login:" found`, "All 4 wait(s) ready."} {
		if !strings.Contains(out, want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}
	code, out, errOut = run(t, "wait", spec, "--cloud", "sim")
	if code != 0 || !strings.Contains(out, "All 4 wait(s) ready.") {
		t.Errorf("wait exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = run(t, "apply", spec, "--cloud", "sim", "--auto-approve", "--skip-waits", "--no-color")
	if code != 0 || strings.Contains(out, "Waiting for") {
		t.Errorf("--skip-waits still waited (exit %d):\n%s", code, out)
	}
}

// TestWaitTimesOut: against a master that accepts connections and never
// answers, wait ends at the spec's timeout with exit 1 and names what
// never became ready; the nodes wait after it does not start.
func TestWaitTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	spec := writeLab(t, t.TempDir(), 1, withWaits("http://"+ln.Addr().String(), "2s"))
	code, out, errOut := run(t, "wait", spec, "--cloud", "sim")
	if code != 1 {
		t.Fatalf("wait exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"2 of 2 wait(s) never became ready",
		"wait.fuel-api: not ready after 2s",
		"wait.slaves-discovered: not started: wait.fuel-api never became ready",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}
