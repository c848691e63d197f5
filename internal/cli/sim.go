package cli

import (
	"fmt"
	"strings"

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
}

func (o *simServeOptions) Validate() error {
	if o.listen == "" {
		return fmt.Errorf("--listen: empty address")
	}
	return nil
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
back atomically after every change and on exit, so a restart continues where
the last run stopped. A corrupt state file is an error: delete it to start
afresh. Without --state everything is forgotten on exit.

The cloud only listens on loopback addresses: its passwords are the world
file's well-known demo passwords.`,
		Example: `  # serve on a fixed port and use it with the openstack CLI
  fuelplan sim serve --listen 127.0.0.1:8080 --state sim-state.json > clouds.yaml &
  OS_CLIENT_CONFIG_FILE=clouds.yaml openstack --os-cloud fuelplan-sim-demo network list
  fuelplan plan lab.yaml --cloud fuelplan-sim

  # serve your own host cloud
  fuelplan sim serve --sim-world my-world.yaml`,
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
	return cmd
}

func (o *simServeOptions) run(cmd *cobra.Command, s *streams) error {
	cfg := simcloud.Config{Listen: o.listen, StateFile: o.state}
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
	yaml := cloud.CloudsYAML(servedCloudName, cloud.Admin()) +
		strings.TrimPrefix(cloud.CloudsYAML(servedCloudName+"-demo", cloud.Member()), "clouds:\n")
	fmt.Fprint(s.out, yaml)
	fmt.Fprintf(s.err, "fuelplan sim: serving %s (auth URL %s); Ctrl-C to stop\n", cloud.URL, cloud.AuthURL)

	<-cmd.Context().Done()
	fmt.Fprintln(s.err, "fuelplan sim: stopping")
	return cloud.Close()
}
