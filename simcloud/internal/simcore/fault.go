package simcore

import (
	"fmt"
	"net/http"
)

// WSGIFaults writes the error bodies of the services built on OpenStack's
// wsgi Fault (Nova, Cinder): {"itemNotFound": {"code": 404, "message":
// ...}}. Each service names the body key per status in its own table, as
// each real service does; a status without a name is "computeFault".
type WSGIFaults map[int]string

// Write answers status with msg.
func (f WSGIFaults) Write(w http.ResponseWriter, status int, msg string) {
	name, ok := f[status]
	if !ok {
		name = "computeFault"
	}
	WriteJSON(w, status, map[string]any{name: map[string]any{"code": status, "message": msg}})
}

// Writef answers status with a formatted message.
func (f WSGIFaults) Writef(w http.ResponseWriter, status int, format string, args ...any) {
	f.Write(w, status, fmt.Sprintf(format, args...))
}
