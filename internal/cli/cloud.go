package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/pflag"

	"github.com/fuelplan/fuelplan/engine/session"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/simcloud"
	"github.com/fuelplan/fuelplan/specs"
)

// simCloudName selects the built-in simulated cloud; servedCloudName is
// the clouds.yaml entry `sim serve` prints, another name so that following
// it reaches the served cloud and never the in-process one.
const (
	simCloudName    = "sim"
	servedCloudName = "fuelplan-sim"
)

// cloudOptions choose the cloud a command talks to.
type cloudOptions struct {
	cloud    string
	simState string
	simWorld string
	// labHTTP, set by connect to the simulated cloud, reaches the lab's
	// addresses there (its Fuel master) for the waits; nil elsewhere.
	labHTTP *http.Client
}

func (o *cloudOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.cloud, "cloud", "", `clouds.yaml entry to use (default: $OS_CLOUD, then the spec's "cloud:"); "sim" runs the built-in simulated cloud`)
	fs.StringVar(&o.simState, "sim-state", "", "with --cloud sim: the simulated cloud's state file (default .fuelplan/sim-state.json beside the spec); apply, destroy and unlock hold its lock (FILE.lock) while they run, plan and wait never write it")
	fs.StringVar(&o.simWorld, "sim-world", "", "with --cloud sim: a world file describing the host cloud (default: the built-in world)")
}

// name resolves which cloud: the flag, then OS_CLOUD, then the spec.
func (o *cloudOptions) name(lab *specs.Lab) string {
	if o.cloud != "" {
		return o.cloud
	}
	if env := os.Getenv("OS_CLOUD"); env != "" {
		return env
	}
	return lab.Cloud
}

// simAccess is what a command does to the simulated cloud's state file.
type simAccess struct {
	// write: the command changes the cloud. It holds the state file's
	// lock for its whole run, waiting up to lockWait for another writer
	// (and saying so on progress). A command that only reads never
	// writes the state back, so it cannot erase a concurrent change.
	write    bool
	lockWait time.Duration
	progress io.Writer
}

// readOnly is the access of plan and wait.
var readOnly = simAccess{}

// connect authenticates against the chosen cloud. With --cloud sim it
// starts the simulated cloud in-process from its state file, so apply,
// plan and destroy work across separate invocations; a writing command's
// closer saves the state and releases its lock.
func (o *cloudOptions) connect(ctx context.Context, lab *specs.Lab, specPath string, access simAccess) (*resources.Cloud, func() error, error) {
	name := o.name(lab)
	if name == simCloudName {
		if file, entries := resources.CloudsEntries(); slices.Contains(entries, simCloudName) {
			return nil, nil, fmt.Errorf("cloud %q is ambiguous: it selects fuelplan's in-process simulated cloud, and %s also has an entry named %q; "+
				"rename that entry (a `fuelplan sim serve` prints %q) and use its new name", simCloudName, file, simCloudName, servedCloudName)
		}
	}
	if name != simCloudName {
		c, err := resources.Connect(ctx, resources.Target{CloudName: name})
		if err != nil {
			return nil, nil, err
		}
		return c, func() error { return nil }, nil
	}
	cfg := simcloud.Config{StateFile: o.simState, ReadOnly: !access.write, LockWait: access.lockWait, LockProgress: access.progress}
	if cfg.StateFile == "" {
		cfg.StateFile = filepath.Join(filepath.Dir(specPath), ".fuelplan", "sim-state.json")
	}
	if err := os.MkdirAll(filepath.Dir(cfg.StateFile), 0o755); err != nil {
		return nil, nil, fmt.Errorf("simulated cloud state: %w", err)
	}
	if o.simWorld != "" {
		w, err := simcloud.LoadWorld(o.simWorld)
		if err != nil {
			return nil, nil, err
		}
		cfg.World = w
	}
	sim, err := simcloud.StartContext(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	c, err := resources.Connect(ctx, resources.Target{CloudName: simCloudName, CloudsYAML: []byte(sim.CloudsYAML(simCloudName, sim.Admin()))})
	if err != nil {
		return nil, nil, errors.Join(err, sim.Close())
	}
	o.labHTTP = sim.LabHTTPClient()
	return c, sim.Close, nil
}

// session is a session on lab over the chosen cloud, printing on s.
func (o *cloudOptions) session(s *streams, lab *specs.Lab, specPath string, access simAccess) *session.Session {
	return &session.Session{
		Lab:       lab,
		CloudName: o.name(lab),
		Connect: func(ctx context.Context) (*resources.Cloud, func() error, error) {
			return o.connect(ctx, lab, specPath, access)
		},
		View:     &view{s: s},
		WaitHTTP: func() *http.Client { return o.labHTTP },
	}
}

// loadLab reads, validates and compiles a spec, printing warnings.
func loadLab(s *streams, path string) (*specs.Lab, error) {
	lab, diags := specs.LoadLab(path, os.LookupEnv)
	diags.Sort()
	for _, d := range diags.Warnings() {
		fmt.Fprintln(s.err, d)
	}
	if diags.HasErrors() {
		return nil, diags.Errors()
	}
	return lab, nil
}
