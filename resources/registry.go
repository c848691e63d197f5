package resources

import "github.com/fuelplan/fuelplan/specs"

// Default is every adapter fuelplan has, registered explicitly: a kind
// without an adapter here is one the engine cannot manage.
func Default() Registry {
	return Registry{
		specs.KindImage:   &Image{},
		specs.KindFlavor:  Flavor{},
		specs.KindKeypair: Keypair{},
		specs.KindServer:  Server{},
	}
}
