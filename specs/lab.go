package specs

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/dominikbraun/graph"
)

// Lab is a compiled spec: every resource instance and the DAG between
// them. It is immutable once Compile returns it.
type Lab struct {
	Name  string // the lab's name, also its ownership mark
	Cloud string // default clouds.yaml entry
	File  string // the spec file it came from
	// Hash is the SHA-256 (hex) of the spec file's bytes, recorded in saved plans.
	Hash string

	byAddr map[Address]Resource
	order  []Address // sorted by kind build order, then address
	// deps holds every address's dependencies (unique, in Less order),
	// set by Link. The DAG lives here; Graph builds the
	// dominikbraun/graph view of it on first use, because adding 25,000
	// edges through that library is most of compiling a 1,000-slave lab
	// and validate never needs it.
	deps map[Address][]Address
	// env: the string values ${env:} references gave the spec (FromEnv).
	env       []string
	graphOnce sync.Once
	graph     graph.Graph[Address, Resource]
}

func resourceHash(r Resource) Address { return r.Addr() }

// InheritEnv makes l mask what from masks: for a lab rebuilt from
// another's resources (apply --phase).
func (l *Lab) InheritEnv(from *Lab) { l.env = from.env }

// FromEnv reports whether v holds a value that came from the environment
// through an ${env:} reference in the spec. Such values are secrets
// wherever they land (a description, server metadata), so plans mask
// them and never store them.
func (l *Lab) FromEnv(v string) bool {
	if v == "" {
		return false
	}
	for _, e := range l.env {
		if strings.Contains(v, e) {
			return true
		}
	}
	return false
}

// NewLab starts an empty lab; the compiler adds instances, then edges.
func NewLab(name string) *Lab {
	return &Lab{Name: name, byAddr: map[Address]Resource{}}
}

// ErrDuplicate is returned by Add for an address already present.
var ErrDuplicate = errors.New("duplicate address")

// Add puts one instance in the lab.
func (l *Lab) Add(r Resource) error {
	if _, ok := l.byAddr[r.Addr()]; ok {
		return fmt.Errorf("%s: %w", r.Addr(), ErrDuplicate)
	}
	l.byAddr[r.Addr()] = r
	l.order = append(l.order, r.Addr())
	return nil
}

// Link records the edges of every instance's Deps. A missing dependency or
// a cycle is an error naming both ends; the compiler's validation should
// have caught both already, so this is the last line of defence.
func (l *Lab) Link() error {
	l.sortOrder()
	var errs []error
	deps := make(map[Address][]Address, len(l.order))
	for _, a := range l.order {
		var ds []Address
		for _, d := range l.byAddr[a].Deps() {
			if _, ok := l.byAddr[d]; !ok {
				errs = append(errs, fmt.Errorf("%s: depends on undefined %s", a, d))
				continue
			}
			if !slices.Contains(ds, d) {
				ds = append(ds, d)
			}
		}
		sort.Slice(ds, func(i, j int) bool { return Less(ds[i], ds[j]) })
		deps[a] = ds
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	l.deps = deps
	if _, err := l.topo(); err != nil {
		l.deps = nil
		return errors.Join(l.cycleEdges()...)
	}
	return nil
}

// topo is Kahn's algorithm over deps, on slice indexes, in the order
// graph.StableTopologicalSort gives (a FIFO queue; the vertices each step
// frees join it in Less order) but linear rather than quadratic in the
// lab's size.
func (l *Lab) topo() ([]Address, error) {
	idx := make(map[Address]int32, len(l.order))
	for i, a := range l.order {
		idx[a] = int32(i)
	}
	// CSR adjacency: dependents of vertex v are adj[start[v]:start[v+1]],
	// in l.order order, which is Less order.
	indeg := make([]int32, len(l.order))
	start := make([]int32, len(l.order)+1)
	for i, a := range l.order {
		indeg[i] = int32(len(l.deps[a]))
		for _, d := range l.deps[a] {
			start[idx[d]+1]++
		}
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	adj := make([]int32, start[len(start)-1])
	fill := slices.Clone(start)
	for i, a := range l.order {
		for _, d := range l.deps[a] {
			adj[fill[idx[d]]] = int32(i)
			fill[idx[d]]++
		}
	}
	out := make([]Address, 0, len(l.order))
	queue := make([]int32, 0, len(l.order))
	for i, n := range indeg {
		if n == 0 {
			queue = append(queue, int32(i))
		}
	}
	for head := 0; head < len(queue); head++ {
		v := queue[head]
		out = append(out, l.order[v])
		for _, x := range adj[start[v]:start[v+1]] {
			if indeg[x]--; indeg[x] == 0 {
				queue = append(queue, x) // adj is in Less order already
			}
		}
	}
	if len(out) != len(l.order) {
		return nil, errors.New("the lab's dependencies form a cycle")
	}
	return out, nil
}

// cycleEdges names the edges that close a cycle, by adding every edge
// again to a cycle-preventing graph: slow, but only on the error path.
func (l *Lab) cycleEdges() []error {
	g := graph.New(resourceHash, graph.Directed(), graph.PreventCycles())
	for _, a := range l.order {
		_ = g.AddVertex(l.byAddr[a])
	}
	var errs []error
	for _, a := range l.order {
		for _, d := range l.byAddr[a].Deps() {
			if err := g.AddEdge(d, a); errors.Is(err, graph.ErrEdgeCreatesCycle) {
				errs = append(errs, fmt.Errorf("%s: dependency on %s creates a cycle", a, d))
			}
		}
	}
	if len(errs) == 0 {
		errs = append(errs, errors.New("the lab's dependencies form a cycle"))
	}
	return errs
}

func kindRank(k Kind) int {
	if i := slices.Index(Kinds, k); i >= 0 {
		return i
	}
	return len(Kinds)
}

// Less orders addresses by build order of their kind, then by name.
func Less(a, b Address) bool {
	ra, rb := kindRank(a.Kind()), kindRank(b.Kind())
	if ra != rb {
		return ra < rb
	}
	return a < b
}

func (l *Lab) sortOrder() {
	sort.Slice(l.order, func(i, j int) bool { return Less(l.order[i], l.order[j]) })
}

// Resource returns the instance at an address.
func (l *Lab) Resource(a Address) (Resource, bool) {
	r, ok := l.byAddr[a]
	return r, ok
}

// Addresses returns every address in a deterministic order (kind build
// order, then name). The slice is a copy.
func (l *Lab) Addresses() []Address { return slices.Clone(l.order) }

// Len is the number of instances.
func (l *Lab) Len() int { return len(l.order) }

var errNotLinked = errors.New("lab: Link has not succeeded")

// Dependencies returns, for every address, the addresses it depends on
// (sorted); every address is a key. The map and slices are copies.
func (l *Lab) Dependencies() (map[Address][]Address, error) {
	if l.deps == nil {
		return nil, errNotLinked
	}
	out := make(map[Address][]Address, len(l.deps))
	for a, ds := range l.deps {
		out[a] = slices.Clone(ds)
	}
	return out, nil
}

// TopologicalOrder returns addresses with every dependency before its
// dependents; ties are broken by Less, so the order is deterministic.
func (l *Lab) TopologicalOrder() ([]Address, error) {
	if l.deps == nil {
		return nil, errNotLinked
	}
	return l.topo()
}

// Graph exposes the DAG as a dominikbraun/graph graph (edges dependency ->
// dependent), for read-only users (walkers, renderers). It is built on the
// first call, after Link.
func (l *Lab) Graph() graph.Graph[Address, Resource] {
	l.graphOnce.Do(func() {
		g := graph.New(resourceHash, graph.Directed(), graph.Acyclic())
		for _, a := range l.order {
			_ = g.AddVertex(l.byAddr[a])
		}
		for _, a := range l.order {
			for _, d := range l.deps[a] {
				_ = g.AddEdge(d, a)
			}
		}
		l.graph = g
	})
	return l.graph
}

// WriteDOT writes the DAG in Graphviz DOT, deterministically: vertices and
// edges in Less order. (graph/draw.DOT iterates maps: its output order varies.)
func (l *Lab) WriteDOT(w io.Writer) error {
	if l.deps == nil {
		return errNotLinked
	}
	if _, err := fmt.Fprintf(w, "digraph %q {\n\trankdir=LR;\n\tnode [shape=box, fontname=\"monospace\"];\n", l.Name); err != nil {
		return err
	}
	for _, a := range l.order {
		if _, err := fmt.Fprintf(w, "\t%q;\n", a); err != nil {
			return err
		}
	}
	for _, a := range l.order {
		for _, d := range l.deps[a] {
			if _, err := fmt.Fprintf(w, "\t%q -> %q;\n", d, a); err != nil {
				return err
			}
		}
	}
	_, err := io.WriteString(w, "}\n")
	return err
}
