package resources

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/fuelplan/fuelplan/internal/sshx"
	"github.com/fuelplan/fuelplan/patches"
	"github.com/fuelplan/fuelplan/specs"
)

// Patch manages compute-node patches. A patch is not a cloud object: its
// live view is a state read afresh each time ("in place", or "needed:
// why"), so a plan shows the patch needed until it is applied and again
// after the Neutron agent undoes it. The state that is not "in place" also
// says which method the patch takes and why, which is how the plan shows
// it. Problems with one host (unreachable, not in the inventory, no
// admin rights to find it) become that patch's state, so they fail only
// its own apply; a host key that does not match known_hosts fails the
// read outright.
type Patch struct {
	ssh *sshx.Pool
}

// NewPatch returns the patch adapter; its SSH connections, one per host,
// live until Close.
func NewPatch(cfg sshx.Config) *Patch { return &Patch{ssh: sshx.NewPool(cfg)} }

// Close closes the SSH connections.
func (a *Patch) Close() error { return a.ssh.Close() }

// InPlace is the state of a patch that needs nothing done.
const InPlace = "in place"

func (*Patch) Kind() specs.Kind { return specs.KindPatch }

// Schema: an allow-dhcp-server patch has one state; a command patch one
// per host ("state.node-1").
func (*Patch) Schema() Schema {
	return Schema{{Name: "state"}, {Name: "state.*"}}
}

// Desired: every patch wants to be in place, on every host it names.
func (*Patch) Desired(r specs.Resource) Desired {
	pt := r.(*specs.Patch)
	d := Desired{Fields: Fields{}}
	if pt.Type == "command" {
		for _, h := range pt.Hosts {
			d.Fields["state."+h] = InPlace
		}
		d.Notes = commandNotes(pt)
		return d
	}
	d.Fields["state"] = InPlace
	return d
}

// commandNotes show a reviewer what a command patch runs, where: plan
// runs the check on every host over SSH, apply runs the apply command
// where the check failed.
func commandNotes(pt *specs.Patch) []string {
	hosts := strings.Join(pt.Hosts, ", ")
	if pt.Check == "" {
		return []string{"apply, run over SSH on " + hosts + " by every apply (no check): " + pt.Apply}
	}
	return []string{
		"check, run over SSH on " + hosts + " by plan and apply: " + pt.Check,
		"apply, run over SSH on " + hosts + " where the check fails: " + pt.Apply,
	}
}

// PortSecurityFollowsPatch reports whether an allow-dhcp-server patch may
// turn the port's security off (method api, or auto, which takes api where
// Neutron has port security): the port adapter then leaves port_security
// and security_groups to the patch, or the next plan would put the groups
// back and undo it. With method ssh the port keeps the spec's groups.
func PortSecurityFollowsPatch(p *specs.Port) bool {
	return p.DHCPPatch == patches.API || p.DHCPPatch == patches.Auto
}

// List reads each wanted patch's state; patches, and the hosts of a
// command patch, are read in parallel (one SSH connection per host).
func (a *Patch) List(ctx context.Context, c *Cloud, q Query) ([]*Object, error) {
	objs := make([]*Object, len(q.Want))
	errs := make([]error, len(q.Want))
	want := make([]*specs.Patch, len(q.Want))
	for i, r := range q.Want {
		pt, ok := r.(*specs.Patch)
		if !ok {
			return nil, wrongType(r, "patch")
		}
		want[i] = pt
	}
	var wg sync.WaitGroup
	for i, pt := range want {
		wg.Go(func() { objs[i], errs[i] = a.read(ctx, c, pt, snapshotRefs{q.Read}) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return objs, nil
}

func (a *Patch) read(ctx context.Context, c *Cloud, pt *specs.Patch, ref refs) (*Object, error) {
	o := &Object{Kind: specs.KindPatch, Address: pt.Addr(), Owned: true, Name: pt.Name, Fields: Fields{}}
	if pt.Type == "command" {
		states, err := a.commandStates(ctx, pt, pt.Hosts)
		if err != nil {
			return nil, err
		}
		for h, s := range states {
			o.Fields["state."+h] = s
		}
		o.ID = "command on " + strings.Join(pt.Hosts, ",")
	} else {
		id, state, err := a.dhcpState(ctx, c, pt, ref)
		if err != nil {
			return nil, err
		}
		o.ID, o.Fields["state"] = id, state
	}
	o.Revision = revision(o.Fields)
	return o, nil
}

// revision sums the states up ("in place", "needed", "unknown" per field)
// so a saved plan notices a patch that was applied or undone since.
func revision(f Fields) string {
	var ks []string
	for k := range f {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var parts []string
	for _, k := range ks {
		word, _, _ := strings.Cut(f[k], ":")
		parts = append(parts, k+"="+word)
	}
	return strings.Join(parts, ";")
}

func (*Patch) Get(_ context.Context, _ *Cloud, id string) (*Object, error) {
	return nil, fmt.Errorf("patch %q: patches are read by List only: they are states, not objects", id)
}

// Create applies a patch whose state was never read (the plan read it
// before the port existed, or a targeted run).
func (a *Patch) Create(ctx context.Context, c *Cloud, _ string, r specs.Resource, ids IDs) (*Object, error) {
	pt, ok := r.(*specs.Patch)
	if !ok {
		return nil, wrongType(r, "patch")
	}
	return a.apply(ctx, c, pt, pt.Hosts, ids)
}

// Update applies the patch where its state is not in place.
func (a *Patch) Update(ctx context.Context, c *Cloud, r specs.Resource, _ *Object, fields []string, ids IDs) (*Object, error) {
	pt, ok := r.(*specs.Patch)
	if !ok {
		return nil, wrongType(r, "patch")
	}
	var hosts []string
	for _, f := range fields {
		if h, ok := strings.CutPrefix(f, "state."); ok {
			hosts = append(hosts, h)
		}
	}
	return a.apply(ctx, c, pt, hosts, ids)
}

func (a *Patch) apply(ctx context.Context, c *Cloud, pt *specs.Patch, hosts []string, ids IDs) (*Object, error) {
	o := &Object{Kind: specs.KindPatch, Address: pt.Addr(), Owned: true, Name: pt.Name, Fields: Fields{}}
	if pt.Type == "command" {
		if err := a.runCommands(ctx, pt, hosts); err != nil {
			return nil, fmt.Errorf("%s: %w", pt.Addr(), err)
		}
		for _, h := range pt.Hosts {
			o.Fields["state."+h] = InPlace
		}
		o.ID = "command on " + strings.Join(pt.Hosts, ",")
		return o, nil
	}
	id, err := a.allowDHCP(ctx, c, pt, idRefs{ids})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pt.Addr(), err)
	}
	o.ID, o.Fields["state"] = id, InPlace
	return o, nil
}

// Delete leaves the host alone: the agent restores the DROP rule on its
// next resync, and a port whose security an api patch turned off is
// deleted with its server. Undoing by hand would race the agent.
func (*Patch) Delete(context.Context, *Cloud, *Object) error { return nil }

// refs finds the IDs of the port and server a patch concerns: from the
// live state while planning, from the engine's table while applying.
type refs interface {
	id(a specs.Address) (string, bool)
	port(a specs.Address) *Object // nil while applying
}

type snapshotRefs struct{ s Snapshot }

func (r snapshotRefs) port(a specs.Address) *Object {
	if r.s == nil {
		return nil
	}
	return ownedObject(r.s.Objects(a.Kind()), a)
}

func (r snapshotRefs) id(a specs.Address) (string, bool) {
	if o := r.port(a); o != nil {
		return o.ID, true
	}
	return "", false
}

type idRefs struct{ ids IDs }

func (r idRefs) port(specs.Address) *Object { return nil }
func (r idRefs) id(a specs.Address) (string, bool) {
	if r.ids == nil {
		return "", false
	}
	id, ok := r.ids.ID(a)
	return id, ok && id != ""
}

func ownedObject(objs []*Object, a specs.Address) *Object {
	for _, o := range objs {
		if o.Owned && o.Address == a {
			return o
		}
	}
	return nil
}
