package resources

import (
	"context"

	"github.com/fuelplan/fuelplan/internal/sshx"
	"github.com/fuelplan/fuelplan/specs"
)

// PatchHypervisor is the compute node hosting an SSH patch's port, as
// apply would find it: the patch's host:, else (admin only) the port's
// binding:host_id or its server's OS-EXT-SRV-ATTR:host. Preflight's reach
// check connects to it before apply does.
func PatchHypervisor(ctx context.Context, c *Cloud, pt *specs.Patch, portID, serverID string) (string, error) {
	return hypervisor(ctx, c, pt, portID, serverID)
}

// SSHHost is how apply reaches an inventory entry: the same address,
// user, key file, known_hosts and jump host.
func SSHHost(name string, h specs.SSHHost) sshx.Host { return sshHost(name, h) }
