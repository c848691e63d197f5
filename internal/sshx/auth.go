package sshx

import (
	"errors"
	"fmt"
	"net"
	"os"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// authMethods offers the host's key file, then the agent's keys. The key
// file's content never appears in an error; a passphrase-protected key
// is refused with a hint to load it into the agent instead.
func (p *Pool) authMethods(h Host) ([]ssh.AuthMethod, error) {
	var signers []ssh.Signer
	if h.KeyFile != "" {
		pem, err := os.ReadFile(h.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s: key file: %w", h, err)
		}
		s, err := ssh.ParsePrivateKey(pem)
		var missing *ssh.PassphraseMissingError
		switch {
		case errors.As(err, &missing):
			return nil, fmt.Errorf("%s: key file %s is passphrase-protected: load it into ssh-agent instead", h, h.KeyFile)
		case err != nil:
			return nil, fmt.Errorf("%s: key file %s: not a private key fuelplan can read", h, h.KeyFile)
		}
		signers = append(signers, s)
	}
	sock := p.cfg.AgentSocket
	if sock == "" {
		sock = os.Getenv("SSH_AUTH_SOCK")
	}
	var methods []ssh.AuthMethod
	if len(signers) > 0 {
		methods = append(methods, ssh.PublicKeys(signers...))
	}
	if sock != "" {
		conn, err := net.Dial("unix", sock)
		if err != nil {
			if len(methods) == 0 {
				return nil, fmt.Errorf("%s: ssh-agent at %s: %w", h, sock, err)
			}
		} else {
			p.closers = append(p.closers, conn)
			methods = append(methods, ssh.PublicKeysCallback(agent.NewClient(conn).Signers))
		}
	}
	if len(methods) == 0 {
		return nil, fmt.Errorf("%s: no key: give key_file in the inventory or run an ssh-agent (SSH_AUTH_SOCK)", h)
	}
	return methods, nil
}
