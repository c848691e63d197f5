package specs

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dominikbraun/graph"
)

// Link is the last line of defence: a cycle or a missing dependency that
// slipped past validation must still be an error naming the addresses.
func TestLinkErrors(t *testing.T) {
	t.Parallel()
	wait := func(name string, after ...string) *Wait {
		w := &Wait{Meta: Meta{Address: NewAddress(KindWait, name)}}
		for _, a := range after {
			w.After = append(w.After, NewAddress(KindWait, a))
		}
		return w
	}
	tests := []struct {
		name  string
		waits []*Wait
		want  string // "" for no error
	}{
		{"chain", []*Wait{wait("a"), wait("b", "a"), wait("c", "b", "a")}, ""},
		{"twice", []*Wait{wait("a"), wait("b", "a", "a")}, ""},
		{"self", []*Wait{wait("a", "a")}, "wait.a: dependency on wait.a creates a cycle"},
		{"three", []*Wait{wait("a", "c"), wait("b", "a"), wait("c", "b")}, "creates a cycle"},
		{"missing", []*Wait{wait("a", "zz")}, "wait.a: depends on undefined wait.zz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lab := NewLab("t")
			for _, w := range tt.waits {
				if err := lab.Add(w); err != nil {
					t.Fatal(err)
				}
			}
			err := lab.Link()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("want no error, got %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("want error containing %q, got %v", tt.want, err)
			}
		})
	}
}

func TestAddDuplicate(t *testing.T) {
	t.Parallel()
	lab := NewLab("t")
	n := &Network{Meta: Meta{Address: "network.a"}}
	if err := lab.Add(n); err != nil {
		t.Fatal(err)
	}
	if err := lab.Add(n); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("want ErrDuplicate, got %v", err)
	}
}

// The DAG is a dominikbraun/graph graph: it holds exactly every instance's
// Deps, Dependencies reads them back from it, and TopologicalOrder (a
// linear sort over it) equals the library's StableTopologicalSort.
func TestGraphViewAgrees(t *testing.T) {
	t.Parallel()
	for _, f := range []string{"../examples/fuel-lab.yaml", "../testdata/lab-200.yaml"} {
		lab, diags := LoadLab(f, noEnv)
		if lab == nil {
			t.Fatal(diags)
		}
		g := lab.Graph()
		pm, err := g.PredecessorMap()
		if err != nil {
			t.Fatal(err)
		}
		deps, err := lab.Dependencies()
		if err != nil {
			t.Fatal(err)
		}
		if len(pm) != lab.Len() || len(deps) != lab.Len() {
			t.Fatalf("%s: %d vertices in the graph, %d in deps, want %d", f, len(pm), len(deps), lab.Len())
		}
		edges := 0
		for a, ds := range deps {
			edges += len(ds)
			if len(pm[a]) != len(ds) {
				t.Fatalf("%s: %s has %d predecessors in the graph, %d deps", f, a, len(pm[a]), len(ds))
			}
			for _, d := range ds {
				if _, ok := pm[a][d]; !ok {
					t.Fatalf("%s: graph lacks edge %s -> %s", f, d, a)
				}
			}
			r, _ := lab.Resource(a)
			want := slices.Clone(r.Deps())
			slices.SortFunc(want, func(x, y Address) int { return strings.Compare(string(x), string(y)) })
			got := slices.Clone(ds)
			slices.SortFunc(got, func(x, y Address) int { return strings.Compare(string(x), string(y)) })
			if !slices.Equal(slices.Compact(want), got) {
				t.Fatalf("%s: %s: Dependencies %v, Deps %v", f, a, got, want)
			}
		}
		if edges == 0 {
			t.Fatalf("%s: no edges", f)
		}
		want, err := graph.StableTopologicalSort(g, Less)
		if err != nil {
			t.Fatal(err)
		}
		got, err := lab.TopologicalOrder()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: TopologicalOrder differs from graph.StableTopologicalSort", f)
		}
	}
}

func TestNotLinked(t *testing.T) {
	t.Parallel()
	lab := NewLab("t")
	if _, err := lab.TopologicalOrder(); err == nil {
		t.Error("TopologicalOrder before Link: want an error")
	}
	if _, err := lab.Dependencies(); err == nil {
		t.Error("Dependencies before Link: want an error")
	}
}
