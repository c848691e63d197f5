package specs

import (
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Inventory, patches and waits: what runs around the cloud objects.

func (v *validator) checkInventory() {
	for _, name := range sortedKeys(v.doc.Inventory) {
		h := v.doc.Inventory[name]
		if h == nil {
			continue
		}
		v.checkSSHHost(h)
	}
}

func (v *validator) checkSSHHost(h *SSHHostSpec) {
	if h.Address.Set {
		if _, err := sshAddress(h.Address.V); err != nil {
			v.errorf(h.Address.At, "%s.address: invalid address %s: want HOST or HOST:PORT", h.Path, h.Address.Q())
		}
	}
	if j := h.Jump; j != nil {
		if j.Jump != nil {
			v.errorf(j.Jump.At, "%s.jump: one jump host at most", j.Path)
		}
		v.checkSSHHost(&SSHHostSpec{At: j.At, Path: j.Path, Address: j.Address})
	}
}

// sshAddress normalises HOST or HOST:PORT to HOST:PORT.
func sshAddress(s string) (string, error) {
	if host, port, err := net.SplitHostPort(s); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || host == "" || strings.ContainsAny(host, " /") {
			return "", strconv.ErrRange
		}
		return s, nil
	}
	if s == "" || strings.ContainsAny(s, " /") {
		return "", strconv.ErrSyntax
	}
	return net.JoinHostPort(s, "22"), nil
}

var (
	patchTypes   = []string{"allow-dhcp-server", "command"}
	patchMethods = []string{"auto", "api", "ssh"}
	waitTypes    = []string{"http", "fuel-nodes", "tcp", "console"}
)

func (v *validator) checkPatches() {
	seen := map[string]Pos{}
	for i := range v.doc.Patches {
		p := &v.doc.Patches[i]
		v.checkName(p.Name, p.At, p.Path, "patch", seen)
		if p.Type.Set && !containsStr(patchTypes, p.Type.V) {
			v.errorf(p.Type.At, "%s.type: unknown patch type %s: want allow-dhcp-server or command", p.Path, p.Type.Q())
			continue
		}
		if p.Method.Set && !containsStr(patchMethods, p.Method.V) {
			v.errorf(p.Method.At, "%s.method: want auto, api or ssh, got %s", p.Path, p.Method.Q())
		}
		if p.Host.Set {
			v.refHost(p.Host, p.Path+".host", p.Method.V == "ssh")
		}
		for j, h := range p.Hosts {
			v.refHost(h, p.Path+".hosts["+strconv.Itoa(j)+"]", true)
		}
		if p.After.Set {
			v.refServer(p.After, p.Path+".after")
		}
		switch p.Type.V {
		case "allow-dhcp-server":
			if !p.Port.Set {
				v.errorf(p.At, "%s: missing required field \"port\" (SERVER.NETWORK, e.g. master.admin)", p.Path)
			} else {
				v.refPort(p.Port, p.Path+".port")
			}
			if p.Method.V == "ssh" && len(v.doc.Inventory) == 0 {
				v.errorf(p.Method.At, "%s.method: ssh needs an inventory of hypervisors", p.Path)
			}
		case "command":
			if !p.Apply.Set {
				v.errorf(p.At, "%s: missing required field \"apply\"", p.Path)
			}
			if len(p.Hosts) == 0 {
				v.errorf(p.At, "%s: missing required field \"hosts\"", p.Path)
			}
			if p.Port.Set {
				v.errorf(p.Port.At, "%s.port: only allow-dhcp-server patches take a port", p.Path)
			}
		}
	}
}

func (v *validator) refHost(h String, path string, needInventory bool) {
	if _, ok := v.doc.Inventory[h.V]; ok {
		return
	}
	if needInventory || len(v.doc.Inventory) > 0 {
		v.errorf(h.At, "%s: hypervisor %s is not in the inventory%s", path, h.Q(), v.didYouMean(h.V, sortedKeys(v.doc.Inventory)))
	}
}

func (v *validator) refServer(s String, path string) *serverModel {
	srv, ok := v.byServer[s.V]
	if !ok {
		v.errorf(s.At, "%s: undefined server %s%s", path, s.Q(), v.didYouMean(s.V, sortedKeys(v.byServer)))
	}
	return srv
}

// refPort resolves SERVER.NETWORK.
func (v *validator) refPort(p String, path string) {
	server, network, ok := strings.Cut(p.V, ".")
	if !ok {
		v.errorf(p.At, "%s: want SERVER.NETWORK (e.g. master.admin), got %s", path, p.Q())
		return
	}
	srv := v.refServer(String{V: server, At: p.At, Set: true}, path)
	if srv == nil {
		return
	}
	if srv.port(network) == nil {
		v.errorf(p.At, "%s: server %q has no port on network %q", path, server, network)
	}
}

var templateRef = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)
var templateAttrs = []string{"ip", "floating_ip", "fixed_ip"}

func (v *validator) checkWaits() {
	v.waits = map[string]*WaitSpec{}
	seen := map[string]Pos{}
	for i := range v.doc.Waits {
		w := &v.doc.Waits[i]
		if name, ok := v.checkName(w.Name, w.At, w.Path, "wait", seen); ok {
			v.waits[name] = w
		}
	}
	for i := range v.doc.Waits {
		w := &v.doc.Waits[i]
		v.checkWait(w)
	}
	v.checkWaitCycles()
}

func (v *validator) checkWait(w *WaitSpec) {
	if w.Type.Set && !containsStr(waitTypes, w.Type.V) {
		v.errorf(w.Type.At, "%s.type: unknown wait type %s: want one of %s", w.Path, w.Type.Q(), strings.Join(waitTypes, ", "))
		return
	}
	need := func(f bool, key string) {
		if !f {
			v.errorf(w.At, "%s: missing required field %q for a %s wait", w.Path, key, w.Type.V)
		}
	}
	switch w.Type.V {
	case "http", "fuel-nodes":
		need(w.URL.Set, "url")
	case "tcp":
		need(w.Address.Set, "address")
	case "console":
		need(w.Marker.Set, "marker")
	}
	if w.Type.V == "fuel-nodes" && w.Count.Set && w.Count.V < 0 {
		v.errorf(w.Count.At, "%s.count: must be 0 or more", w.Path)
	}
	if w.Status.Set && (w.Status.V < 100 || w.Status.V > 599) {
		v.errorf(w.Status.At, "%s.status: %d is not an HTTP status", w.Path, w.Status.V)
	}
	for _, f := range []struct {
		s   String
		key string
	}{{w.URL, "url"}, {w.Address, "address"}} {
		if !f.s.Set || f.s.FromEnv {
			continue
		}
		for _, m := range templateRef.FindAllStringSubmatch(f.s.V, -1) {
			server, attr, _ := strings.Cut(m[1], ".")
			srv, ok := v.byServer[server]
			switch {
			case !ok:
				v.errorf(f.s.At, "%s.%s: {{%s}}: undefined server %q", w.Path, f.key, m[1], server)
			case !containsStr(templateAttrs, attr):
				v.errorf(f.s.At, "%s.%s: {{%s}}: want SERVER.ip, SERVER.floating_ip or SERVER.fixed_ip", w.Path, f.key, m[1])
			case attr == "floating_ip" && srv.fip == nil:
				v.errorf(f.s.At, "%s.%s: {{%s}}: server %q has no floating IP", w.Path, f.key, m[1], server)
			}
		}
	}
	for _, d := range []struct {
		s   String
		key string
	}{{w.Timeout, "timeout"}, {w.Interval, "interval"}} {
		if d.s.Set {
			if _, err := seconds(d.s.V); err != nil {
				v.errorf(d.s.At, "%s.%s: invalid duration %s: want seconds or e.g. 30m", w.Path, d.key, d.s.Q())
			}
		}
	}
	for j, a := range w.After {
		if _, ok := v.byServer[a.V]; ok || a.V == "slaves" {
			continue
		}
		if _, ok := v.waits[a.V]; ok {
			continue
		}
		known := append(sortedKeys(v.byServer), sortedKeys(v.waits)...)
		v.errorf(a.At, "%s.after[%d]: undefined server or wait %s%s", w.Path, j, a.Q(), v.didYouMean(a.V, known))
	}
}

// seconds reads "600" or a Go duration ("10m").
func seconds(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return n, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, strconv.ErrSyntax
	}
	return int(d / time.Second), nil
}

// checkWaitCycles reports waits that wait, directly or not, on themselves:
// the only place a spec can write a dependency cycle.
func (v *validator) checkWaitCycles() {
	const (
		unvisited = iota
		active
		done
	)
	state := map[string]int{}
	var visit func(name string, stack []string) bool
	visit = func(name string, stack []string) bool {
		switch state[name] {
		case active:
			i := 0
			for stack[i] != name {
				i++
			}
			cycle := append(append([]string{}, stack[i:]...), name)
			w := v.waits[stack[i]]
			v.errorf(w.At, "%s: dependency cycle: wait %s", w.Path, strings.Join(cycle, " -> wait "))
			return true
		case done:
			return false
		}
		state[name] = active
		stack = append(stack, name)
		for _, a := range v.waits[name].After {
			if _, isWait := v.waits[a.V]; isWait {
				if _, isServer := v.byServer[a.V]; !isServer && visit(a.V, stack) {
					state[name] = done
					return true
				}
			}
		}
		state[name] = done
		return false
	}
	for i := range v.doc.Waits {
		if n := v.doc.Waits[i].Name; n.Set && v.waits[n.V] == &v.doc.Waits[i] {
			visit(n.V, nil)
		}
	}
}
