// Package simcloud is a simulated OpenStack cloud for tests and demos, in
// the manner of net/http/httptest: Start serves Keystone, Neutron, Nova,
// Glance and Cinder on 127.0.0.1 and returns their auth URL and
// credentials; the real gophercloud client and the openstack CLI talk to
// it unchanged.
//
// Each service is mounted under its own path prefix (/identity, /network,
// /compute, /image, /volume), which this package strips before the service sees
// the request. This package authenticates every non-Keystone request and
// applies the test knobs every service shares: latency, injected faults
// and the request counter.
package simcloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/fuelplan/fuelplan/simcloud/internal/fuel"
	"github.com/fuelplan/fuelplan/simcloud/internal/keystone"
	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// Knobs are the service-level test controls: server build and delete
// times, volume build time, servers that go to ERROR, and the clock.
type Knobs = simcore.Knobs

// Config configures a simulated cloud. The zero value is the default
// world, no latency, no state file, on a free loopback port.
type Config struct {
	World *World // nil: DefaultWorld()
	// Latency is added to every request, before it is handled.
	Latency time.Duration
	// StateFile, when set, is loaded at Start (if it exists) and written
	// after successful mutating requests (after every one while the state
	// is small, at checkpoints once it is large: see checkpointDelay), by
	// Save and by Close, so the cloud survives a restart. "" keeps state
	// in memory only.
	StateFile string
	// Listen is the loopback address to serve on; default 127.0.0.1:0.
	Listen string
	// ReadOnly loads the state file but never writes it: for commands
	// that only read the cloud, so one running beside a change cannot
	// write back a stale copy. Changes made through its API are lost.
	ReadOnly bool
	// LockWait is how long Start waits for another process's exclusive
	// lock on the state file (held by a writing cloud from Start to
	// Close) before it fails with ErrStateLocked; LockProgress, when set,
	// is told once that it waits.
	LockWait     time.Duration
	LockProgress io.Writer
}

// Credentials are what a client needs to authenticate as one user.
type Credentials struct {
	AuthURL, Username, Password, ProjectName, DomainName string
}

// Cloud is a running simulated cloud.
type Cloud struct {
	// URL is the base URL, http://127.0.0.1:PORT.
	URL string
	// AuthURL is Keystone's v3 endpoint, URL + "/identity/v3".
	AuthURL string

	world     *World
	knobs     *Knobs
	keystone  *keystone.Service
	fuel      *fuel.Service
	mounts    []mount
	stateFile string
	readOnly  bool
	lock      *stateLock
	srv       *http.Server
	unused    unusedConns   // connections no request has begun on
	served    chan struct{} // closed when Serve returns
	closing   chan struct{} // closed by Close: releases held requests

	mu       sync.Mutex // guards latency, faults, requests
	latency  time.Duration
	faults   []*activeFault
	requests map[string]int

	// stateMu makes a saved state consistent across services: requests
	// hold it shared while a service handles them, Save exclusively.
	stateMu sync.RWMutex
	saveMu  sync.Mutex // one writer of the state file at a time
	stopped bool       // set by Close under saveMu: no checkpoint after it

	ckMu     sync.Mutex // guards the checkpoint fields below
	pending  *time.Timer
	lastSave time.Time
	lastSize int
	saved    int64 // bytes written to the state file
	closed   sync.Once
}

// Start serves a simulated cloud until Close.
func Start(cfg Config) (*Cloud, error) { return StartContext(context.Background(), cfg) }

// StartContext is Start; ctx ends a wait for the state file's lock.
func StartContext(ctx context.Context, cfg Config) (*Cloud, error) {
	world := cfg.World
	if world == nil {
		world = DefaultWorld()
	}
	listen := cfg.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	if err := checkLoopback(listen); err != nil {
		return nil, err
	}
	var lock *stateLock
	if cfg.StateFile != "" && !cfg.ReadOnly {
		l, err := lockState(ctx, cfg.StateFile, cfg.LockWait, cfg.LockProgress)
		if err != nil {
			return nil, err
		}
		lock = l
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("simcloud: %w", err), lock.release())
	}
	base := "http://" + ln.Addr().String()
	c := &Cloud{
		URL:       base,
		AuthURL:   base + "/identity/v3",
		world:     world,
		knobs:     simcore.NewKnobs(),
		stateFile: cfg.StateFile,
		readOnly:  cfg.ReadOnly,
		lock:      lock,
		latency:   cfg.Latency,
		requests:  map[string]int{},
		served:    make(chan struct{}),
		closing:   make(chan struct{}),
	}
	c.keystone, c.fuel, c.mounts = newServices(world, c.knobs, base)
	boot, discovery := world.fuelTimes()
	c.knobs.SetFuelTimes(boot, discovery)
	if cfg.StateFile != "" {
		if err := c.load(); err != nil {
			ln.Close()
			return nil, errors.Join(err, lock.release())
		}
	}
	c.srv = &http.Server{Handler: c, ReadHeaderTimeout: 10 * time.Second, ConnState: c.unused.track}
	go func() {
		defer close(c.served)
		_ = c.srv.Serve(ln)
	}()
	return c, nil
}

// checkLoopback refuses to serve beyond this machine: the simulated
// cloud's passwords are written in its world file.
func checkLoopback(listen string) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("simcloud: listen address %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("simcloud: listen address %q: only loopback addresses are allowed", listen)
	}
	return nil
}

// Close stops serving, saves the state file if there is one, and releases
// requests held by timeout faults. It waits for requests being served (at
// most 5 s), not for connections that carry none.
func (c *Cloud) Close() error {
	var err error
	c.closed.Do(func() {
		close(c.closing)
		// Shutdown closes idle connections and waits for active ones,
		// but would wait up to 5 s for one a client opened and never used.
		c.unused.close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = c.srv.Shutdown(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			err = c.srv.Close()
		}
		<-c.served
		c.ckMu.Lock()
		if c.pending != nil {
			c.pending.Stop()
		}
		c.ckMu.Unlock()
		c.saveMu.Lock()
		if c.stateFile != "" {
			err = errors.Join(err, c.saveLocked())
		}
		c.stopped = true
		c.saveMu.Unlock()
		err = errors.Join(err, c.lock.release())
	})
	return err
}

// DialLab connects to an address as a client of the host cloud would. An
// address of the simulated cloud (a port's fixed IP, a floating IP) is
// reached there: where a Fuel master runs, its API answers (see package
// internal/fuel for what is simulated); elsewhere the connection is
// refused. Any other address is dialled as usual, on this machine's
// network.
func (c *Cloud) DialLab(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := c.fuel.Dial(ctx, network, addr)
	if errors.Is(err, fuel.ErrNotInCloud) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	return conn, err
}

// LabHTTPClient is an HTTP client whose connections go through DialLab:
// what fuelplan's waits use on the simulated cloud.
func (c *Cloud) LabHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{Proxy: nil, DialContext: c.DialLab}}
}

// Knobs returns the knobs the services read at request time.
func (c *Cloud) Knobs() *Knobs { return c.knobs }

// SetLatency sets the delay added to every following request.
func (c *Cloud) SetLatency(d time.Duration) {
	c.mu.Lock()
	c.latency = d
	c.mu.Unlock()
}

// Admin returns the credentials of the world's first admin user.
func (c *Cloud) Admin() Credentials { return c.credentials(true) }

// Member returns the credentials of the world's first non-admin user.
func (c *Cloud) Member() Credentials { return c.credentials(false) }

func (c *Cloud) credentials(admin bool) Credentials {
	for _, u := range c.world.Users {
		if u.isAdmin() == admin {
			return Credentials{AuthURL: c.AuthURL, Username: u.Name, Password: u.Password,
				ProjectName: u.Project, DomainName: keystone.DomainName}
		}
	}
	return Credentials{AuthURL: c.AuthURL}
}

// CloudsYAML returns a clouds.yaml document with one cloud, name, that
// authenticates with cred. To put several clouds in one file, keep the
// first document whole and drop the "clouds:" line of the others.
func (c *Cloud) CloudsYAML(name string, cred Credentials) string {
	var b strings.Builder
	fmt.Fprintf(&b, "clouds:\n  %s:\n    auth:\n", name)
	for _, kv := range [][2]string{
		{"auth_url", cred.AuthURL}, {"username", cred.Username}, {"password", cred.Password},
		{"project_name", cred.ProjectName}, {"user_domain_name", cred.DomainName},
		{"project_domain_name", cred.DomainName},
	} {
		fmt.Fprintf(&b, "      %s: %q\n", kv[0], kv[1])
	}
	fmt.Fprintf(&b, "    region_name: %q\n    interface: public\n    identity_api_version: 3\n", c.world.region())
	return b.String()
}
