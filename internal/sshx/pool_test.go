package sshx_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fuelplan/fuelplan/internal/sshx"
	"github.com/fuelplan/fuelplan/internal/sshx/sshtest"
)

// countingDial counts the TCP connections a pool makes.
func countingDial(n *sshtest.Net, count *atomic.Int64) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		count.Add(1)
		return n.Dial(ctx, network, addr)
	}
}

func host(n *sshtest.Net, name string) sshx.Host {
	return sshx.Host{Name: name, Address: n.Node(name).Address, User: "root", KeyFile: n.KeyFile, KnownHosts: n.KnownHosts}
}

func TestRunOnRealSSHD(t *testing.T) {
	t.Parallel()
	n := sshtest.New(t, "node-1")
	var dials atomic.Int64
	p := sshx.NewPool(sshx.Config{Dial: countingDial(n, &dials), AgentSocket: "/nonexistent"})
	t.Cleanup(func() { _ = p.Close() })
	h := host(n, "node-1")
	ctx := context.Background()

	tests := []struct {
		name, cmd  string
		wantOut    string
		wantStatus int // 0: success
		wantStderr string
	}{
		{"stdout", "echo hello", "hello\n", 0, ""},
		{"runs in the node's namespace", "ip -o addr show eth0 | grep -o '10.249.0.2'", "10.249.0.2\n", 0, ""},
		{"exit status and stderr", "echo oops >&2; exit 3", "", 3, "oops"},
		{"last lines of stderr", "for i in 1 2 3 4 5 6 7; do echo line$i >&2; done; exit 1", "", 1, "line3; line4; line5; line6; line7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := p.Run(ctx, h, "test command", tt.cmd)
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if res.Stdout != tt.wantOut {
					t.Errorf("stdout %q, want %q", res.Stdout, tt.wantOut)
				}
				return
			}
			var exit *sshx.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("err = %v, want *ExitError", err)
			}
			if exit.Status != tt.wantStatus || exit.Stderr != tt.wantStderr {
				t.Errorf("exit %d stderr %q, want %d %q", exit.Status, exit.Stderr, tt.wantStatus, tt.wantStderr)
			}
			if msg := err.Error(); !strings.Contains(msg, "node-1") || !strings.Contains(msg, "test command") || strings.Contains(msg, tt.cmd) {
				t.Errorf("error %q should name host and label, not the command text", msg)
			}
		})
	}

	// One connection serves every command, parallel ones included.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			if _, err := p.Run(ctx, h, "true", "true"); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := dials.Load(); got != 1 {
		t.Errorf("%d TCP connections for one host, want 1", got)
	}
}

func TestHostKeyRefused(t *testing.T) {
	t.Parallel()
	n := sshtest.New(t, "node-1", "node-2")
	n.ReplaceHostKey(t, "node-1")
	tests := []struct {
		name, node  string
		forget      bool
		wantChanged bool
		wantMsg     string
	}{
		{"changed key", "node-1", false, true, "HOST KEY CHANGED"},
		{"unknown host", "node-2", true, false, "unknown host key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.forget {
				n.ForgetHost(t, tt.node)
			}
			p := sshx.NewPool(sshx.Config{Dial: n.Dial, AgentSocket: "/nonexistent"})
			defer p.Close()
			_, err := p.Run(context.Background(), host(n, tt.node), "echo", "echo should not run")
			var hk *sshx.HostKeyError
			if !errors.As(err, &hk) {
				t.Fatalf("err = %v, want *HostKeyError", err)
			}
			if hk.Changed != tt.wantChanged || !strings.Contains(err.Error(), tt.wantMsg) || !strings.Contains(err.Error(), tt.node) {
				t.Errorf("err = %v (changed %v), want %q about %s", err, hk.Changed, tt.wantMsg, tt.node)
			}
			if !strings.Contains(err.Error(), "SHA256:") {
				t.Errorf("err = %v, want the offered key's fingerprint", err)
			}
		})
	}
}

func TestJumpHost(t *testing.T) {
	t.Parallel()
	n := sshtest.New(t, "bastion")
	var dials atomic.Int64
	p := sshx.NewPool(sshx.Config{Dial: countingDial(n, &dials), AgentSocket: "/nonexistent"})
	t.Cleanup(func() { _ = p.Close() })
	jump := host(n, "bastion")
	// The target is the bastion's own sshd, reached through a
	// direct-tcpip channel of the jump connection, not dialled by us.
	target := host(n, "bastion")
	target.Name = "compute"
	target.Jump = &jump
	for range 2 {
		res, err := p.Run(context.Background(), target, "echo", "echo $SSH_CONNECTION")
		if err != nil {
			t.Fatalf("Run through jump host: %v", err)
		}
		// Through the jump host the client address is the bastion's own.
		if f := strings.Fields(res.Stdout); len(f) != 4 || f[0] != "10.249.0.2" {
			t.Errorf("SSH_CONNECTION %q, want a connection from 10.249.0.2 (the jump host)", res.Stdout)
		}
	}
	if got := dials.Load(); got != 1 {
		t.Errorf("%d direct TCP connections, want 1 (to the jump host only)", got)
	}
}

func TestCommandTimeout(t *testing.T) {
	t.Parallel()
	n := sshtest.New(t, "node-1")
	p := sshx.NewPool(sshx.Config{Dial: n.Dial, CommandTimeout: 300 * time.Millisecond, AgentSocket: "/nonexistent"})
	t.Cleanup(func() { _ = p.Close() })
	start := time.Now()
	_, err := p.Run(context.Background(), host(n, "node-1"), "slow check", "sleep 10")
	if err == nil || !strings.Contains(err.Error(), "slow check: no answer after") {
		t.Fatalf("err = %v, want a timeout naming the command", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timeout took %s", d)
	}
}

// A port that accepts and never speaks SSH must not hang the run: this
// needs no root, just a silent listener on loopback.
func TestConnectTimeout(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	key := filepath.Join(dir, "key")
	sshtest.WriteKey(t, key)
	if err := os.WriteFile(kh, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p := sshx.NewPool(sshx.Config{ConnectTimeout: 200 * time.Millisecond, AgentSocket: "/nonexistent"})
	t.Cleanup(func() { _ = p.Close() })
	start := time.Now()
	_, err = p.Run(context.Background(), sshx.Host{Name: "mute", Address: l.Addr().String(), User: "root", KeyFile: key, KnownHosts: kh}, "echo", "echo")
	if err == nil || !strings.Contains(err.Error(), "mute") || !strings.Contains(err.Error(), "did not finish within 200ms") {
		t.Fatalf("err = %v, want a handshake timeout naming the host", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s", d)
	}
}
