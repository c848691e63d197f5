package resources

import (
	"context"
	"time"
)

// Backoff is how often Poll asks: first after Initial, then each wait
// Factor times the last, never more than Max. Asking a busy cloud every
// 200ms for a server that takes minutes to boot would be rude; asking
// every 5s for one that boots in a second would be slow.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	Factor  float64
}

// DefaultBackoff is what adapters poll async state with.
var DefaultBackoff = Backoff{Initial: 200 * time.Millisecond, Max: 5 * time.Second, Factor: 1.6}

// next returns the wait after d.
func (b Backoff) next(d time.Duration) time.Duration {
	f := b.Factor
	if f < 1 {
		f = 1
	}
	n := time.Duration(float64(d) * f)
	if b.Max > 0 && n > b.Max {
		n = b.Max
	}
	return n
}

// Poll calls check until it reports done or fails, waiting between calls
// as b says. It asks once straight away: an object that is already there
// costs no wait. It returns ctx's error when ctx ends first, wrapped so
// the caller can tell "gave up waiting" from a failure check reported.
// Poll does not retry check's errors: a transient API error ends the
// wait, and the engine's retry decides what happens next.
func Poll(ctx context.Context, b Backoff, check func(ctx context.Context) (done bool, err error)) error {
	wait := b.Initial
	if wait <= 0 {
		wait = DefaultBackoff.Initial
	}
	for {
		done, err := check(ctx)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return &WaitError{Err: context.Cause(ctx)}
		case <-t.C:
		}
		wait = b.next(wait)
	}
}

// WaitError says Poll gave up because its context ended.
type WaitError struct{ Err error }

func (e *WaitError) Error() string { return "gave up waiting: " + e.Err.Error() }
func (e *WaitError) Unwrap() error { return e.Err }
