package sshtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Server is an SSH server in the test's own process (golang.org/x/crypto/ssh)
// on 127.0.0.1: it needs neither root nor sshd, so the tests that only
// connect (preflight's reach check) run everywhere. It authenticates
// public keys against Authorized, and refuses every channel, counting
// them: a test can say that nothing was run.
type Server struct {
	Addr    string // 127.0.0.1:PORT
	HostKey ssh.PublicKey

	authorized []ssh.PublicKey
	ln         net.Listener
	sessions   atomic.Int64
	logins     atomic.Int64
	wg         sync.WaitGroup
}

// Serve starts a server with a new ed25519 host key that accepts the
// given client keys; it stops when the test ends.
func Serve(t testing.TB, authorized ...ssh.PublicKey) *Server {
	t.Helper()
	return serve(t, newSigner(t), authorized)
}

// ServeCert starts a server that presents a host certificate for
// 127.0.0.1, valid for an hour, signed by ca (known_hosts says
// "@cert-authority * CA-KEY" to trust it). HostKey is the certificate.
func ServeCert(t testing.TB, ca ssh.Signer, authorized ...ssh.PublicKey) *Server {
	t.Helper()
	host := newSigner(t)
	now := time.Now()
	cert := &ssh.Certificate{Key: host.PublicKey(), CertType: ssh.HostCert, ValidPrincipals: []string{"127.0.0.1"},
		ValidAfter: uint64(now.Add(-time.Hour).Unix()), ValidBefore: uint64(now.Add(time.Hour).Unix())}
	if err := cert.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewCertSigner(cert, host)
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, signer, authorized)
}

// NewSigner is a new ed25519 key, for a host or a certificate authority.
func NewSigner(t testing.TB) ssh.Signer { return newSigner(t) }

func newSigner(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

func serve(t testing.TB, signer ssh.Signer, authorized []ssh.PublicKey) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: ln.Addr().String(), HostKey: signer.PublicKey(), authorized: authorized, ln: ln}
	cfg := &ssh.ServerConfig{PublicKeyCallback: s.checkKey}
	cfg.AddHostKey(signer)
	s.wg.Add(1)
	go s.serve(cfg)
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

func (s *Server) checkKey(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	for _, k := range s.authorized {
		if string(k.Marshal()) == string(key.Marshal()) {
			// Counted here, before the server says yes: the client
			// cannot have finished logging in before the count.
			// (x/crypto asks once per key and connection.)
			s.logins.Add(1)
			return nil, nil
		}
	}
	return nil, errRefused
}

type refusedError struct{}

func (refusedError) Error() string { return "key not authorized" }

var errRefused error = refusedError{}

func (s *Server) serve(cfg *ssh.ServerConfig) {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
			if err != nil {
				return
			}
			defer sc.Close()
			go ssh.DiscardRequests(reqs)
			for ch := range chans {
				s.sessions.Add(1)
				_ = ch.Reject(ssh.Prohibited, "this test server runs nothing")
			}
		}()
	}
}

// Logins counts the connections whose key was accepted.
func (s *Server) Logins() int { return int(s.logins.Load()) }

// Channels counts the channels (sessions, forwards) clients asked for.
func (s *Server) Channels() int { return int(s.sessions.Load()) }

// WriteKey writes a new unencrypted ed25519 private key (a client's or a
// host's) in OpenSSH form to file and returns its public key.
func WriteKey(t testing.TB, file string) ssh.PublicKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// KnownHostsLine is the known_hosts line for key at address (HOST:PORT),
// as ssh-keyscan writes it ("[127.0.0.1]:2222 ssh-ed25519 AAAA...").
func KnownHostsLine(address string, key ssh.PublicKey) string {
	return knownhosts.Line([]string{knownhosts.Normalize(address)}, key) + "\n"
}

// Silent listens on 127.0.0.1 and accepts connections without ever
// answering, as a port behind a stalled proxy does; Accepted counts them.
type Silent struct {
	Addr     string
	accepted atomic.Int64
}

// ServeSilent starts a silent listener; it stops when the test ends.
func ServeSilent(t testing.TB) *Silent {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Silent{Addr: ln.Addr().String()}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return s
}

// Accepted counts the connections accepted so far.
func (s *Silent) Accepted() int { return int(s.accepted.Load()) }

// ClosedPort returns a 127.0.0.1 address nothing listens on: connecting
// is refused at once.
func ClosedPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
