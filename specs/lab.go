package specs

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

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
	// Notes say what the compiler chose for the cloud and why (vlan_mode
	// auto); Warnings what the cloud cannot do that the spec asks for.
	Notes    []string
	Warnings []string

	// spec is what the lab was compiled from, for ForCloud; carriesVLANs
	// says whether the cloud's capabilities can change the lab.
	spec         *Spec
	carriesVLANs bool

	byAddr map[Address]Resource
	order  []Address // sorted by kind build order, then address
	// graph is the DAG, edges dependency -> dependent, built by Link; nil
	// until Link succeeds. It is the only record of the edges: ordering,
	// Dependencies, DOT and the apply walker all read it.
	graph graph.Graph[Address, Resource]
	// env: the string values ${env:} references gave the spec (FromEnv).
	env []envValue
}

func resourceHash(r Resource) Address { return r.Addr() }

// InheritEnv makes l mask what from masks: for a lab rebuilt from
// another's resources (apply --phase).
func (l *Lab) InheritEnv(from *Lab) { l.env = from.env }

// FromEnv reports whether v holds a value that came from the environment
// through an ${env:} reference in the spec. Such values are secrets
// wherever they land (a description, server metadata), so plans mask
// them and never store them.
//
// A value that was a whole reference is recognised as the field's whole
// value or one item of a list ("8.8.8.8,SECRET"); one with text around its
// references anywhere in v. So a short secret ("admin") does not mask
// every name that happens to contain the word.
func (l *Lab) FromEnv(v string) bool {
	if v == "" {
		return false
	}
	for _, e := range l.env {
		if !e.Whole && strings.Contains(v, e.V) {
			return true
		}
		if e.Whole && (v == e.V || slices.Contains(strings.FieldsFunc(v, isListSep), e.V)) {
			return true
		}
	}
	return false
}

func isListSep(r rune) bool { return r == ',' || r == ';' || r == '\n' }

// MentionsEnv reports whether text (a command a patch runs, shown in a
// plan's notes) holds any value from the environment anywhere.
func (l *Lab) MentionsEnv(text string) bool {
	for _, e := range l.env {
		if strings.Contains(text, e.V) {
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

// Link builds the DAG from every instance's Deps. A missing dependency or
// a cycle is an error naming both ends; the compiler's validation should
// have caught both already, so this is the last line of defence.
//
// The edges live in a dagStore (see there why not the library's memory
// store) and go in unchecked (graph.Acyclic, not graph.PreventCycles);
// one linear topological sort then proves the graph acyclic.
// PreventCycles searches the graph on every AddEdge, which at 1,000
// slaves (7,028 vertices, about 25,000 edges) made BenchmarkCompile1000
// take 0.5-1.3 s and 32 MB per compile on the shared 2-core machine
// (70-95 ms without it), far over its 100 ms target. Only when the sort
// finds a cycle does cycleEdges pay for PreventCycles, to name the edges
// that close it.
func (l *Lab) Link() error {
	l.sortOrder()
	l.graph = nil
	g := graph.NewWithStore(resourceHash, graph.Store[Address, Resource](newDAGStore(len(l.order))), graph.Directed(), graph.Acyclic())
	for _, a := range l.order {
		if err := g.AddVertex(l.byAddr[a]); err != nil {
			return fmt.Errorf("%s: %w", a, err)
		}
	}
	var errs []error
	for _, a := range l.order {
		for _, d := range l.byAddr[a].Deps() {
			if _, ok := l.byAddr[d]; !ok {
				errs = append(errs, fmt.Errorf("%s: depends on undefined %s", a, d))
				continue
			}
			if err := g.AddEdge(d, a); err != nil && !errors.Is(err, graph.ErrEdgeAlreadyExists) {
				errs = append(errs, fmt.Errorf("%s: dependency on %s: %w", a, d, err))
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	l.graph = g
	if _, err := l.topo(); err != nil {
		l.graph = nil
		return errors.Join(l.cycleEdges()...)
	}
	return nil
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

// csr reads the graph's edges into compressed rows indexed like l.order:
// the dependencies of l.order[i] are preds[pstart[i]:pstart[i+1]] and its
// dependents succs[sstart[i]:sstart[i+1]], both in Less order. It goes
// through Edges, one slice, rather than PredecessorMap, a map of maps
// that cost more than the rest of Link at 1,000 slaves.
func (l *Lab) csr() (pstart, preds, sstart, succs []int32, err error) {
	edges, err := l.graph.Edges()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	idx := make(map[Address]int32, len(l.order))
	for i, a := range l.order {
		idx[a] = int32(i)
	}
	n := len(l.order)
	// Bucket the edges by source (in the library's map order), then walk
	// the sources in order to fill each target's dependencies sorted, then
	// the targets in order to fill each source's dependents sorted.
	bstart, bucket := make([]int32, n+1), make([]int32, len(edges))
	pstart, preds = make([]int32, n+1), make([]int32, len(edges))
	sstart, succs = make([]int32, n+1), make([]int32, len(edges))
	for _, e := range edges {
		bstart[idx[e.Source]+1]++
		pstart[idx[e.Target]+1]++
	}
	for i := 1; i <= n; i++ {
		bstart[i] += bstart[i-1]
		pstart[i] += pstart[i-1]
	}
	copy(sstart, bstart) // a vertex's dependents are its edges as source
	fill := slices.Clone(bstart)
	for _, e := range edges {
		s := idx[e.Source]
		bucket[fill[s]] = idx[e.Target]
		fill[s]++
	}
	fill = slices.Clone(pstart)
	for s := range int32(n) {
		for _, t := range bucket[bstart[s]:bstart[s+1]] {
			preds[fill[t]] = s
			fill[t]++
		}
	}
	fill = slices.Clone(sstart)
	for t := range int32(n) {
		for _, s := range preds[pstart[t]:pstart[t+1]] {
			succs[fill[s]] = t
			fill[s]++
		}
	}
	return pstart, preds, sstart, succs, nil
}

// topo orders the graph's vertices as graph.StableTopologicalSort(g, Less)
// does (Kahn's algorithm with a FIFO queue; the vertices each step frees
// join it in Less order), but in linear time: the library's version scans
// every remaining vertex after each step, which at 1,000 slaves (7,028
// vertices) took 6-12 s per call on a busy 2-core machine, against a
// budget of 100 ms for the whole compile.
func (l *Lab) topo() ([]Address, error) {
	pstart, _, sstart, succs, err := l.csr()
	if err != nil {
		return nil, err
	}
	indeg := make([]int32, len(l.order))
	for i := range indeg {
		indeg[i] = pstart[i+1] - pstart[i]
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
		for _, x := range succs[sstart[v]:sstart[v+1]] {
			if indeg[x]--; indeg[x] == 0 {
				queue = append(queue, x) // succs are in Less order already
			}
		}
	}
	if len(out) != len(l.order) {
		return nil, errors.New("the lab's dependencies form a cycle")
	}
	return out, nil
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
// (sorted by Less), read from the graph; every address is a key.
func (l *Lab) Dependencies() (map[Address][]Address, error) {
	if l.graph == nil {
		return nil, errNotLinked
	}
	pstart, preds, _, _, err := l.csr()
	if err != nil {
		return nil, err
	}
	out := make(map[Address][]Address, len(l.order))
	for i, a := range l.order {
		out[a] = l.addresses(preds[pstart[i]:pstart[i+1]])
	}
	return out, nil
}

func (l *Lab) addresses(is []int32) []Address {
	out := make([]Address, len(is))
	for k, i := range is {
		out[k] = l.order[i]
	}
	return out
}

// TopologicalOrder returns addresses with every dependency before its
// dependents; ties are broken by Less, so the order is deterministic.
func (l *Lab) TopologicalOrder() ([]Address, error) {
	if l.graph == nil {
		return nil, errNotLinked
	}
	return l.topo()
}

// Graph is the DAG (edges dependency -> dependent), nil before Link
// succeeds. Callers read it; they must not add to it.
func (l *Lab) Graph() graph.Graph[Address, Resource] { return l.graph }

// WriteDOT writes the DAG in Graphviz DOT, deterministically: vertices and
// edges in Less order. (graph/draw.DOT iterates maps: its output order varies.)
func (l *Lab) WriteDOT(w io.Writer) error {
	if l.graph == nil {
		return errNotLinked
	}
	pstart, preds, _, _, err := l.csr()
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
	for i, a := range l.order {
		for _, d := range l.addresses(preds[pstart[i]:pstart[i+1]]) {
			if _, err := fmt.Fprintf(w, "\t%q -> %q;\n", d, a); err != nil {
				return err
			}
		}
	}
	_, err = io.WriteString(w, "}\n")
	return err
}
