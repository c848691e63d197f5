package resources_test

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/resources/resourcestest"
	"github.com/fuelplan/fuelplan/simcloud"
	"github.com/fuelplan/fuelplan/specs"
)

// serverLab is what a server needs, made in a simulated cloud: two lab
// networks with a port each for "master", the cloud's m1.tiny and cirros
// as lookups, and a keypair.
type serverLab struct {
	sim  *simcloud.Cloud
	c    *resources.Cloud
	ids  resourcestest.IDs
	snap resourcestest.Snapshot
}

var (
	masterAddr  = specs.NewAddress(specs.KindServer, "master")
	adminPort   = specs.NewAddress(specs.KindPort, "master", "admin")
	storagePort = specs.NewAddress(specs.KindPort, "master", "storage")
	tinyAddr    = specs.NewAddress(specs.KindFlavor, "m1.tiny")
	cirrosAddr  = specs.NewAddress(specs.KindImage, "cirros")
	keyAddr     = specs.NewAddress(specs.KindKeypair, "lab1-key")
)

func newServerLab(t *testing.T) *serverLab {
	t.Helper()
	ctx := context.Background()
	sim, c := resourcestest.Admin(t)
	l := &serverLab{sim: sim, c: c, ids: resourcestest.IDs{}, snap: resourcestest.Snapshot{}}

	flavors, err := resources.Flavor{}.List(ctx, c, resources.Query{Lab: "lab1", Want: []specs.Resource{existingFlavor("m1.tiny")}})
	if err != nil || len(flavors) != 1 {
		t.Fatalf("look up m1.tiny: %v, %v", flavors, err)
	}
	imgs, err := (&resources.Image{}).List(ctx, c, resources.Query{Lab: "lab1", Want: []specs.Resource{existingImage("cirros")}})
	if err != nil || len(imgs) != 1 {
		t.Fatalf("look up cirros: %v, %v", imgs, err)
	}
	key, err := resources.Keypair{}.Create(ctx, c, "lab1", keypairSpec("lab1-key", sshPublicKey(t, "op")), nil)
	if err != nil {
		t.Fatal(err)
	}
	l.snap[specs.KindFlavor], l.snap[specs.KindImage] = flavors, imgs
	l.ids[tinyAddr], l.ids[cirrosAddr], l.ids[keyAddr] = flavors[0].ID, imgs[0].ID, key.ID

	for _, p := range []specs.Address{adminPort, storagePort} {
		net, err := networks.Create(ctx, c.Network, networks.CreateOpts{Name: "lab1-" + p.Name()}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		cidr := map[specs.Address]string{adminPort: "10.20.0.0/24", storagePort: "192.168.1.0/24"}[p]
		if _, err := subnets.Create(ctx, c.Network, subnets.CreateOpts{NetworkID: net.ID, CIDR: cidr, IPVersion: 4}).Extract(); err != nil {
			t.Fatal(err)
		}
		port, err := ports.Create(ctx, c.Network, ports.CreateOpts{NetworkID: net.ID, Name: "lab1-" + p.Name()}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		l.ids[p] = port.ID
	}
	return l
}

// readPorts reads the lab's ports back from Neutron as the port adapter
// would show them to Relate: address, ID, network and device_id.
func (l *serverLab) readPorts(t *testing.T) {
	t.Helper()
	l.snap[specs.KindPort] = nil
	for _, a := range []specs.Address{adminPort, storagePort} {
		p, err := ports.Get(context.Background(), l.c.Network, l.ids[a]).Extract()
		if err != nil {
			t.Fatal(err)
		}
		l.snap[specs.KindPort] = append(l.snap[specs.KindPort], &resources.Object{
			Kind: specs.KindPort, Address: a, Owned: true, ID: p.ID, Name: p.Name,
			Fields: resources.Fields{"network": p.NetworkID, "device_id": p.DeviceID},
		})
	}
}

// list lists servers and relates them, as the engine does.
func (l *serverLab) list(t *testing.T, want ...specs.Resource) []*resources.Object {
	t.Helper()
	a := resources.Server{}
	objs, err := a.List(context.Background(), l.c, resources.Query{Lab: "lab1", Want: want, Read: l.snap})
	if err != nil {
		t.Fatalf("list servers: %v", err)
	}
	l.readPorts(t)
	a.Relate(objs, l.snap)
	return objs
}

func masterSpec() *specs.Server {
	return &specs.Server{
		Meta:   specs.Meta{Address: masterAddr, Name: "lab1-master"},
		Flavor: tinyAddr, Image: cirrosAddr, Keypair: keyAddr, Ports: []specs.Address{adminPort, storagePort},
		// Valid base64 itself: it must still reach Nova encoded once more.
		UserData: "abcd",
		Metadata: map[string]string{"role": "master", "lab": "lab1"},
		Role:     "master",
	}
}

func TestServerLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := newServerLab(t)
	l.sim.Knobs().SetBuildTime(300 * time.Millisecond)
	l.sim.Knobs().SetDeleteTime(300 * time.Millisecond)
	a := resources.Server{}
	want := masterSpec()

	start := time.Now()
	got, err := a.Create(ctx, l.c, "lab1", want, l.ids)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if time.Since(start) < 300*time.Millisecond || got.Status != "ACTIVE" {
		t.Errorf("create returned %s after %v; want ACTIVE, after the build time", got.Status, time.Since(start))
	}
	if !got.Owned || got.Address != want.Addr() {
		t.Errorf("created = %+v, want owned %s", got, want.Addr())
	}
	if d := resourcestest.Drift(a.Desired(want), got, l.ids); len(d) > 0 {
		t.Errorf("created object drifts: %v", d)
	}
	raw, err := servers.Get(ctx, l.c.Compute, got.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if raw.Tags == nil || !slices.Contains(*raw.Tags, resources.LabTag("lab1")) || !slices.Contains(*raw.Tags, resources.AddrTag(masterAddr)) {
		t.Errorf("tags = %v, want the lab's mark", raw.Tags)
	}
	if raw.Userdata == nil {
		t.Fatal("admin cannot read user_data back")
	}
	if ud, err := base64.StdEncoding.DecodeString(*raw.Userdata); err != nil || string(ud) != want.UserData {
		t.Errorf("Nova's user_data decodes to %q (%v), want %q", ud, err, want.UserData)
	}
	if raw.KeyName != "lab1-key" {
		t.Errorf("key_name = %q", raw.KeyName)
	}

	l.sim.ResetRequests()
	objs := l.list(t, want)
	if n := l.sim.Requests()["GET /compute/v2.1/servers/detail"]; n != 1 {
		t.Errorf("list made %d server list calls, want 1", n)
	}
	if len(objs) != 1 || objs[0].ID != got.ID || !objs[0].Owned || objs[0].Address != masterAddr {
		t.Fatalf("list = %+v, want the created server, owned", objs)
	}
	live := objs[0]
	if d := resourcestest.Drift(a.Desired(want), live, l.ids); len(d) > 0 {
		t.Errorf("drift after create: %v", d)
	}
	if live.Fields["ports.admin"] != l.ids[adminPort] || live.Fields["ports.storage"] != l.ids[storagePort] {
		t.Errorf("ports = %s, %s; want them keyed by network", live.Fields["ports.admin"], live.Fields["ports.storage"])
	}
	if live.Revision == "" {
		t.Error("no revision")
	}

	// Rename; change, add and drop metadata.
	changed := masterSpec()
	changed.Name = "lab1-fuel-master"
	changed.Metadata = map[string]string{"role": "fuel-master", "env": "test"}
	fields := []string{"name", "metadata.env", "metadata.lab", "metadata.role"}
	updated, err := a.Update(ctx, l.c, changed, live, fields, l.ids)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if d := resourcestest.Drift(a.Desired(changed), updated, l.ids); len(d) > 0 {
		t.Errorf("drift after update: %v", d)
	}
	if _, ok := updated.Fields["metadata.lab"]; ok {
		t.Error("metadata dropped from the spec is still there")
	}
	if objs := l.list(t, changed); len(objs) != 1 || len(resourcestest.Drift(a.Desired(changed), objs[0], l.ids)) > 0 {
		t.Errorf("re-read after update drifts: %+v", objs)
	}
	if _, err := a.Update(ctx, l.c, changed, updated, []string{"flavor"}, l.ids); err == nil {
		t.Error("update of flavor succeeded, want an error: it forces a replace")
	}

	// New user_data is drift in a field that forces a replace.
	changed.UserData = "#cloud-config\n"
	d := resourcestest.Drift(a.Desired(changed), updated, l.ids)
	if len(d) != 1 || !strings.HasPrefix(d[0], "user_data_sha256") {
		t.Errorf("drift after a user_data change = %v, want user_data_sha256", d)
	}

	start = time.Now()
	if err := a.Delete(ctx, l.c, updated); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Errorf("delete returned after %v, before Nova finished", time.Since(start))
	}
	if _, err := a.Get(ctx, l.c, updated.ID); !errors.Is(err, resources.ErrNotFound) {
		t.Errorf("get after delete: %v, want ErrNotFound", err)
	}
	if err := a.Delete(ctx, l.c, updated); err != nil {
		t.Errorf("delete of a gone server: %v", err)
	}
	// The ports are free for a new server.
	if _, err := a.Create(ctx, l.c, "lab1", want, l.ids); err != nil {
		t.Errorf("create again on the freed ports: %v", err)
	}
}

func TestServerSensitiveUserData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := newServerLab(t)
	a := resources.Server{}
	const secret = "#cloud-config\npassword: hunter2-very-secret\n"
	want := masterSpec()
	want.UserData, want.SensitiveUserData = "", specs.NewSecret(secret)

	got, err := a.Create(ctx, l.c, "lab1", want, l.ids)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	desired := a.Desired(want)
	if _, ok := desired.Fields["user_data_sha256"]; ok {
		t.Error("sensitive user_data hashed into the plain field")
	}
	if f, ok := a.Schema().Lookup("sensitive_user_data_sha256"); !ok || !f.Sensitive || !f.ForceNew {
		t.Errorf("schema field for sensitive user_data = %+v, want Sensitive and ForceNew", f)
	}
	objs := l.list(t, want)
	if len(objs) != 1 {
		t.Fatalf("list = %+v", objs)
	}
	if d := resourcestest.Drift(desired, objs[0], l.ids); len(d) > 0 {
		t.Errorf("drift: %v", d)
	}
	if _, ok := objs[0].Fields["user_data_sha256"]; ok {
		t.Error("live view shows the hash of sensitive user_data in the plain field")
	}
	for k, v := range objs[0].Fields {
		if strings.Contains(v, "hunter2") {
			t.Errorf("field %s holds the secret", k)
		}
	}
	// A failure message never carries it either.
	l.sim.Knobs().FailServer("lab1-other", "No valid host was found.")
	other := masterSpec()
	other.Meta = specs.Meta{Address: specs.NewAddress(specs.KindServer, "other"), Name: "lab1-other"}
	other.UserData, other.SensitiveUserData = "", specs.NewSecret(secret)
	if err := a.Delete(ctx, l.c, got); err != nil { // free the ports
		t.Fatal(err)
	}
	_, err = a.Create(ctx, l.c, "lab1", other, l.ids)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("failed create: %v; want an error without the secret", err)
	}
}

func TestServerErrorIsReportedAndRemoved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := newServerLab(t)
	l.sim.Knobs().FailServer("lab1-master", "No valid host was found. There are not enough hosts available.")
	a := resources.Server{}
	want := masterSpec()
	_, err := a.Create(ctx, l.c, "lab1", want, l.ids)
	if err == nil {
		t.Fatal("create of a server that goes to ERROR succeeded")
	}
	for _, s := range []string{"server.master: create:", "ERROR", "No valid host was found"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	if objs := l.list(t, want); len(objs) != 0 {
		t.Errorf("after ERROR the server is still there: %+v", objs)
	}
}

func TestServerCreateChecksFirst(t *testing.T) {
	t.Parallel()
	l := newServerLab(t)
	a := resources.Server{}
	noPort := masterSpec()
	noPort.Ports = append(noPort.Ports, specs.NewAddress(specs.KindPort, "master", "public"))
	volume := masterSpec()
	volume.Image = ""
	volume.BlockDevices = []specs.BlockDevice{{Volume: "volume.master-root", DeviceType: "disk"}}
	long := masterSpec()
	long.Meta.Address = specs.Address("server." + strings.Repeat("x", 60))
	cases := []struct {
		name string
		r    *specs.Server
		want string
	}{
		{"port without ID", noPort, "server.master: create: port.master.public has no ID yet"},
		{"volume without ID", volume, "volume.master-root has no ID yet"},
		{"tag too long", long, "shorten the lab or server name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.Create(context.Background(), l.c, "lab1", tc.r, l.ids)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("create: %v, want %q", err, tc.want)
			}
		})
	}
	if n := l.sim.Requests()["POST /compute/v2.1/servers"]; n != 0 {
		t.Errorf("%d create requests sent, want none", n)
	}
}

// Unowned servers with a wanted name are conflicts; Nova's name filter is
// a regular expression search, and near names must not match.
func TestServerConflicts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := newServerLab(t)
	for _, name := range []string{"lab1-master", "lab1-master-2", "lab1xslave"} {
		_, err := servers.Create(ctx, l.c.Compute, servers.CreateOpts{Name: name, FlavorRef: l.ids[tinyAddr], ImageRef: l.ids[cirrosAddr], Networks: "none"}, nil).Extract()
		if err != nil {
			t.Fatal(err)
		}
	}
	master := masterSpec()
	slave := masterSpec()
	slave.Meta = specs.Meta{Address: specs.NewAddress(specs.KindServer, "slave"), Name: "lab1.slave"}
	objs := l.list(t, master, slave)
	if len(objs) != 1 {
		t.Fatalf("list = %+v, want exactly the server named lab1-master", objs)
	}
	if o := objs[0]; o.Owned || o.Address != masterAddr || o.Name != "lab1-master" {
		t.Errorf("conflict = %+v, want unowned lab1-master as %s", o, masterAddr)
	}
}

// Relate resolves the flavor a server runs only when a flavor object has
// the same name and sizes: a flavor re-made with other sizes is drift.
func TestServerRelateFlavor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := newServerLab(t)
	a := resources.Server{}
	if _, err := a.Create(ctx, l.c, "lab1", masterSpec(), l.ids); err != nil {
		t.Fatal(err)
	}
	tiny := *l.snap[specs.KindFlavor][0]
	cases := []struct {
		name string
		ram  string
		want string
	}{
		{"same flavor", tiny.Fields["ram_mb"], tiny.ID},
		{"flavor re-made bigger", "1024", "name=m1.tiny,vcpus=1,ram_mb=512,disk_gb=1,ephemeral_gb=0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := tiny
			f.Fields = resources.Fields{}
			for k, v := range tiny.Fields {
				f.Fields[k] = v
			}
			f.Fields["ram_mb"] = tc.ram
			l.snap[specs.KindFlavor] = []*resources.Object{&f}
			objs := l.list(t, masterSpec())
			if len(objs) != 1 || objs[0].Fields["flavor"] != tc.want {
				t.Errorf("flavor field = %q, want %q", objs[0].Fields["flavor"], tc.want)
			}
		})
	}
}

// A server without ports boots with networks "none", which Nova has
// required to be said since 2.37.
func TestServerWithoutPorts(t *testing.T) {
	t.Parallel()
	l := newServerLab(t)
	s := masterSpec()
	s.Ports = nil
	o, err := resources.Server{}.Create(context.Background(), l.c, "lab1", s, l.ids)
	if err != nil {
		t.Fatalf("create without ports: %v", err)
	}
	for k := range o.Fields {
		if strings.HasPrefix(k, "ports.") {
			t.Errorf("server without ports has field %s", k)
		}
	}
}

// A server whose delete Nova accepted but has not finished still lists
// (Nova shows it ACTIVE); its status says it is on its way out.
func TestServerDeletingStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := newServerLab(t)
	o, err := resources.Server{}.Create(ctx, l.c, "lab1", masterSpec(), l.ids)
	if err != nil {
		t.Fatal(err)
	}
	l.sim.Knobs().SetDeleteTime(time.Hour)
	if err := servers.Delete(ctx, l.c.Compute, o.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	objs := l.list(t, masterSpec())
	if len(objs) != 1 || objs[0].Status != "DELETING" || objs[0].Fields["status"] != "DELETING" {
		t.Errorf("list during delete = %+v, want status DELETING", objs)
	}
}
