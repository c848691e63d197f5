package nova

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/hypervisors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/limits"
)

func TestMicroversionNegotiation(t *testing.T) {
	c := newCloud(t, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		name, requested string
		code            int
		echoed          string
	}{
		{"default is the minimum", "", 200, "2.1"},
		{"explicit", "2.52", 200, "2.52"},
		{"maximum", "2.90", 200, "2.90"},
		{"latest", "latest", 200, "2.90"},
		{"above maximum", "2.91", 406, ""},
		{"other major", "3.0", 406, ""},
		{"malformed", "two", 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := c.client("member", tc.requested)
			resp, err := cl.Get(ctx, cl.ServiceURL("flavors"), nil, &gophercloud.RequestOpts{OkCodes: []int{200}})
			if tc.code != 200 {
				if !gophercloud.ResponseCodeIs(err, tc.code) {
					t.Fatalf("got %v, want %d", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.Header.Get("X-OpenStack-Nova-API-Version"); got != tc.echoed {
				t.Errorf("X-OpenStack-Nova-API-Version %q, want %q", got, tc.echoed)
			}
			if got := resp.Header.Get("OpenStack-API-Version"); got != "compute "+tc.echoed {
				t.Errorf("OpenStack-API-Version %q, want compute %s", got, tc.echoed)
			}
		})
	}
	// The 406 body is Nova's fault JSON naming the supported range.
	cl := c.client("member", "2.91")
	_, err := cl.Get(ctx, cl.ServiceURL("flavors"), nil, nil)
	var e gophercloud.ErrUnexpectedResponseCode
	if !errorsAs(err, &e) || !strings.Contains(string(e.Body), "maximum is 2.90") {
		t.Errorf("406 body: %v", err)
	}
	// The version document advertises the range.
	var doc struct {
		Version struct {
			Version    string `json:"version"`
			MinVersion string `json:"min_version"`
		} `json:"version"`
	}
	if _, err := c.client("member", "").Get(ctx, c.url+"/v2.1/", &doc, nil); err != nil {
		t.Fatal(err)
	}
	if doc.Version.MinVersion != "2.1" || doc.Version.Version != "2.90" {
		t.Errorf("version document: %+v", doc.Version)
	}
}

func TestFlavors(t *testing.T) {
	c := newCloud(t, nil)
	ctx := context.Background()
	mem, adm := c.client("member", "2.61"), c.client("admin", "2.61")
	list := func(cl *gophercloud.ServiceClient, opts flavors.ListOpts) []string {
		t.Helper()
		p, err := flavors.ListDetail(cl, opts).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fs, err := flavors.ExtractFlavors(p)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, f := range fs {
			ids = append(ids, f.ID)
		}
		return ids
	}
	if got := strings.Join(list(mem, flavors.ListOpts{}), ","); got != "1,2" {
		t.Errorf("member list %s, want 1,2 (private hidden)", got)
	}
	if got := strings.Join(list(adm, flavors.ListOpts{AccessType: flavors.AllAccess}), ","); got != "1,2,9" {
		t.Errorf("admin list all %s, want 1,2,9", got)
	}
	if got := strings.Join(list(mem, flavors.ListOpts{MinDisk: 50}), ","); got != "2" {
		t.Errorf("minDisk filter %s, want 2", got)
	}
	// Pagination through flavors_links.
	pages := 0
	_ = flavors.ListDetail(mem, flavors.ListOpts{Limit: 1}).EachPage(ctx, func(context.Context, paginationPage) (bool, error) {
		pages++
		return true, nil
	})
	if pages != 2 {
		t.Errorf("%d pages with limit 1, want 2", pages)
	}
	f, err := flavors.Get(ctx, mem, "2").Extract()
	if err != nil || f.Name != "m1.large" || f.VCPUs != 4 || f.RAM != 8192 || f.Disk != 80 || !f.IsPublic {
		t.Errorf("get: %+v %v", f, err)
	}
	if _, err := flavors.Get(ctx, mem, "9").Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("member get private flavor: %v, want 404", err)
	}

	disk := 40
	opts := flavors.CreateOpts{ID: "fuel", Name: "fuel.master", VCPUs: 2, RAM: 4096, Disk: &disk}
	if _, err := flavors.Create(ctx, mem, opts).Extract(); !gophercloud.ResponseCodeIs(err, 403) {
		t.Errorf("member create: %v, want 403", err)
	}
	if _, err := flavors.Create(ctx, adm, opts).Extract(); err != nil {
		t.Fatal(err)
	}
	for _, dup := range []flavors.CreateOpts{opts, {ID: "other", Name: "fuel.master", VCPUs: 1, RAM: 1, Disk: &disk}} {
		if _, err := flavors.Create(ctx, adm, dup).Extract(); !gophercloud.ResponseCodeIs(err, 409) {
			t.Errorf("duplicate %s/%s: %v, want 409", dup.ID, dup.Name, err)
		}
	}
	if _, err := flavors.CreateExtraSpecs(ctx, mem, "fuel", flavors.ExtraSpecsOpts{"hw:cpu_policy": "dedicated"}).Extract(); !gophercloud.ResponseCodeIs(err, 403) {
		t.Errorf("member set extra specs: %v, want 403", err)
	}
	if _, err := flavors.CreateExtraSpecs(ctx, adm, "fuel", flavors.ExtraSpecsOpts{"hw:cpu_policy": "dedicated"}).Extract(); err != nil {
		t.Fatal(err)
	}
	if _, err := flavors.UpdateExtraSpec(ctx, adm, "fuel", flavors.ExtraSpecsOpts{"hw:mem_page_size": "large"}).Extract(); err != nil {
		t.Fatal(err)
	}
	specs, err := flavors.ListExtraSpecs(ctx, mem, "fuel").Extract()
	if err != nil || specs["hw:cpu_policy"] != "dedicated" || specs["hw:mem_page_size"] != "large" {
		t.Errorf("extra specs %v %v", specs, err)
	}
	if f, _ := flavors.Get(ctx, mem, "fuel").Extract(); f.ExtraSpecs["hw:cpu_policy"] != "dedicated" {
		t.Errorf("extra_specs in flavor at 2.61: %v", f.ExtraSpecs)
	}
	if err := flavors.DeleteExtraSpec(ctx, adm, "fuel", "hw:cpu_policy").ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if _, err := flavors.GetExtraSpec(ctx, mem, "fuel", "hw:cpu_policy").Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("deleted extra spec: %v, want 404", err)
	}
	if err := flavors.Delete(ctx, mem, "fuel").ExtractErr(); !gophercloud.ResponseCodeIs(err, 403) {
		t.Errorf("member delete: %v, want 403", err)
	}
	if err := flavors.Delete(ctx, adm, "fuel").ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if _, err := flavors.Get(ctx, adm, "fuel").Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("deleted flavor: %v, want 404", err)
	}
}

// An OpenSSH ed25519 public key from ssh-keygen, and its fingerprint as
// "ssh-keygen -l -E md5" prints it.
const (
	edKey   = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKa/CMQ7QiuovclyySwfI+Fm/jseqsInFXpExepISptg fuel@lab"
	edKeyFP = "77:f9:fc:6a:f5:b3:4c:44:37:ab:4c:97:2d:cb:98:cc"
)

func TestKeypairs(t *testing.T) {
	c := newCloud(t, nil)
	ctx := context.Background()
	mem, oth := c.client("member", "2.2"), c.client("other", "2.2")
	kp, err := keypairs.Create(ctx, mem, keypairs.CreateOpts{Name: "lab", PublicKey: edKey}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if kp.PrivateKey != "" || kp.Type != "ssh" || kp.Fingerprint != edKeyFP {
		t.Errorf("imported keypair: %+v", kp)
	}
	gen, err := keypairs.Create(ctx, mem, keypairs.CreateOpts{Name: "generated"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(gen.PrivateKey, "-----BEGIN RSA PRIVATE KEY-----") || !strings.HasPrefix(gen.PublicKey, "ssh-rsa ") {
		t.Errorf("generated keypair: public %.20q private %.40q", gen.PublicKey, gen.PrivateKey)
	}
	if _, err := parsePublicKey(gen.PublicKey); err != nil {
		t.Errorf("generated public key does not parse: %v", err)
	}
	checkWithSSHKeygen(t, gen.PublicKey, gen.PrivateKey)
	// The private key is returned once, never again.
	got, err := keypairs.Get(ctx, mem, "generated", nil).Extract()
	if err != nil || got.PrivateKey != "" || got.PublicKey != gen.PublicKey || got.UserID != "u-member" {
		t.Errorf("show generated: %+v %v", got, err)
	}
	for _, tc := range []struct {
		name string
		opts keypairs.CreateOpts
		code int
	}{
		{"duplicate name", keypairs.CreateOpts{Name: "lab", PublicKey: edKey}, 409},
		{"not a key", keypairs.CreateOpts{Name: "bad1", PublicKey: "hello world"}, 400},
		{"bad base64", keypairs.CreateOpts{Name: "bad2", PublicKey: "ssh-rsa ***"}, 400},
		{"type mismatch", keypairs.CreateOpts{Name: "bad3", PublicKey: strings.Replace(edKey, "ssh-ed25519", "ssh-rsa", 1)}, 400},
		{"unsafe name", keypairs.CreateOpts{Name: "a/b", PublicKey: edKey}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := keypairs.Create(ctx, mem, tc.opts).Extract()
			if !gophercloud.ResponseCodeIs(err, tc.code) {
				t.Errorf("got %v, want %d", err, tc.code)
			}
		})
	}
	// Keypairs are per user: another user sees none and may reuse the name.
	p, err := keypairs.List(oth, nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ks, _ := keypairs.ExtractKeyPairs(p); len(ks) != 0 {
		t.Errorf("other user sees %d keypairs", len(ks))
	}
	if _, err := keypairs.Create(ctx, oth, keypairs.CreateOpts{Name: "lab", PublicKey: edKey}).Extract(); err != nil {
		t.Errorf("same name for another user: %v", err)
	}
	p, _ = keypairs.List(mem, nil).AllPages(ctx)
	if ks, _ := keypairs.ExtractKeyPairs(p); len(ks) != 2 || ks[0].Name != "generated" || ks[1].Name != "lab" {
		t.Errorf("member list: %+v", ks)
	}
	if err := keypairs.Delete(ctx, mem, "lab", nil).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if _, err := keypairs.Get(ctx, mem, "lab", nil).Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("deleted keypair: %v, want 404", err)
	}
}

func TestHypervisorsAndLimits(t *testing.T) {
	c := newCloud(t, map[string]int{"instances": 10, "cores": 20, "ram": 51200})
	ctx := context.Background()
	if _, err := hypervisors.List(c.client("member", "2.53"), nil).AllPages(ctx); !gophercloud.ResponseCodeIs(err, 403) {
		t.Errorf("member lists hypervisors: %v, want 403", err)
	}
	p, err := hypervisors.List(c.client("admin", "2.53"), nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := hypervisors.ExtractHypervisors(p)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, h := range hs {
		names = append(names, h.HypervisorHostname)
	}
	if strings.Join(names, ",") != "node-1,node-2,node-3" {
		t.Errorf("hypervisors %v", names)
	}
	l, err := limits.Get(ctx, c.client("member", "2.90"), nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if l.Absolute.MaxTotalInstances != 10 || l.Absolute.MaxTotalCores != 20 || l.Absolute.MaxTotalRAMSize != 51200 || l.Absolute.TotalInstancesUsed != 0 {
		t.Errorf("limits %+v", l.Absolute)
	}
	l, err = limits.Get(ctx, newCloud(t, nil).client("member", ""), nil).Extract()
	if err != nil || l.Absolute.MaxTotalInstances != -1 {
		t.Errorf("unlimited instances shown as %d (%v), want -1", l.Absolute.MaxTotalInstances, err)
	}
}

// checkWithSSHKeygen has OpenSSH derive the public key from the generated
// private key: an independent check of both encodings. Skipped where
// ssh-keygen is not installed.
func checkWithSSHKeygen(t *testing.T, pub, priv string) {
	t.Helper()
	bin, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Log("ssh-keygen not installed; skipping the OpenSSH cross-check")
		return
	}
	f := filepath.Join(t.TempDir(), "id")
	if err := os.WriteFile(f, []byte(priv), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-y", "-f", f).Output()
	if err != nil {
		t.Fatalf("ssh-keygen -y: %v", err)
	}
	if got, want := strings.Fields(string(out))[1], strings.Fields(pub)[1]; got != want {
		t.Errorf("ssh-keygen derives %.30s..., keypair has %.30s...", got, want)
	}
}

// Unknown paths are 404 and known paths with another method 405, both in
// Nova's fault format.
func TestUnknownRoutes(t *testing.T) {
	c := newCloud(t, nil)
	cl := c.client("member", "")
	for _, tc := range []struct {
		method, path string
		code         int
		key          string
	}{
		{"GET", "os-nothing", 404, "itemNotFound"},
		{"PATCH", "servers/x", 405, "badMethod"},
		{"POST", "flavors/detail", 405, "badMethod"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			_, err := cl.Request(context.Background(), tc.method, cl.ServiceURL(tc.path), &gophercloud.RequestOpts{OkCodes: []int{200}})
			var e gophercloud.ErrUnexpectedResponseCode
			if !errorsAs(err, &e) || e.Actual != tc.code || !strings.Contains(string(e.Body), `"`+tc.key+`"`) {
				t.Errorf("got %v, want %d %s", err, tc.code, tc.key)
			}
		})
	}
}
