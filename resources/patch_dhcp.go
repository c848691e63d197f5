package resources

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/fuelplan/fuelplan/internal/sshx"
	"github.com/fuelplan/fuelplan/patches"
	"github.com/fuelplan/fuelplan/specs"
)

// dhcpState reads an allow-dhcp-server patch: its ID (what it acts on)
// and its state. Only a refused host key is an error.
func (a *Patch) dhcpState(ctx context.Context, c *Cloud, pt *specs.Patch, ref refs) (string, string, error) {
	ch := patches.Choose(pt.Method, c.HasExtension("port-security"))
	how := ch.Method + " (" + ch.Reason + ")"
	port := ref.port(pt.Port)
	if port == nil {
		return ch.Method + " on " + string(pt.Port), "needed: " + how + "; " + string(pt.Port) + " is made by this apply", nil
	}
	if ch.Method == patches.API {
		id := "api on port " + port.ID
		switch {
		case !c.HasExtension("port-security"):
			return id, "unknown: " + how, nil
		case port.Fields["port_security"] == "false" && port.Fields["security_groups"] == "":
			return id, InPlace, nil
		case port.Fields["port_security"] == "false":
			return id, "needed: " + how + "; port security is off but security groups remain", nil
		}
		return id, "needed: " + how + "; port security is on", nil
	}
	serverID, _ := ref.id(pt.Server)
	hv, err := hypervisor(ctx, c, pt, port.ID, serverID)
	if err != nil {
		return "ssh on port " + port.ID, "unknown: " + how + ": " + err.Error(), nil
	}
	chain := patches.ChainName(port.ID)
	id := "ssh on " + hv + " chain " + chain
	h, err := inventoryHost(pt, hv)
	if err != nil {
		return id, "unknown: " + how + ": " + err.Error(), nil
	}
	drops, err := a.readChain(ctx, h, chain, port.Fields["port_security"] == "false")
	var hk *sshx.HostKeyError
	switch {
	case errors.As(err, &hk):
		return "", "", fmt.Errorf("%s: %w", pt.Addr(), err)
	case err != nil:
		return id, "unknown: " + how + ": " + err.Error(), nil
	case len(drops) == 0:
		return id, InPlace, nil
	}
	return id, fmt.Sprintf("needed: %s on %s; %d DHCP DROP rule(s) in %s", how, hv, len(drops), chain), nil
}

// allowDHCP applies the patch and checks it took.
func (a *Patch) allowDHCP(ctx context.Context, c *Cloud, pt *specs.Patch, ref refs) (string, error) {
	portID, err := refID(idsOf(ref), "apply", pt.Addr(), "port", pt.Port)
	if err != nil {
		return "", err
	}
	ch := patches.Choose(pt.Method, c.HasExtension("port-security"))
	if ch.Method == patches.API {
		if !c.HasExtension("port-security") {
			return "", fmt.Errorf("method api: this cloud's Neutron has no port-security extension: use method ssh")
		}
		body := updateBody{key: "port", attrs: map[string]any{"port_security_enabled": false, "security_groups": []string{}}}
		if err := ports.Update(ctx, c.Network, portID, body).Err; err != nil {
			return "", fmt.Errorf("turn port security off on port %s: %w", portID, err)
		}
		return "api on port " + portID, nil
	}
	serverID, _ := ref.id(pt.Server)
	hv, err := hypervisor(ctx, c, pt, portID, serverID)
	if err != nil {
		return "", err
	}
	h, err := inventoryHost(pt, hv)
	if err != nil {
		return "", err
	}
	chain := patches.ChainName(portID)
	drops, err := a.waitChain(ctx, h, chain)
	if err != nil {
		return "", err
	}
	for _, r := range drops {
		if _, err := a.ssh.Run(ctx, h, "delete the DHCP DROP rule from "+chain, patches.DeleteCommand(r)); err != nil {
			return "", err
		}
	}
	// Read back: the agent may have rewritten the chain meanwhile.
	left, err := a.readChain(ctx, h, chain, false)
	if err != nil {
		return "", err
	}
	if len(left) > 0 {
		return "", fmt.Errorf("%s: %d DHCP DROP rule(s) still in %s after deleting them (the agent resynced?): apply again", hv, len(left), chain)
	}
	return "ssh on " + hv + " chain " + chain, nil
}

func idsOf(r refs) IDs { return refsIDs{r} }

type refsIDs struct{ r refs }

func (i refsIDs) ID(a specs.Address) (string, bool) { return i.r.id(a) }

// errNoChain: the port's chain is not on the host (yet).
var errNoChain = errors.New("no chain")

// chainWait is how long apply waits for the agent to write the chain of a
// port it has just bound (seconds on a healthy cloud); chainPoll how often
// it looks.
const (
	chainWait = 2 * time.Minute
	chainPoll = 500 * time.Millisecond
)

// waitChain reads the chain, waiting for the agent to write it: apply runs
// right after the server is built, when the agent may not have wired the
// port yet.
func (a *Patch) waitChain(ctx context.Context, h sshx.Host, chain string) ([]patches.Rule, error) {
	deadline := time.Now().Add(chainWait)
	for {
		drops, err := a.readChain(ctx, h, chain, false)
		if !errors.Is(err, errNoChain) || time.Now().After(deadline) {
			return drops, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (waited for the agent until interrupted)", err)
		case <-time.After(chainPoll):
		}
	}
}

// readChain lists the DHCP DROP rules in a port's chain. A chain that does
// not exist is an error, unless port security is off (the agent keeps no
// chain for such a port, so nothing drops its DHCP replies).
func (a *Patch) readChain(ctx context.Context, h sshx.Host, chain string, securityOff bool) ([]patches.Rule, error) {
	res, err := a.ssh.Run(ctx, h, patches.ListCommand(chain), patches.ListCommand(chain))
	var exit *sshx.ExitError
	if errors.As(err, &exit) && patches.NoSuchChain(exit.Stderr) {
		if securityOff {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: %w %s: the port is not on this hypervisor, or its agent has not wired it yet", h.Name, errNoChain, chain)
	}
	if err != nil {
		return nil, err
	}
	rules, err := patches.ParseRules(res.Stdout)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", h.Name, err)
	}
	return patches.DHCPDrops(rules, chain), nil
}

// ErrNotAdmin is why a patch cannot find its port's hypervisor by itself.
var ErrNotAdmin = errors.New("only admins see which hypervisor hosts a port (binding:host_id, OS-EXT-SRV-ATTR:host) and these credentials are not admin: name it with `host:` in the patch")

// hypervisor finds the compute node hosting the port: the spec's host if
// it names one, else the port's binding:host_id, else its server's
// OS-EXT-SRV-ATTR:host; both need admin rights.
func hypervisor(ctx context.Context, c *Cloud, pt *specs.Patch, portID, serverID string) (string, error) {
	if pt.Host != "" {
		return pt.Host, nil
	}
	if !c.Admin {
		return "", ErrNotAdmin
	}
	var pv struct {
		Port struct {
			HostID string `json:"binding:host_id"`
		} `json:"port"`
	}
	if err := ports.Get(ctx, c.Network, portID).ExtractIntoStructPtr(&pv.Port, "port"); err != nil {
		return "", getError("port", portID, err)
	}
	if pv.Port.HostID != "" {
		return pv.Port.HostID, nil
	}
	if serverID != "" && c.Compute != nil {
		var sv struct {
			Host string `json:"OS-EXT-SRV-ATTR:host"`
		}
		if err := servers.Get(ctx, c.Compute, serverID).ExtractIntoStructPtr(&sv, "server"); err != nil {
			return "", getError("server", serverID, err)
		}
		if sv.Host != "" {
			return sv.Host, nil
		}
	}
	return "", fmt.Errorf("port %s is not bound to a hypervisor yet (no binding:host_id, no server host)", portID)
}

// inventoryHost is how to reach a hypervisor, from the spec's inventory.
func inventoryHost(pt *specs.Patch, hv string) (sshx.Host, error) {
	h, ok := pt.Inventory[hv]
	if !ok {
		return sshx.Host{}, fmt.Errorf("hypervisor %s is not in the inventory: add it (address, user, key_file, known_hosts)", hv)
	}
	return sshHost(hv, h), nil
}

func sshHost(name string, h specs.SSHHost) sshx.Host {
	out := sshx.Host{Name: name, Address: h.Address, User: h.User, KeyFile: h.KeyFile, KnownHosts: h.KnownHosts, Sudo: h.Sudo}
	if h.Jump != nil {
		j := sshHost("jump host of "+name, *h.Jump)
		out.Jump = &j
	}
	return out
}
