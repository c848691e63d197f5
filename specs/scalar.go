package specs

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// String is a string-valued spec field that remembers where it was
// written, whether it was written at all, and whether its value came from
// the environment (then it is a secret and never quoted in a message).
type String struct {
	V       string
	At      Pos
	Set     bool
	FromEnv bool
}

// Q quotes the value for a diagnostic, unless it came from the
// environment: an interpolated value is never echoed.
func (s String) Q() string {
	if s.FromEnv {
		return "(value from environment)"
	}
	return quote(s.V)
}

// maxQuoted bounds a value quoted in a message: a 1 MB scalar makes a
// short line, not a 1 MB one.
const maxQuoted = 64

// quote quotes v for a message, cut to maxQuoted bytes (on a rune
// boundary) with its full length said.
func quote(v string) string {
	if len(v) <= maxQuoted {
		return strconv.Quote(v)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes)", strconv.Quote(v[:cut]), len(v))
}

// Or returns the value, or def when the spec leaves the field out.
func (s String) Or(def string) string {
	if !s.Set {
		return def
	}
	return s.V
}

// Int is an integer spec field with its position.
type Int struct {
	V   int
	At  Pos
	Set bool
}

// Or returns the value, or def when the spec leaves the field out.
func (i Int) Or(def int) int {
	if !i.Set {
		return def
	}
	return i.V
}

// Bool is a boolean spec field with its position.
type Bool struct {
	V   bool
	At  Pos
	Set bool
}

// Or returns the value, or def when the spec leaves the field out.
func (b Bool) Or(def bool) bool {
	if !b.Set {
		return def
	}
	return b.V
}

// Ptr is the value as a pointer, nil when unset: instances use nil for
// "the spec does not say", so the cloud's default is not drift.
func (b Bool) Ptr() *bool {
	if !b.Set {
		return nil
	}
	v := b.V
	return &v
}

// envRef matches ${env:NAME} and ${env:NAME:-default}; envLike catches
// malformed attempts such as ${env:} or ${env:1X} so they are reported
// instead of kept literally.
var (
	envRef  = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}`)
	envLike = regexp.MustCompile(`\$\{env:[^}]*\}?`)
)

func (s *String) decodeNode(d *decoder, n *yaml.Node, path string) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(posOf(d.file, n), "%s: expected a string, got %s", path, kindName(n))
		return
	}
	*s = String{V: n.Value, At: posOf(d.file, n), Set: true}
	d.interpolate(s, path)
}

// interpolate replaces ${env:NAME} references. A missing variable is an
// error naming the variable; the value itself never appears anywhere.
// envValue is a string an ${env:} reference made: Whole when the string
// was nothing but the reference (`password: ${env:PW}`), so the value is
// recognised as a field's whole value or a list item, never inside another
// word; a string with text around its references is recognised anywhere.
type envValue struct {
	V     string
	Whole bool
}

func (d *decoder) interpolate(s *String, path string) {
	if !envLike.MatchString(s.V) {
		return
	}
	ok := true
	for _, m := range envLike.FindAllString(s.V, -1) {
		if !envRef.MatchString(m) || envRef.FindString(m) != m {
			d.errorf(s.At, "%s: malformed environment reference %q: want ${env:NAME}", path, m)
			ok = false
		}
	}
	if !ok {
		return
	}
	whole := envRef.FindString(s.V) == s.V
	fromEnv := false
	s.V = envRef.ReplaceAllStringFunc(s.V, func(m string) string {
		sm := envRef.FindStringSubmatch(m)
		name := sm[1]
		v, found := "", false
		if d.env != nil {
			v, found = d.env(name)
		}
		fromEnv = fromEnv || found
		if !found && strings.Contains(m, ":-") {
			v, found = sm[2], true
		}
		if !found {
			d.errorf(s.At, "%s: environment variable %s is not set", path, name)
		}
		return v
	})
	s.FromEnv = true
	// A default written in the spec is no secret: only what the
	// environment gave is masked.
	if s.V != "" && fromEnv {
		d.envValues = append(d.envValues, envValue{V: s.V, Whole: whole})
	}
}

// typedScalar reads a scalar that must be written as a plain YAML value
// of the given tag (types are strict: `count: "3"` is a string, not a
// number), or as an ${env:} reference, the one way to take it from the
// environment. want names the type for the message.
func (d *decoder) typedScalar(n *yaml.Node, path, tag, want string) (String, bool) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(posOf(d.file, n), "%s: expected %s, got %s", path, want, kindName(n))
		return String{}, false
	}
	s := String{V: n.Value, At: posOf(d.file, n), Set: true}
	if n.Tag != tag && !envLike.MatchString(n.Value) {
		what := ""
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			what = "the quoted string "
		}
		d.errorf(s.At, "%s: expected %s, got %s%s", path, want, what, s.Q())
		return String{}, false
	}
	d.interpolate(&s, path)
	return s, true
}

func (i *Int) decodeNode(d *decoder, n *yaml.Node, path string) {
	s, ok := d.typedScalar(n, path, "!!int", "an integer")
	if !ok {
		return
	}
	v, err := strconv.Atoi(s.V)
	if err != nil {
		d.errorf(s.At, "%s: expected an integer, got %s", path, s.Q())
		return
	}
	*i = Int{V: v, At: s.At, Set: true}
}

func (b *Bool) decodeNode(d *decoder, n *yaml.Node, path string) {
	s, ok := d.typedScalar(n, path, "!!bool", "true or false")
	if !ok {
		return
	}
	v, err := strconv.ParseBool(s.V)
	if err != nil || (s.V != "true" && s.V != "false") {
		d.errorf(s.At, "%s: expected true or false, got %s", path, s.Q())
		return
	}
	*b = Bool{V: v, At: s.At, Set: true}
}

func posOf(file string, n *yaml.Node) Pos { return Pos{File: file, Line: n.Line, Col: n.Column} }

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return quote(n.Value)
	default:
		return "something else"
	}
}

// kindWord names a node's kind without its value.
func kindWord(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a scalar"
	default:
		return "something else"
	}
}
