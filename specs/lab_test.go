package specs

import (
	"errors"
	"strings"
	"testing"
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
