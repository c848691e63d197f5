package sshx

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HostKeyError says why a host key was refused. Unknown and changed keys
// are both errors: fuelplan runs unattended and must never trust a key on
// first use or let a changed key through.
type HostKeyError struct {
	Host        string
	KnownHosts  string
	Fingerprint string // SHA256 of the key the host offered
	// Changed: known_hosts has other keys for the host (at Lines); else
	// the host is unknown.
	Changed bool
	Revoked bool
	Lines   []string
	// Refused is any other reason the key was not accepted (a host
	// certificate whose authority, principals or dates do not match an
	// @cert-authority line).
	Refused string
}

func (e *HostKeyError) Error() string {
	switch {
	case e.Refused != "":
		return fmt.Sprintf("%s: host key %s refused: %s (checked against %s)", e.Host, e.Fingerprint, e.Refused, e.KnownHosts)
	case e.Revoked:
		return fmt.Sprintf("%s: host key %s is marked @revoked in %s", e.Host, e.Fingerprint, e.KnownHosts)
	case e.Changed:
		return fmt.Sprintf("%s: HOST KEY CHANGED: the host offered %s, which does not match %s (someone may be intercepting the connection, or the host was reinstalled: check, then fix known_hosts)",
			e.Host, e.Fingerprint, joinComma(e.Lines))
	default:
		return fmt.Sprintf("%s: unknown host key %s: it is not in %s (fuelplan never accepts an unknown key: check the fingerprint and add the host with ssh-keyscan)",
			e.Host, e.Fingerprint, e.KnownHosts)
	}
}

func joinComma(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}

// knownHostsFile is the file a host's key is checked against.
func knownHostsFile(h Host) (string, error) {
	if h.KnownHosts != "" {
		return h.KnownHosts, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("%s: no known_hosts file given and no home directory: %w", h, err)
	}
	return filepath.Join(home, ".ssh", "known_hosts"), nil
}

// hostKeyCheck returns the callback that checks h's key against its
// known_hosts file, and the key algorithms known for h: offering only
// those makes the server present a key we can check, rather than, say, an
// ECDSA key for a host known by its ED25519 key (which would look like a
// changed key).
func hostKeyCheck(h Host) (ssh.HostKeyCallback, []string, error) {
	file, err := knownHostsFile(h)
	if err != nil {
		return nil, nil, err
	}
	cb, err := knownhosts.New(file)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: known_hosts: %w", h, err)
	}
	authorities := authorityLines(file)
	check := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := cb(hostname, remote, key)
		if err == nil {
			return nil
		}
		he := &HostKeyError{Host: h.String(), KnownHosts: file, Fingerprint: ssh.FingerprintSHA256(key)}
		var ke *knownhosts.KeyError
		var re *knownhosts.RevokedError
		switch {
		case errors.As(err, &re):
			he.Revoked = true
		case errors.As(err, &ke):
			var cas []string
			for _, w := range ke.Want {
				line := fmt.Sprintf("%s:%d (%s)", w.Filename, w.Line, ssh.FingerprintSHA256(w.Key))
				if authorities[w.Line] {
					cas = append(cas, line)
					continue
				}
				he.Changed = true
				he.Lines = append(he.Lines, line)
			}
			if !he.Changed && len(cas) > 0 {
				// Only an authority vouches for this host: a plain key
				// is not a changed key, but a certificate missing.
				he.Refused = "the host offered a plain key, not a certificate signed by the @cert-authority at " + joinComma(cas)
			}
		default:
			// Certificates checked against @cert-authority lines fail
			// with plain errors: still a refused host key, never an
			// "unknown" state a plan could pass over.
			he.Refused = err.Error()
		}
		return he
	}
	return check, knownAlgorithms(cb, h.Address, authorities), nil
}

// authorityLines are the numbers of file's @cert-authority lines.
// knownhosts reports the keys it knows for a host without saying which
// are authorities; the line numbers tell.
func authorityLines(file string) map[int]bool {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	out := map[int]bool{}
	for i, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "@cert-authority") {
			out[i+1] = true
		}
	}
	return out
}

// knownAlgorithms asks the known_hosts callback about a key no host has:
// the KeyError it returns lists the keys known for the address. Where an
// @cert-authority line covers the host, certificates come first, then
// every plain algorithm (so a host without a certificate shows its key
// and is refused with a reason, not a failed negotiation).
func knownAlgorithms(cb ssh.HostKeyCallback, address string, authorities map[int]bool) []string {
	probe, err := ssh.NewPublicKey(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public())
	if err != nil {
		return nil
	}
	remote, err := net.ResolveTCPAddr("tcp", address)
	if err != nil {
		remote = &net.TCPAddr{IP: net.IPv4zero}
	}
	var ke *knownhosts.KeyError
	if !errors.As(cb(address, remote, probe), &ke) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	add := func(as ...string) {
		for _, a := range as {
			if !seen[a] {
				seen[a] = true
				algos = append(algos, a)
			}
		}
	}
	certs := false
	for _, w := range ke.Want {
		if authorities[w.Line] {
			certs = true
			continue
		}
		add(algorithmsFor(w.Key.Type())...)
	}
	if certs {
		var plain []string
		for _, a := range ssh.SupportedAlgorithms().HostKeys {
			if strings.Contains(a, "-cert-") {
				add(a)
			} else {
				plain = append(plain, a)
			}
		}
		add(plain...)
	}
	return algos
}

// algorithmsFor maps a key type to the host key algorithms that present
// it: an RSA key is offered as rsa-sha2-512/256 by modern servers.
func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}
