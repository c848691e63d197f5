package sshx

import (
	"context"
	"fmt"
	"time"
)

// DialError is a host that could not be reached: the TCP connect failed,
// or the connect or the SSH handshake did not finish in time.
type DialError struct {
	Host string
	// Stage is what failed: "connect" (TCP) or "ssh handshake".
	Stage string
	// Timeout is set when the stage did not finish within it.
	Timeout time.Duration
	Err     error
}

func (e *DialError) Error() string {
	if e.Timeout > 0 {
		return fmt.Sprintf("%s: %s did not finish within %s", e.Host, e.Stage, e.Timeout)
	}
	return fmt.Sprintf("%s: %s: %v", e.Host, e.Stage, e.Err)
}

func (e *DialError) Unwrap() error { return e.Err }

// AuthError is a host whose key was verified but which refused every key
// offered (the key file's, the agent's).
type AuthError struct {
	Host string
	User string
	Err  error
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("%s: user %s refused every key offered: %v", e.Host, e.User, e.Err)
}

func (e *AuthError) Unwrap() error { return e.Err }

// Connect dials h (through its jump host, if any), checks its host key
// against known_hosts and authenticates, and runs nothing: it opens no
// session. The connection stays in the pool until Close. Its error is a
// *DialError (unreachable), a *HostKeyError (key unknown, changed,
// revoked or refused), an *AuthError (keys refused), or another error (an
// unreadable key file or known_hosts, no key to offer).
func (p *Pool) Connect(ctx context.Context, h Host) error {
	_, err := p.client(ctx, h)
	return err
}
