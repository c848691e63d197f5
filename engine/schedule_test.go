package engine

import (
	"math"
	"testing"
	"time"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

func typical(k specs.Kind) time.Duration {
	d, _ := resources.KindOf(k)
	return d.Typical
}

func discounted(d time.Duration) time.Duration { return time.Duration(pathDiscount * float64(d)) }

// The critical path is data: each operation's priority is its estimated
// time to the end of the graph, from the registered guesses until the run
// measures its own.
func TestCriticalPathPriorities(t *testing.T) {
	vol := Op{PhaseCreate, "volume.slave-01"}
	port := Op{PhaseCreate, "port.slave-01.admin"}
	lonePort := Op{PhaseCreate, "port.slave-02.admin"}
	srv := Op{PhaseCreate, "server.slave-01"}
	g := map[Op][]Op{vol: nil, port: nil, lonePort: nil, srv: {vol, port}}
	tests := []struct {
		name     string
		measured map[Op]time.Duration
		want     map[Op]time.Duration
	}{
		{
			name: "registered guesses",
			want: map[Op]time.Duration{
				srv:      typical(specs.KindServer),
				vol:      typical(specs.KindVolume) + discounted(typical(specs.KindServer)),
				port:     typical(specs.KindPort) + discounted(typical(specs.KindServer)),
				lonePort: typical(specs.KindPort),
			},
		},
		{
			name:     "measured durations replace the guesses, per kind",
			measured: map[Op]time.Duration{lonePort: 3 * time.Second, vol: time.Second},
			want: map[Op]time.Duration{
				srv:      typical(specs.KindServer),
				vol:      time.Second + discounted(typical(specs.KindServer)),
				port:     3*time.Second + discounted(typical(specs.KindServer)),
				lonePort: 3 * time.Second,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCriticalPath(g)
			c.Priority(srv) // computed once from the guesses
			for op, d := range tt.measured {
				c.Measured(op, d)
			}
			for op, want := range tt.want {
				if got := c.Priority(op)[0]; math.Abs(got-want.Seconds()) > 1e-6 {
					t.Errorf("%s: priority %v, want %v", op, got, want.Seconds())
				}
			}
		})
	}
}
