package cli

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/fuelplan/fuelplan/simcloud"
	"github.com/spf13/cobra"
)

func newSimCmd(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run the built-in simulated OpenStack cloud",
		Long: `Sim runs fuelplan's simulated OpenStack cloud: Keystone, Neutron, Nova and
Glance speaking the real REST APIs on 127.0.0.1, starting from a world file
(projects, users, the external network net04_ext, flavors, images,
hypervisors, extensions, quotas).`,
	}
	cmd.AddCommand(newSimServeCmd(s))
	return cmd
}

// simServeOptions are the flags of `fuelplan sim serve`.
type simServeOptions struct {
	listen string
	state  string
	world  string
	// The conditions the benchmarks run under, for other clients.
	latency         time.Duration
	buildTime       time.Duration
	volumeBuildTime time.Duration
	faultRate       float64
	faultStatus     int
	faultSeed       int64
}

func (o *simServeOptions) Validate() error {
	if o.listen == "" {
		return fmt.Errorf("--listen: empty address")
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--latency", o.latency}, {"--build-time", o.buildTime}, {"--volume-build-time", o.volumeBuildTime}} {
		if d.v < 0 {
			return fmt.Errorf("%s: %s is negative", d.flag, d.v)
		}
	}
	if o.faultRate < 0 || o.faultRate > 1 || math.IsNaN(o.faultRate) {
		return fmt.Errorf("--fault-rate: %v is not between 0 and 1", o.faultRate)
	}
	if o.faultStatus != 0 && (o.faultStatus < 400 || o.faultStatus > 599) {
		return fmt.Errorf("--fault-status: %d is not an HTTP error status (400-599) or 0 (no answer)", o.faultStatus)
	}
	return nil
}

// faultPrefixes are the APIs --fault-rate fails: every service's but
// Keystone's and the version documents at the services' roots, whose
// failures would only stop a client from starting.
var faultPrefixes = []string{"/network/v2.0/", "/compute/v2.1/", "/image/v2/", "/volume/v3/"}

// faults are the faults --fault-rate asks for, one per service, each
// with its own seeded draw so a run can be repeated.
func (o *simServeOptions) faults() []simcloud.Fault {
	if o.faultRate == 0 {
		return nil
	}
	var out []simcloud.Fault
	for i, p := range faultPrefixes {
		out = append(out, simcloud.Fault{Path: p, Rate: o.faultRate, Status: o.faultStatus, Seed: o.faultSeed + int64(i)})
	}
	return out
}

func newSimServeCmd(s *streams) *cobra.Command {
	o := &simServeOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the simulated cloud until interrupted, printing a clouds.yaml for it",
		Long: `Serve starts the simulated cloud and prints a clouds.yaml with two clouds:
"fuelplan-sim" (user admin, project admin) and "fuelplan-sim-demo" (user
demo, project demo, role member): not "sim", which --cloud and OS_CLOUD
reserve for the in-process simulated cloud. Save it and point any OpenStack client at it. It serves until
interrupted (Ctrl-C).

With --state the cloud's state is loaded from FILE if it exists and written
back atomically after changes and on exit, so a restart continues where
the last run stopped. A corrupt state file is an error: delete it to start
afresh. Without --state everything is forgotten on exit. A large state is
written at checkpoints rather than after every change (at most about 256 KB
per second), so a process killed with SIGKILL loses the last few seconds of
changes; the file it leaves always loads.

--latency, --build-time, --volume-build-time and --fault-rate reproduce the
conditions of fuelplan's benchmarks for any client: a delay before every
request, how long a new server stays BUILD and a new volume "creating", and
the share of requests to Neutron, Nova, Glance and Cinder (never Keystone nor
the version documents clients read first) that fail with --fault-status (0: held unanswered until the client gives up),
drawn from --fault-seed so a run can be repeated.

The cloud only listens on loopback addresses: its passwords are the world
file's well-known demo passwords.`,
		Example: `  # serve on a fixed port and use it with the openstack CLI
  fuelplan sim serve --listen 127.0.0.1:8080 --state sim-state.json > clouds.yaml &
  OS_CLIENT_CONFIG_FILE=clouds.yaml openstack --os-cloud fuelplan-sim-demo network list
  fuelplan plan lab.yaml --cloud fuelplan-sim

  # serve your own host cloud
  fuelplan sim serve --sim-world my-world.yaml

  # BenchmarkApply50's conditions: 50 ms per request, 5 s server builds
  fuelplan sim serve --latency 50ms --build-time 5s

  # one request in twenty to the services fails with 503
  fuelplan sim serve --fault-rate 0.05 --fault-status 503`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.run(cmd, s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:0", "loopback `ADDRESS` to serve on (port 0: any free port)")
	f.StringVar(&o.state, "state", "", "state `FILE` kept across restarts (default: memory only)")
	f.StringVar(&o.world, "sim-world", "", "world `FILE` describing the host cloud (default: the built-in one)")
	f.DurationVar(&o.latency, "latency", 0, "`DURATION` added to every request before it is handled")
	f.DurationVar(&o.buildTime, "build-time", 0, "`DURATION` a new server stays BUILD before it is ACTIVE")
	f.DurationVar(&o.volumeBuildTime, "volume-build-time", 0, "`DURATION` a new volume stays creating before it is available")
	f.Float64Var(&o.faultRate, "fault-rate", 0, "share (0 to 1) of requests to the services, Keystone aside, that fail")
	f.IntVar(&o.faultStatus, "fault-status", 503, "HTTP `STATUS` of the failed requests (0: no answer until the client gives up)")
	f.Int64Var(&o.faultSeed, "fault-seed", 1, "`SEED` of the draw of failing requests")
	return cmd
}

func (o *simServeOptions) run(cmd *cobra.Command, s *streams) error {
	cfg := simcloud.Config{Listen: o.listen, StateFile: o.state, Latency: o.latency}
	if o.world != "" {
		w, err := simcloud.LoadWorld(o.world)
		if err != nil {
			return err
		}
		cfg.World = w
	}
	cloud, err := simcloud.Start(cfg)
	if err != nil {
		return err
	}
	cloud.Knobs().SetBuildTime(o.buildTime)
	cloud.Knobs().SetVolumeBuildTime(o.volumeBuildTime)
	cloud.InjectFaults(o.faults()...)
	yaml := cloud.CloudsYAML(servedCloudName, cloud.Admin()) +
		strings.TrimPrefix(cloud.CloudsYAML(servedCloudName+"-demo", cloud.Member()), "clouds:\n")
	fmt.Fprint(s.out, yaml)
	fmt.Fprintf(s.err, "fuelplan sim: serving %s (auth URL %s); Ctrl-C to stop\n", cloud.URL, cloud.AuthURL)

	<-cmd.Context().Done()
	fmt.Fprintln(s.err, "fuelplan sim: stopping")
	return cloud.Close()
}
