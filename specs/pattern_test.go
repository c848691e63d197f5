package specs

import "testing"

func TestPatternExpand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pat, want string
		index     int
		printf    bool
	}{
		{"slave-{index:02d}", "slave-03", 3, false},
		{"slave-{index}", "slave-12", 12, false},
		{"aa:0a:14:00:{index+2:02x}:01", "aa:0a:14:00:0c:01", 10, false},
		{"10.20.0.{index+2}", "10.20.0.5", 3, false},
		{"10.20.{index/200+1}.{index%200+10}", "10.20.6.10", 1000, false},
		{"aa:0a:{index/256:02x}:{index%256:02x}", "aa:0a:03:e8", 1000, false},
		{"n{index*2-1}", "n5", 3, false},
		{"slave-%02d", "slave-07", 7, true},
		{"fixed", "fixed", 9, false},
	}
	for _, tt := range tests {
		p, err := parsePattern(tt.pat, tt.printf)
		if err != nil {
			t.Errorf("%q: %v", tt.pat, err)
			continue
		}
		if got := p.expand(tt.index); got != tt.want {
			t.Errorf("%q at %d = %q, want %q", tt.pat, tt.index, got, tt.want)
		}
	}
}

func TestPatternErrors(t *testing.T) {
	t.Parallel()
	for _, pat := range []string{"{idx}", "{index:s}", "{index/0}", "a{index", "a}b", "{index%0:02x}"} {
		if _, err := parsePattern(pat, false); err == nil {
			t.Errorf("%q: want an error", pat)
		}
	}
	for _, pat := range []string{"slave-%d-%d", "slave-%s"} {
		if _, err := parsePattern(pat, true); err == nil {
			t.Errorf("%q (printf): want an error", pat)
		}
	}
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	known := []string{"dhcp", "cidr", "gateway", "allocation_pools", "slaves"}
	tests := []struct{ in, want string }{
		{"dchp", "dhcp"},
		{"cdir", "cidr"},
		{"gatway", "gateway"},
		{"slave", "slaves"},
		{"allocation_pool", "allocation_pools"},
		{"colour", ""},
		{"x", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.in, known); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
