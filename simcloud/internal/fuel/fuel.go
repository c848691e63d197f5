// Package fuel plays, inside the simulated cloud, the Fuel master a lab
// boots, as far as fuelplan's waits use it: some time after a server booted
// from a Fuel ISO is ACTIVE, its addresses (fixed or floating) answer
// Fuel's API on port 8000 (GET /api/version, GET /api/nodes) and Fuel's
// Keystone v2.0 on port 5000 (POST /v2.0/tokens, user admin/admin). A
// slave is listed in /api/nodes, with its MACs, a while after it boots,
// only if its DHCP (PXE) request can reach the master and the answer come
// back: it has a port on a network where the master has one, and that
// port of the master has port security off (Neutron drops the DHCP replies
// an instance sends otherwise: the allow-dhcp-server patch's API method).
//
// Not simulated: Fuel's installation itself, its other APIs, deployments,
// and the SSH method of the patch (the simulated cloud has no compute
// nodes whose firewall could be changed): a master whose DHCP goes through
// an SSH patch discovers no slave here.
package fuel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// The ports Fuel 6.x serves on, and its default login.
const (
	APIPort      = "8000"
	KeystonePort = "5000"
	Username     = "admin"
	Password     = "admin"
)

// Config wires the simulated Fuel masters to the cloud they run in.
type Config struct {
	Knobs     *simcore.Knobs
	Guests    func() []simcore.Guest
	Ports     simcore.Ports
	Addresses simcore.Addresses
}

// Service answers for every Fuel master of the cloud.
type Service struct {
	cfg Config

	mu  sync.Mutex
	ids map[string]int // node ID per slave server, in order of discovery
}

func New(cfg Config) *Service { return &Service{cfg: cfg, ids: map[string]int{}} }

// IsMaster reports whether a guest runs Fuel: it boots from an image whose
// name says Mirantis OpenStack or Fuel with a release number (the Fuel
// ISO: MirantisOpenStack-6.1.iso, fuel-6.1-432), not merely "fuel" (a lab
// named fuel has a fuel-ipxe image for its slaves).
func IsMaster(g simcore.Guest) bool {
	for _, name := range g.BootImages {
		if fuelImage.MatchString(name) {
			return true
		}
	}
	return false
}

var fuelImage = regexp.MustCompile(`(?i)mirantis|fuel[-_ ]?\d+\.\d+`)

// ErrNotInCloud: no port of the simulated cloud has the address.
var ErrNotInCloud = errors.New("no port of the simulated cloud has this address")

// Dial connects to addr (IP:port) as a client on the host cloud's networks
// would: refused where nothing listens (no Fuel master at that address,
// another port, or Fuel not up yet); ErrNotInCloud where no port has the IP.
func (s *Service) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	fail := func(errno error) error {
		return &net.OpError{Op: "dial", Net: network, Err: &net.AddrError{Err: errno.Error(), Addr: addr}}
	}
	portID := s.cfg.Addresses.PortAt(host)
	if portID == "" {
		return nil, ErrNotInCloud
	}
	master, ok := s.masterOn(portID)
	boot, _ := s.cfg.Knobs.FuelTimes()
	if !ok || (port != APIPort && port != KeystonePort) || s.cfg.Knobs.Now().Before(master.ActiveSince.Add(boot)) {
		return nil, fail(syscall.ECONNREFUSED)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// One in-process HTTP server per connection, over a pipe; it stops
	// when the connection closes.
	client, server := net.Pipe()
	ln := &oneConn{c: server, done: make(chan struct{})}
	srv := &http.Server{Handler: s.handler(master.ID, port), ReadHeaderTimeout: 10 * time.Second,
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateClosed || st == http.StateHijacked {
				_ = ln.Close()
			}
		}}
	go func() { _ = srv.Serve(ln) }()
	return client, nil
}

// masterOn finds the running Fuel master owning a port.
func (s *Service) masterOn(portID string) (simcore.Guest, bool) {
	for _, g := range s.cfg.Guests() {
		if slices.Contains(g.Ports, portID) && IsMaster(g) {
			return g, true
		}
	}
	return simcore.Guest{}, false
}

func (s *Service) handler(masterID, port string) http.Handler {
	mux := http.NewServeMux()
	if port == KeystonePort {
		mux.HandleFunc("POST /v2.0/tokens", func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				Auth struct {
					TenantName string `json:"tenantName"`
					Creds      struct {
						Username string `json:"username"`
						Password string `json:"password"`
					} `json:"passwordCredentials"`
				} `json:"auth"`
			}
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				simcore.WriteJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"code": 400, "title": "Bad Request", "message": "Expecting to find auth in request body."}})
				return
			}
			if body.Auth.Creds.Username != Username || body.Auth.Creds.Password != Password || body.Auth.TenantName != "admin" {
				simcore.WriteJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]any{"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}})
				return
			}
			simcore.WriteJSON(w, http.StatusOK, map[string]any{"access": map[string]any{"token": map[string]any{"id": token(masterID)}}})
		})
		return mux
	}
	mux.HandleFunc("GET /api/version", func(w http.ResponseWriter, r *http.Request) {
		simcore.WriteJSON(w, http.StatusOK, map[string]any{"release": "6.1", "api": "1.0", "auth_required": true,
			"feature_groups": []string{"mirantis"}, "openstack_version": "2014.2.2-6.1"})
	})
	mux.HandleFunc("GET /api/nodes", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Auth-Token") != token(masterID) {
			http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
			return
		}
		simcore.WriteJSON(w, http.StatusOK, s.nodes(masterID))
	})
	return mux
}

func token(masterID string) string { return "fuel-sim-token-" + masterID }

// nodes are the slaves master has discovered by now.
func (s *Service) nodes(masterID string) []map[string]any {
	guests := s.cfg.Guests()
	var master simcore.Guest
	for _, g := range guests {
		if g.ID == masterID {
			master = g
		}
	}
	// The networks on which the master's DHCP replies get out.
	serving := map[string]bool{}
	for _, id := range master.Ports {
		if p, ok := s.cfg.Ports.Port(id); ok && !p.PortSecurity {
			serving[p.NetworkID] = true
		}
	}
	boot, discovery := s.cfg.Knobs.FuelTimes()
	up := master.ActiveSince.Add(boot)
	now := s.cfg.Knobs.Now()
	out := []map[string]any{}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range guests {
		if g.ID == masterID || IsMaster(g) {
			continue
		}
		var pxe string
		var ifaces []any
		for i, id := range g.Ports {
			p, ok := s.cfg.Ports.Port(id)
			if !ok {
				continue
			}
			if pxe == "" && serving[p.NetworkID] {
				pxe = p.MAC
			}
			ifaces = append(ifaces, map[string]any{"name": fmt.Sprintf("eth%d", i), "mac": p.MAC})
		}
		booted := g.ActiveSince
		if up.After(booted) {
			booted = up // PXE retries until the master answers
		}
		if pxe == "" || now.Before(booted.Add(discovery)) {
			continue
		}
		id, ok := s.ids[g.ID]
		if !ok {
			id = len(s.ids) + 1
			s.ids[g.ID] = id
		}
		out = append(out, map[string]any{"id": id, "mac": pxe, "online": true, "status": "discover",
			"name": "Untitled (" + pxe[len(pxe)-5:] + ")", "meta": map[string]any{"interfaces": ifaces}})
	}
	slices.SortFunc(out, func(a, b map[string]any) int { return a["id"].(int) - b["id"].(int) })
	return out
}

// oneConn is a listener that hands out one connection, then waits until
// it is closed.
type oneConn struct {
	c         net.Conn
	once      sync.Once
	closeOnce sync.Once
	done      chan struct{}
}

func (l *oneConn) Accept() (net.Conn, error) {
	var c net.Conn
	l.once.Do(func() { c = l.c })
	if c != nil {
		return c, nil
	}
	<-l.done
	return nil, errors.New("closed")
}

func (l *oneConn) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

func (l *oneConn) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }
