// Package sshx runs commands on remote hosts over SSH for compute-node
// patches: key files and ssh-agent for authentication, host keys checked
// against known_hosts (an unknown or changed key is an error, never
// accepted), an optional jump host, connect and command timeouts, optional
// sudo, and one connection per host reused by every command.
package sshx

import (
	"context"
	"fmt"
	"net"
	"time"
)

// Host says how to reach one machine.
type Host struct {
	// Name is what messages call the host (the hypervisor's name).
	Name    string
	Address string // HOST:PORT
	User    string
	// KeyFile is a private key; without it, or besides it, the keys of the
	// ssh-agent at SSH_AUTH_SOCK are offered.
	KeyFile string
	// KnownHosts is the known_hosts file the host key must be in;
	// ~/.ssh/known_hosts when empty.
	KnownHosts string
	Jump       *Host
	// Sudo runs commands as root through `sudo -n` (no password prompt:
	// a sudo that wants one fails instead of hanging).
	Sudo bool
}

// String names the host for messages: "node-2 (root@10.0.0.2:22)".
func (h Host) String() string {
	s := h.User + "@" + h.Address
	if h.Jump != nil {
		s += " via " + h.Jump.User + "@" + h.Jump.Address
	}
	if h.Name == "" {
		return s
	}
	return h.Name + " (" + s + ")"
}

// key identifies a connection: the same user at the same address through
// the same jump host shares one.
func (h Host) key() string {
	k := h.User + "@" + h.Address + "|" + h.KeyFile + "|" + h.KnownHosts
	if h.Jump != nil {
		k += ">" + h.Jump.key()
	}
	return k
}

// Config holds the timeouts; zero values take the defaults.
type Config struct {
	// ConnectTimeout bounds the TCP connect and the SSH handshake.
	ConnectTimeout time.Duration
	// CommandTimeout bounds one command.
	CommandTimeout time.Duration
	// AgentSocket is the ssh-agent socket; SSH_AUTH_SOCK when empty, and
	// no agent when that is empty too.
	AgentSocket string
	// Dial makes the TCP connection to a host without a jump host; a
	// net.Dialer when nil. Tests use it to reach hosts in network
	// namespaces.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

const (
	defaultConnectTimeout = 15 * time.Second
	defaultCommandTimeout = 2 * time.Minute
)

func (c Config) connectTimeout() time.Duration {
	if c.ConnectTimeout > 0 {
		return c.ConnectTimeout
	}
	return defaultConnectTimeout
}

func (c Config) commandTimeout() time.Duration {
	if c.CommandTimeout > 0 {
		return c.CommandTimeout
	}
	return defaultCommandTimeout
}

// ExitError is a command that ran and failed: its exit status and the end
// of its stderr reach the user. Label names the command ("iptables -S
// neutron-openvswi-oc439e856-3", "apply command"): a spec's command text
// may hold secrets, so callers choose what the message shows.
type ExitError struct {
	Host   string
	Label  string
	Status int
	Stderr string
}

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("%s: %s: exit status %d", e.Host, e.Label, e.Status)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}
