package resources_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/simcloud"
	"github.com/fuelplan/fuelplan/specs"
)

// concurrently runs f(i) for i < n at once and returns their errors.
func concurrently(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(i)
		}()
	}
	wg.Wait()
	return errs
}

func numberedServer(i int) *specs.Server {
	s := masterSpec()
	s.Address = specs.NewAddress(specs.KindServer, fmt.Sprintf("s%02d", i))
	s.Name = fmt.Sprintf("lab1-s%02d", i)
	s.Ports = nil
	return s
}

// Servers waited on together (a wave of creates, then of deletes) share
// the Cloud's server watcher: one list of the servers per poll answers
// all of them, and no server is read on its own. Twice, so a watcher that
// stopped with its last wait starts again with the next.
func TestServerWaitsShareOneList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := newServerLab(t)
	l.sim.Knobs().SetBuildTime(time.Second)
	l.sim.Knobs().SetDeleteTime(time.Second)
	const n = 12
	for round := range 2 {
		l.sim.ResetRequests()
		made := make([]*resources.Object, n)
		for i, err := range concurrently(n, func(i int) (err error) {
			made[i], err = resources.Server{}.Create(ctx, l.c, "lab1", numberedServer(round*n+i), l.ids)
			return err
		}) {
			if err != nil {
				t.Fatalf("round %d: create %d: %v", round, i, err)
			}
			if made[i].Status != "ACTIVE" {
				t.Fatalf("round %d: create %d returned status %s", round, i, made[i].Status)
			}
		}
		for i, err := range concurrently(n, func(i int) error { return resources.Server{}.Delete(ctx, l.c, made[i]) }) {
			if err != nil {
				t.Fatalf("round %d: delete %d: %v", round, i, err)
			}
		}
		for i := range n {
			if _, err := (resources.Server{}).Get(ctx, l.c, made[i].ID); err == nil {
				t.Errorf("round %d: server %s still there after its delete returned", round, made[i].ID)
			}
		}
		got := l.sim.Requests()
		// Each wait polled alone would cost about eight GETs (six while the
		// server builds for a second, one or two for its delete).
		if one, lists := got["GET /compute/v2.1/servers/{id}"], got["GET /compute/v2.1/servers/detail"]; one != n || lists > 2*n {
			t.Errorf("round %d: %d servers created and deleted with %d GETs of one server (want %d: the test's own) and %d lists (want at most %d)",
				round, n, one, n, lists, 2*n)
		}
	}
}

// A failed list ends every wait it was to answer with the list's error,
// as a failed GET ended a wait of its own.
func TestServerWatchListErrorReachesWaits(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	l := newServerLab(t)
	l.sim.Knobs().SetBuildTime(time.Hour)
	l.sim.InjectFaults(simcloud.Fault{Method: "GET", Path: "/compute/v2.1/servers/detail", Status: 500})
	for i, err := range concurrently(3, func(i int) error {
		_, err := resources.Server{}.Create(ctx, l.c, "lab1", numberedServer(i), l.ids)
		return err
	}) {
		if err == nil || !strings.Contains(err.Error(), "wait for servers") || !strings.Contains(err.Error(), "500") {
			t.Errorf("create %d: %v, want the list's error", i, err)
		}
	}
}
