package specs

import "errors"

// ErrNotImplemented marks the parts of the spec package still being built.
var ErrNotImplemented = errors.New("not implemented yet")

// Env looks up an environment variable for ${env:NAME} references.
type Env func(name string) (string, bool)

// Spec is a decoded, validated spec document. (Filled in by the decoder.)
type Spec struct {
	File string
}

// Load reads, decodes and validates the spec at path. Diagnostics hold
// every problem found (errors and warnings); the spec is nil when any
// diagnostic is an error.
func Load(path string, env Env) (*Spec, Diagnostics) {
	return nil, Diagnostics{{Pos: Pos{File: path}, Message: ErrNotImplemented.Error()}}
}

// Compile turns a valid spec into its lab of resource instances and DAG.
func Compile(s *Spec) (*Lab, error) { return nil, ErrNotImplemented }
