package sshx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Pool keeps one SSH connection per host, made on first use and reused by
// every later command, so patching a host costs one handshake however
// many commands it takes. It is safe for concurrent use: hosts are
// patched in parallel.
type Pool struct {
	cfg Config

	mu      sync.Mutex
	conns   map[string]*conn
	closers []io.Closer // agent sockets
}

// conn is one host's connection, dialled once: callers that arrive while
// it is being made wait on ready.
type conn struct {
	ready  chan struct{}
	client *ssh.Client
	err    error
}

// NewPool returns an empty pool.
func NewPool(cfg Config) *Pool {
	return &Pool{cfg: cfg, conns: map[string]*conn{}}
}

// Close closes every connection.
func (p *Pool) Close() error {
	p.mu.Lock()
	conns, closers := p.conns, p.closers
	p.conns, p.closers = map[string]*conn{}, nil
	p.mu.Unlock()
	var errs []error
	for _, c := range conns {
		<-c.ready
		if c.client != nil {
			errs = append(errs, ignoreClosed(c.client.Close()))
		}
	}
	for _, c := range closers {
		errs = append(errs, ignoreClosed(c.Close()))
	}
	return errors.Join(errs...)
}

func ignoreClosed(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// client returns h's connection, dialling it (and its jump host's) once.
// A failed dial is not cached: the next command tries again.
func (p *Pool) client(ctx context.Context, h Host) (*ssh.Client, error) {
	k := h.key()
	p.mu.Lock()
	c, ok := p.conns[k]
	if !ok {
		c = &conn{ready: make(chan struct{})}
		p.conns[k] = c
		p.mu.Unlock()
		c.client, c.err = p.dial(ctx, h)
		close(c.ready)
		if c.err != nil {
			p.forget(k, c)
		}
		return c.client, c.err
	}
	p.mu.Unlock()
	select {
	case <-c.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if c.err != nil {
		return nil, c.err
	}
	return c.client, nil
}

// forget drops a connection that failed or broke, if it is still h's.
func (p *Pool) forget(k string, c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns[k] == c {
		delete(p.conns, k)
	}
}

func (p *Pool) dial(ctx context.Context, h Host) (*ssh.Client, error) {
	check, algos, err := hostKeyCheck(h)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	auth, err := p.authMethods(h)
	p.mu.Unlock()
	if err != nil {
		return nil, err
	}
	var hkErr error
	keyAccepted := false
	cfg := &ssh.ClientConfig{
		User: h.User,
		Auth: auth,
		HostKeyCallback: func(hostname string, remote net.Addr, key ssh.PublicKey) error {
			hkErr = check(hostname, remote, key)
			keyAccepted = hkErr == nil
			return hkErr
		},
		HostKeyAlgorithms: algos,
		Timeout:           p.cfg.connectTimeout(),
	}
	timeout := p.cfg.connectTimeout()
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var raw net.Conn
	if h.Jump != nil {
		jump, err := p.client(dctx, *h.Jump)
		if err != nil {
			return nil, fmt.Errorf("%s: jump host: %w", h, err)
		}
		raw, err = jump.DialContext(dctx, "tcp", h.Address)
		if err != nil {
			return nil, &DialError{Host: h.String(), Stage: "connect through the jump host", Err: err}
		}
	} else {
		dialer := p.cfg.Dial
		if dialer == nil {
			dialer = (&net.Dialer{}).DialContext
		}
		raw, err = dialer(dctx, "tcp", h.Address)
		if err != nil {
			if dctx.Err() != nil && ctx.Err() == nil {
				return nil, &DialError{Host: h.String(), Stage: "connect", Timeout: timeout, Err: err}
			}
			return nil, &DialError{Host: h.String(), Stage: "connect", Err: err}
		}
	}
	// The handshake is bounded too: a port that accepts and says nothing
	// must not hang the run. A connection through a jump host has no
	// deadlines, so the timer closes it.
	stop := context.AfterFunc(dctx, func() { raw.Close() })
	sc, chans, reqs, err := ssh.NewClientConn(raw, h.Address, cfg)
	if !stop() {
		if sc != nil {
			sc.Close()
		}
		raw.Close()
		if err == nil {
			err = dctx.Err()
		}
		if hkErr == nil {
			return nil, &DialError{Host: h.String(), Stage: "ssh handshake", Timeout: timeout, Err: err}
		}
	}
	if err != nil {
		raw.Close()
		if hkErr != nil {
			return nil, hkErr
		}
		// x/crypto/ssh has no error type for this; its message has been
		// the same since 2017 (client_auth.go).
		if keyAccepted && strings.Contains(err.Error(), "unable to authenticate") {
			return nil, &AuthError{Host: h.String(), User: h.User, Err: err}
		}
		return nil, fmt.Errorf("%s: %w", h, err)
	}
	return ssh.NewClient(sc, chans, reqs), nil
}

// Result is what a command printed.
type Result struct {
	Stdout string
	Stderr string
}

// Run runs cmd on h (under `sudo -n` when h.Sudo) and returns its output.
// A command that exits non-zero returns *ExitError; label names the
// command in errors in place of its text.
func (p *Pool) Run(ctx context.Context, h Host, label, cmd string) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.commandTimeout())
	defer cancel()
	cl, err := p.client(ctx, h)
	if err != nil {
		return Result{}, err
	}
	sess, err := cl.NewSession()
	if err != nil {
		// The connection broke (host rebooted, idle timeout): redial once.
		p.forgetClient(h, cl)
		if cl, err = p.client(ctx, h); err != nil {
			return Result{}, err
		}
		if sess, err = cl.NewSession(); err != nil {
			return Result{}, fmt.Errorf("%s: %s: open session: %w", h, label, err)
		}
	}
	defer sess.Close()
	var stdout, stderr capped
	sess.Stdout, sess.Stderr = &stdout, &stderr
	if h.Sudo {
		cmd = "sudo -n -- sh -c " + shellQuote(cmd)
	}
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- sess.Run(cmd) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = sess.Signal(ssh.SIGKILL)
		sess.Close()
		return Result{}, fmt.Errorf("%s: %s: no answer after %s: %w", h, label, time.Since(start).Round(time.Millisecond), ctx.Err())
	}
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *ssh.ExitError
	switch {
	case errors.As(err, &exit):
		return res, &ExitError{Host: h.String(), Label: label, Status: exit.ExitStatus(), Stderr: lastLines(res.Stderr)}
	case err != nil:
		return res, fmt.Errorf("%s: %s: %w", h, label, err)
	}
	return res, nil
}

func (p *Pool) forgetClient(h Host, cl *ssh.Client) {
	k := h.key()
	p.mu.Lock()
	c := p.conns[k]
	p.mu.Unlock()
	if c != nil && c.client == cl {
		cl.Close()
		p.forget(k, c)
	}
}
