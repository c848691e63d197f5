package engine

import (
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// NotTried is the outcome of a create apply did not attempt because an
// earlier create of the same kind failed with an error every create of
// that kind would repeat (the quota exhausted, the policy forbidding it).
// It unwraps to that first error, so a summary groups both under one cause.
type NotTried struct {
	First specs.Address
	Cause error
}

func (e *NotTried) Error() string {
	return fmt.Sprintf("not tried: %s failed first with: %v", e.First, e.Cause)
}
func (e *NotTried) Unwrap() error { return e.Cause }

// kindStops remembers, per kind, the first create that failed for good.
type kindStops struct {
	mu    sync.Mutex
	first map[specs.Kind]*NotTried
}

// repeats reports whether a create's failure will recur for every other
// create of its kind: a quota exceeded, or a 403 (a policy refuses the
// kind to this project). Per-object errors (an address taken, a bad
// field) do not stop the kind.
func repeats(err error) bool {
	if errors.Is(err, resources.ErrQuota) {
		return true
	}
	var ae *resources.APIError
	return errors.As(err, &ae) && ae.Status == http.StatusForbidden
}

// stopped returns the reason not to try a create of kind k, or nil.
func (s *kindStops) stopped(k specs.Kind) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if nt := s.first[k]; nt != nil {
		return nt
	}
	return nil
}

// failed records a create's failure; one that repeats stops the kind.
func (s *kindStops) failed(a specs.Address, err error) {
	if !repeats(err) {
		return
	}
	k := BaseAddress(a).Kind()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.first[k] == nil {
		s.first[k] = &NotTried{First: a, Cause: err}
	}
}
