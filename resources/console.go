package resources

import (
	"context"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// consoleLines is how much of a console log a check reads: the tail is
// where a boot's latest marker is.
const consoleLines = 500

// ConsoleLog reads the tail of a server's console log through Nova, for
// the waits' console checks.
func ConsoleLog(ctx context.Context, c *Cloud, serverID string) (string, error) {
	return servers.ShowConsoleOutput(ctx, c.Compute, serverID, servers.ShowConsoleOutputOpts{Length: consoleLines}).Extract()
}
