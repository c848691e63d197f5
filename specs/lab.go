package specs

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"

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
	graph  graph.Graph[Address, Resource]
}

func resourceHash(r Resource) Address { return r.Addr() }

// NewLab starts an empty lab; the compiler adds instances, then edges.
func NewLab(name string) *Lab {
	return &Lab{
		Name:   name,
		byAddr: map[Address]Resource{},
		// Acyclic, but checked once in Link rather than on every edge:
		// a per-edge cycle check costs a graph search per edge, which is
		// most of compiling a 1,000-slave lab.
		graph: graph.New(resourceHash, graph.Directed(), graph.Acyclic()),
	}
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
	return l.graph.AddVertex(r)
}

// Link adds the edges of every instance's Deps. A missing dependency or a
// cycle is an error naming both ends; the compiler's validation should
// have caught both already, so this is the last line of defence.
func (l *Lab) Link() error {
	l.sortOrder()
	var errs []error
	for _, a := range l.order {
		for _, d := range l.byAddr[a].Deps() {
			if _, ok := l.byAddr[d]; !ok {
				errs = append(errs, fmt.Errorf("%s: depends on undefined %s", a, d))
				continue
			}
			err := l.graph.AddEdge(d, a)
			switch {
			case err == nil, errors.Is(err, graph.ErrEdgeAlreadyExists):
			default:
				errs = append(errs, fmt.Errorf("%s -> %s: %w", d, a, err))
			}
		}
	}
	if len(errs) == 0 {
		if l.hasCycle() {
			errs = append(errs, l.cycleEdges()...)
		}
	}
	return errors.Join(errs...)
}

// hasCycle runs Kahn's algorithm over Deps, on slice indexes: linear in
// the lab's size (graph.TopologicalSort is not, at thousands of vertices).
func (l *Lab) hasCycle() bool {
	idx := make(map[Address]int32, len(l.order))
	for i, a := range l.order {
		idx[a] = int32(i)
	}
	indeg := make([]int32, len(l.order))
	var from, to []int32 // edges dependency -> dependent
	for i, a := range l.order {
		ds := l.byAddr[a].Deps()
		for j, d := range ds {
			if slices.Contains(ds[:j], d) {
				continue
			}
			from, to = append(from, idx[d]), append(to, int32(i))
			indeg[i]++
		}
	}
	// CSR adjacency: dependents of vertex v are adj[start[v]:start[v+1]].
	start := make([]int32, len(l.order)+1)
	for _, f := range from {
		start[f+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	adj := make([]int32, len(from))
	fill := slices.Clone(start)
	for k, f := range from {
		adj[fill[f]] = to[k]
		fill[f]++
	}
	queue := make([]int32, 0, len(l.order))
	for i, n := range indeg {
		if n == 0 {
			queue = append(queue, int32(i))
		}
	}
	seen := 0
	for len(queue) > 0 {
		v := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		seen++
		for _, x := range adj[start[v]:start[v+1]] {
			if indeg[x]--; indeg[x] == 0 {
				queue = append(queue, x)
			}
		}
	}
	return seen != len(l.order)
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

// Dependencies returns, for every address, the addresses it depends on
// (sorted); every address is a key.
func (l *Lab) Dependencies() (map[Address][]Address, error) {
	pm, err := l.graph.PredecessorMap()
	if err != nil {
		return nil, err
	}
	out := make(map[Address][]Address, len(pm))
	for a, preds := range pm {
		ds := make([]Address, 0, len(preds))
		for d := range preds {
			ds = append(ds, d)
		}
		sort.Slice(ds, func(i, j int) bool { return Less(ds[i], ds[j]) })
		out[a] = ds
	}
	return out, nil
}

// TopologicalOrder returns addresses with every dependency before its
// dependents; ties are broken by Less, so the order is deterministic.
func (l *Lab) TopologicalOrder() ([]Address, error) {
	return graph.StableTopologicalSort(l.graph, Less)
}

// Graph exposes the DAG read-only users need (walkers, renderers).
func (l *Lab) Graph() graph.Graph[Address, Resource] { return l.graph }

// WriteDOT writes the DAG in Graphviz DOT, deterministically: vertices and
// edges in Less order. (graph/draw.DOT iterates maps: its output order varies.)
func (l *Lab) WriteDOT(w io.Writer) error {
	deps, err := l.Dependencies()
	if err != nil {
		return err
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
		for _, d := range deps[a] {
			if _, err := fmt.Fprintf(w, "\t%q -> %q;\n", d, a); err != nil {
				return err
			}
		}
	}
	_, err = io.WriteString(w, "}\n")
	return err
}
