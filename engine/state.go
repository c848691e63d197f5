// Package engine reads a lab's live state, plans the changes that bring it
// to the spec, and applies them in parallel along the DAG.
package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/fuelplan/fuelplan/engine/walk"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// State is the live cloud as read for one lab.
type State struct {
	byKind map[specs.Kind][]*resources.Object
	// owned holds, for each address, the lab's objects that implement it:
	// normally one; more after a duplicate create (the extras are deleted).
	owned map[specs.Address][]*resources.Object
	// found are lookups' results (external network, existing images...).
	found map[specs.Address]*resources.Object
	// conflicts are unowned objects that use a lab resource's name.
	conflicts []*resources.Object
}

// NewState builds a State from live objects given as literals, so the
// planner can be tested as data, without a cloud. Each object is taken as
// an adapter's List and Relate leave it: Owned with an Address is the
// lab's (several for one address are duplicates; the first by ID is
// kept); an Address without Owned is an unowned object with a wanted
// name: a lookup's result when the lab's resource at that address is a
// lookup (reg says), a conflict otherwise. Every object is also listed by
// kind (Objects), as Read lists them.
func NewState(lab *specs.Lab, reg resources.Registry, objs ...*resources.Object) (*State, error) {
	s := &State{
		byKind: map[specs.Kind][]*resources.Object{},
		owned:  map[specs.Address][]*resources.Object{},
		found:  map[specs.Address]*resources.Object{},
	}
	for _, o := range objs {
		s.byKind[o.Kind] = append(s.byKind[o.Kind], o)
	}
	if err := s.file(lab, reg); err != nil {
		return nil, err
	}
	return s, nil
}

// Objects implements resources.Snapshot.
func (s *State) Objects(k specs.Kind) []*resources.Object { return s.byKind[k] }

// Live returns the object implementing an address (the first by ID
// when there are duplicates), or a lookup's result.
func (s *State) Live(a specs.Address) (*resources.Object, bool) {
	if o, ok := s.found[a]; ok {
		return o, true
	}
	objs := s.owned[a]
	if len(objs) == 0 {
		return nil, false
	}
	return objs[0], true
}

// readTimeout bounds the retries of one kind's list calls.
const readTimeout = 2 * time.Minute

// readConcurrency bounds the kinds listed at once: each list is a round
// trip or a few, so a plan waits for the slowest chain of them rather than
// their sum. It is the number of kinds with a list (16), so that every
// list that reads no other kind starts at once: at 6, a plan of a built
// lab at 30 ms per request waited for three rounds of lists instead of
// one. The burst stays bounded: one list per kind, then their further
// pages and look-ups.
const readConcurrency = 16

// Read lists every kind the registry knows, several at once: a kind whose
// List reads another kind's objects (rules their groups, interfaces their
// routers: resources.Kind.ListReads) is listed after it, the others
// together. Then adapters relate objects across kinds.
func Read(ctx context.Context, c *resources.Cloud, reg resources.Registry, lab *specs.Lab) (*State, error) {
	want := map[specs.Kind][]specs.Resource{}
	for _, a := range lab.Addresses() {
		r, _ := lab.Resource(a)
		want[r.Kind()] = append(want[r.Kind()], r)
	}
	s := &State{
		byKind: map[specs.Kind][]*resources.Object{},
		owned:  map[specs.Address][]*resources.Object{},
		found:  map[specs.Address]*resources.Object{},
	}
	listed := &listedSoFar{s: s}
	order := map[specs.Kind][]specs.Kind{}
	for _, k := range specs.Kinds {
		if _, ok := reg[k]; !ok {
			continue
		}
		d, _ := resources.KindOf(k)
		order[k] = nil
		for _, dep := range d.ListReads {
			if _, ok := reg[dep]; ok {
				order[k] = append(order[k], dep)
			}
		}
	}
	results, err := walk.Walk(ctx, order, walk.Options[specs.Kind]{Parallelism: readConcurrency},
		func(_ context.Context, k specs.Kind) error {
			// The walker's context outlives Ctrl-C (for writes); a read
			// stops with ctx.
			var objs []*resources.Object
			// Lists are idempotent: throttling and server errors are
			// retried, for a bounded time.
			lctx, cancel := context.WithTimeout(ctx, readTimeout)
			defer cancel()
			err := retry(lctx, DefaultBackoff, func(ctx context.Context) error {
				var err error
				objs, err = reg[k].List(ctx, c, resources.Query{Lab: lab.Name, Want: want[k], Read: listed})
				return err
			}, nil)
			if err != nil {
				return fmt.Errorf("read %s: %w", k, err)
			}
			listed.set(k, objs)
			return nil
		})
	if err != nil {
		return nil, err
	}
	for _, k := range specs.Kinds { // the first failure in build order, as a serial read would
		if err := results[k]; err != nil && !errors.Is(err, walk.ErrUpstream) {
			if errors.Is(err, walk.ErrInterrupted) {
				return nil, fmt.Errorf("read %s: %w", k, ctx.Err())
			}
			return nil, err
		}
	}
	for _, k := range specs.Kinds {
		if rel, ok := reg[k].(resources.Relater); ok {
			rel.Relate(s.byKind[k], s)
		}
	}
	if err := s.file(lab, reg); err != nil {
		return nil, err
	}
	return s, nil
}

// file sorts every object read into the lab's (by address; several for one
// address are duplicates, ordered by ID), lookups' results and conflicts
// (unowned objects with a wanted name), as NewState and Read both need.
func (s *State) file(lab *specs.Lab, reg resources.Registry) error {
	for _, k := range specs.Kinds {
		for _, o := range s.byKind[k] {
			switch {
			case o.Owned && o.Address != "":
				s.owned[o.Address] = append(s.owned[o.Address], o)
			case o.Address != "":
				r, inLab := lab.Resource(o.Address)
				if lk, ok := reg[k].(resources.Lookup); ok && inLab && lk.IsLookup(r) {
					if prev, dup := s.found[o.Address]; dup {
						return fmt.Errorf("%s: more than one %s named %q (%s, %s): name it by ID or remove one",
							o.Address, k, o.Name, prev.ID, o.ID)
					}
					s.found[o.Address] = o
				} else {
					s.conflicts = append(s.conflicts, o)
				}
			}
		}
	}
	for _, objs := range s.owned {
		sort.Slice(objs, func(i, j int) bool { return objs[i].ID < objs[j].ID })
	}
	sort.Slice(s.conflicts, func(i, j int) bool {
		if s.conflicts[i].Address != s.conflicts[j].Address {
			return specs.Less(s.conflicts[i].Address, s.conflicts[j].Address)
		}
		return s.conflicts[i].ID < s.conflicts[j].ID
	})
	return nil
}

// listedSoFar is the Snapshot a kind's List reads while other kinds are
// still being listed: the walk lists a kind only after those it reads.
type listedSoFar struct {
	mu sync.Mutex
	s  *State
}

func (l *listedSoFar) Objects(k specs.Kind) []*resources.Object {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.byKind[k]
}

func (l *listedSoFar) set(k specs.Kind, objs []*resources.Object) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.s.byKind[k] = objs
}
