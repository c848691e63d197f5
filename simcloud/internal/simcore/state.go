package simcore

import (
	"encoding/json"
	"fmt"
	"sync"
)

// Each service owns its state and its lock; these two helpers are the
// state file's side of every service, written once.

// Snapshot encodes, under the service's lock, the state view returns.
func Snapshot(mu sync.Locker, view func() any) (json.RawMessage, error) {
	mu.Lock()
	defer mu.Unlock()
	return json.Marshal(view())
}

// Restore decodes a snapshot into fresh (a new state, possibly with its
// collections made), lets check refuse it, and only then hands it to set
// under the service's lock: a bad snapshot leaves the service as it was.
// Decoding errors are prefixed "SERVICE: restore:"; check's are its own.
func Restore[T any](service string, raw json.RawMessage, fresh *T, check func(*T) error, mu sync.Locker, set func(*T)) error {
	if err := json.Unmarshal(raw, fresh); err != nil {
		return fmt.Errorf("%s: restore: %w", service, err)
	}
	if check != nil {
		if err := check(fresh); err != nil {
			return err
		}
	}
	mu.Lock()
	set(fresh)
	mu.Unlock()
	return nil
}
