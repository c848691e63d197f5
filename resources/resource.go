// Package resources holds one adapter per resource kind: each maps a
// compiled spec instance (package specs) to gophercloud v2 calls and back
// to a flat, comparable view of the live object. Adapters hold no state
// between calls and know nothing of plans or graphs: the engine decides
// what to call and in which order.
package resources

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/fuelplan/fuelplan/specs"
)

// ErrNotFound is returned by Get for an object that no longer exists.
var ErrNotFound = errors.New("not found")

// Cloud is what adapters talk to: one authenticated service client per
// API, and what the engine learnt about the cloud once per run.
type Cloud struct {
	Network *gophercloud.ServiceClient
	Compute *gophercloud.ServiceClient
	Image   *gophercloud.ServiceClient
	Volume  *gophercloud.ServiceClient // nil where the cloud has no Cinder
	// ProjectID of the token; Admin when the token has the admin role
	// (needed for host lookups and flavor creation).
	ProjectID string
	Admin     bool
	// Extensions are Neutron's enabled extension aliases.
	Extensions map[string]bool

	// What the adapters share while this Cloud is used: the watchers of
	// waits (watch.go) and the batches of port creates (bulkport.go).
	watchMu  sync.Mutex
	watchers map[string]any
	bulkMu   sync.Mutex
	bulk     *portBulk
}

// HasExtension reports whether Neutron has the extension alias.
func (c *Cloud) HasExtension(alias string) bool { return c.Extensions[alias] }

// VLANCaps is what vlan_mode auto needs to know of the cloud.
func (c *Cloud) VLANCaps() specs.Caps {
	return specs.Caps{Known: true, Trunk: c.HasExtension("trunk"), VLANTransparent: c.HasExtension("vlan-transparent")}
}

// The ownership mark. Taggable objects carry both tags from their
// creation request on, so a crash mid-create leaves nothing unmarked.
const (
	labTagPrefix  = "fuelplan-lab:"
	addrTagPrefix = "fuelplan-addr:"
)

// LabTag is the tag every object of the lab carries; reads filter on it.
func LabTag(lab string) string { return labTagPrefix + lab }

// AddrTag is the tag that says which spec address an object implements.
func AddrTag(a specs.Address) string { return addrTagPrefix + string(a) }

// Ownership reads the mark back from an object's tags: the address it
// implements when it carries the lab's tag, else "".
func Ownership(lab string, tags []string) specs.Address {
	owned := false
	var addr specs.Address
	for _, t := range tags {
		switch {
		case t == LabTag(lab):
			owned = true
		case strings.HasPrefix(t, addrTagPrefix):
			addr = specs.Address(strings.TrimPrefix(t, addrTagPrefix))
		}
	}
	if !owned {
		return ""
	}
	return addr
}

// Field describes one comparable field of a kind.
type Field struct {
	Name string
	// ForceNew: the API cannot change it; a difference replaces the object.
	ForceNew bool
	// FollowsReplace: a reference the API cannot re-point while its old
	// target exists: when the object it already refers to is replaced,
	// this one is replaced too. A new reference is still set in place.
	// (A trunk's subport: Neutron refuses to delete a port that is a
	// subport, so the trunk goes first and comes back with the new port.)
	FollowsReplace bool
	// Sensitive values are never printed.
	Sensitive bool
	// Type says how a value reads, so a plan shows a number as a number
	// and a list as a list (values are compared as canonical strings).
	Type ValueType
}

// ValueType is how a field's canonical string reads.
type ValueType string

const (
	Text    ValueType = ""        // a string
	Number  ValueType = "number"  // decimal digits
	Boolean ValueType = "bool"    // true or false
	List    ValueType = "list"    // items joined by ","
	Devices ValueType = "devices" // block devices: "name=type/bus/boot_index;..."
)

// Schema lists a kind's comparable fields.
type Schema []Field

// Lookup returns the field named n.
func (s Schema) Lookup(n string) (Field, bool) {
	for _, f := range s {
		if f.Name == n {
			return f, true
		}
	}
	// Keyed families ("ports.admin") take the properties of "ports.*".
	if i := strings.IndexByte(n, '.'); i > 0 {
		return s.Lookup(n[:i] + ".*")
	}
	return Field{}, false
}

// Fields are canonical string values keyed by field name. Lists are
// sorted and joined with ","; maps as "k=v" pairs; absent means unset.
type Fields map[string]string

// Refs are the desired fields whose value is the ID of other lab
// resources, keyed by field name: one address for a single reference
// (a port's network), several for a set (a port's security groups). The
// live side holds the ID, or the sorted IDs joined with ",", in Fields.
type Refs map[string][]specs.Address

// Desired is the comparable view of a spec instance.
type Desired struct {
	Fields Fields
	Refs   Refs
	// Notes are what a reviewer must see about the change and no field
	// shows, such as the commands a patch runs on compute nodes; never
	// compared with the cloud.
	Notes []string
}

// Object is one live cloud object as read.
type Object struct {
	Kind specs.Kind
	// Address is the spec address the object implements, from its mark;
	// empty for an object fuelplan does not own. Lookups set it too.
	Address specs.Address
	Owned   bool
	ID      string
	Name    string
	// Revision moves whenever the object changes (Neutron revision_number,
	// Nova updated, Glance updated_at), for saved-plan staleness checks.
	Revision string
	// Status is the object's status where the API has one (server ACTIVE).
	Status string
	Fields Fields

	// lab is the lab whose mark the read found on it ("" = not known),
	// so that a wait for its delete can list that lab's objects only.
	lab string
}

// IDs resolves lab addresses to the IDs of their live objects while the
// engine works; lookups and created objects are there too.
type IDs interface {
	ID(specs.Address) (string, bool)
}

// Snapshot is the live state read so far, for adapters whose view of an
// object depends on another kind (a server's ports, a router interface's
// subnet).
type Snapshot interface {
	Objects(specs.Kind) []*Object
}

// Query says what List must find.
type Query struct {
	Lab string
	// Want are the spec instances of the adapter's kind: their names are
	// checked for unowned conflicts, lookups are found by name.
	Want []specs.Resource
	// Read is what earlier kinds' Lists returned.
	Read Snapshot
}

// Adapter manages one kind.
type Adapter interface {
	Kind() specs.Kind
	Schema() Schema
	// Desired renders an instance as comparable fields; only fields the
	// spec sets appear, so server-side defaults are never drift.
	Desired(r specs.Resource) Desired
	// List reads, with a handful of list calls, every object the lab owns
	// of this kind, and every unowned object whose name a wanted instance
	// uses (Owned false: a conflict, or the found object of a lookup).
	List(ctx context.Context, c *Cloud, q Query) ([]*Object, error)
	// Get re-reads one object by ID; ErrNotFound when it is gone.
	Get(ctx context.Context, c *Cloud, id string) (*Object, error)
	// Create makes the object, marked as the lab's from the first request,
	// and waits until it is usable.
	Create(ctx context.Context, c *Cloud, lab string, r specs.Resource, ids IDs) (*Object, error)
	// Update changes the named fields in place.
	Update(ctx context.Context, c *Cloud, r specs.Resource, live *Object, fields []string, ids IDs) (*Object, error)
	// Delete removes the object and waits until it is gone.
	Delete(ctx context.Context, c *Cloud, live *Object) error
}

// Relater is implemented by adapters that complete their objects from
// other kinds once everything is read (a server's ports by network).
type Relater interface {
	Relate(objs []*Object, all Snapshot)
}

// Lookup is implemented by adapters of things the lab uses but never
// creates or deletes (external network; images and flavors marked existing).
type Lookup interface {
	IsLookup(r specs.Resource) bool
}

// Registry maps kinds to adapters, listed explicitly in one place.
type Registry map[specs.Kind]Adapter

// Adapter returns the adapter for a kind.
func (r Registry) Adapter(k specs.Kind) (Adapter, error) {
	a, ok := r[k]
	if !ok {
		return nil, fmt.Errorf("no adapter for kind %q", k)
	}
	return a, nil
}

// JoinSorted renders a list field canonically.
func JoinSorted(vs []string) string {
	c := append([]string(nil), vs...)
	sort.Strings(c)
	return strings.Join(c, ",")
}
