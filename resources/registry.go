package resources

import (
	"github.com/fuelplan/fuelplan/internal/sshx"
	"github.com/fuelplan/fuelplan/specs"
)

// Default is every adapter fuelplan has, registered explicitly: a kind
// without an adapter here is one the engine cannot manage.
func Default() Registry {
	return Registry{
		specs.KindExternalNetwork:   ExternalNetwork{},
		specs.KindNetwork:           Network{},
		specs.KindSubnet:            Subnet{},
		specs.KindRouter:            Router{},
		specs.KindRouterInterface:   RouterInterface{},
		specs.KindSecurityGroup:     SecurityGroup{},
		specs.KindSecurityGroupRule: SecurityGroupRule{},
		specs.KindPort:              Port{},
		specs.KindFloatingIP:        FloatingIP{},
		specs.KindImage:             &Image{},
		specs.KindFlavor:            Flavor{},
		specs.KindKeypair:           Keypair{},
		specs.KindVolume:            Volume{},
		specs.KindServer:            Server{},
		specs.KindPatch:             NewPatch(sshx.Config{}),
	}
}
