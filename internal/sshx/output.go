package sshx

import (
	"bytes"
	"strings"
)

// maxOutput caps what a command may print into memory: iptables -S of one
// chain is a few hundred bytes; a runaway command must not fill memory.
const maxOutput = 1 << 20

// capped is a buffer that keeps the first maxOutput bytes.
type capped struct {
	buf       bytes.Buffer
	truncated bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := maxOutput - c.buf.Len(); room < len(p) {
		c.truncated = true
		if room > 0 {
			c.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return c.buf.Write(p)
}

func (c *capped) String() string {
	if c.truncated {
		return c.buf.String() + "\n[output truncated]"
	}
	return c.buf.String()
}

// lastLines keeps the end of stderr for an error message: the last few
// lines say why a command failed; the rest is noise.
func lastLines(s string) string {
	s = strings.TrimSpace(s)
	lines := strings.Split(s, "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	out := strings.Join(lines, "; ")
	if len(out) > 500 {
		out = "..." + out[len(out)-500:]
	}
	return out
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
