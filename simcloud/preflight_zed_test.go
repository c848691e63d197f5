package simcloud_test

import (
	"bytes"
	"context"
	"reflect"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/limits"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/trunks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/utils"

	"github.com/fuelplan/fuelplan/simcloud"
)

// What the preflight checks read, as the real cloud of ../shared/realcloud
// (Zed) answered the probes behind them, in a project of their own.

func worldWith(change func(w *simcloud.World)) simcloud.Config {
	w := simcloud.DefaultWorld()
	change(w)
	return simcloud.Config{World: w}
}

// TestComputeVersionDocument: GET on the compute endpoint is Nova's
// version document, {"version": {"id": "v2.1", "min_version": "2.1",
// "version": "2.93", ...}} on real Zed; a cloud whose Nova stops at 2.60
// says so there and refuses 2.61 with 406 "Version 2.61 is not supported
// by the API. Minimum is 2.1 and maximum is 2.60.", as real Nova words it.
func TestComputeVersionDocument(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		world string
		want  int
	}{{"", 90}, {"2.60", 60}} {
		c := start(t, worldWith(func(w *simcloud.World) { w.ComputeMaxMicroversion = tt.world }))
		cc := clientsFor(t, c.Member()).compute
		cc.Microversion = ""
		mv, err := utils.GetSupportedMicroversions(ctx, cc)
		if err != nil {
			t.Fatal(err)
		}
		if mv.MaxMajor != 2 || mv.MaxMinor != tt.want || mv.MinMajor != 2 || mv.MinMinor != 1 {
			t.Errorf("world %q: range %+v, want 2.1 to 2.%d", tt.world, mv, tt.want)
		}
		if tt.world == "" {
			continue
		}
		cc.Microversion = "2.61"
		_, err = limits.Get(ctx, cc, nil).Extract()
		wantFault(t, "2.61 on a 2.60 Nova", err, 406, "Version 2.61 is not supported by the API. Minimum is 2.1 and maximum is 2.60.")
	}
}

// TestKeypairQuota: real Zed's limits report maxTotalKeypairs (the
// key_pairs quota, counted per user) and no usage; a keypair over it is
// 403 "Quota exceeded, too many key pairs.".
func TestKeypairQuota(t *testing.T) {
	ctx := context.Background()
	c := start(t, worldWith(func(w *simcloud.World) { w.Quotas["keypairs"] = 1 }))
	cc := clientsFor(t, c.Member()).compute
	var raw struct {
		Limits struct {
			Absolute map[string]any `json:"absolute"`
		} `json:"limits"`
	}
	if err := limits.Get(ctx, cc, nil).ExtractInto(&raw); err != nil {
		t.Fatal(err)
	}
	if raw.Limits.Absolute["maxTotalKeypairs"] != float64(1) {
		t.Errorf("maxTotalKeypairs %v, want 1", raw.Limits.Absolute["maxTotalKeypairs"])
	}
	if _, ok := raw.Limits.Absolute["totalKeypairsUsed"]; ok {
		t.Errorf("limits report keypair usage; real Zed's do not: %v", raw.Limits.Absolute)
	}
	const pub = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl pf@test"
	if _, err := keypairs.Create(ctx, cc, keypairs.CreateOpts{Name: "k1", PublicKey: pub}).Extract(); err != nil {
		t.Fatal(err)
	}
	_, err := keypairs.Create(ctx, cc, keypairs.CreateOpts{Name: "k2", PublicKey: pub}).Extract()
	wantFault(t, "second keypair", err, 403, `{"forbidden":{"code":403,"message":"Quota exceeded, too many key pairs."}}`)
	// The quota is per user: the admin still has room.
	if _, err := keypairs.Create(ctx, clientsFor(t, c.Admin()).compute, keypairs.CreateOpts{Name: "k2", PublicKey: pub}).Extract(); err != nil {
		t.Errorf("the admin's first keypair: %v", err)
	}
}

// TestTrunkQuotaAndMTU: real Zed counts trunks in the quota details
// ("trunk": {"limit": 1, "used": 1, "reserved": 0}), refuses one over the
// quota with 409 OverQuota "Quota exceeded for resources: ['trunk'].", and
// a subport whose network's MTU is above the parent's with 409
// SubPortMtuGreaterThanTrunkPortMtu, naming the parent port as the trunk.
// A new network gets the world's network_mtu, and a larger mtu is 400
// "Requested MTU is too big, maximum is N".
func TestTrunkQuotaAndMTU(t *testing.T) {
	ctx := context.Background()
	c := start(t, worldWith(func(w *simcloud.World) { w.Quotas["trunk"] = 1; w.NetworkMTU = 1500 }))
	cl := clientsFor(t, c.Member())
	netWith := func(name string, mtu int) string {
		body := map[string]any{"name": name}
		if mtu > 0 {
			body["mtu"] = mtu
		}
		var n struct {
			ID  string `json:"id"`
			MTU int    `json:"mtu"`
		}
		if err := networks.Create(ctx, cl.network, rawNetwork(body)).ExtractInto(&n); err != nil {
			t.Fatal(err)
		}
		if want := max(mtu, 0); (mtu == 0 && n.MTU != 1500) || (mtu > 0 && n.MTU != want) {
			t.Errorf("network %s: mtu %d", name, n.MTU)
		}
		return n.ID
	}
	_, err := networks.Create(ctx, cl.network, rawNetwork(map[string]any{"name": "big", "mtu": 1501})).Extract()
	wantFault(t, "mtu 1501", err, 400, "Invalid input for operation: Requested MTU is too big, maximum is 1500.")
	small, deflt := netWith("small", 1400), netWith("default", 0)
	port := func(net string) string {
		p, err := ports.Create(ctx, cl.network, ports.CreateOpts{NetworkID: net}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	parent, sub := port(small), port(deflt)
	_, err = trunks.Create(ctx, cl.network, trunks.CreateOpts{PortID: parent, Subports: []trunks.Subport{
		{PortID: sub, SegmentationType: "vlan", SegmentationID: 101}}}).Extract()
	wantFault(t, "subport above the parent's MTU", err, 409,
		"MTU 1500 of subport "+sub+" cannot be greater than MTU 1400 of trunk "+parent+".")
	if _, err := trunks.Create(ctx, cl.network, trunks.CreateOpts{PortID: parent}).Extract(); err != nil {
		t.Fatal(err)
	}
	_, err = trunks.Create(ctx, cl.network, trunks.CreateOpts{PortID: sub}).Extract()
	wantFault(t, "second trunk", err, 409, `"message":"Quota exceeded for resources: ['trunk'].","type":"OverQuota"`)
	var d struct {
		Quota map[string]map[string]int `json:"quota"`
	}
	demo := ""
	for _, p := range simcloud.DefaultWorld().Projects {
		if p.Name == c.Member().ProjectName {
			demo = p.ID
		}
	}
	if err := quotas.GetDetail(ctx, cl.network, demo).ExtractInto(&d); err != nil {
		t.Fatal(err)
	}
	if got := d.Quota["trunk"]; got["limit"] != 1 || got["used"] != 1 || got["reserved"] != 0 {
		t.Errorf("trunk quota details %v", got)
	}
}

type rawNetwork map[string]any

func (r rawNetwork) ToNetworkCreateMap() (map[string]any, error) {
	return map[string]any{"network": map[string]any(r)}, nil
}

// TestGlanceUsage: real Zed's Glance, whose unified limits are off by
// default, answers GET /v2/info/usage with 200 {"usage": {}}.
func TestGlanceUsage(t *testing.T) {
	c := start(t, simcloud.Config{})
	ic := imageClient(t, login(t, c.Member()))
	var body map[string]any
	resp, err := ic.Get(context.Background(), ic.ServiceURL("info", "usage"), &body, &gophercloud.RequestOpts{OkCodes: []int{200}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if u, ok := body["usage"].(map[string]any); !ok || len(u) != 0 || len(body) != 1 {
		t.Errorf("usage: %v", body)
	}
}

// TestGlanceUsageWithLimits: a Glance with Keystone's unified limits on
// (use_keystone_limits = true; not probed on real Zed, whose Glance has
// them off; read from Glance 25's source, glance/api/v2/discovery.py
// get_usage and glance/quota/keystone.py get_usage, and the api-ref
// sample usage-response.json) answers every limit it knows with
// {"limit", "usage"} for the token's project: image_size_total is the sum
// of the sizes of the project's images that hold data, floored to MiB;
// image_count_total counts its images, queued ones too; a limit Keystone
// has not registered is 0 (oslo.limit). Other projects' images do not
// count.
func TestGlanceUsageWithLimits(t *testing.T) {
	ctx := context.Background()
	c := start(t, worldWith(func(w *simcloud.World) {
		w.GlanceLimits = map[string]int{"image_size_total": 3, "image_count_total": 5}
	}))
	ic := imageClient(t, login(t, c.Member()))
	im, err := images.Create(ctx, ic, images.CreateOpts{Name: "a", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if err := imagedata.Upload(ctx, ic, im.ID, bytes.NewReader(make([]byte, 3<<19))).ExtractErr(); err != nil { // 1.5 MiB
		t.Fatal(err)
	}
	if _, err := images.Create(ctx, ic, images.CreateOpts{Name: "queued"}).Extract(); err != nil {
		t.Fatal(err)
	}
	admin := imageClient(t, login(t, c.Admin()))
	other, err := images.Create(ctx, admin, images.CreateOpts{Name: "other", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if err := imagedata.Upload(ctx, admin, other.ID, bytes.NewReader(make([]byte, 4<<20))).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	var body map[string]map[string]map[string]int
	resp, err := ic.Get(ctx, ic.ServiceURL("info", "usage"), &body, &gophercloud.RequestOpts{OkCodes: []int{200}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := map[string]map[string]map[string]int{"usage": {
		"image_size_total":      {"limit": 3, "usage": 1},
		"image_count_total":     {"limit": 5, "usage": 2},
		"image_stage_total":     {"limit": 0, "usage": 0},
		"image_count_uploading": {"limit": 0, "usage": 0},
	}}
	if !reflect.DeepEqual(body, want) {
		t.Errorf("usage: %v\nwant %v", body, want)
	}
}
