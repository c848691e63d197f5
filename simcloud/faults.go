package simcloud

import (
	"fmt"
	"math/rand"
	"net/http"
	"strings"
	"time"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// Fault makes a share of matching requests fail, for reliability tests.
type Fault struct {
	Method string // "" matches every method
	// Path is a prefix of the request's full path, e.g.
	// "/network/v2.0/ports"; "" matches every path.
	Path string
	// Rate is the share of matching requests that fail, in (0, 1];
	// 0 means every matching request.
	Rate float64
	// Status is the HTTP status to answer with (500, 503, 409, 429, ...),
	// with the service's own error body. 0 is a timeout: the request is
	// held, unanswered, until the client gives up (at most holdMax).
	Status int
	// Delay, when set, makes a matching request slow instead of failing
	// it (Status is not used): it is handled after Delay. A request that
	// changes something is handled even if its client went away
	// meanwhile, as a real cloud does (see Cloud.delay), so a create sent
	// by a process killed before the answer lands after the kill.
	Delay time.Duration
	// Max bounds how many requests this fault fails; 0 is unlimited.
	Max int
	// Seed makes the choice of failing requests repeatable.
	Seed int64
}

// holdMax bounds how long a timeout fault holds a request, so a client
// without a timeout is not stuck for ever.
const holdMax = 2 * time.Minute

type activeFault struct {
	Fault
	rng  *rand.Rand
	hits int
}

// InjectFaults adds faults; a request is failed by the first one that
// matches it and draws a failure.
func (c *Cloud) InjectFaults(faults ...Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range faults {
		c.faults = append(c.faults, &activeFault{Fault: f, rng: rand.New(rand.NewSource(f.Seed))})
	}
}

// ClearFaults removes every injected fault.
func (c *Cloud) ClearFaults() {
	c.mu.Lock()
	c.faults = nil
	c.mu.Unlock()
}

// fault returns the fault that fails r, if any.
func (c *Cloud) fault(r *http.Request) *activeFault {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.faults {
		if (f.Method != "" && f.Method != r.Method) || !strings.HasPrefix(r.URL.Path, f.Path) {
			continue
		}
		if f.Max > 0 && f.hits >= f.Max {
			continue
		}
		if f.Rate > 0 && f.rng.Float64() >= f.Rate {
			continue
		}
		f.hits++
		return f
	}
	return nil
}

// fail answers r as the fault says.
func (c *Cloud) fail(w http.ResponseWriter, r *http.Request, m *mount, status int) {
	if status == 0 {
		t := time.NewTimer(holdMax)
		defer t.Stop()
		select {
		case <-r.Context().Done():
			return
		case <-c.closing:
			return
		case <-t.C:
			status = http.StatusGatewayTimeout
		}
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	msg := fmt.Sprintf("Injected fault: %d %s on %s %s", status, http.StatusText(status), r.Method, normalizePath(r.URL.Path))
	simcore.WriteJSON(w, status, m.errorBody(status, msg))
}
