package sshx_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/fuelplan/fuelplan/internal/sshx"
	"github.com/fuelplan/fuelplan/internal/sshx/sshtest"
)

// serveAgent runs an ssh-agent holding the key in file, on a socket in a
// temporary folder, for the test's duration.
func serveAgent(t *testing.T, file string) string {
	t.Helper()
	pem, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.ParseRawPrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	ring := agent.NewKeyring()
	if err := ring.Add(agent.AddedKey{PrivateKey: key}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = agent.ServeAgent(ring, c)
			}()
		}
	}()
	return sock
}

// Authentication by the agent's keys alone, and commands under sudo.
func TestAgentAndSudo(t *testing.T) {
	t.Parallel()
	n := sshtest.New(t, "node-1")
	sock := serveAgent(t, n.KeyFile)
	p := sshx.NewPool(sshx.Config{Dial: n.Dial, AgentSocket: sock})
	t.Cleanup(func() { _ = p.Close() })
	h := host(n, "node-1")
	h.KeyFile = ""
	res, err := p.Run(context.Background(), h, "whoami", "whoami")
	if err != nil || res.Stdout != "root\n" {
		t.Fatalf("agent auth: %q, %v", res.Stdout, err)
	}

	if _, err := exec.LookPath("sudo"); err != nil {
		t.Skip("skipped the sudo half: no sudo on this machine")
	}
	h.Sudo = true
	// sudo sets SUDO_USER, so this shows the command went through it; the
	// quoting survives sudo's sh -c.
	res, err = p.Run(context.Background(), h, "sudo echo", `echo "it's $SUDO_USER"`)
	if err != nil || res.Stdout != "it's root\n" {
		t.Fatalf("sudo: %q, %v", res.Stdout, err)
	}
	_, err = p.Run(context.Background(), h, "failing sudo command", "echo nope >&2; exit 4")
	if err == nil || !strings.Contains(err.Error(), "exit status 4: nope") {
		t.Errorf("sudo failure: %v, want exit status 4 with stderr", err)
	}
}
