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

// atPace is d at the pace of the measurements in TestCriticalPathPriorities:
// 3 s for a port and 1 s for a volume against their Typical durations.
func atPace(d time.Duration) time.Duration {
	return time.Duration(float64(d) * float64(4*time.Second) / float64(typical(specs.KindPort)+typical(specs.KindVolume)))
}

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
			// The server, not measured yet, is guessed at the pace of
			// what was: 4 s measured for 11 s of guesses.
			name:     "measured durations replace the guesses, per kind; the rest at the measured pace",
			measured: map[Op]time.Duration{lonePort: 3 * time.Second, vol: time.Second},
			want: map[Op]time.Duration{
				srv:      atPace(typical(specs.KindServer)),
				vol:      time.Second + discounted(atPace(typical(specs.KindServer))),
				port:     3*time.Second + discounted(atPace(typical(specs.KindServer))),
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

// The walker ranks waiting operations again when the estimates move
// (Version), and holds back only the longest kinds (Long).
func TestCriticalPathVersionAndLong(t *testing.T) {
	port := Op{PhaseCreate, "port.slave-01.admin"}
	vol := Op{PhaseCreate, "volume.slave-01"}
	srv := Op{PhaseCreate, "server.slave-01"}
	c := newCriticalPath(map[Op][]Op{port: nil, vol: nil, srv: {port, vol}})

	for op, want := range map[Op]bool{srv: true, vol: false, port: false} {
		if got := c.Long(op); got != want {
			t.Errorf("Long(%s) = %v, want %v", op, got, want)
		}
	}

	v := c.Version()
	c.Measured(port, typical(specs.KindPort)) // as guessed: nothing moves
	if c.Version() != v {
		t.Error("a measurement equal to the guess changed the priorities' version")
	}
	before := c.Priority(port)[0]
	c.Measured(srv, typical(specs.KindServer)/10) // builds are quicker than guessed
	if c.Version() == v {
		t.Fatal("an estimate ten times off left the version as it was")
	}
	if after := c.Priority(port)[0]; after >= before {
		t.Errorf("port's priority %v after a quick build, want below %v", after, before)
	}
}

// A teardown on a quick cloud: server deletes measured at 0.1 s, the
// subnets and networks deleted last not measured yet. Guessed at their
// Typical second, they made a port's delete outrank the server delete
// that frees more ports; at the measured pace the server goes first.
func TestCriticalPathGuessesAtTheMeasuredPace(t *testing.T) {
	srv := Op{PhaseDestroy, "server.slave-01"}
	port := Op{PhaseDestroy, "port.slave-02.admin"}
	subnet := Op{PhaseDestroy, "subnet.admin"}
	network := Op{PhaseDestroy, "network.admin"}
	freed := Op{PhaseDestroy, "port.slave-01.admin"}
	other := Op{PhaseDestroy, "server.slave-03"}
	c := newCriticalPath(map[Op][]Op{
		srv: nil, other: nil, freed: {srv}, port: {other},
		subnet: {port, freed}, network: {subnet},
	})
	c.Measured(other, 100*time.Millisecond)
	if s, p := c.Priority(srv)[0], c.Priority(port)[0]; s <= p {
		t.Errorf("server delete ranked %v, below or at the port delete's %v", s, p)
	}
}
