package patches

import (
	"fmt"
	"strings"
)

// chainPrefix is the OVS hybrid iptables driver's egress chain prefix: the
// agent names a port's chain "neutron-openvswi-o" + the port ID's first 10
// characters (iptables caps chain names at 28 characters).
const chainPrefix = "neutron-openvswi-o"

// ChainName is the egress chain of a port on its compute node.
func ChainName(portID string) string {
	id := portID
	if len(id) > 10 {
		id = id[:10]
	}
	return chainPrefix + id
}

// Rule is one line of `iptables -S`: "-A CHAIN match... -j TARGET".
type Rule struct {
	Line  string   // as printed
	Chain string   // the chain it is appended to
	Spec  []string // the tokens after "-A CHAIN", unquoted
}

// ParseRules reads `iptables -S [CHAIN]` output and returns its rules; the
// policy (-P) and chain (-N) lines are skipped. Quoted words (comments)
// come back unquoted.
func ParseRules(out string) ([]Rule, error) {
	var rules []Rule
	for n, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line != "-A" && !strings.HasPrefix(line, "-A ") {
			continue
		}
		toks, err := splitWords(line)
		if err != nil {
			return nil, fmt.Errorf("iptables -S line %d: %w", n+1, err)
		}
		if len(toks) < 2 {
			return nil, fmt.Errorf("iptables -S line %d: -A without a chain", n+1)
		}
		rules = append(rules, Rule{Line: line, Chain: toks[1], Spec: toks[2:]})
	}
	return rules, nil
}

// splitWords splits an iptables -S line: words separated by spaces, with
// double-quoted words (comments) holding spaces and \" escapes.
func splitWords(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case c == '"':
			quoted = !quoted
			inWord = true
		case c == ' ' && !quoted:
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}

// option returns the value after flag in a rule spec, "" when absent.
func (r Rule) option(flag string) string {
	for i := 0; i+1 < len(r.Spec); i++ {
		if r.Spec[i] == flag {
			return r.Spec[i+1]
		}
	}
	return ""
}

// DropsDHCPReplies reports whether r is the agent's anti-DHCP-spoofing
// rule: UDP from port 67 to port 68, jumping to DROP. Comments and the
// `-m udp` match the agent adds do not matter; a rule that also matches on
// addresses or interfaces is not this rule and is left alone.
func (r Rule) DropsDHCPReplies() bool {
	if r.option("-p") != "udp" || r.option("--sport") != "67" || r.option("--dport") != "68" || r.option("-j") != "DROP" {
		return false
	}
	allowed := map[string]bool{"-p": true, "-m": true, "--sport": true, "--dport": true, "-j": true, "--comment": true}
	for i := 0; i < len(r.Spec); i += 2 {
		if !allowed[r.Spec[i]] {
			return false
		}
	}
	return len(r.Spec)%2 == 0
}

// DHCPDrops returns the rules of chain that drop DHCP replies, in order;
// an identical rule added twice is there twice.
func DHCPDrops(rules []Rule, chain string) []Rule {
	var out []Rule
	for _, r := range rules {
		if r.Chain == chain && r.DropsDHCPReplies() {
			out = append(out, r)
		}
	}
	return out
}

// ListCommand reads one chain; -w waits for the xtables lock the agent
// holds while it rewrites chains, rather than failing.
func ListCommand(chain string) string {
	return "iptables -w -S " + chain
}

// DeleteCommand deletes one rule by its spec (not by number: the agent may
// renumber the chain between our read and our delete). The words are
// shell-quoted, comments included.
func DeleteCommand(r Rule) string {
	words := []string{"iptables", "-w", "-D", shellQuote(r.Chain)}
	for _, w := range r.Spec {
		words = append(words, shellQuote(w))
	}
	return strings.Join(words, " ")
}

// shellQuote quotes a word for a POSIX shell, leaving plain words alone
// so commands stay readable in errors.
func shellQuote(s string) string {
	plain := s != ""
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./:,=+@%", c)) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// NoSuchChain reports whether iptables' stderr says the chain does not
// exist (the port is not on that host, or the agent has not wired it).
func NoSuchChain(stderr string) bool {
	return strings.Contains(stderr, "No chain/target/match by that name") ||
		strings.Contains(stderr, "chain `") && strings.Contains(stderr, "' in table `filter' is incompatible") ||
		strings.Contains(stderr, "does not exist")
}
