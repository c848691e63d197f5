package waits_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fuelplan/fuelplan/specs"
	"github.com/fuelplan/fuelplan/waits"
)

const (
	slave1MAC = "aa:0a:14:00:03:01"
	slave2MAC = "aa:0a:14:00:04:01"
	password  = "s3cret-fuel-pw"
)

func waitAddr(name string) specs.Address { return specs.NewAddress(specs.KindWait, name) }

// fast makes a check poll quickly enough for a test.
func fast(c waits.Check, timeout time.Duration) waits.Check {
	c.Timeout, c.Interval = timeout, 20*time.Millisecond
	return c
}

func run(t *testing.T, checks ...waits.Check) (*waits.Report, string) {
	t.Helper()
	var out bytes.Buffer
	rep := waits.Run(context.Background(), checks, waits.Options{Progress: &out, AttemptTimeout: 200 * time.Millisecond})
	return rep, out.String()
}

// TestFuelComesUp: the version URL answers 200 after some 502s; then the
// slaves appear in Fuel's node list, matched by their admin MACs (an
// unrelated node and an offline one do not count), after a login to Fuel's
// Keystone with the password, which no output ever shows.
func TestFuelComesUp(t *testing.T) {
	t.Parallel()
	steps := [][]map[string]any{
		{},
		{node(1, slave1MAC, true, "discover"), node(7, "aa:bb:cc:dd:ee:ff", true, "discover")},
		{node(1, slave1MAC, true, "discover"), node(7, "aa:bb:cc:dd:ee:ff", true, "discover"), node(2, slave2MAC, false, "discover")},
		{node(1, slave1MAC, true, "discover"), node(2, slave2MAC, true, "discover")},
	}
	f := newFakeFuel(t, "admin", password, 3, steps)
	api := fast(waits.Check{Addr: waitAddr("fuel-api"), Type: waits.TypeHTTP, URL: f.url("/api/version"), Status: 200}, 5*time.Second)
	nodes := fast(waits.Check{Addr: waitAddr("slaves-discovered"), Type: waits.TypeFuelNodes, URL: f.url("/api/nodes"),
		Count: 2, MACs: []string{slave1MAC, slave2MAC}, KeystoneURL: f.url("/v2.0"), Username: "admin",
		Password: specs.NewSecret(password), After: []specs.Address{waitAddr("fuel-api")}}, 5*time.Second)

	rep, out := run(t, nodes, api)
	if err := rep.Err(); err != nil {
		t.Fatalf("not ready: %v\n%s", err, out)
	}
	if len(rep.Results) != 2 || rep.Results[0].Addr != waitAddr("fuel-api") {
		t.Fatalf("results = %+v", rep.Results)
	}
	if r := rep.Results[0]; r.Attempts != 4 {
		t.Errorf("fuel-api took %d attempts, want 4 (three 502s)", r.Attempts)
	}
	if r := rep.Results[1]; r.Attempts != 4 || !strings.Contains(r.Last, "2 of 2") {
		t.Errorf("slaves-discovered = %+v, want ready on the 4th list", r)
	}
	f.mu.Lock()
	logins, versions := f.logins, f.versions
	f.mu.Unlock()
	if logins != 1 {
		t.Errorf("%d logins, want 1 (the token is kept)", logins)
	}
	if versions != 4 {
		t.Errorf("version asked %d times: the node wait must not start before fuel-api is ready", versions)
	}
	for _, want := range []string{"answered 502 Bad Gateway", "0 of 2 node(s)", "not seen: " + slave2MAC, "ready after"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, password) {
		t.Error("progress shows the password")
	}
}

// TestSilentFuelTimesOut: a master that accepts connections and never
// answers, and one that is not there at all: each wait ends at its
// timeout (not later), reports what it last saw, and what came after it is
// not started.
func TestSilentFuelTimesOut(t *testing.T) {
	t.Parallel()
	silent, closed := silentServer(t), closedAddr(t)
	checks := []waits.Check{
		fast(waits.Check{Addr: waitAddr("fuel-api"), Type: waits.TypeHTTP, URL: "http://" + silent + "/api/version", Status: 200}, 500*time.Millisecond),
		fast(waits.Check{Addr: waitAddr("nodes"), Type: waits.TypeFuelNodes, URL: "http://" + silent + "/api/nodes", Count: 2,
			After: []specs.Address{waitAddr("fuel-api")}}, time.Minute),
		fast(waits.Check{Addr: waitAddr("ssh"), Type: waits.TypeTCP, Address: closed}, 300*time.Millisecond),
	}
	start := time.Now()
	rep, out := run(t, checks...)
	took := time.Since(start)
	if took > 2*time.Second {
		t.Errorf("took %s: a silent server must not hold a wait past its timeout", took)
	}
	err := rep.Err()
	if err == nil {
		t.Fatalf("silent Fuel reported ready:\n%s", out)
	}
	for _, want := range []string{
		"3 of 3 wait(s) never became ready",
		"wait.fuel-api: not ready after", "no answer within the attempt timeout",
		"wait.nodes: not started: wait.fuel-api never became ready",
		"wait.ssh: not ready after", "connection refused",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("report lacks %q:\n%v", want, err)
		}
	}
	if !strings.Contains(out, "NOT READY") {
		t.Errorf("progress does not say so:\n%s", out)
	}
}

// TestFuelLoginRefused: a wrong password is reported as Keystone's
// refusal, naming the user but never the password.
func TestFuelLoginRefused(t *testing.T) {
	t.Parallel()
	f := newFakeFuel(t, "admin", "right-one", 0, [][]map[string]any{{}})
	c := fast(waits.Check{Addr: waitAddr("nodes"), Type: waits.TypeFuelNodes, URL: f.url("/api/nodes"), Count: 1,
		KeystoneURL: f.url("/v2.0"), Username: "admin", Password: specs.NewSecret(password)}, 200*time.Millisecond)
	rep, out := run(t, c)
	err := rep.Err()
	if err == nil || !strings.Contains(err.Error(), `as "admin": answered 401`) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error()+out, password) {
		t.Error("the password appears in the report or progress")
	}
	c.Username = ""
	rep, _ = run(t, c)
	if err := rep.Err(); err == nil || !strings.Contains(err.Error(), "no username") {
		t.Errorf("without a username: %v", err)
	}
}

// TestTCPAndConsole: a listening port is reachable at once; a console
// check polls until the marker shows in every server's log.
func TestTCPAndConsole(t *testing.T) {
	t.Parallel()
	open := silentServer(t) // accepts: reachable
	calls := 0
	console := func(_ context.Context, id string) (string, error) {
		calls++
		if id == "id-master" && calls >= 3 {
			return "...\nfuel login: ", nil
		}
		return "booting...", nil
	}
	checks := []waits.Check{
		fast(waits.Check{Addr: waitAddr("ssh"), Type: waits.TypeTCP, Address: open}, time.Second),
		fast(waits.Check{Addr: waitAddr("login"), Type: waits.TypeConsole, Marker: "fuel login:",
			Servers: []waits.Server{{Addr: "server.master", ID: "id-master"}}}, 2*time.Second),
	}
	var out bytes.Buffer
	rep := waits.Run(context.Background(), checks, waits.Options{Progress: &out, Console: console})
	if err := rep.Err(); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), `marker "fuel login:" not yet in the console of server.master`) {
		t.Errorf("progress:\n%s", out.String())
	}
	// Without a cloud to read consoles from, the check cannot run.
	rep = waits.Run(context.Background(), checks[1:], waits.Options{})
	if err := rep.Err(); err == nil || !strings.Contains(err.Error(), "need a cloud connection") {
		t.Errorf("no console reader: %v", err)
	}
}

// TestCancelled: ending the context ends every wait promptly.
func TestCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	c := fast(waits.Check{Addr: waitAddr("ssh"), Type: waits.TypeTCP, Address: closedAddr(t)}, time.Hour)
	start := time.Now()
	rep := waits.Run(ctx, []waits.Check{c}, waits.Options{})
	if time.Since(start) > time.Second || rep.Err() == nil {
		t.Errorf("cancelled run took %s, err %v", time.Since(start), rep.Err())
	}
}
