package sshx_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fuelplan/fuelplan/internal/sshx"
)

// Not parallel: it sets SSH_AUTH_SOCK. Key problems are found before any connection, and the key's content
// never reaches the message.
func TestKeyErrors(t *testing.T) {
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(kh, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// Made by ssh-keygen -N test-passphrase: encrypting one here costs
	// seconds of bcrypt under -race.
	encrypted := filepath.Join("testdata", "encrypted_key")
	garbage := filepath.Join(dir, "garbage")
	if err := os.WriteFile(garbage, []byte("SECRET-NOT-A-KEY"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, keyFile, agent, want string
	}{
		{"passphrase", encrypted, "", "passphrase-protected: load it into ssh-agent"},
		{"not a key", garbage, "", "not a private key"},
		{"missing file", filepath.Join(dir, "nope"), "", "key file"},
		{"no key at all", "", "", "no key: give key_file"},
		{"agent not running", "", filepath.Join(dir, "agent.sock"), "ssh-agent at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SSH_AUTH_SOCK", tt.agent)
			// Port 9 (discard) on loopback: the run must fail before dialling.
			p := sshx.NewPool(sshx.Config{})
			defer p.Close()
			_, err := p.Run(context.Background(), sshx.Host{Name: "n", Address: "127.0.0.1:9", User: "root", KeyFile: tt.keyFile, KnownHosts: kh}, "echo", "echo")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "OPENSSH PRIVATE KEY") {
				t.Errorf("err = %v shows key material", err)
			}
		})
	}
}
