package specs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Env looks up an environment variable for ${env:NAME} references
// (os.LookupEnv in the CLI, a map in tests).
type Env func(name string) (string, bool)

// Spec is a decoded, validated spec document, ready for Compile.
type Spec struct {
	File string // as given to Load or Parse
	Dir  string // the folder file references resolve against
	Hash string // SHA-256 (hex) of the file's bytes
	Doc  *Document

	v *validator // the resolved model Compile reads
	// env holds every string value an ${env:} reference made, for the
	// plan to mask (Lab.FromEnv).
	env []envValue
}

// Load reads, decodes and validates the spec at path. Diagnostics hold
// every problem found (errors and warnings); the spec is nil when any
// diagnostic is an error.
func Load(path string, env Env) (*Spec, Diagnostics) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, Diagnostics{{Pos: Pos{File: path}, Message: err.Error()}}
	}
	return Parse(path, data, env)
}

// MaxSize is the largest spec accepted, in bytes. A lab of 4,096 slaves
// written out one by one fits in a fraction of it; the limit bounds the
// time and memory validation may take on hostile input (README,
// "Performance").
const MaxSize = 1 << 20

// errTooLarge names the limit, never the content.
var errTooLarge = fmt.Errorf("larger than the spec size limit of %d bytes (1 MiB)", MaxSize)

// ReadFile reads a spec file, refusing one larger than MaxSize without
// reading past the limit (a spec named /dev/zero ends at 1 MiB, not when
// memory does). Errors never quote the file.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errors.New("no such file")
		}
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSize {
		return nil, errTooLarge
	}
	return data, nil
}

// Parse decodes and validates spec bytes as if read from file; file
// references resolve against file's folder. Diagnostics are sorted.
func Parse(file string, data []byte, env Env) (*Spec, Diagnostics) {
	return ParseIn(file, filepath.Dir(file), data, env)
}

// ParseIn is Parse with the folder file references resolve against given
// apart from the name messages use: an old version of a spec read from
// git ("origin/main:labs/lab.yaml") still refers to the files beside the
// spec in the work tree.
func ParseIn(file, dir string, data []byte, env Env) (*Spec, Diagnostics) {
	sum := sha256.Sum256(data)
	s := &Spec{File: file, Dir: dir, Hash: hex.EncodeToString(sum[:])}
	if len(data) > MaxSize {
		return nil, Diagnostics{{Pos: Pos{File: file}, Message: errTooLarge.Error()}}
	}
	root, diags := parseYAML(file, data)
	if root == nil {
		diags.Sort()
		return nil, diags
	}
	d := &decoder{file: file, env: env}
	doc := &Document{}
	d.decode(root, reflect.ValueOf(doc), "", 0)
	s.Doc = doc
	s.env = d.envValues
	diags = append(diags, d.diags...)
	if d.truncated {
		// Past the node limit the document is only partly decoded:
		// validating the rest would report holes that are not in the file.
		diags.Sort()
		return nil, capKinds(diags)
	}
	// Validate even a document with decode errors: every problem is
	// reported in one run, not one layer at a time.
	v := &validator{doc: doc, file: file, dir: s.Dir}
	v.run()
	diags = append(diags, v.diags...)
	s.v = v
	diags = dedupe(diags)
	diags.Sort()
	diags = capKinds(diags)
	if diags.HasErrors() {
		return nil, diags
	}
	return s, diags
}

// dedupe drops a diagnostic repeated at one place (validation of a
// partly broken document can find the same hole twice).
func dedupe(ds Diagnostics) Diagnostics {
	seen := map[Diagnostic]bool{}
	out := ds[:0]
	for _, d := range ds {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

// maxPerKind bounds the diagnostics of one kind (one message template):
// 3,000 networks with one CIDR are one mistake, not 3,000 lines to read.
const maxPerKind = 10

// capKinds keeps the first maxPerKind diagnostics of each kind, in order,
// and says after the last one kept how many more there were.
func capKinds(ds Diagnostics) Diagnostics {
	count := map[string]int{}
	for _, d := range ds {
		count[d.kind]++
	}
	seen := map[string]int{}
	out := ds[:0:0]
	for _, d := range ds {
		seen[d.kind]++
		switch n := seen[d.kind]; {
		case n < maxPerKind || count[d.kind] == maxPerKind:
			out = append(out, d)
		case n == maxPerKind:
			more := Diagnostic{Pos: d.Pos, Severity: d.Severity, kind: d.kind,
				Message: d.Message + fmt.Sprintf(" (and %s more like it)", thousands(count[d.kind]-maxPerKind))}
			out = append(out, more)
		}
	}
	return out
}

// thousands writes n with comma separators: 2,997.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML reads exactly one YAML document into a node tree.
func parseYAML(file string, data []byte) (*yaml.Node, Diagnostics) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Diagnostics{{Pos: Pos{File: file, Line: 1, Col: 1}, Message: "empty spec"}}
		}
		return nil, Diagnostics{yamlError(file, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, Diagnostics{{Pos: posOf(file, &extra), Message: "a spec holds one YAML document; found a second"}}
	} else if !errors.Is(err, io.EOF) {
		return nil, Diagnostics{yamlError(file, err)}
	}
	if len(doc.Content) == 0 {
		return nil, Diagnostics{{Pos: Pos{File: file, Line: 1, Col: 1}, Message: "empty spec"}}
	}
	return doc.Content[0], nil
}

func yamlError(file string, err error) Diagnostic {
	msg := err.Error()
	pos := Pos{File: file, Line: 1, Col: 1}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		pos.Line, _ = strconv.Atoi(m[1])
		msg = "YAML syntax: " + m[2]
	}
	return Diagnostic{Pos: pos, Message: msg}
}

// LoadLab loads, validates and compiles the spec at path.
func LoadLab(path string, env Env) (*Lab, Diagnostics) {
	s, diags := Load(path, env)
	if s == nil {
		return nil, diags
	}
	lab, err := Compile(s)
	if err != nil {
		diags = append(diags, Diagnostic{Pos: Pos{File: path}, Message: err.Error()})
		return nil, diags
	}
	return lab, diags
}
