package resources

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
)

// What a failed API call means for whoever retries it is decided here,
// next to the adapters that know the APIs, once for every request (Connect
// installs classify as the provider client's error hook): the engine
// switches on the class with errors.Is and never reads a response body.

// ErrorClass sorts failed API calls by what waiting does to them.
type ErrorClass int

const (
	// ClassPermanent: waiting will not help; the spec and the cloud
	// disagree, and the operator must act (a 400, an address taken).
	ClassPermanent ErrorClass = iota
	// ClassTransient: throttling, server errors, a connection lost.
	ClassTransient
	// ClassInUse: a 409 that means "still in use" (a port not yet released
	// by a deleted server, an interface a floating IP still needs); it
	// clears as the operations it waits on finish.
	ClassInUse
	// ClassQuota: the project's quota is exhausted; only the operator (or
	// a delete elsewhere) frees it.
	ClassQuota
	// ClassNotFound: the object is gone (HTTP 404).
	ClassNotFound
)

func (c ErrorClass) String() string {
	switch c {
	case ClassTransient:
		return "transient"
	case ClassInUse:
		return "in use"
	case ClassQuota:
		return "quota"
	case ClassNotFound:
		return "not found"
	}
	return "permanent"
}

// The classes as sentinels, for errors.Is. ErrNotFound (resource.go) is
// the not-found class's.
var (
	ErrTransient = errors.New("transient API error")
	ErrInUse     = errors.New("object in use")
	ErrPermanent = errors.New("permanent API error")
	ErrQuota     = errors.New("quota exceeded")
)

// APIError is a failed API call with its class. It unwraps to what
// gophercloud returned, so status checks and Humanize keep working.
type APIError struct {
	Class ErrorClass
	// Status is the HTTP status (0 when no response came back).
	Status int
	// Type is the service's own error type (NeutronError type, Nova's
	// top-level key), "" when the body has none.
	Type string
	err  error
}

func (e *APIError) Error() string { return e.err.Error() }
func (e *APIError) Unwrap() error { return e.err }

// Is matches the class's sentinel.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrTransient:
		return e.Class == ClassTransient
	case ErrInUse:
		return e.Class == ClassInUse
	case ErrPermanent:
		return e.Class == ClassPermanent
	case ErrQuota:
		return e.Class == ClassQuota
	case ErrNotFound:
		return e.Class == ClassNotFound
	}
	return false
}

// quota409 and permanent409 are the 409s waiting will not resolve, by the
// error type or message the services answer with.
var (
	quotaMarks   = []string{"OverQuota", "Quota exceeded", "QuotaExceeded"}
	permanent409 = []string{
		"IpAddressAlreadyAllocated", "IpAddressGenerationFailure", "MacAddressInUse",
		"SecurityGroupRuleExists", "already exists", "Duplicate",
	}
)

// Classify returns err as an *APIError with its class, or err unchanged
// when it is not an API call's failure (or is classified already).
func Classify(err error) error {
	if err == nil {
		return nil
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return err
	}
	var ue gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &ue) {
		kind, _ := parseBody(ue.Body)
		return &APIError{Class: classOf(ue.Actual, string(ue.Body)), Status: ue.Actual, Type: kind, err: err}
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		// Connection reset, refused mid-run, EOF, one request's timeout.
		return &APIError{Class: ClassTransient, err: err}
	}
	return err
}

func classOf(status int, body string) ErrorClass {
	has := func(marks []string) bool {
		for _, m := range marks {
			if strings.Contains(body, m) {
				return true
			}
		}
		return false
	}
	switch {
	case status == 429, status >= 500:
		return ClassTransient
	case status == 404:
		return ClassNotFound
	case (status == 409 || status == 403 || status == 413) && has(quotaMarks):
		return ClassQuota
	case status == 409 && has(permanent409):
		return ClassPermanent
	case status == 409:
		return ClassInUse
	}
	return ClassPermanent
}

// classify is the provider client's RetryFunc: it never asks gophercloud
// to retry (the engine retries whole operations, with backoff), it only
// gives every failed request its class.
func classify(_ context.Context, _, _ string, _ *gophercloud.RequestOpts, err error, _ uint) error {
	return Classify(err)
}
