package specs

import (
	"errors"

	"github.com/dominikbraun/graph"
)

// dagStore is the graph.Store behind a lab's DAG. The library's memory
// store keeps two maps of maps with a struct per edge; at 1,000 slaves
// (7,028 vertices, about 25,000 edges) adding the edges through it took
// about 37 ms of CPU per compile, most of BenchmarkCompile1000's 100 ms
// budget. This one keeps vertices in slices and each vertex's incoming
// edges in a short slice. A lab is immutable once compiled, so removing
// or changing what Link added is refused.
type dagStore struct {
	idx   map[Address]int32
	keys  []Address
	vals  []Resource
	props []graph.VertexProperties
	in    [][]graph.Edge[Address] // incoming edges by target index, in insertion order
	edges int
}

var errImmutable = errors.New("a compiled lab's DAG cannot be changed")

func newDAGStore(n int) *dagStore {
	return &dagStore{
		idx:   make(map[Address]int32, n),
		keys:  make([]Address, 0, n),
		vals:  make([]Resource, 0, n),
		props: make([]graph.VertexProperties, 0, n),
		in:    make([][]graph.Edge[Address], 0, n),
	}
}

func (s *dagStore) AddVertex(hash Address, value Resource, p graph.VertexProperties) error {
	if _, ok := s.idx[hash]; ok {
		return graph.ErrVertexAlreadyExists
	}
	s.idx[hash] = int32(len(s.keys))
	s.keys = append(s.keys, hash)
	s.vals = append(s.vals, value)
	s.props = append(s.props, p)
	s.in = append(s.in, nil)
	return nil
}

func (s *dagStore) Vertex(hash Address) (Resource, graph.VertexProperties, error) {
	i, ok := s.idx[hash]
	if !ok {
		return nil, graph.VertexProperties{}, graph.ErrVertexNotFound
	}
	return s.vals[i], s.props[i], nil
}

func (s *dagStore) RemoveVertex(Address) error { return errImmutable }

func (s *dagStore) ListVertices() ([]Address, error) { return append([]Address(nil), s.keys...), nil }

func (s *dagStore) VertexCount() (int, error) { return len(s.keys), nil }

func (s *dagStore) AddEdge(source, target Address, e graph.Edge[Address]) error {
	i, ok := s.idx[target]
	if _, found := s.idx[source]; !ok || !found {
		return graph.ErrVertexNotFound
	}
	s.in[i] = append(s.in[i], e)
	s.edges++
	return nil
}

func (s *dagStore) UpdateEdge(Address, Address, graph.Edge[Address]) error { return errImmutable }

func (s *dagStore) RemoveEdge(Address, Address) error { return errImmutable }

// Edge scans the target's incoming edges: a handful, except for a wait on
// every slave (1,000), which Link asks about once per slave.
func (s *dagStore) Edge(source, target Address) (graph.Edge[Address], error) {
	if i, ok := s.idx[target]; ok {
		for _, e := range s.in[i] {
			if e.Source == source {
				return e, nil
			}
		}
	}
	return graph.Edge[Address]{}, graph.ErrEdgeNotFound
}

func (s *dagStore) ListEdges() ([]graph.Edge[Address], error) {
	out := make([]graph.Edge[Address], 0, s.edges)
	for _, es := range s.in {
		out = append(out, es...)
	}
	return out, nil
}
