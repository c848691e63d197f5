package engine

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
)

// permanent409 are conflicts that waiting will not resolve: the spec and
// the cloud disagree, and the operator must act.
var permanent409 = []string{
	"IpAddressAlreadyAllocated", "IpAddressGenerationFailure", "MacAddressInUse",
	"SecurityGroupRuleExists", "OverQuota", "Quota exceeded", "already exists", "Duplicate",
}

// Transient reports whether an error is worth retrying: throttling, server
// errors, timeouts, and the 409s that mean "still in use" (a port not yet
// released by a deleted server, an interface a floating IP still needs).
func Transient(err error) bool {
	if err == nil {
		return false
	}
	var ue gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &ue) {
		switch {
		case ue.Actual == 429, ue.Actual >= 500:
			return true
		case ue.Actual == 409:
			body := string(ue.Body)
			for _, p := range permanent409 {
				if strings.Contains(body, p) {
					return false
				}
			}
			return true
		}
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true // one request's timeout, not the operation's (checked by the caller)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var ue2 *url.Error
	return errors.As(err, &ue2) // connection reset, refused mid-run, EOF
}

// Backoff is the retry schedule.
type Backoff struct {
	Initial, Max time.Duration
}

// DefaultBackoff starts at half a second and caps at eight.
var DefaultBackoff = Backoff{Initial: 500 * time.Millisecond, Max: 8 * time.Second}

// delay returns the wait before retry n (0-based), with ±20% jitter so
// parallel retries do not hit the API in step.
func (b Backoff) delay(n int) time.Duration {
	d := b.Initial
	for i := 0; i < n && d < b.Max; i++ {
		d *= 2
	}
	if d > b.Max {
		d = b.Max
	}
	j := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * j)
}

// retry calls op until it succeeds, fails with a permanent error, or ctx
// ends; before each retry it calls onRetry (for progress and for a create's
// adoption check, which may end the loop by returning done).
func retry(ctx context.Context, b Backoff, op func(context.Context) error, onRetry func(attempt int, err error) (done bool, rerr error)) error {
	for attempt := 0; ; attempt++ {
		err := op(ctx)
		if err == nil {
			return nil
		}
		if !Transient(err) || ctx.Err() != nil {
			if ctx.Err() != nil && Transient(err) {
				return errors.Join(errors.New("gave up: operation timed out while retrying"), err)
			}
			return err
		}
		if onRetry != nil {
			done, rerr := onRetry(attempt, err)
			if rerr != nil {
				return rerr
			}
			if done {
				return nil
			}
		}
		t := time.NewTimer(b.delay(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(errors.New("gave up: operation timed out while retrying"), err)
		case <-t.C:
		}
	}
}
