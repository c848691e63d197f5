// Package sshtest runs real OpenSSH servers for tests, each in a network
// namespace of its own standing for one compute node, with a real
// iptables inside. Tests reach the nodes from one more namespace (the
// "client" side of every veth pair) through Net.Dial, so the machine's own
// interfaces, routes and firewall are never touched: every address and
// every iptables rule lives in namespaces the test made and deletes.
//
// It needs root, ip (iproute2), iptables and sshd (openssh-server); Require
// skips the test, saying what is missing, otherwise.
package sshtest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	"golang.org/x/sys/unix"
)

// Tools the tests need, and the Debian package each comes from.
var tools = []struct{ bin, pkg string }{
	{"ip", "iproute2"},
	{"iptables", "iptables"},
	{"sshd", "openssh-server"},
}

// Require skips the test unless it runs as root with the tools at hand.
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: needs root to make network namespaces and run sshd (CI runs it as root; see .ci/run)")
	}
	var missing []string
	for _, tl := range tools {
		if _, err := lookPath(tl.bin); err != nil {
			missing = append(missing, fmt.Sprintf("%s (Debian package %s)", tl.bin, tl.pkg))
		}
	}
	if len(missing) > 0 {
		t.Skipf("skipped: missing %s (.ci/run installs them)", strings.Join(missing, ", "))
	}
}

// lookPath finds a tool in PATH or the sbin directories a non-login
// root shell may lack.
func lookPath(bin string) (string, error) {
	if p, err := exec.LookPath(bin); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(d, bin)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", bin)
}

// Net is a set of test nodes and the namespace they are reached from.
type Net struct {
	Dir string
	// KeyFile is the client's private key, authorised on every node;
	// KnownHosts holds every node's host key.
	KeyFile    string
	KnownHosts string
	client     string
	nodes      map[string]*Node
	order      []string
}

// Node is one test host: a namespace running sshd.
type Node struct {
	Name    string
	NS      string
	Address string // IP:22, reachable through Net.Dial
	HostKey ssh.PublicKey
	sshd    *exec.Cmd
	done    chan struct{}
}

var seq atomic.Int64

// New makes one node per name, each with its own sshd, host key and veth
// pair to the client namespace. Everything is removed when the test ends,
// failed or not.
func New(t testing.TB, names ...string) *Net {
	t.Helper()
	Require(t)
	n := &Net{Dir: t.TempDir(), nodes: map[string]*Node{}}
	id := fmt.Sprintf("fp%d-%d", os.Getpid(), seq.Add(1))
	n.client = id + "-c"
	n.netns(t, n.client)

	clientKey := WriteKey(t, filepath.Join(n.Dir, "client_key"))
	n.KeyFile = filepath.Join(n.Dir, "client_key")
	authorized := filepath.Join(n.Dir, "authorized_keys")
	if err := os.WriteFile(authorized, ssh.MarshalAuthorizedKey(clientKey), 0o600); err != nil {
		t.Fatal(err)
	}
	// sshd refuses to start without its privilege separation directory,
	// which Debian makes only when the service starts.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	for i, name := range names {
		nd := &Node{Name: name, NS: fmt.Sprintf("%s-%d", id, i)}
		n.netns(t, nd.NS)
		ca, na := fmt.Sprintf("10.249.%d.1", i), fmt.Sprintf("10.249.%d.2", i)
		run(t, "ip", "-n", n.client, "link", "add", fmt.Sprintf("veth%d", i), "type", "veth", "peer", "name", "eth0", "netns", nd.NS)
		run(t, "ip", "-n", n.client, "addr", "add", ca+"/24", "dev", fmt.Sprintf("veth%d", i))
		run(t, "ip", "-n", n.client, "link", "set", fmt.Sprintf("veth%d", i), "up")
		run(t, "ip", "-n", nd.NS, "addr", "add", na+"/24", "dev", "eth0")
		run(t, "ip", "-n", nd.NS, "link", "set", "eth0", "up")
		run(t, "ip", "-n", nd.NS, "link", "set", "lo", "up")
		nd.Address = net.JoinHostPort(na, "22")
		n.startSSHD(t, nd, authorized)
		n.nodes[name] = nd
		n.order = append(n.order, name)
	}
	n.KnownHosts = filepath.Join(n.Dir, "known_hosts")
	n.writeKnownHosts(t, nil)
	for _, name := range n.order {
		n.waitListening(t, n.nodes[name])
	}
	return n
}

// netns makes a namespace and deletes it at cleanup (its veth ends go
// with it).
func (n *Net) netns(t testing.TB, name string) {
	t.Helper()
	run(t, "ip", "netns", "add", name)
	t.Cleanup(func() {
		if out, err := command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("delete netns %s: %v: %s", name, err, out)
		}
	})
}

func (n *Net) startSSHD(t testing.TB, nd *Node, authorized string) {
	t.Helper()
	dir := filepath.Join(n.Dir, nd.NS)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	nd.HostKey = WriteKey(t, filepath.Join(dir, "host_key"))
	host, _, _ := net.SplitHostPort(nd.Address)
	cfg := strings.Join([]string{
		"ListenAddress " + host + ":22",
		"HostKey " + filepath.Join(dir, "host_key"),
		"AuthorizedKeysFile " + authorized,
		"PidFile none",
		"StrictModes no",
		"UsePAM no",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password",
		"AllowTcpForwarding yes",
		"LogLevel ERROR",
	}, "\n") + "\n"
	cfgFile := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	sshd, err := lookPath("sshd")
	if err != nil {
		t.Fatal(err)
	}
	// The log is a file, not a pipe: sshd's per-connection children
	// inherit it, and Wait would wait for them to close a pipe.
	logFile := filepath.Join(dir, "sshd.log")
	log, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	// Commands reach the node through root's shell, and Debian's bash reads
	// ~/.bashrc for every command sshd runs. A developer's or CI image's
	// .bashrc may do slow, locking work (pyenv rehash), which made parallel
	// test commands time out: sshd runs in a mount namespace of its own
	// where that file is empty, and the machine's file is untouched.
	args := []string{"netns", "exec", nd.NS, sshd, "-D", "-e", "-f", cfgFile}
	cmd := command("ip", args...)
	if rc, ok := quietShellRC(dir); ok {
		script := `mount --make-rprivate / && mount --bind "$1" "$2" && shift 2 && exec ip "$@"`
		cmd = command("unshare", append([]string{"--mount", "sh", "-c", script, "sh", rc.empty, rc.target}, args...)...)
	}
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group, so Stop ends the connections' children too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sshd in %s: %v", nd.NS, err)
	}
	nd.sshd, nd.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(nd.done) }()
	t.Cleanup(func() {
		nd.Stop()
		if b, _ := os.ReadFile(logFile); t.Failed() && len(b) > 0 {
			t.Logf("sshd %s log:\n%s", nd.Name, b)
		}
	})
}

// Stop kills the node's sshd and its open connections: the node becomes
// unreachable.
func (nd *Node) Stop() {
	if nd.sshd == nil || nd.sshd.Process == nil {
		return
	}
	_ = syscall.Kill(-nd.sshd.Process.Pid, syscall.SIGKILL)
	// Each connection's sshd runs in a session of its own: find them by
	// their namespace.
	if out, err := command("ip", "netns", "pids", nd.NS).Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	<-nd.done
}

func (n *Net) waitListening(t testing.TB, nd *Node) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := n.Dial(context.Background(), "tcp", nd.Address)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd on %s (%s) not listening after 10s: %v", nd.Name, nd.Address, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Node returns the node named name.
func (n *Net) Node(name string) *Node { return n.nodes[name] }

// Dial connects from the client namespace, for sshx.Config.Dial. The
// socket is made on an OS thread moved into that namespace; the thread is
// never handed back to the Go scheduler (it ends with its goroutine), so no
// other code runs in the wrong namespace.
func (n *Net) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(filepath.Join("/run/netns", n.client))
		if err != nil {
			ch <- result{nil, err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{nil, fmt.Errorf("setns %s: %w", n.client, err)}
			return
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, network, address)
		ch <- result{c, err}
	}()
	r := <-ch
	return r.c, r.err
}

// Command is a command to run inside the node's namespace, for goroutines
// that may not fail the test themselves.
func (nd *Node) Command(args ...string) *exec.Cmd {
	if p, err := lookPath(args[0]); err == nil {
		args = append([]string{p}, args[1:]...)
	}
	return command("ip", append([]string{"netns", "exec", nd.NS}, args...)...)
}

// Exec runs a command inside the node's namespace (`ip netns exec`) and
// returns its output; a failure fails the test.
func (nd *Node) Exec(t testing.TB, args ...string) string {
	t.Helper()
	out, err := nd.Command(args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %s: %v: %s", nd.Name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// ReplaceHostKey writes known_hosts with another key for the named node,
// as if the node had been reinstalled or someone sat in between.
func (n *Net) ReplaceHostKey(t testing.TB, name string) {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	n.writeKnownHosts(t, map[string]ssh.PublicKey{name: k})
}

// ForgetHost writes known_hosts without the named node.
func (n *Net) ForgetHost(t testing.TB, name string) {
	t.Helper()
	n.writeKnownHosts(t, map[string]ssh.PublicKey{name: nil})
}

// writeKnownHosts writes every node's key, or the override for a node
// (nil: leave the node out).
func (n *Net) writeKnownHosts(t testing.TB, override map[string]ssh.PublicKey) {
	t.Helper()
	var b strings.Builder
	for _, name := range n.order {
		nd := n.nodes[name]
		k := nd.HostKey
		if o, ok := override[name]; ok {
			k = o
		}
		if k == nil {
			continue
		}
		b.WriteString(knownhosts.Line([]string{knownhosts.Normalize(nd.Address)}, k) + "\n")
	}
	if err := os.WriteFile(n.KnownHosts, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

func run(t testing.TB, args ...string) {
	t.Helper()
	if out, err := command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// command runs a tool found by lookPath (sbin directories included).
func command(name string, args ...string) *exec.Cmd {
	if p, err := lookPath(name); err == nil {
		name = p
	}
	return exec.Command(name, args...)
}

type shellRC struct{ empty, target string }

// quietShellRC finds root's ~/.bashrc and makes an empty stand-in for it in
// dir; false when there is nothing to hide or no unshare to hide it with.
func quietShellRC(dir string) (shellRC, bool) {
	home, err := os.UserHomeDir()
	if err != nil {
		return shellRC{}, false
	}
	target := filepath.Join(home, ".bashrc")
	if _, err := os.Stat(target); err != nil {
		return shellRC{}, false
	}
	if _, err := lookPath("unshare"); err != nil {
		return shellRC{}, false
	}
	empty := filepath.Join(dir, "empty.bashrc")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		return shellRC{}, false
	}
	return shellRC{empty: empty, target: target}, true
}
