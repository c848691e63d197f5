package preflight

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/fuelplan/fuelplan/internal/sshx"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

const (
	// reachTimeout bounds one node's connect, handshake and
	// authentication: a node that has not answered by then would not
	// answer apply either, and a whole inventory must not hold check up.
	reachTimeout = 5 * time.Second
	// reachParallel caps the nodes dialled at once.
	reachParallel = 16
)

// reachNode is one compute node a patch would reach over SSH.
type reachNode struct {
	name  string
	patch *specs.Patch // the first patch (in spec order) that reaches it
	host  sshx.Host
}

// reach: every compute node an SSH patch would reach answers, shows the
// host key known_hosts has for it, and takes the inventory's key. It
// connects and authenticates only: no session is opened, nothing runs.
// Each node is reported once, at the first patch that reaches it.
func (r *runner) reach() {
	var nodes []reachNode
	seen := map[string]bool{}
	r.each(func(res specs.Resource) {
		p, ok := res.(*specs.Patch)
		if !ok || !r.usesSSH(p) {
			return
		}
		for _, name := range r.patchNodes(p) {
			h, ok := p.Inventory[name]
			if seen[name] || !ok || !filesReadable(h) { // ssh-files reports unreadable files
				continue
			}
			seen[name] = true
			nodes = append(nodes, reachNode{name: name, patch: p, host: resources.SSHHost(name, h)})
		}
	})
	if len(nodes) == 0 {
		return
	}
	cfg := r.in.SSH
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = reachTimeout
	}
	pool := sshx.NewPool(cfg)
	defer pool.Close()
	errs := make([]error, len(nodes))
	slots := make(chan struct{}, reachParallel)
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			errs[i] = pool.Connect(r.ctx, n.host)
		})
	}
	wg.Wait()
	for i, n := range nodes {
		if errs[i] != nil && r.ctx.Err() == nil {
			r.reachFinding(n, errs[i])
		}
	}
}

// patchNodes are the inventory names a patch would reach: a command
// patch's hosts; a DHCP patch's node when the spec names it or (for an
// admin) the port is bound already; else any node of the inventory, as
// the scheduler may put the port on any of them.
func (r *runner) patchNodes(p *specs.Patch) []string {
	if p.Type == "command" {
		return p.Hosts
	}
	if p.Host != "" {
		return []string{p.Host}
	}
	if r.in.Live != nil && r.in.Cloud.Admin {
		if port, ok := r.in.Live(p.Port); ok && port.ID != "" {
			serverID := ""
			if s, ok := r.in.Live(p.Server); ok {
				serverID = s.ID
			}
			if hv, err := resources.PatchHypervisor(r.ctx, r.in.Cloud, p, port.ID, serverID); err == nil {
				return []string{hv}
			}
		}
	}
	return sortedKeys(p.Inventory)
}

func filesReadable(h specs.SSHHost) bool {
	for _, f := range []string{h.KeyFile, h.KnownHosts} {
		if f != "" && readable(f) != nil {
			return false
		}
	}
	return true
}

// reachFinding turns a failed connect into its finding: unreachable, a
// host key known_hosts does not vouch for, or keys refused. Messages name
// files and fingerprints, never key material.
func (r *runner) reachFinding(n reachNode, err error) {
	var (
		dial *sshx.DialError
		hk   *sshx.HostKeyError
		auth *sshx.AuthError
	)
	who := "inventory host " + n.name
	switch {
	case errors.As(err, &hk):
		r.add(CheckSSHReach, Error, n.patch, hostKeyFix(hk, n.host), "%s: %v", who, hk)
	case errors.As(err, &auth):
		key := "the ssh-agent's keys"
		if n.host.KeyFile != "" {
			key = "the public key of " + n.host.KeyFile
		}
		r.add(CheckSSHReach, Error, n.patch,
			fmt.Sprintf("add %s to ~%s/.ssh/authorized_keys on %s, or correct the inventory entry's user and key_file", key, n.host.User, n.name),
			"%s: authentication refused: %v", who, auth)
	case errors.As(err, &dial):
		r.add(CheckSSHReach, Error, n.patch,
			fmt.Sprintf("check the inventory entry's address of %s, that sshd listens there, and that this machine reaches it (routes, firewall; or a jump: host)", n.name),
			"%s: unreachable: %v", who, dial)
	default:
		r.add(CheckSSHReach, Error, n.patch, "correct the inventory entry (key_file, known_hosts) or the ssh-agent (SSH_AUTH_SOCK)",
			"%s: cannot connect: %v", who, err)
	}
}

// hostKeyFix says how to put the right key in the known_hosts file the
// check used, after verifying it: never trust what the network offers.
func hostKeyFix(hk *sshx.HostKeyError, h sshx.Host) string {
	if hk.Host != h.String() && h.Jump != nil { // the jump host's key
		h = *h.Jump
	}
	host, port, err := net.SplitHostPort(h.Address)
	if err != nil {
		host, port = h.Address, "22"
	}
	scan := fmt.Sprintf("ssh-keyscan -p %s %s", port, host)
	verify := fmt.Sprintf("check that the key it offers (%s) is the node's own: %s | ssh-keygen -lf - shows it, and on the node's console ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub", hk.Fingerprint, scan)
	add := fmt.Sprintf("%s >> %s", scan, hk.KnownHosts)
	name := host
	if port != "22" {
		name = "[" + host + "]:" + port
	}
	switch {
	case hk.Refused != "":
		return fmt.Sprintf("check the @cert-authority line of %s and the node's host certificate (authority, principals, dates)", hk.KnownHosts)
	case hk.Revoked:
		return fmt.Sprintf("the key is revoked: give the node a new host key, %s, then add it: %s", verify, add)
	case hk.Changed:
		return fmt.Sprintf("if the node was reinstalled, %s, then replace the old key: ssh-keygen -R '%s' -f %s && %s; if not, do not connect (someone may be in between)", verify, name, hk.KnownHosts, add)
	}
	return fmt.Sprintf("%s, then add it: %s", verify, add)
}
