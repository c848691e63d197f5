package nova

import (
	"errors"
	"github.com/gophercloud/gophercloud/v2/pagination"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/fuelplan/fuelplan/simcloud/internal/glance"
	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

var (
	admin  = &simcore.Identity{UserID: "u-admin", ProjectID: "p-admin", Roles: []string{"admin"}, Admin: true}
	member = &simcore.Identity{UserID: "u-member", ProjectID: "p-member", Roles: []string{"member"}}
	other  = &simcore.Identity{UserID: "u-other", ProjectID: "p-other", Roles: []string{"member"}}
)

const (
	imageID   = "11111111-0000-4000-8000-000000000001"
	bigImage  = "11111111-0000-4000-8000-000000000002"
	privImage = "11111111-0000-4000-8000-000000000003"
)

// fakePort is a Neutron port as the fake keeps it.
type fakePort struct {
	project, device, host string
	view                  simcore.PortView
}

// fakePorts stands in for Neutron: Nova's own dependency, not ours to
// mock away; the rules are the ones simcore.Ports documents.
type fakePorts struct {
	mu    sync.Mutex
	ports map[string]*fakePort
}

func (f *fakePorts) BindPort(projectID, portID, deviceID, host string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.ports[portID]
	switch {
	case !ok:
		return simcore.ErrNotFound
	case p.project != projectID:
		return simcore.ErrForbidden
	case p.device != "" && p.device != deviceID:
		return simcore.ErrPortInUse
	}
	p.device, p.host = deviceID, host
	return nil
}

func (f *fakePorts) UnbindPort(portID, deviceID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.ports[portID]; ok && p.device == deviceID {
		p.device, p.host = "", ""
	}
}

func (f *fakePorts) Port(portID string) (simcore.PortView, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.ports[portID]
	if !ok {
		return simcore.PortView{}, false
	}
	return p.view, true
}

// device returns who a port is bound to and on which host.
func (f *fakePorts) device(portID string) (string, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ports[portID].device, f.ports[portID].host
}

func (f *fakePorts) add(id, project, network, mac string, fixed, floating []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ports[id] = &fakePort{project: project, view: simcore.PortView{NetworkName: network, MAC: mac, FixedIPs: fixed, FloatingIPs: floating}}
}

// cloud is one Nova under test with its clock and neighbours.
type cloud struct {
	svc   *Service
	knobs *simcore.Knobs
	ports *fakePorts
	url   string
	t0    time.Time
}

func (c *cloud) at(d time.Duration) {
	t := c.t0.Add(d)
	c.knobs.SetNow(func() time.Time { return t })
}

// client is a real gophercloud compute client at a microversion acting
// as one of the test identities.
func (c *cloud) client(as, microversion string) *gophercloud.ServiceClient {
	return &gophercloud.ServiceClient{
		ProviderClient: &gophercloud.ProviderClient{TokenID: "t"},
		Endpoint:       c.url + "/v2.1/",
		Type:           "compute",
		Microversion:   microversion,
		MoreHeaders:    map[string]string{"X-Test-As": as},
	}
}

func newCloud(t testing.TB, quotas map[string]int) *cloud {
	t.Helper()
	knobs := simcore.NewKnobs()
	ports := &fakePorts{ports: map[string]*fakePort{}}
	images := glance.New(glance.Config{Images: []glance.Image{
		{ID: imageID, Name: "fuel-6.0", Visibility: "public", OwnerID: "p-admin", MinDisk: 10},
		{ID: bigImage, Name: "big", Visibility: "public", OwnerID: "p-admin", MinDisk: 500},
		{ID: privImage, Name: "private", Visibility: "private", OwnerID: "p-admin"},
	}})
	svc := New(Config{
		Knobs: knobs, Ports: ports, Images: images,
		Hypervisors: []string{"node-2", "node-1", "node-3"},
		Flavors: []Flavor{
			{ID: "1", Name: "m1.small", VCPUs: 1, RAM: 2048, Disk: 20, Public: true},
			{ID: "2", Name: "m1.large", VCPUs: 4, RAM: 8192, Disk: 80, Public: true},
			{ID: "9", Name: "secret", VCPUs: 1, RAM: 512, Disk: 1, Public: false},
		},
		Quotas: quotas,
	})
	c := &cloud{svc: svc, knobs: knobs, ports: ports, url: serve(t, svc), t0: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	c.at(0)
	return c
}

// serve puts h behind a test-only stand-in for the core's auth: the
// X-Test-As header picks the identity (default member).
func serve(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := member
		switch r.Header.Get("X-Test-As") {
		case "admin":
			id = admin
		case "other":
			id = other
		}
		h.ServeHTTP(w, r.WithContext(simcore.WithIdentity(r.Context(), id)))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// paginationPage and errorsAs keep test call sites short.
type paginationPage = pagination.Page

func errorsAs(err error, target any) bool { return errors.As(err, target) }
