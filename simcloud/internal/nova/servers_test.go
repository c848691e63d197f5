package nova

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/tags"
)

// boot creates a server on the given ports and returns its id.
func boot(t *testing.T, cl *gophercloud.ServiceClient, name string, ports ...string) string {
	t.Helper()
	var nets []servers.Network
	for _, p := range ports {
		nets = append(nets, servers.Network{Port: p})
	}
	opts := servers.CreateOpts{Name: name, ImageRef: imageID, FlavorRef: "1", Networks: nets}
	if len(ports) == 0 {
		opts.Networks = "none"
	}
	s, err := servers.Create(context.Background(), cl, opts, nil).Extract()
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return s.ID
}

func get(t *testing.T, cl *gophercloud.ServiceClient, id string) *servers.Server {
	t.Helper()
	s, err := servers.Get(context.Background(), cl, id).Extract()
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return s
}

func TestServerLifecycle(t *testing.T) {
	c := newCloud(t, nil)
	ctx := context.Background()
	c.knobs.SetBuildTime(30 * time.Second)
	c.knobs.SetDeleteTime(10 * time.Second)
	c.ports.add("port-admin", "p-member", "admin", "fa:16:3e:00:00:01", []string{"10.20.0.2"}, nil)
	c.ports.add("port-public", "p-member", "public", "fa:16:3e:00:00:02", []string{"172.16.0.5", "fd00::5"}, []string{"10.109.1.10"})
	mem, adm := c.client("member", "2.90"), c.client("admin", "2.90")

	id := boot(t, mem, "fuel-master", "port-admin", "port-public")
	s := get(t, mem, id)
	if s.Status != "BUILD" || s.TaskState != "spawning" || !s.Created.Equal(c.t0) {
		t.Errorf("just created: status %q task %q created %v", s.Status, s.TaskState, s.Created)
	}
	if dev, host := c.ports.device("port-admin"); dev != id || host != "node-1" {
		t.Errorf("port bound to %q on %q, want %s on node-1 (least loaded, first by name)", dev, host, id)
	}

	c.at(29 * time.Second)
	if s := get(t, mem, id); s.Status != "BUILD" {
		t.Errorf("before build time: %s", s.Status)
	}
	c.at(30 * time.Second)
	s = get(t, mem, id)
	if s.Status != "ACTIVE" || s.PowerState != servers.RUNNING || s.TaskState != "" {
		t.Errorf("after build time: status %q power %v task %q", s.Status, s.PowerState, s.TaskState)
	}
	if want := c.t0.Add(30 * time.Second); !s.Updated.Equal(want) {
		t.Errorf("updated %v, want the status change at %v", s.Updated, want)
	}
	// Addresses are keyed by network name, fixed then floating.
	pub, _ := s.Addresses["public"].([]any)
	if len(pub) != 3 {
		t.Fatalf("public addresses %v", s.Addresses["public"])
	}
	for i, want := range []struct {
		addr, typ string
		version   float64
	}{{"172.16.0.5", "fixed", 4}, {"fd00::5", "fixed", 6}, {"10.109.1.10", "floating", 4}} {
		a := pub[i].(map[string]any)
		if a["addr"] != want.addr || a["OS-EXT-IPS:type"] != want.typ || a["version"] != want.version || a["OS-EXT-IPS-MAC:mac_addr"] != "fa:16:3e:00:00:02" {
			t.Errorf("address %d: %v, want %+v", i, a, want)
		}
	}
	if _, ok := s.Addresses["admin"]; !ok {
		t.Errorf("no admin network in %v", s.Addresses)
	}

	// Admin-only attributes: hidden from the member, shown to admin.
	if s.Host != "" || s.HypervisorHostname != "" || s.InstanceName != "" {
		t.Errorf("member sees host %q hypervisor %q instance %q", s.Host, s.HypervisorHostname, s.InstanceName)
	}
	a := get(t, adm, id)
	if a.Host != "node-1" || a.HypervisorHostname != "node-1" || a.InstanceName != "instance-00000001" {
		t.Errorf("admin sees host %q hypervisor %q instance %q", a.Host, a.HypervisorHostname, a.InstanceName)
	}
	if s.HostID == "" || s.HostID != a.HostID {
		t.Errorf("hostId %q / %q: should be shown to all, the same", s.HostID, a.HostID)
	}

	// Delete is asynchronous: listed as deleting until DeleteTime passes,
	// then gone with its ports released.
	c.at(40 * time.Second)
	if err := servers.Delete(ctx, mem, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	s = get(t, mem, id)
	if s.TaskState != "deleting" || s.Status != "ACTIVE" {
		t.Errorf("deleting: status %q task %q", s.Status, s.TaskState)
	}
	if dev, _ := c.ports.device("port-admin"); dev != id {
		t.Errorf("port released before the delete completed")
	}
	c.at(50 * time.Second)
	if _, err := servers.Get(ctx, mem, id).Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("after delete time: %v, want 404", err)
	}
	for _, p := range []string{"port-admin", "port-public"} {
		if dev, host := c.ports.device(p); dev != "" || host != "" {
			t.Errorf("%s still bound to %q on %q", p, dev, host)
		}
	}
	if err := servers.Delete(ctx, mem, id).ExtractErr(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("delete of a gone server: %v, want 404", err)
	}
}

func TestServerFaultAndErrors(t *testing.T) {
	c := newCloud(t, map[string]int{"instances": 2, "cores": 4})
	ctx := context.Background()
	c.knobs.SetBuildTime(5 * time.Second)
	c.knobs.FailServer("slave-03", "No valid host was found. There are not enough hosts available.")
	c.ports.add("p1", "p-member", "admin", "fa:16:3e:00:00:01", []string{"10.20.0.3"}, nil)
	c.ports.add("p2", "p-other", "admin", "fa:16:3e:00:00:02", []string{"10.20.0.4"}, nil)
	mem := c.client("member", "2.52")

	id := boot(t, mem, "slave-03", "p1")
	if s := get(t, mem, id); s.Status != "BUILD" {
		t.Errorf("failing server before build time: %s", s.Status)
	}
	c.at(5 * time.Second)
	s := get(t, mem, id)
	if s.Status != "ERROR" || s.Fault.Code != 500 || !strings.Contains(s.Fault.Message, "No valid host") || !s.Fault.Created.Equal(c.t0.Add(5*time.Second)) {
		t.Errorf("failed server: status %q fault %+v", s.Status, s.Fault)
	}

	// Creating on a port already bound elsewhere is a 409 and binds nothing.
	none := func(o *servers.CreateOpts) {}
	for _, tc := range []struct {
		name   string
		change func(*servers.CreateOpts)
		code   int
	}{
		{"port in use", func(o *servers.CreateOpts) { o.Networks = []servers.Network{{Port: "p1"}} }, 409},
		{"unknown port", func(o *servers.CreateOpts) { o.Networks = []servers.Network{{Port: "nope"}} }, 400},
		{"port of another project", func(o *servers.CreateOpts) { o.Networks = []servers.Network{{Port: "p2"}} }, 400},
		{"network by uuid", func(o *servers.CreateOpts) { o.Networks = []servers.Network{{UUID: "net"}} }, 400},
		{"networks auto", func(o *servers.CreateOpts) { o.Networks = "auto" }, 400},
		{"unknown flavor", func(o *servers.CreateOpts) { o.FlavorRef = "42" }, 400},
		{"private flavor", func(o *servers.CreateOpts) { o.FlavorRef = "9" }, 400},
		{"unknown image", func(o *servers.CreateOpts) { o.ImageRef = "nope" }, 400},
		{"another project's private image", func(o *servers.CreateOpts) { o.ImageRef = privImage }, 400},
		{"image larger than the flavor disk", func(o *servers.CreateOpts) { o.ImageRef = bigImage }, 400},
		{"no image and no volume", func(o *servers.CreateOpts) { o.ImageRef = "" }, 400},
		{"bad tag", func(o *servers.CreateOpts) { o.Tags = []string{"a/b"} }, 400},
		{"empty metadata key", func(o *servers.CreateOpts) { o.Metadata = map[string]string{"": "v"} }, 400},
		{"unknown availability zone", func(o *servers.CreateOpts) { o.AvailabilityZone = "az9" }, 400},
		{"cores quota", func(o *servers.CreateOpts) { o.FlavorRef = "2" }, 403},
		{"fine", none, 202},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := servers.CreateOpts{Name: "x", ImageRef: imageID, FlavorRef: "1", Networks: "none"}
			tc.change(&o)
			_, err := servers.Create(ctx, mem, o, nil).Extract()
			if tc.code == 202 {
				if err != nil {
					t.Errorf("got %v, want success", err)
				}
				return
			}
			if !gophercloud.ResponseCodeIs(err, tc.code) {
				t.Errorf("got %v, want %d", err, tc.code)
			}
		})
	}
	if dev, _ := c.ports.device("p2"); dev != "" {
		t.Errorf("refused create left p2 bound to %q", dev)
	}
	// key_name comes through the keypairs extension: an unknown key is a 400.
	_, err := servers.Create(ctx, mem, keypairs.CreateOptsExt{
		CreateOptsBuilder: servers.CreateOpts{Name: "k", ImageRef: imageID, FlavorRef: "1", Networks: "none"}, KeyName: "nope"}, nil).Extract()
	if !gophercloud.ResponseCodeIs(err, 400) {
		t.Errorf("unknown key_name: %v, want 400", err)
	}
	// Two servers exist now: the instances quota (2) refuses a third with
	// Nova's message, as a 403.
	_, err = servers.Create(ctx, mem, servers.CreateOpts{Name: "third", ImageRef: imageID, FlavorRef: "1", Networks: "none"}, nil).Extract()
	var e gophercloud.ErrUnexpectedResponseCode
	if !errorsAs(err, &e) || e.Actual != 403 || !strings.Contains(string(e.Body), "Quota exceeded for instances: Requested 1, but already used 2 of 2 instances") {
		t.Errorf("instances quota: %v", err)
	}
	// Tags on create need 2.52.
	_, err = servers.Create(ctx, c.client("member", "2.51"), servers.CreateOpts{Name: "t", ImageRef: imageID, FlavorRef: "1", Tags: []string{"a"}}, nil).Extract()
	if !gophercloud.ResponseCodeIs(err, 400) {
		t.Errorf("tags at 2.51: %v, want 400", err)
	}
}

func TestServerBootFromVolumeAndUserData(t *testing.T) {
	c := newCloud(t, nil)
	ctx := context.Background()
	mem := c.client("member", "2.90")
	script := "#!/bin/sh\necho fuel\n"
	opts := servers.CreateOpts{Name: "bfv", FlavorRef: "1", Networks: "none", UserData: []byte(script),
		BlockDevice: []servers.BlockDevice{{BootIndex: 0, SourceType: servers.SourceVolume, DestinationType: servers.DestinationVolume,
			UUID: "vol-1", DeviceType: "disk", DiskBus: "virtio"}}}
	s, err := servers.Create(ctx, mem, opts, nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	got := get(t, mem, s.ID)
	if got.Image != nil {
		t.Errorf("image of a volume-booted server: %v, want none", got.Image)
	}
	if got.Userdata != nil {
		t.Errorf("member sees user_data")
	}
	if a := get(t, c.client("admin", "2.90"), s.ID); a.Userdata == nil || *a.Userdata != base64.StdEncoding.EncodeToString([]byte(script)) {
		t.Errorf("admin user_data at 2.90: %v", a.Userdata)
	}
	if a := get(t, c.client("admin", "2.1"), s.ID); a.Userdata != nil {
		t.Errorf("admin user_data at 2.1 shown")
	}
	c.svc.mu.Lock()
	bdms := c.svc.st.Servers[s.ID].BDMs
	c.svc.mu.Unlock()
	if len(bdms) != 1 || bdms[0].UUID != "vol-1" || *bdms[0].BootIndex != 0 || bdms[0].DiskBus != "virtio" || bdms[0].SourceType != "volume" {
		t.Errorf("stored block device mapping %+v", bdms)
	}
	// A volume created from an image: the image is checked (it must exist)
	// but not against the flavor's disk, and the server shows no image.
	fromImage := servers.CreateOpts{Name: "bfi", FlavorRef: "1", Networks: "none",
		BlockDevice: []servers.BlockDevice{{BootIndex: 0, SourceType: servers.SourceImage, DestinationType: servers.DestinationVolume,
			UUID: bigImage, VolumeSize: 600}}}
	s, err = servers.Create(ctx, mem, fromImage, nil).Extract()
	if err != nil {
		t.Fatalf("boot from a volume made from an image larger than the flavor disk: %v", err)
	}
	if got := get(t, mem, s.ID); got.Image != nil {
		t.Errorf("image of a volume-from-image server: %v, want none", got.Image)
	}
	fromImage.BlockDevice[0].UUID = "nope"
	if _, err := servers.Create(ctx, mem, fromImage, nil).Extract(); !gophercloud.ResponseCodeIs(err, 400) {
		t.Errorf("volume from an unknown image: %v, want 400", err)
	}
	_, err = servers.Create(ctx, mem, servers.CreateOpts{Name: "plain-user-data", FlavorRef: "1", Networks: "none", UserData: []byte("x"), ImageRef: imageID}, nil).Extract()
	if err != nil {
		t.Errorf("user data is base64-encoded by gophercloud; got %v", err)
	}
}

func TestServerList(t *testing.T) {
	c := newCloud(t, nil)
	ctx := context.Background()
	c.knobs.SetBuildTime(10 * time.Second)
	mem, oth, adm := c.client("member", "2.90"), c.client("other", "2.90"), c.client("admin", "2.90")
	create := func(cl *gophercloud.ServiceClient, name string, at time.Duration, tags ...string) string {
		c.at(at)
		s, err := servers.Create(ctx, cl, servers.CreateOpts{Name: name, ImageRef: imageID, FlavorRef: "1", Networks: "none", Tags: tags}, nil).Extract()
		if err != nil {
			t.Fatal(err)
		}
		return s.ID
	}
	create(mem, "lab-fuel", 0, "lab", "fuel")
	create(mem, "lab-slave-01", 1*time.Second, "lab", "slave")
	create(mem, "lab-slave-02", 2*time.Second, "lab", "slave")
	create(mem, "lonely", 20*time.Second)
	create(oth, "lab-slave-09", 3*time.Second, "lab")
	c.at(21 * time.Second) // the first four are ACTIVE, "lonely" is BUILD

	names := func(cl *gophercloud.ServiceClient, o servers.ListOpts) string {
		t.Helper()
		p, err := servers.List(cl, o).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ss, err := servers.ExtractServers(p)
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, s := range ss {
			n = append(n, s.Name)
		}
		return strings.Join(n, ",")
	}
	for _, tc := range []struct {
		name string
		cl   *gophercloud.ServiceClient
		opts servers.ListOpts
		want string
	}{
		{"own project, newest first", mem, servers.ListOpts{}, "lonely,lab-slave-02,lab-slave-01,lab-fuel"},
		{"name is a regex search", mem, servers.ListOpts{Name: "slave-0[12]"}, "lab-slave-02,lab-slave-01"},
		{"name substring", mem, servers.ListOpts{Name: "fuel"}, "lab-fuel"},
		{"status", mem, servers.ListOpts{Status: "BUILD"}, "lonely"},
		{"tags (all)", mem, servers.ListOpts{Tags: "lab,slave"}, "lab-slave-02,lab-slave-01"},
		{"tags-any", mem, servers.ListOpts{TagsAny: "fuel,slave"}, "lab-slave-02,lab-slave-01,lab-fuel"},
		{"not-tags-any", mem, servers.ListOpts{NotTagsAny: "lab"}, "lonely"},
		{"changes-since", mem, servers.ListOpts{ChangesSince: c.t0.Add(15 * time.Second).Format(time.RFC3339)}, "lonely"},
		{"admin without all_tenants sees its own", adm, servers.ListOpts{}, ""},
		{"host filter is admin-only, ignored for others", mem, servers.ListOpts{Host: "node-9", Name: "fuel"}, "lab-fuel"},
		{"host filter for admin", adm, servers.ListOpts{AllTenants: true, Host: "node-2"}, "lab-slave-09,lab-slave-01"},
		{"admin all_tenants", adm, servers.ListOpts{AllTenants: true, Name: "slave"}, "lab-slave-09,lab-slave-02,lab-slave-01"},
		{"admin all_tenants one project", adm, servers.ListOpts{AllTenants: true, TenantID: "p-other"}, "lab-slave-09"},
		{"paged", mem, servers.ListOpts{Limit: 1}, "lonely,lab-slave-02,lab-slave-01,lab-fuel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := names(tc.cl, tc.opts); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := servers.List(mem, servers.ListOpts{AllTenants: true}).AllPages(ctx); !gophercloud.ResponseCodeIs(err, 403) {
		t.Errorf("member all_tenants: %v, want 403", err)
	}
	// Pages hold at most "limit" servers and link on with absolute URLs.
	var sizes []int
	err := servers.ListSimple(mem, servers.ListOpts{Limit: 3}).EachPage(ctx, func(_ context.Context, p paginationPage) (bool, error) {
		ss, err := servers.ExtractServers(p)
		sizes = append(sizes, len(ss))
		return true, err
	})
	if err != nil || !slices.Equal(sizes, []int{3, 1}) {
		t.Errorf("page sizes %v (%v), want [3 1]", sizes, err)
	}
	if _, err := servers.List(mem, servers.ListOpts{Marker: "nope"}).AllPages(ctx); !gophercloud.ResponseCodeIs(err, 400) {
		t.Errorf("unknown marker: %v, want 400", err)
	}
	// Another project's server is a 404 to a member.
	p, _ := servers.List(oth, nil).AllPages(ctx)
	ss, _ := servers.ExtractServers(p)
	if _, err := servers.Get(ctx, mem, ss[0].ID).Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("get another project's server: %v, want 404", err)
	}
}

func TestServerMetadataTagsConsole(t *testing.T) {
	c := newCloud(t, nil)
	ctx := context.Background()
	c.knobs.SetBuildTime(time.Second)
	mem := c.client("member", "2.90")
	id := boot(t, mem, "slave-01")

	if _, err := servers.ResetMetadata(ctx, mem, id, servers.MetadataOpts{"role": "compute", "rack": "1"}).Extract(); err != nil {
		t.Fatal(err)
	}
	md, err := servers.UpdateMetadata(ctx, mem, id, servers.MetadataOpts{"rack": "2", "lab": "a"}).Extract()
	if err != nil || len(md) != 3 || md["rack"] != "2" || md["role"] != "compute" {
		t.Errorf("merged metadata %v %v", md, err)
	}
	if _, err := servers.CreateMetadatum(ctx, mem, id, servers.MetadatumOpts{"os": "centos"}).Extract(); err != nil {
		t.Fatal(err)
	}
	if m, err := servers.Metadatum(ctx, mem, id, "os").Extract(); err != nil || m["os"] != "centos" {
		t.Errorf("metadatum %v %v", m, err)
	}
	if err := servers.DeleteMetadatum(ctx, mem, id, "os").ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if _, err := servers.Metadatum(ctx, mem, id, "os").Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("deleted metadatum: %v, want 404", err)
	}
	md, _ = servers.ResetMetadata(ctx, mem, id, servers.MetadataOpts{"only": "this"}).Extract()
	if len(md) != 1 {
		t.Errorf("reset metadata %v", md)
	}
	// Every change moves "updated".
	c.at(time.Minute)
	before := get(t, mem, id).Updated
	c.at(2 * time.Minute)
	if err := tags.Add(ctx, mem, id, "fuel").ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if after := get(t, mem, id).Updated; !after.After(before) {
		t.Errorf("updated %v not after %v following a tag change", after, before)
	}
	if err := tags.Add(ctx, mem, id, "fuel").ExtractErr(); err != nil {
		t.Errorf("adding an existing tag: %v", err)
	}
	c.at(3 * time.Minute)
	s, err := servers.Update(ctx, mem, id, servers.UpdateOpts{Name: "slave-01b", AccessIPv4: "10.109.1.5"}).Extract()
	if err != nil || s.Name != "slave-01b" || s.AccessIPv4 != "10.109.1.5" || !s.Updated.Equal(c.t0.Add(3*time.Minute)) {
		t.Errorf("rename: %+v %v", s, err)
	}
	if got := get(t, mem, id); got.Name != "slave-01b" {
		t.Errorf("name after rename %q", got.Name)
	}
	if _, err := servers.Update(ctx, mem, id, servers.UpdateOpts{Name: " "}).Extract(); !gophercloud.ResponseCodeIs(err, 400) {
		t.Errorf("blank name: %v, want 400", err)
	}
	if got, err := tags.ReplaceAll(ctx, mem, id, tags.ReplaceAllOpts{Tags: []string{"a", "b", "a"}}).Extract(); err != nil || !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("replace all %v %v", got, err)
	}
	if ok, err := tags.Check(ctx, mem, id, "b").Extract(); err != nil || !ok {
		t.Errorf("check b: %v %v", ok, err)
	}
	if err := tags.Delete(ctx, mem, id, "b").ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if ok, _ := tags.Check(ctx, mem, id, "b").Extract(); ok {
		t.Errorf("b still tagged")
	}
	if err := tags.Delete(ctx, mem, id, "b").ExtractErr(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("delete missing tag: %v, want 404", err)
	}
	if err := tags.DeleteAll(ctx, mem, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if got, _ := tags.List(ctx, mem, id).Extract(); len(got) != 0 {
		t.Errorf("tags after delete all: %v", got)
	}
	if _, err := tags.List(ctx, c.client("member", "2.25"), id).Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("tags API at 2.25: %v, want 404", err)
	}

	out, err := servers.ShowConsoleOutput(ctx, mem, id, servers.ShowConsoleOutputOpts{}).Extract()
	if err != nil || !strings.Contains(out, "slave-01b") {
		t.Errorf("console output %q %v", out, err)
	}
	out, _ = servers.ShowConsoleOutput(ctx, mem, id, servers.ShowConsoleOutputOpts{Length: 1}).Extract()
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "login") {
		t.Errorf("last line of console %q", out)
	}
	// Metadata cannot change while the server is being deleted.
	c.knobs.SetDeleteTime(time.Hour)
	if err := servers.Delete(ctx, mem, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if _, err := servers.UpdateMetadata(ctx, mem, id, servers.MetadataOpts{"x": "y"}).Extract(); !gophercloud.ResponseCodeIs(err, 409) {
		t.Errorf("metadata while deleting: %v, want 409", err)
	}
}

func TestPlacementSpreadsServers(t *testing.T) {
	c := newCloud(t, nil)
	adm := c.client("admin", "2.90")
	var hosts []string
	for i := range 5 {
		id := boot(t, adm, "s"+string(rune('a'+i)))
		hosts = append(hosts, get(t, adm, id).Host)
	}
	if want := []string{"node-1", "node-2", "node-3", "node-1", "node-2"}; !slices.Equal(hosts, want) {
		t.Errorf("hosts %v, want %v", hosts, want)
	}
}

func TestSnapshotRestore(t *testing.T) {
	c := newCloud(t, nil)
	ctx := context.Background()
	c.knobs.SetBuildTime(time.Minute)
	c.ports.add("p1", "p-member", "admin", "fa:16:3e:00:00:01", []string{"10.20.0.3"}, nil)
	mem := c.client("member", "2.90")
	id := boot(t, mem, "fuel", "p1")
	if _, err := keypairs.Create(ctx, mem, keypairs.CreateOpts{Name: "k", PublicKey: edKey}).Extract(); err != nil {
		t.Fatal(err)
	}
	snap, err := c.svc.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(snap), "PRIVATE KEY") {
		t.Error("snapshot holds a private key")
	}
	// A new process: same knobs and neighbours, state from the snapshot.
	fresh := New(Config{Knobs: c.knobs, Ports: c.ports, Hypervisors: []string{"node-1"}})
	if err := fresh.Restore(snap); err != nil {
		t.Fatal(err)
	}
	r := &cloud{svc: fresh, knobs: c.knobs, ports: c.ports, url: serve(t, fresh), t0: c.t0}
	cl := r.client("member", "2.90")
	if s := get(t, cl, id); s.Status != "BUILD" || s.Name != "fuel" {
		t.Errorf("restored server before build time: %s %s", s.Name, s.Status)
	}
	r.at(time.Minute)
	if s := get(t, cl, id); s.Status != "ACTIVE" {
		t.Errorf("restored server after build time: %s", s.Status)
	}
	if _, err := keypairs.Get(ctx, cl, "k", nil).Extract(); err != nil {
		t.Errorf("restored keypair: %v", err)
	}
	for _, bad := range []string{"{", `{"flavors": {}}`} {
		if err := fresh.Restore([]byte(bad)); err == nil {
			t.Errorf("restore of %q succeeded", bad)
		}
	}
}

// A server shows the flavor it was booted with (2.47+), extra specs
// included, even after the flavor changes.
func TestServerKeepsFlavorCopy(t *testing.T) {
	c := newCloud(t, nil)
	ctx := context.Background()
	adm := c.client("admin", "2.90")
	if _, err := flavors.CreateExtraSpecs(ctx, adm, "1", flavors.ExtraSpecsOpts{"hw:numa_nodes": "1"}).Extract(); err != nil {
		t.Fatal(err)
	}
	id := boot(t, adm, "s")
	if _, err := flavors.UpdateExtraSpec(ctx, adm, "1", flavors.ExtraSpecsOpts{"hw:numa_nodes": "2"}).Extract(); err != nil {
		t.Fatal(err)
	}
	f := get(t, adm, id).Flavor
	specs, _ := f["extra_specs"].(map[string]any)
	if f["original_name"] != "m1.small" || f["vcpus"] != float64(1) || specs["hw:numa_nodes"] != "1" {
		t.Errorf("embedded flavor %v", f)
	}
	if f := get(t, c.client("admin", "2.46"), id).Flavor; f["id"] != "1" {
		t.Errorf("flavor before 2.47: %v", f)
	}
}

// An ACTIVE server shows progress 0, as Zed's Nova does (progress moves
// only during migrations and resizes); seen on the real cloud.
func TestActiveServerProgressIsZero(t *testing.T) {
	c := newCloud(t, nil)
	c.ports.add("port-admin", "p-member", "admin", "fa:16:3e:00:00:01", []string{"10.20.0.2"}, nil)
	mem := c.client("member", "2.90")
	id := boot(t, mem, "vm", "port-admin")
	s := get(t, mem, id)
	if s.Status != "ACTIVE" || s.Progress != 0 {
		t.Errorf("status %q progress %d, want ACTIVE with progress 0", s.Status, s.Progress)
	}
}
