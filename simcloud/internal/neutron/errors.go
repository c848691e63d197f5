package neutron

import (
	"fmt"
	"net/http"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// apiError is a Neutron fault: the HTTP status and the NeutronError body
// real Neutron sends, whose "type" is the exception class name clients
// (and humans reading logs) match on.
type apiError struct {
	Status  int
	Type    string
	Message string
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

func writeError(w http.ResponseWriter, e *apiError) {
	simcore.WriteJSON(w, e.Status, map[string]any{"NeutronError": map[string]string{
		"type": e.Type, "message": e.Message, "detail": "",
	}})
}

func errf(status int, typ, format string, args ...any) *apiError {
	return &apiError{Status: status, Type: typ, Message: fmt.Sprintf(format, args...)}
}

// badRequest is what Neutron's API layer returns for attribute validation
// failures (webob's HTTPBadRequest, hence the type).
func badRequest(format string, args ...any) *apiError {
	return errf(http.StatusBadRequest, "HTTPBadRequest", format, args...)
}

// invalidInput is neutron_lib's InvalidInput, raised deeper in the plugin.
func invalidInput(format string, args ...any) *apiError {
	return errf(http.StatusBadRequest, "InvalidInput", "Invalid input for operation: "+format+".", args...)
}

// badResource is neutron_lib's BadRequest(resource=..., msg=...).
func badResource(resource, format string, args ...any) *apiError {
	return errf(http.StatusBadRequest, "BadRequest", "Bad %s request: %s.", resource, fmt.Sprintf(format, args...))
}

func notFoundPage() *apiError {
	return errf(http.StatusNotFound, "HTTPNotFound", "The resource could not be found.")
}

func policyError(action string) *apiError {
	return errf(http.StatusForbidden, "PolicyNotAuthorized", "(rule:%s) is disallowed by policy", action)
}

func overQuota(resource string) *apiError {
	return errf(http.StatusConflict, "OverQuota", "Quota exceeded for resources: ['%s'].", resource)
}
