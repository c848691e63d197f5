// Package waits runs a lab's readiness checks after apply: an HTTP URL
// answering an expected status (Fuel's /api/version), Fuel discovering the
// slaves (GET /api/nodes until N nodes whose MACs are the slaves' admin
// ports are online in discover), a TCP port accepting connections, and a
// marker in a server's console log. Each check polls at its interval until
// its timeout; checks run in parallel, one after another where a wait names
// another in `after`; the report says what never became ready and what it
// last saw.
//
// Checks are resolved from the compiled lab and the live cloud (Resolve):
// URL templates such as {{master.floating_ip}} become addresses there.
// Passwords stay specs.Secret values: they go into a login request body and
// nowhere else.
package waits

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fuelplan/fuelplan/specs"
)

// The check types, as the spec names them.
const (
	TypeHTTP      = "http"
	TypeFuelNodes = "fuel-nodes"
	TypeTCP       = "tcp"
	TypeConsole   = "console"
)

// Check is one resolved readiness check.
type Check struct {
	Addr specs.Address // wait.NAME
	Type string
	// URL (http, fuel-nodes) with its templates resolved.
	URL    string
	Status int // http: the status that means ready
	// Count and MACs (fuel-nodes): ready when Count nodes whose MAC is
	// one of MACs are online in discover (any node when MACs is empty).
	Count int
	MACs  []string
	// KeystoneURL (fuel-nodes) is where a token is asked for when Fuel
	// answers 401; Username and Password log in there.
	KeystoneURL string
	Username    string
	Password    specs.Secret
	// Address (tcp) is host:port.
	Address string
	// Marker (console) is looked for in the console log of each of Servers.
	Marker  string
	Servers []Server
	// Timeout ends the check as not ready; Interval is the pause between
	// attempts.
	Timeout, Interval time.Duration
	// After are other waits that must be ready first.
	After []specs.Address
	// Problem, when set, is why the check cannot run at all (a template
	// that names something not on the cloud); it is reported as not ready.
	Problem string
}

// Server is a server whose console a console check reads.
type Server struct {
	Addr specs.Address
	ID   string
}

// Options are what checks need from outside.
type Options struct {
	// Progress receives one line per change of what a check sees, and its
	// outcome; nil for none.
	Progress io.Writer
	// HTTP is the client for http and fuel-nodes checks; nil for one
	// without a proxy (the master is on a lab network, not the internet).
	HTTP *http.Client
	// Console reads a server's console log, for console checks.
	Console func(ctx context.Context, serverID string) (string, error)
	// AttemptTimeout bounds one attempt (a silent server must not eat the
	// whole timeout in one request); 0 means 10s.
	AttemptTimeout time.Duration
}

// Result is what became of one check.
type Result struct {
	Addr     specs.Address
	Ready    bool
	Skipped  bool // never started: a wait it comes after was not ready
	Attempts int
	Elapsed  time.Duration
	// Last is what the last attempt saw (or why it never ran).
	Last string
}

// Report holds every check's result in address order.
type Report struct{ Results []Result }

// NotReady lists the checks that did not become ready.
func (r *Report) NotReady() []Result {
	var out []Result
	for _, res := range r.Results {
		if !res.Ready {
			out = append(out, res)
		}
	}
	return out
}

// Err says, one line per check, what never became ready; nil if all did.
func (r *Report) Err() error {
	bad := r.NotReady()
	if len(bad) == 0 {
		return nil
	}
	lines := make([]string, len(bad))
	for i, res := range bad {
		lines[i] = "  " + res.line()
	}
	return fmt.Errorf("%d of %d wait(s) never became ready:\n%s", len(bad), len(r.Results), strings.Join(lines, "\n"))
}

func (res Result) line() string {
	switch {
	case res.Skipped:
		return fmt.Sprintf("%s: not started: %s", res.Addr, res.Last)
	case res.Attempts == 0:
		return fmt.Sprintf("%s: %s", res.Addr, res.Last)
	}
	return fmt.Sprintf("%s: not ready after %s (%d attempts); last: %s", res.Addr, round(res.Elapsed), res.Attempts, res.Last)
}

func round(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

// probe is one attempt: ready, or what was seen instead. An error is the
// same as not ready, with the error as what was seen.
type probe func(ctx context.Context) (ready bool, seen string, err error)

// Run runs the checks and reports on every one. It returns when each
// check is ready, timed out, skipped, or ctx ends.
func Run(ctx context.Context, checks []Check, opts Options) *Report {
	if opts.HTTP == nil {
		opts.HTTP = &http.Client{Transport: &http.Transport{Proxy: nil}}
	}
	if opts.AttemptTimeout <= 0 {
		opts.AttemptTimeout = 10 * time.Second
	}
	pr := &printer{w: opts.Progress}
	done := map[specs.Address]chan struct{}{}
	results := make([]Result, len(checks))
	for _, c := range checks {
		done[c.Addr] = make(chan struct{})
	}
	ready := func(a specs.Address) bool {
		for i := range checks {
			if checks[i].Addr == a {
				return results[i].Ready
			}
		}
		return true
	}
	var wg sync.WaitGroup
	for i := range checks {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := &checks[i]
			defer close(done[c.Addr])
			for _, a := range c.After {
				ch, ok := done[a]
				if !ok {
					continue // a server, or a wait not run this time
				}
				select {
				case <-ch:
				case <-ctx.Done():
					results[i] = Result{Addr: c.Addr, Skipped: true, Last: "cancelled"}
					return
				}
				if !ready(a) {
					results[i] = Result{Addr: c.Addr, Skipped: true, Last: fmt.Sprintf("%s never became ready", a)}
					pr.printf("%s: not started: %s never became ready\n", c.Addr, a)
					return
				}
			}
			results[i] = run(ctx, c, opts, pr)
		}(i)
	}
	wg.Wait()
	sort.Slice(results, func(i, j int) bool { return specs.Less(results[i].Addr, results[j].Addr) })
	return &Report{Results: results}
}

// run polls one check until ready or its timeout.
func run(ctx context.Context, c *Check, opts Options, pr *printer) Result {
	res := Result{Addr: c.Addr}
	if c.Problem != "" {
		res.Last = c.Problem
		pr.printf("%s: cannot run: %s\n", c.Addr, c.Problem)
		return res
	}
	p, err := c.probe(opts)
	if err != nil {
		res.Last = err.Error()
		pr.printf("%s: cannot run: %s\n", c.Addr, err)
		return res
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = time.Hour
	}
	interval := c.Interval
	if interval <= 0 {
		interval = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	pr.printf("%s: waiting up to %s for %s\n", c.Addr, timeout, c.describe())
	for {
		res.Attempts++
		actx, acancel := context.WithTimeout(ctx, opts.AttemptTimeout)
		ok, seen, err := p(actx)
		acancel()
		if err != nil {
			seen = err.Error()
		}
		res.Elapsed = time.Since(start)
		if ok {
			res.Ready, res.Last = true, seen
			pr.printf("%s: ready after %s (%d attempts): %s\n", c.Addr, round(res.Elapsed), res.Attempts, seen)
			return res
		}
		if res.Last != "" && pastDeadline(ctx) {
			// The timeout cut this attempt short: what it saw says nothing
			// about the server, the attempt before it does.
			seen = res.Last
		}
		if seen != res.Last {
			pr.printf("%s: still waiting (%s): %s\n", c.Addr, round(res.Elapsed), seen)
		}
		res.Last = seen
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			res.Elapsed = time.Since(start)
			if errors.Is(ctx.Err(), context.Canceled) {
				res.Last += " (cancelled)"
			}
			pr.printf("%s: NOT READY after %s (%d attempts): %s\n", c.Addr, round(res.Elapsed), res.Attempts, res.Last)
			return res
		case <-t.C:
		}
	}
}

// pastDeadline reports whether ctx has ended or its deadline has passed:
// a network call can fail on the deadline a moment before ctx's own timer
// marks it done.
func pastDeadline(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl) <= 0
}

// describe says what a check waits for, without secrets.
func (c *Check) describe() string {
	switch c.Type {
	case TypeHTTP:
		return fmt.Sprintf("GET %s to answer %d", redactURL(c.URL), c.Status)
	case TypeFuelNodes:
		return fmt.Sprintf("%d node(s) online in discover at %s", c.Count, redactURL(c.URL))
	case TypeTCP:
		return "a TCP connection to " + c.Address
	case TypeConsole:
		names := make([]string, len(c.Servers))
		for i, s := range c.Servers {
			names[i] = string(s.Addr)
		}
		return fmt.Sprintf("%q in the console of %s", c.Marker, strings.Join(names, ", "))
	}
	return c.Type
}

// probe builds the attempt function of the check's type.
func (c *Check) probe(opts Options) (probe, error) {
	switch c.Type {
	case TypeHTTP:
		return httpProbe(c, opts.HTTP), nil
	case TypeFuelNodes:
		return fuelProbe(c, opts.HTTP), nil
	case TypeTCP:
		return tcpProbe(c), nil
	case TypeConsole:
		if opts.Console == nil {
			return nil, errors.New("console checks need a cloud connection")
		}
		if len(c.Servers) == 0 {
			return nil, errors.New("no server to read the console of (after: names none on the cloud)")
		}
		return consoleProbe(c, opts.Console), nil
	}
	return nil, fmt.Errorf("unknown wait type %q", c.Type)
}

// printer serialises progress lines from concurrent checks.
type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *printer) printf(format string, args ...any) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}
