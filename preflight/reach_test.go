package preflight_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/fuelplan/fuelplan/engine"
	"github.com/fuelplan/fuelplan/internal/sshx"
	"github.com/fuelplan/fuelplan/internal/sshx/sshtest"
	"github.com/fuelplan/fuelplan/preflight"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/resources/resourcestest"
	"github.com/fuelplan/fuelplan/simcloud"
	"github.com/fuelplan/fuelplan/specs"
)

// reachNode is one inventory entry of a reach test: its address and what
// its known_hosts file says.
type reachNode struct {
	name       string
	addr       string
	knownHosts string
}

// reachSetup is the test lab with a command patch on the given nodes (and
// a second one on the same nodes when twice), the client key at keys/id
// and one known_hosts file per node.
func reachSetup(key []byte, twice bool, nodes ...reachNode) setup {
	var names []string
	inv := "inventory:\n"
	for _, n := range nodes {
		names = append(names, n.name)
		inv += "  " + n.name + ":\n    address: \"" + n.addr + "\"\n    user: root\n    key_file: keys/id\n    known_hosts: keys/known_hosts-" + n.name + "\n"
	}
	patch := "  - name: reach\n    type: command\n    hosts: [" + strings.Join(names, ", ") + "]\n    apply: \"true\"\n"
	if twice {
		patch += "  - name: reach-again\n    type: command\n    hosts: [" + strings.Join(names, ", ") + "]\n    apply: \"true\"\n"
	}
	return setup{
		spec: func(s string) string { return s + patch + inv },
		files: func(t *testing.T, dir string) {
			keys := filepath.Join(dir, "keys")
			if err := os.MkdirAll(keys, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(keys, "id"), key, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, n := range nodes {
				if err := os.WriteFile(filepath.Join(keys, "known_hosts-"+n.name), []byte(n.knownHosts), 0o600); err != nil {
					t.Fatal(err)
				}
			}
		},
		ssh: sshx.Config{ConnectTimeout: 2 * time.Second},
	}
}

// clientKey writes a client key and returns its file's bytes and its
// public key.
func clientKey(t *testing.T) ([]byte, ssh.PublicKey) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "id")
	pub := sshtest.WriteKey(t, file)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return data, pub
}

// TestSSHReach: the reach check connects to every node an SSH patch would
// reach, over real TCP to an in-process SSH server, and finds each problem
// once, at the patch, with a fix; a node that answers with its known key
// and takes the client's gives none, and nothing is ever run (no channel
// is opened).
func TestSSHReach(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "") // only the inventory's key file
	key, pub := clientKey(t)

	good := sshtest.Serve(t, pub)
	impostor := sshtest.Serve(t, pub) // another host key at another port
	strict := sshtest.Serve(t)        // authorises no key
	closed := sshtest.ClosedPort(t)
	ca, otherCA := sshtest.NewSigner(t), sshtest.NewSigner(t)
	certified := sshtest.ServeCert(t, ca, pub)
	// x/crypto's known_hosts matching takes the port from the pattern
	// (22 unless "[HOST]:PORT"), so "*" would not cover this port.
	caLine := func(ca ssh.Signer, addr string) string {
		return "@cert-authority " + knownhosts.Normalize(addr) + " " + string(ssh.MarshalAuthorizedKey(ca.PublicKey()))
	}
	secrets := []string{ // key material that must appear in no finding
		base64.StdEncoding.EncodeToString(pub.Marshal()),
		base64.StdEncoding.EncodeToString(good.HostKey.Marshal()),
		base64.StdEncoding.EncodeToString(impostor.HostKey.Marshal()),
		base64.StdEncoding.EncodeToString(certified.HostKey.Marshal()),
		base64.StdEncoding.EncodeToString(ca.PublicKey().Marshal()),
		"PRIVATE KEY",
	}

	tests := []struct {
		name string
		node reachNode
		want []string // substrings of the one finding's message and fix; none: no finding
	}{
		{name: "ok", node: reachNode{"node-1", good.Addr, sshtest.KnownHostsLine(good.Addr, good.HostKey)}},
		{name: "ok, host certificate of a known authority", node: reachNode{"node-1", certified.Addr, caLine(ca, certified.Addr)}},
		{name: "host certificate of another authority",
			node: reachNode{"node-1", certified.Addr, caLine(otherCA, certified.Addr)},
			want: []string{"inventory host node-1: node-1 (root@" + certified.Addr + "): host key ", " refused: ", "known_hosts-node-1",
				"check the @cert-authority line of "}},
		{name: "plain host key where an authority is expected",
			node: reachNode{"node-1", good.Addr, caLine(ca, good.Addr)},
			want: []string{"host key " + ssh.FingerprintSHA256(good.HostKey) + " refused: the host offered a plain key, not a certificate signed by the @cert-authority at ",
				"known_hosts-node-1:1 (" + ssh.FingerprintSHA256(ca.PublicKey()) + ")", "check the @cert-authority line of "}},
		{name: "mismatched host key",
			node: reachNode{"node-1", impostor.Addr, sshtest.KnownHostsLine(impostor.Addr, good.HostKey)},
			want: []string{"inventory host node-1: node-1 (root@" + impostor.Addr + "): HOST KEY CHANGED: the host offered " + ssh.FingerprintSHA256(impostor.HostKey),
				"known_hosts-node-1:1 (" + ssh.FingerprintSHA256(good.HostKey) + ")",
				"ssh-keygen -R '[127.0.0.1]:", "ssh-keyscan -p "}},
		{name: "unknown host",
			node: reachNode{"node-1", good.Addr, sshtest.KnownHostsLine(impostor.Addr, impostor.HostKey)},
			want: []string{"unknown host key " + ssh.FingerprintSHA256(good.HostKey) + ": it is not in ", "known_hosts-node-1",
				"ssh-keyscan -p ", ">> ", "ssh-keygen -lf"}},
		{name: "refused port",
			node: reachNode{"node-1", closed, sshtest.KnownHostsLine(closed, good.HostKey)},
			want: []string{"inventory host node-1: unreachable: node-1 (root@" + closed + "): connect: ", "connection refused", "sshd listens there"}},
		{name: "authentication refused",
			node: reachNode{"node-1", strict.Addr, sshtest.KnownHostsLine(strict.Addr, strict.HostKey)},
			want: []string{"inventory host node-1: authentication refused: node-1 (root@" + strict.Addr + "): user root refused every key offered",
				"add the public key of ", "keys/id to ~root/.ssh/authorized_keys on node-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			servers := []*sshtest.Server{good, impostor, strict, certified}
			logins, channels := 0, 0
			for _, s := range servers {
				logins, channels = logins-s.Logins(), channels-s.Channels()
			}
			rep, lab, _ := run(t, reachSetup(key, false, tt.node))
			var found []preflight.Finding
			for _, f := range rep.Findings {
				if f.Check != preflight.CheckSSHReach {
					t.Errorf("unexpected finding: %s", f)
					continue
				}
				found = append(found, f)
			}
			if tt.want == nil {
				if len(found) != 0 {
					t.Errorf("want no finding, got %v", found)
				}
				for _, s := range servers {
					logins += s.Logins()
				}
				if logins != 1 {
					t.Errorf("%d logins, want 1", logins)
				}
			} else {
				if len(found) != 1 {
					t.Fatalf("want one %s finding, got %d: %v", preflight.CheckSSHReach, len(found), found)
				}
				f := found[0]
				text := f.Message + "\n" + f.Fix
				for _, w := range tt.want {
					if !strings.Contains(text, w) {
						t.Errorf("finding lacks %q:\n%s", w, f)
					}
				}
				checkAt(t, lab, f, "patch.reach")
				for _, s := range secrets {
					if strings.Contains(text, s) {
						t.Errorf("finding quotes key material %.20s...:\n%s", s, f)
					}
				}
			}
			for _, s := range servers {
				channels += s.Channels()
			}
			if channels != 0 {
				t.Errorf("the check opened %d channel(s); it must only connect", channels)
			}
		})
	}
}

// TestSSHReachOncePerNode: two patches reach the same failing nodes; each
// node is reported once, at the first patch.
func TestSSHReachOncePerNode(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	key, pub := clientKey(t)
	good, strict := sshtest.Serve(t, pub), sshtest.Serve(t)
	closed := sshtest.ClosedPort(t)
	rep, lab, _ := run(t, reachSetup(key, true,
		reachNode{"node-1", good.Addr, sshtest.KnownHostsLine(good.Addr, good.HostKey)},
		reachNode{"node-2", strict.Addr, sshtest.KnownHostsLine(strict.Addr, strict.HostKey)},
		reachNode{"node-3", closed, ""},
	))
	var got []string
	for _, f := range rep.Findings {
		checkAt(t, lab, f, "patch.reach")
		got = append(got, f.Check+" "+strings.SplitN(f.Message, ":", 2)[0])
	}
	want := []string{"ssh-reach inventory host node-2", "ssh-reach inventory host node-3"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if good.Logins() != 1 {
		t.Errorf("node-1 was logged into %d times, want once", good.Logins())
	}
}

// TestSSHReachBounded: nodes that accept and never answer are each
// reported unreachable after the connect timeout, and they are dialled
// side by side: every one of them had been connected to when the check
// returned, though each holds its connection until the timeout.
func TestSSHReachBounded(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	key, _ := clientKey(t)
	var nodes []reachNode
	var mutes []*sshtest.Silent
	for _, name := range []string{"mute-1", "mute-2", "mute-3"} {
		m := sshtest.ServeSilent(t)
		mutes = append(mutes, m)
		nodes = append(nodes, reachNode{name, m.Addr, ""})
	}
	s := reachSetup(key, false, nodes...)
	s.ssh.ConnectTimeout = 300 * time.Millisecond
	rep, _, _ := run(t, s)
	if len(rep.Findings) != 3 {
		t.Fatalf("want 3 findings, got %v", rep.Findings)
	}
	for _, f := range rep.Findings {
		if f.Check != preflight.CheckSSHReach || !strings.Contains(f.Message, ": unreachable: ") || !strings.Contains(f.Message, "ssh handshake did not finish within 300ms") {
			t.Errorf("finding: %s", f)
		}
	}
	for i, m := range mutes {
		if m.Accepted() != 1 {
			t.Errorf("mute-%d accepted %d connections, want 1", i+1, m.Accepted())
		}
	}
}

// TestSSHReachDHCPPatchNodes: an allow-dhcp-server patch by SSH reaches
// the node its host: names; without one, on a port not made yet, any
// node of the inventory may host it, so each is checked. A patch by the
// API reaches none.
func TestSSHReachDHCPPatchNodes(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	key, pub := clientKey(t)
	strict, closed := sshtest.Serve(t), sshtest.ClosedPort(t)
	_ = pub
	nodes := []reachNode{
		{"node-1", strict.Addr, sshtest.KnownHostsLine(strict.Addr, strict.HostKey)},
		{"node-2", closed, ""},
	}
	base := reachSetup(key, false, nodes...)
	// Keep the inventory, drop the command patch.
	noCommand := func(s string) string {
		s = base.spec(s)
		i, j := strings.Index(s, "  - name: reach\n"), strings.Index(s, "inventory:\n")
		return s[:i] + s[j:]
	}
	tests := []struct {
		name, method string
		want         []string
	}{
		{"method ssh, host node-2", "method: ssh\n    host: node-2", []string{"node-2"}},
		{"method ssh, no host", "method: ssh", []string{"node-1", "node-2"}},
		{"method api", "method: api", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base
			s.spec = func(text string) string { return strings.Replace(noCommand(text), "method: api", tt.method, 1) }
			rep, lab, _ := run(t, s)
			var got []string
			for _, f := range rep.Findings {
				checkAt(t, lab, f, "patch.master-dhcp")
				name, _, _ := strings.Cut(strings.TrimPrefix(f.Message, "inventory host "), ":")
				got = append(got, name)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("nodes reported: %v, want %v\n%v", got, tt.want, rep.Findings)
			}
		})
	}
}

// checkAt: f is at addr's spec position.
func checkAt(t *testing.T, lab *specs.Lab, f preflight.Finding, addr specs.Address) {
	t.Helper()
	r, ok := lab.Resource(addr)
	if !ok {
		t.Fatalf("no %s in the lab", addr)
	}
	if f.Address != addr || f.At != r.Declared() || f.At.Line == 0 {
		t.Errorf("finding at %s %s, want %s at %s: %s", f.Address, f.At, addr, r.Declared(), f)
	}
}

// TestSSHReachBoundPort: once the DHCP patch's port is bound, an admin's
// check reaches only the node hosting it (binding:host_id), as apply
// will: the simulated cloud puts every server on node-1 here.
func TestSSHReachBoundPort(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	key, _ := clientKey(t)
	s := reachSetup(key, false,
		reachNode{"node-1", sshtest.ClosedPort(t), ""},
		reachNode{"node-2", sshtest.ClosedPort(t), ""},
	)
	withInventory := s.spec
	s.spec = func(text string) string {
		text = withInventory(text)
		i, j := strings.Index(text, "  - name: reach\n"), strings.Index(text, "inventory:\n")
		return strings.Replace(text[:i]+text[j:], "method: api", "method: ssh", 1)
	}
	s.world = func(w *simcloud.World) { w.Hypervisors = []string{"node-1"} }
	dir := t.TempDir()
	lab, cloud := loadInto(t, s, dir)
	ctx := context.Background()
	reg := resources.Default()
	t.Cleanup(func() { _ = reg.Close() })
	// Build the lab but the patch, so the master's admin port is bound.
	p, st, err := engine.Plan(ctx, cloud, reg, lab, engine.PlanOptions{Excludes: []string{"patch.master-dhcp"}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := (&engine.Applier{Cloud: cloud, Registry: reg, Parallelism: 8}).Apply(ctx, lab, st, p)
	if err != nil || rep.Err() != nil {
		t.Fatalf("apply: %v %v", err, rep.Err())
	}
	st, err = engine.Read(ctx, cloud, reg, lab)
	if err != nil {
		t.Fatal(err)
	}
	found, err := preflight.Run(ctx, preflight.Input{Lab: lab, Cloud: cloud, Live: st.Live, SSH: s.ssh})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range found.Findings {
		checkAt(t, lab, f, "patch.master-dhcp")
		got = append(got, strings.SplitN(f.Message, ":", 2)[0])
	}
	if strings.Join(got, ",") != "inventory host node-1" {
		t.Errorf("findings for %v, want for node-1 only:\n%v", got, found.Findings)
	}
}

// loadInto writes s's lab into dir and connects to a simulated cloud with
// s's world as its admin.
func loadInto(t *testing.T, s setup, dir string) (*specs.Lab, *resources.Cloud) {
	t.Helper()
	data, err := os.ReadFile("testdata/lab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "lab.yaml")
	if err := os.WriteFile(path, []byte(s.spec(string(data))), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fuel.iso"), []byte("fuel iso bytes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.files(t, dir)
	w := simcloud.DefaultWorld()
	s.world(w)
	sim, err := simcloud.Start(simcloud.Config{World: w})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	lab, diags := specs.LoadLab(path, func(string) (string, bool) { return "", false })
	if diags.HasErrors() {
		t.Fatal(diags.Errors())
	}
	return lab, resourcestest.Connect(t, sim, sim.Admin())
}
