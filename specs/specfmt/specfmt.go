// Package specfmt gives specs one canonical layout, as gofmt does for Go,
// so that a reviewed diff shows only real changes: two-space indentation
// with list items indented under their key, one space after a colon, at
// most one blank line where the author left blank lines, no trailing
// spaces. What the author chose is kept: key order, comments (and the
// column of trailing comments they aligned), quoting, flow lists, anchors.
// A formatted spec decodes to the same values.
package specfmt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxBytes bounds the input: specs are small, and the formatter holds the
// whole document in memory twice.
const MaxBytes = 4 << 20

// ErrTooLarge is returned for input over MaxBytes.
var ErrTooLarge = fmt.Errorf("larger than %d MiB", MaxBytes>>20)

// Format returns src in the canonical layout. It refuses what is not one
// YAML document, without quoting it (the error names the line).
func Format(src []byte) ([]byte, error) {
	if len(src) > MaxBytes {
		return nil, ErrTooLarge
	}
	// yaml.v3 may attach a comment to another node once it has moved (a
	// key's foot comment becomes the document's), so a second pass can
	// still change the layout: repeat until it holds, as a formatter must
	// give its own output back unchanged.
	out, err := formatOnce(src)
	for i := 0; err == nil && i < 3; i++ {
		again, err2 := formatOnce(out)
		if err2 != nil || bytes.Equal(again, out) {
			break
		}
		out = again
	}
	return out, err
}

func formatOnce(src []byte) ([]byte, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("no YAML document")
		}
		return nil, syntaxError(err)
	}
	var second yaml.Node
	if err := dec.Decode(&second); err == nil {
		return nil, fmt.Errorf("line %d: a spec holds one YAML document; found a second", second.Line)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: a spec is a mapping of fields", doc.Line)
	}

	spellNulls(&doc, 0)

	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	var again yaml.Node
	if err := yaml.Unmarshal(out.Bytes(), &again); err != nil {
		return nil, fmt.Errorf("formatting made invalid YAML: %w", err)
	}
	l := &layout{src: bytes.Split(src, []byte("\n")), out: bytes.Split(out.Bytes(), []byte("\n")),
		blank: map[int]bool{}, column: map[int]int{}}
	l.walk(&doc, &again)
	return l.render(), nil
}

// spellNulls writes out empty nulls where yaml.v3 would encode them as an
// empty quoted string (`{a}`, or an anchored null key). A block mapping's
// `key:` stays as written.
func spellNulls(n *yaml.Node, depth int) {
	if depth > 10_000 {
		return
	}
	blockMap := n.Kind == yaml.MappingNode && n.Style&yaml.FlowStyle == 0
	for i, c := range n.Content {
		if c.Kind == yaml.ScalarNode && c.Tag == "!!null" && c.Value == "" && !(blockMap && i%2 == 1) {
			c.Value = "null"
		}
		spellNulls(c, depth+1)
	}
}

// syntaxError keeps yaml.v3's line but never the input's text.
func syntaxError(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		return errors.New("YAML syntax: " + msg[i:])
	}
	return errors.New("YAML syntax error")
}

// layout carries over what the YAML encoder drops: blank lines between
// items, and the column of trailing comments the author aligned.
type layout struct {
	src, out [][]byte
	blank    map[int]bool // formatted lines (1-based) with a blank line before
	column   map[int]int  // formatted line -> column its trailing comment starts at
}

// walk visits the source tree and the formatted one side by side (they
// have the same shape).
func (l *layout) walk(was, now *yaml.Node) {
	if was == nil || now == nil || len(was.Content) != len(now.Content) {
		return
	}
	if was.LineComment != "" {
		if col := commentAt(l.src, was.Line, was.LineComment); col >= 0 {
			l.column[now.Line] = col
		}
	}
	for i := range was.Content {
		wc, nc := was.Content[i], now.Content[i]
		item := was.Kind == yaml.SequenceNode || (was.Kind == yaml.MappingNode && i%2 == 0)
		if item && isBlank(l.src, start(wc)-1) {
			l.blank[start(nc)] = true
		}
		l.walk(wc, nc)
	}
}

func isBlank(lines [][]byte, line int) bool { // 1-based
	return line >= 1 && line <= len(lines) && len(bytes.TrimSpace(lines[line-1])) == 0
}

// commentAt finds the column (0-based) of a trailing comment on a line.
func commentAt(lines [][]byte, line int, comment string) int {
	if line < 1 || line > len(lines) {
		return -1
	}
	l := lines[line-1]
	if !bytes.HasSuffix(bytes.TrimRight(l, " \t\r"), []byte(comment)) {
		return -1
	}
	return bytes.LastIndex(l, []byte(comment))
}

// start is the first line of a node, its head comment included.
func start(n *yaml.Node) int {
	if n.HeadComment == "" {
		return n.Line
	}
	return n.Line - strings.Count(n.HeadComment, "\n") - 1
}

func (l *layout) render() []byte {
	var b bytes.Buffer
	for i, line := range l.out {
		n := i + 1
		if i == len(l.out)-1 && len(line) == 0 {
			break // the final newline
		}
		if l.blank[n] && b.Len() > 0 && !bytes.HasSuffix(b.Bytes(), []byte("\n\n")) {
			b.WriteByte('\n')
		}
		if col, ok := l.column[n]; ok {
			line = align(line, col)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// align moves a line's trailing comment (written "value # comment" by the
// encoder) to col when the value ends before it.
func align(line []byte, col int) []byte {
	i := bytes.LastIndex(line, []byte(" #"))
	if i < 0 {
		return line
	}
	end := len(bytes.TrimRight(line[:i], " "))
	if end+1 >= col {
		return line
	}
	out := append([]byte{}, line[:end]...)
	out = append(out, bytes.Repeat([]byte(" "), col-end)...)
	return append(out, line[i+1:]...)
}
