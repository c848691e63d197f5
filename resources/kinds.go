package resources

import (
	"errors"
	"io"
	"time"

	"github.com/fuelplan/fuelplan/internal/sshx"
	"github.com/fuelplan/fuelplan/specs"
)

// Kind is everything the rest of fuelplan needs to know about one
// resource kind, registered once in kinds below. The engine reads only
// its generic fields (rank, timeout, cap); the adapter carries the
// OpenStack knowledge. TestEveryKindIsRegistered fails when a specs.Kind
// lacks a descriptor or a descriptor lacks a part.
type Kind struct {
	Kind specs.Kind
	// Adapter makes the kind's adapter (a fresh one per Registry: the
	// patch adapter holds an SSH pool). Nil only with NotInCloud.
	Adapter func() Adapter
	// NotInCloud says why a kind has no adapter (a wait is a check run
	// after apply, not a cloud object); empty for every managed kind.
	NotInCloud string
	// TeardownRank orders deletes of objects the spec no longer has (whose
	// dependencies only the cloud knows): a kind is deleted only after
	// every kind of a lower rank is (servers free their ports, floating
	// IPs and router interfaces free subnets, ports free networks and
	// groups...). Ranks start at 1, so 0 means unregistered.
	TeardownRank int
	// Timeout bounds one operation with its retries and waits.
	Timeout time.Duration
	// Typical is how long one operation of this kind usually takes on a
	// cloud, a first guess the apply's scheduler replaces with what it
	// measures: it starts the longest chains of work first.
	Typical time.Duration
	// Bulk is how many creates of this kind the adapter can send as one
	// request (port creates started together go as one bulk POST, see
	// bulkport.go); 0 or 1: none. The engine starts up to that many ready
	// creates of the kind together in one slot of --parallelism
	// (walk.Options.Batch), so they reach the adapter at once.
	Bulk int
	// DefaultCap caps operations of this kind in flight below
	// --parallelism (0: no cap of its own); --kind-limit overrides it.
	DefaultCap int
	// ListReads are the kinds whose objects the adapter's List reads from
	// Query.Read (an interface's router and subnet): they are listed
	// before it; kinds without are listed at the same time.
	ListReads []specs.Kind
	// Mark is how an object of this kind carries the lab's ownership.
	Mark Mark
	// Inventory lists the kind's objects in a project, for the end-to-end
	// suite's "the cloud is as it was" check; nil with NoInventory.
	Inventory InventoryFunc
	// NoInventory says why the kind is not listed (it is part of another
	// kind's object, or never created by the lab).
	NoInventory string
	// ReleasedBy are the kinds whose in-place updates can free an object
	// of this kind that the spec dropped: its delete waits for their
	// updates (a port may still be a trunk's subport, which Neutron
	// refuses to delete, until the trunk's update removes it).
	ReleasedBy []specs.Kind
}

// Mark is how a kind's objects say that they are the lab's.
type Mark string

const (
	// MarkNeutronTags: the lab and address tags, in the create request
	// where Neutron has tag-creation, else a creation-mark description
	// followed at once by the tags (see mark.go).
	MarkNeutronTags Mark = "neutron tags"
	// MarkCreateTags: the lab and address tags in the create request
	// (Nova servers from microversion 2.52, Glance images).
	MarkCreateTags Mark = "tags in the create request"
	// MarkExtraSpecs: flavor extra specs naming the lab and address.
	MarkExtraSpecs Mark = "extra specs"
	// MarkMetadata: volume metadata naming the lab and address.
	MarkMetadata Mark = "metadata"
	// MarkName: no field can carry a mark (Nova keypairs); the spec's
	// name and content identify the object.
	MarkName Mark = "name and content"
	// MarkParent: the object is the lab's when its parent is (a router's
	// interface, a lab group's rule).
	MarkParent Mark = "parent's mark"
	// MarkLookup: never created or deleted, only found by name.
	MarkLookup Mark = "looked up, never created"
	// MarkNone: not a cloud object (a compute-node patch's state, a wait).
	MarkNone Mark = "not a cloud object"
)

const (
	opTimeout   = 5 * time.Minute
	slowTimeout = 15 * time.Minute // servers build, images upload, volumes fill
)

// kinds is every kind fuelplan knows, in specs.Kinds order: the one place
// a kind is registered.
var kinds = []Kind{
	{Kind: specs.KindExternalNetwork, Adapter: func() Adapter { return ExternalNetwork{} },
		TeardownRank: 8, Timeout: opTimeout, Mark: MarkLookup,
		NoInventory: "looked up, never created"},
	{Kind: specs.KindImage, Adapter: func() Adapter { return &Image{} },
		// Uploads share the operator's uplink: two at a time.
		TeardownRank: 5, Timeout: slowTimeout, Typical: 2 * time.Minute, DefaultCap: 2, Mark: MarkCreateTags,
		Inventory: inventoryImages},
	{Kind: specs.KindFlavor, Adapter: func() Adapter { return Flavor{} },
		TeardownRank: 4, Timeout: opTimeout, Typical: time.Second, Mark: MarkExtraSpecs,
		Inventory: inventoryFlavors},
	{Kind: specs.KindNetwork, Adapter: func() Adapter { return Network{} },
		TeardownRank: 7, Timeout: opTimeout, Typical: time.Second, Mark: MarkNeutronTags, Inventory: inventoryNetworks},
	{Kind: specs.KindSubnet, Adapter: func() Adapter { return Subnet{} },
		TeardownRank: 5, Timeout: opTimeout, Typical: time.Second, Mark: MarkNeutronTags, Inventory: inventorySubnets},
	{Kind: specs.KindRouter, Adapter: func() Adapter { return Router{} },
		TeardownRank: 6, Timeout: opTimeout, Typical: 2 * time.Second, Mark: MarkNeutronTags, Inventory: inventoryRouters},
	{Kind: specs.KindRouterInterface, Adapter: func() Adapter { return RouterInterface{} },
		TeardownRank: 3, Timeout: opTimeout, Typical: 2 * time.Second, Mark: MarkParent,
		ListReads:   []specs.Kind{specs.KindRouter, specs.KindSubnet},
		NoInventory: "an interface port goes with its router"},
	{Kind: specs.KindSecurityGroup, Adapter: func() Adapter { return SecurityGroup{} },
		TeardownRank: 5, Timeout: opTimeout, Typical: time.Second, Mark: MarkNeutronTags, Inventory: inventorySecurityGroups},
	{Kind: specs.KindSecurityGroupRule, Adapter: func() Adapter { return SecurityGroupRule{} },
		TeardownRank: 4, Timeout: opTimeout, Typical: time.Second, Mark: MarkParent,
		ListReads:   []specs.Kind{specs.KindSecurityGroup},
		NoInventory: "a rule goes with its group"},
	{Kind: specs.KindKeypair, Adapter: func() Adapter { return Keypair{} },
		TeardownRank: 4, Timeout: opTimeout, Typical: time.Second, Mark: MarkName, Inventory: inventoryKeypairs},
	{Kind: specs.KindPort, Adapter: func() Adapter { return Port{} },
		TeardownRank: 4, Timeout: opTimeout, Typical: time.Second, Mark: MarkNeutronTags, Inventory: inventoryPorts,
		Bulk: bulkMax, ReleasedBy: []specs.Kind{specs.KindTrunk}},
	// After the server on its parent port, before its ports (Neutron
	// refuses to delete a trunk's parent or subport ports).
	{Kind: specs.KindTrunk, Adapter: func() Adapter { return Trunk{} },
		TeardownRank: 3, Timeout: opTimeout, Typical: time.Second, Mark: MarkNeutronTags, Inventory: inventoryTrunks},
	{Kind: specs.KindVolume, Adapter: func() Adapter { return Volume{} },
		TeardownRank: 3, Timeout: slowTimeout, Typical: 10 * time.Second, Mark: MarkMetadata,
		Inventory: inventoryVolumes},
	// Servers are not capped by default (--parallelism 50 means 50
	// builds); --kind-limit server=N caps them for a cloud whose scheduler
	// wants fewer at once.
	{Kind: specs.KindServer, Adapter: func() Adapter { return Server{} },
		TeardownRank: 2, Timeout: slowTimeout, Typical: time.Minute, Mark: MarkCreateTags, Inventory: inventoryServers},
	{Kind: specs.KindFloatingIP, Adapter: func() Adapter { return FloatingIP{} },
		TeardownRank: 3, Timeout: opTimeout, Typical: 2 * time.Second, Mark: MarkNeutronTags, Inventory: inventoryFloatingIPs},
	{Kind: specs.KindPatch, Adapter: func() Adapter { return NewPatch(sshx.Config{}) },
		TeardownRank: 1, Timeout: opTimeout, Typical: 5 * time.Second, Mark: MarkNone,
		ListReads:   []specs.Kind{specs.KindPort, specs.KindServer},
		NoInventory: "a patch is a compute node's state, not an object of the project"},
	{Kind: specs.KindWait, NotInCloud: "a readiness check run after apply (package waits)",
		TeardownRank: 1, Mark: MarkNone, NoInventory: "not a cloud object"},
}

// Kinds returns every registered kind, in specs.Kinds order.
func Kinds() []Kind { return append([]Kind(nil), kinds...) }

// KindOf returns the descriptor of a kind.
func KindOf(k specs.Kind) (Kind, bool) {
	for _, d := range kinds {
		if d.Kind == k {
			return d, true
		}
	}
	return Kind{}, false
}

// DefaultCaps are the kinds' DefaultCap values, keyed as the walker's
// classes and --kind-limit are (the kind's name).
func DefaultCaps() map[string]int {
	out := map[string]int{}
	for _, d := range kinds {
		if d.DefaultCap > 0 {
			out[string(d.Kind)] = d.DefaultCap
		}
	}
	return out
}

// Default is every adapter fuelplan has, fresh, from the registrations:
// a kind without an adapter here is one the engine cannot manage. Some
// adapters hold connections (the patch adapter's SSH pool): whoever calls
// Default closes the registry with Close when done with it.
func Default() Registry {
	reg := Registry{}
	for _, d := range kinds {
		if d.Adapter != nil {
			reg[d.Kind] = d.Adapter()
		}
	}
	return reg
}

// Close closes every adapter that holds connections (the patch adapter's
// SSH pool). A registry is closed by whoever made it, once.
func (r Registry) Close() error {
	var errs []error
	for _, d := range kinds {
		if c, ok := r[d.Kind].(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}
