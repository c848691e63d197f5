package resources

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/gophercloud/gophercloud/v2"
)

// The Neutron calls under the lab lock (package lablock holds the
// protocol): the lock's anchor is a small security group, taken and
// renewed with a compare-and-swap on its description, using Neutron's
// If-Match: revision_number=N, so a lost race gets 412.

// LockAnchor is a security group as the lock protocol sees it.
type LockAnchor struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	Revision    int    `json:"revision_number"`
}

// ErrRevisionChanged is SwapLockAnchor's error when the anchor changed
// since the revision it was given (HTTP 412): someone else swapped first.
var ErrRevisionChanged = errors.New("the lock anchor changed since it was read")

// ListLockAnchors lists the project's security groups named name.
func ListLockAnchors(ctx context.Context, c *Cloud, name string) ([]LockAnchor, error) {
	q := url.Values{"name": {name}}
	if c.ProjectID != "" {
		q.Set("project_id", c.ProjectID) // an admin sees every project's groups
	}
	var body struct {
		Groups []LockAnchor `json:"security_groups"`
	}
	if _, err := c.Network.Get(ctx, c.Network.ServiceURL("security-groups")+"?"+q.Encode(), &body, nil); err != nil {
		return nil, err
	}
	return body.Groups, nil
}

// CreateLockAnchor creates a security group named name with description.
func CreateLockAnchor(ctx context.Context, c *Cloud, name, description string) (LockAnchor, error) {
	body := map[string]any{"security_group": map[string]any{"name": name, "description": description}}
	var created struct {
		Group LockAnchor `json:"security_group"`
	}
	_, err := c.Network.Post(ctx, c.Network.ServiceURL("security-groups"), body, &created, nil)
	return created.Group, err
}

// SwapLockAnchor sets the anchor's description if its revision is still
// rev: ErrRevisionChanged when it is not, ErrNotFound when the anchor is
// gone. A Neutron without revision-if-match sets it unconditionally.
func SwapLockAnchor(ctx context.Context, c *Cloud, id string, rev int, description string) (LockAnchor, error) {
	body := map[string]any{"security_group": map[string]any{"description": description}}
	var out struct {
		Group LockAnchor `json:"security_group"`
	}
	opts := &gophercloud.RequestOpts{OkCodes: []int{200}}
	if c.HasExtension("revision-if-match") {
		opts.MoreHeaders = map[string]string{"If-Match": fmt.Sprintf("revision_number=%d", rev)}
	}
	_, err := c.Network.Put(ctx, c.Network.ServiceURL("security-groups", id), body, &out, opts)
	switch {
	case gophercloud.ResponseCodeIs(err, 412):
		return LockAnchor{}, fmt.Errorf("%w: %w", ErrRevisionChanged, err)
	case gophercloud.ResponseCodeIs(err, 404):
		return LockAnchor{}, fmt.Errorf("lock anchor %s: %w", id, ErrNotFound)
	}
	return out.Group, err
}

// DeleteLockAnchor deletes the anchor; one already gone is a success.
func DeleteLockAnchor(ctx context.Context, c *Cloud, id string) error {
	_, err := c.Network.Delete(ctx, c.Network.ServiceURL("security-groups", id), nil)
	return ignoreNotFound(err)
}
