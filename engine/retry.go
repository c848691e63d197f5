package engine

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/url"
	"time"

	"github.com/fuelplan/fuelplan/resources"
)

// Transient reports whether an error is worth retrying. An API call's
// failure carries its class (resources.Classify decides it, next to the
// adapters that know the APIs): transient (throttling, server errors, a
// lost connection) and in-use (a port not yet released by a deleted
// server, an interface a floating IP still needs) are retried; permanent,
// quota and not-found are not. Errors from elsewhere (the patch adapter's
// SSH) are retried when they are a timeout or a lost connection.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	var ae *resources.APIError
	if errors.As(err, &ae) {
		return errors.Is(ae, resources.ErrTransient) || errors.Is(ae, resources.ErrInUse)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true // one request's timeout, not the operation's (checked by the caller)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var ue *url.Error
	return errors.As(err, &ue) // connection reset, refused mid-run, EOF
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
				return errors.Join(gaveUp(ctx), err)
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
			return errors.Join(gaveUp(ctx), err)
		case <-t.C:
		}
	}
}

// gaveUp says why retrying stopped: the operation's time ran out, or the
// apply was stopped (Ctrl-C, the lab lock lost) with that cause.
func gaveUp(ctx context.Context) error {
	cause := context.Cause(ctx)
	if cause == nil || errors.Is(cause, context.DeadlineExceeded) {
		return errors.New("gave up: operation timed out while retrying")
	}
	return &stoppedError{cause}
}

type stoppedError struct{ cause error }

func (e *stoppedError) Error() string { return "stopped while retrying: " + e.cause.Error() }
func (e *stoppedError) Unwrap() error { return e.cause }
