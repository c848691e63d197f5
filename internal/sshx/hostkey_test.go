package sshx

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// TestCertAuthorityHostKeys (issue 13, item 7): known_hosts lines marked
// @cert-authority are supported; a certificate they do not vouch for is a
// refused host key (a *HostKeyError), not a plain error that patch reads
// turned into an "unknown" state and a plan that exits 0.
func TestCertAuthorityHostKeys(t *testing.T) {
	caPub, caPriv, _ := ed25519.GenerateKey(rand.Reader)
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	hostPub, _, _ := ed25519.GenerateKey(rand.Reader)
	caKey, _ := ssh.NewPublicKey(caPub)
	hostKey, _ := ssh.NewPublicKey(hostPub)
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(kh, []byte("@cert-authority * "+string(ssh.MarshalAuthorizedKey(caKey))), 0o600); err != nil {
		t.Fatal(err)
	}
	cert := func(signer ed25519.PrivateKey, principal string) ssh.PublicKey {
		c := &ssh.Certificate{Key: hostKey, CertType: ssh.HostCert, ValidPrincipals: []string{principal},
			ValidAfter: uint64(time.Now().Add(-time.Hour).Unix()), ValidBefore: uint64(time.Now().Add(time.Hour).Unix())}
		s, err := ssh.NewSignerFromKey(signer)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.SignCert(rand.Reader, s); err != nil {
			t.Fatal(err)
		}
		return c
	}
	h := Host{Name: "hv1", Address: "127.0.0.1:22", KnownHosts: kh}
	check, _, err := hostKeyCheck(h)
	if err != nil {
		t.Fatal(err)
	}
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 22}
	tests := []struct {
		name    string
		key     ssh.PublicKey
		refused bool
	}{
		{"signed by the authority", cert(caPriv, "127.0.0.1"), false},
		{"another principal", cert(caPriv, "10.0.0.9"), true},
		{"another authority", cert(otherPriv, "127.0.0.1"), true},
		{"a plain key", hostKey, true},
	}
	for _, tt := range tests {
		err := check("127.0.0.1:22", remote, tt.key)
		var he *HostKeyError
		switch {
		case !tt.refused && err != nil:
			t.Errorf("%s: refused: %v", tt.name, err)
		case tt.refused && !errors.As(err, &he):
			t.Errorf("%s: got %v (%T), want a *HostKeyError", tt.name, err, err)
		}
	}
}
