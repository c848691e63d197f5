package specs

import (
	"fmt"
	"reflect"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// The decoder walks the yaml.Node tree into the schema types by
// reflection, so that every field keeps its file:line:col and every
// problem is collected rather than stopping at the first (yaml.v3's own
// Decode stops early and loses positions).
//
// Schema structs use `spec:"key"` tags (`spec:"key,required"` for required
// keys). A field named At of type Pos receives the mapping's position and
// a field named Path (string) its field path, so validation can point at
// the right place and name the right field.

type decoder struct {
	file  string
	env   Env
	diags Diagnostics
	// nodes bounds the work done on hostile input (alias bombs).
	nodes int
	// truncated: the node or depth limit cut decoding short.
	truncated bool
	// envValues are the values of strings an ${env:} reference made.
	envValues []envValue
}

const (
	maxNodes = 200_000
	maxDepth = 64
)

// nodeDecoder is implemented by types that decode themselves (scalars,
// fields with a shorthand form).
type nodeDecoder interface {
	decodeNode(d *decoder, n *yaml.Node, path string)
}

func (d *decoder) errorf(p Pos, format string, args ...any) {
	d.diags = append(d.diags, Diagnostic{Pos: p, Severity: SeverityError, Message: fmt.Sprintf(format, args...), kind: format})
}

// field describes one key of a schema struct.
type field struct {
	key      string
	index    []int
	required bool
}

type structInfo struct {
	fields []field
	keys   []string
	at     []int // index of the At field, nil if none
	path   []int // index of the Path field, nil if none
}

var structCache sync.Map // reflect.Type -> *structInfo

func infoOf(t reflect.Type) *structInfo {
	if v, ok := structCache.Load(t); ok {
		return v.(*structInfo)
	}
	si := &structInfo{}
	var walk func(t reflect.Type, prefix []int)
	walk = func(t reflect.Type, prefix []int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			idx := append(append([]int{}, prefix...), i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type, idx)
				continue
			}
			switch {
			case f.Name == "At" && f.Type == reflect.TypeOf(Pos{}):
				si.at = idx
				continue
			case f.Name == "Path" && f.Type.Kind() == reflect.String:
				si.path = idx
				continue
			}
			tag := f.Tag.Get("spec")
			if tag == "" || tag == "-" {
				continue
			}
			key, opt, _ := strings.Cut(tag, ",")
			si.fields = append(si.fields, field{key: key, index: idx, required: opt == "required"})
			si.keys = append(si.keys, key)
		}
	}
	walk(t, nil)
	structCache.Store(t, si)
	return si
}

// decode fills v (a pointer) from n.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string, depth int) {
	d.nodes++
	if d.nodes > maxNodes || depth > maxDepth {
		d.truncated = true
		if d.nodes == maxNodes+1 || depth == maxDepth+1 {
			d.errorf(posOf(d.file, n), "%s: document too large or too deeply nested", path)
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return
		}
		d.decode(n.Alias, v, path, depth+1)
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // `key:` or `key: ~` leaves the field unset
	}
	if nd, ok := v.Interface().(nodeDecoder); ok {
		nd.decodeNode(d, n, path)
		return
	}
	e := v.Elem()
	switch e.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, e, path, depth)
	case reflect.Pointer:
		p := reflect.New(e.Type().Elem())
		d.decode(n, p, path, depth)
		e.Set(p)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(posOf(d.file, n), "%s: expected a list, got %s", path, kindName(n))
			return
		}
		s := reflect.MakeSlice(e.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(c, s.Index(i).Addr(), fmt.Sprintf("%s[%d]", path, i), depth+1)
		}
		e.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.errorf(posOf(d.file, n), "%s: expected a mapping, got %s", path, kindName(n))
			return
		}
		m := reflect.MakeMapWithSize(e.Type(), len(n.Content)/2)
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				d.errorf(posOf(d.file, k), "%s: keys must be strings", path)
				continue
			}
			if seen[k.Value] {
				d.errorf(posOf(d.file, k), "%s: duplicate key %s", path, quote(k.Value))
				continue
			}
			seen[k.Value] = true
			ev := reflect.New(e.Type().Elem())
			d.decode(val, ev, joinPath(path, k.Value), depth+1)
			m.SetMapIndex(reflect.ValueOf(k.Value), ev.Elem())
		}
		e.Set(m)
	default:
		panic(fmt.Sprintf("specs: no decoder for %s", e.Type()))
	}
}

func joinPath(path, key string) string {
	if len(key) > maxQuoted {
		key = quote(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func (d *decoder) decodeStruct(n *yaml.Node, e reflect.Value, path string, depth int) {
	si := infoOf(e.Type())
	if si.at != nil {
		e.FieldByIndex(si.at).Set(reflect.ValueOf(posOf(d.file, n)))
	}
	if si.path != nil {
		e.FieldByIndex(si.path).SetString(path)
	}
	if n.Kind != yaml.MappingNode {
		if path == "" {
			// The whole file is not what the message is about: a spec
			// pointed at a private key must not print the key.
			d.errorf(posOf(d.file, n), "spec: expected a mapping, got %s", kindWord(n))
			return
		}
		d.errorf(posOf(d.file, n), "%s: expected a mapping, got %s", path, kindName(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		kp := posOf(d.file, k)
		if k.Kind != yaml.ScalarNode {
			d.errorf(kp, "%s: keys must be strings", orSpec(path))
			continue
		}
		if k.Value == "<<" && k.Tag == "!!merge" {
			d.errorf(kp, "%s: merge keys (<<) are not supported", orSpec(path))
			continue
		}
		fp := joinPath(path, k.Value)
		if seen[k.Value] {
			d.errorf(kp, "%s: duplicate key", fp)
			continue
		}
		seen[k.Value] = true
		f, ok := si.lookup(k.Value)
		if !ok {
			if s := suggest(k.Value, si.keys); s != "" {
				d.errorf(kp, "%s: unknown field; did you mean %q?", fp, s)
			} else {
				d.errorf(kp, "%s: unknown field", fp)
			}
			continue
		}
		if f.required && isNull(val) {
			d.errorf(posOf(d.file, k), "%s: missing value", fp)
			continue
		}
		d.decode(val, e.FieldByIndex(f.index).Addr(), fp, depth+1)
	}
	for _, f := range si.fields {
		if f.required && !seen[f.key] {
			d.errorf(posOf(d.file, n), "%s: missing required field %q", orSpec(path), f.key)
		}
	}
}

func orSpec(path string) string {
	if path == "" {
		return "spec"
	}
	return path
}

func (si *structInfo) lookup(key string) (field, bool) {
	for _, f := range si.fields {
		if f.key == key {
			return f, true
		}
	}
	return field{}, false
}

func reflectValue(p any) reflect.Value { return reflect.ValueOf(p).Elem() }

func isNull(n *yaml.Node) bool {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}
