package resources

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestBackoffNext(t *testing.T) {
	t.Parallel()
	b := Backoff{Initial: 200 * time.Millisecond, Max: time.Second, Factor: 2}
	want := []time.Duration{400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second}
	d := b.Initial
	for i, w := range want {
		d = b.next(d)
		if d != w {
			t.Fatalf("wait %d = %v, want %v", i+1, d, w)
		}
	}
	// A factor below 1 would shrink the wait to a busy loop.
	if got := (Backoff{Factor: 0.5}).next(time.Second); got != time.Second {
		t.Errorf("factor 0.5: next(1s) = %v, want 1s", got)
	}
}

func TestPoll(t *testing.T) {
	t.Parallel()
	fast := Backoff{Initial: time.Millisecond, Max: 2 * time.Millisecond, Factor: 2}
	boom := errors.New("boom")
	cases := []struct {
		name      string
		doneAfter int // check reports done on this call (1-based); 0 never
		failAt    int // check fails on this call; 0 never
		timeout   time.Duration
		wantCalls int
		wantErr   error
		wantWait  bool // the error is a *WaitError
	}{
		{name: "done at once", doneAfter: 1, wantCalls: 1},
		{name: "done on third call", doneAfter: 3, wantCalls: 3},
		{name: "check error ends the wait", failAt: 2, doneAfter: 5, wantCalls: 2, wantErr: boom},
		{name: "context ends first", timeout: 20 * time.Millisecond, wantErr: context.DeadlineExceeded, wantWait: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			calls := 0
			err := Poll(ctx, fast, func(context.Context) (bool, error) {
				calls++
				if calls == tc.failAt {
					return false, boom
				}
				return tc.doneAfter > 0 && calls >= tc.doneAfter, nil
			})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			var we *WaitError
			if errors.As(err, &we) != tc.wantWait {
				t.Errorf("err %v: WaitError = %v, want %v", err, !tc.wantWait, tc.wantWait)
			}
			if tc.wantCalls > 0 && calls != tc.wantCalls {
				t.Errorf("calls = %d, want %d", calls, tc.wantCalls)
			}
			if tc.timeout > 0 && calls < 2 {
				t.Errorf("calls = %d before the deadline, want several", calls)
			}
		})
	}
}
