package specs

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// A pattern turns a slave's index into a name, MAC or IP. Placeholders
// are written {index}, then any arithmetic applied left to right
// ({index+2}, {index/256}, {index%200+10}), then optionally a format
// after a colon: {index:02d}, {index+2:02x}. The format is a printf verb
// without the % (d, x or X, with optional zero padding and width).
// Names also accept a single printf verb, e.g. slave-%02d.
type pattern struct {
	parts []patternPart
}

type patternPart struct {
	lit  string // literal text (when verb == "")
	ops  []patternOp
	verb string // e.g. "%02x"
}

type patternOp struct {
	op byte // + - * / %
	n  int
}

var placeholder = regexp.MustCompile(`\{([^{}]*)\}`)
var placeholderBody = regexp.MustCompile(`^index((?:[-+*/%][0-9]{1,6})*)(?::(0?[0-9]?[dxX]))?$`)
var placeholderOp = regexp.MustCompile(`([-+*/%])([0-9]{1,6})`)
var printfVerb = regexp.MustCompile(`%(0?[0-9]?[dxX])`)

// parsePattern parses s; allowPrintf accepts the %02d form (names).
func parsePattern(s string, allowPrintf bool) (pattern, error) {
	var p pattern
	if allowPrintf && !strings.Contains(s, "{") && strings.Contains(s, "%") {
		locs := printfVerb.FindAllStringSubmatchIndex(s, -1)
		if len(locs) != 1 || strings.Count(s, "%") != 1 {
			return p, fmt.Errorf("want exactly one %%d-style verb")
		}
		l := locs[0]
		p.parts = append(p.parts, patternPart{lit: s[:l[0]]}, patternPart{verb: "%" + s[l[2]:l[3]]}, patternPart{lit: s[l[1]:]})
		return p, nil
	}
	last := 0
	for _, l := range placeholder.FindAllStringSubmatchIndex(s, -1) {
		body := s[l[2]:l[3]]
		m := placeholderBody.FindStringSubmatch(body)
		if m == nil {
			return p, fmt.Errorf("bad placeholder {%s}: want {index}, {index+N} or {index:02x}", body)
		}
		part := patternPart{verb: "%d"}
		for _, om := range placeholderOp.FindAllStringSubmatch(m[1], -1) {
			n, _ := strconv.Atoi(om[2])
			if n == 0 && (om[1] == "/" || om[1] == "%") {
				return p, fmt.Errorf("bad placeholder {%s}: division by zero", body)
			}
			part.ops = append(part.ops, patternOp{op: om[1][0], n: n})
		}
		if m[2] != "" {
			part.verb = "%" + m[2]
		}
		p.parts = append(p.parts, patternPart{lit: s[last:l[0]]}, part)
		last = l[1]
	}
	p.parts = append(p.parts, patternPart{lit: s[last:]})
	for _, pp := range p.parts {
		if pp.verb == "" && strings.ContainsAny(pp.lit, "{}") {
			return p, fmt.Errorf("unbalanced brace")
		}
	}
	return p, nil
}

// varies reports whether the pattern depends on the index at all.
func (p pattern) varies() bool {
	for _, pp := range p.parts {
		if pp.verb != "" {
			return true
		}
	}
	return false
}

// expand renders the pattern for one index.
func (p pattern) expand(index int) string {
	var b strings.Builder
	for _, pp := range p.parts {
		if pp.verb == "" {
			b.WriteString(pp.lit)
			continue
		}
		b.WriteString(fmt.Sprintf(pp.verb, pp.apply(index)))
	}
	return b.String()
}

func (pp patternPart) apply(x int) int {
	for _, o := range pp.ops {
		switch o.op {
		case '+':
			x += o.n
		case '-':
			x -= o.n
		case '*':
			x *= o.n
		case '/':
			x /= o.n
		case '%':
			x %= o.n
		}
	}
	return x
}
