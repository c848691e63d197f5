// Package topology draws a lab the way an operator pictures it — external
// network, router, lab networks, master, slaves — as a Mermaid flowchart
// that the common forges render in pull-request comments. A change can be
// marked on it: what is created, updated, replaced or deleted. Slaves are
// grouped into ranges when there are many, so a 200-slave lab stays a
// picture.
package topology

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/fuelplan/fuelplan/engine/plan"
	"github.com/fuelplan/fuelplan/specs"
)

// Marks are the actions to show, by resource address. Nil draws the lab
// as it is.
type Marks map[specs.Address]plan.Action

// FromPlan takes the marks of a plan's changes.
func FromPlan(p *plan.Plan) Marks {
	m := Marks{}
	for _, c := range p.Changes {
		if c.Action != plan.NoOp && c.Action != plan.Read {
			m[c.Address] = c.Action
		}
	}
	for _, c := range p.Conflicts {
		m[c.Address] = conflict
	}
	return m
}

// conflict marks an object the lab cannot have: an unowned one uses its name.
const conflict plan.Action = "!"

// MaxSlaves is how many slaves are drawn one by one; more are drawn as
// ranges of slaves that change alike.
const MaxSlaves = 8

// severity orders marks so that a node with several parts shows the
// strongest (a server whose port is replaced shows replace).
var severity = map[plan.Action]int{plan.Update: 1, plan.Create: 2, plan.Replace: 3, plan.Delete: 4, conflict: 5}

func stronger(a, b plan.Action) plan.Action {
	if severity[b] > severity[a] {
		return b
	}
	return a
}

// node is one box of the picture.
type node struct {
	id, label, shape string
	mark             plan.Action
}

// edge is one line of the picture, drawn left to right as traffic flows
// in: external network, router, lab networks, servers: a port, a router interface, the
// router's gateway; marked with that object's change.
type edge struct {
	from, to string
	mark     plan.Action
}

type picture struct {
	nodes []node
	edges []edge
}

func (p *picture) add(n node) { p.nodes = append(p.nodes, n) }
func (p *picture) link(from, to string, mark plan.Action) {
	p.edges = append(p.edges, edge{from, to, mark})
}

// Mermaid writes the picture of lab with marks as a Mermaid flowchart.
func Mermaid(w io.Writer, lab *specs.Lab, marks Marks) error {
	pic := draw(lab, marks)
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	for _, n := range pic.nodes {
		label := n.label
		if n.mark != "" {
			label = string(n.mark) + " " + label
		}
		open, close := shape(n.shape)
		fmt.Fprintf(&b, "  %s%s\"%s\"%s", n.id, open, escape(label), close)
		if n.mark != "" {
			fmt.Fprintf(&b, ":::%s", class(n.mark))
		}
		b.WriteByte('\n')
	}
	for _, e := range pic.edges {
		if e.mark == "" {
			fmt.Fprintf(&b, "  %s --- %s\n", e.from, e.to)
		} else {
			fmt.Fprintf(&b, "  %s ---|\"%s\"| %s\n", e.from, e.mark, e.to)
		}
	}
	for i, e := range pic.edges {
		if e.mark != "" {
			fmt.Fprintf(&b, "  linkStyle %d %s\n", i, linkStyle(e.mark))
		}
	}
	used := map[string]bool{}
	for _, n := range pic.nodes {
		if n.mark != "" {
			used[class(n.mark)] = true
		}
	}
	for _, c := range classes {
		if used[c.name] {
			fmt.Fprintf(&b, "  classDef %s %s\n", c.name, c.style)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

var classes = []struct{ name, style string }{
	{"create", "fill:#dafbe1,stroke:#1a7f37,color:#1a7f37"},
	{"update", "fill:#fff8c5,stroke:#9a6700,color:#9a6700"},
	{"replace", "fill:#ffe7d1,stroke:#bc4c00,color:#bc4c00,stroke-width:2px"},
	{"delete", "fill:#ffebe9,stroke:#cf222e,color:#cf222e,stroke-dasharray:4 3"},
	{"conflict", "fill:#ffebe9,stroke:#cf222e,color:#cf222e,stroke-width:3px"},
}

// linkStyle draws a changed link in its change's colour.
func linkStyle(a plan.Action) string {
	for _, c := range classes {
		if c.name == class(a) {
			_, stroke, _ := strings.Cut(c.style, "stroke:")
			stroke, _, _ = strings.Cut(stroke, ",")
			return "stroke:" + stroke + ",stroke-width:2px"
		}
	}
	return ""
}

func class(a plan.Action) string {
	if a == conflict {
		return "conflict"
	}
	return a.Word()
}

func shape(s string) (string, string) {
	switch s {
	case "cloud":
		return "((", "))"
	case "router":
		return "{{", "}}"
	case "network":
		return "[/", "/]"
	default:
		return "[", "]"
	}
}

// escape keeps a label inside Mermaid's quotes.
func escape(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "\n", "<br/>").Replace(s)
}

// id turns an address into a Mermaid node id.
func id(a specs.Address) string {
	return strings.NewReplacer(".", "_", "-", "_").Replace(string(a))
}

func draw(lab *specs.Lab, marks Marks) *picture {
	pic := &picture{}
	mark := func(as ...specs.Address) plan.Action {
		var m plan.Action
		for _, a := range as {
			m = stronger(m, marks[a])
		}
		return m
	}
	var (
		externals []*specs.ExternalNetwork
		routers   []*specs.Router
		networks  []*specs.Network
		servers   []*specs.Server
		subnetOf  = map[specs.Address]*specs.Subnet{}   // network -> its subnet
		netOf     = map[specs.Address]specs.Address{}   // subnet -> its network
		ifaces    = map[specs.Address][]specs.Address{} // router -> its interfaces
		ifaceNet  = map[specs.Address]specs.Address{}   // interface -> network
		fips      = map[specs.Address][]specs.Address{} // port -> floating IPs
		ports     = map[specs.Address]*specs.Port{}
	)
	for _, a := range lab.Addresses() {
		r, _ := lab.Resource(a)
		switch r := r.(type) {
		case *specs.ExternalNetwork:
			externals = append(externals, r)
		case *specs.Router:
			routers = append(routers, r)
		case *specs.Network:
			networks = append(networks, r)
		case *specs.Subnet:
			subnetOf[r.Network] = r
			netOf[r.Address] = r.Network
		case *specs.Server:
			servers = append(servers, r)
		case *specs.Port:
			ports[r.Address] = r
		case *specs.FloatingIP:
			fips[r.Port] = append(fips[r.Port], r.Address)
		}
	}
	for _, a := range lab.Addresses() {
		if ri, ok := resourceAs[*specs.RouterInterface](lab, a); ok {
			ifaces[ri.Router] = append(ifaces[ri.Router], ri.Address)
			ifaceNet[ri.Address] = netOf[ri.Subnet]
		}
	}
	for _, e := range externals {
		pic.add(node{id: id(e.Address), label: e.Name + "\nexternal network", shape: "cloud", mark: mark(e.Address)})
	}
	for _, r := range routers {
		pic.add(node{id: id(r.Address), label: r.Name + "\nrouter", shape: "router", mark: mark(r.Address)})
		if r.ExternalNetwork != "" {
			pic.link(id(r.ExternalNetwork), id(r.Address), "")
		}
	}
	slices.SortStableFunc(networks, func(a, b *specs.Network) int { return a.Index - b.Index })
	for _, n := range networks {
		label, parts := n.Name, []specs.Address{n.Address}
		if sn := subnetOf[n.Address]; sn != nil {
			label += "\n" + sn.CIDR
			parts = append(parts, sn.Address)
		}
		pic.add(node{id: id(n.Address), label: label, shape: "network", mark: mark(parts...)})
	}
	for _, r := range routers {
		for _, ia := range ifaces[r.Address] {
			if net := ifaceNet[ia]; net != "" {
				pic.link(id(r.Address), id(net), mark(ia))
			}
		}
	}
	// A server's mark is the strongest of its own, its ports' and its
	// floating IPs'.
	serverMark := func(s *specs.Server) plan.Action {
		parts := []specs.Address{s.Address}
		for _, p := range s.Ports {
			parts = append(parts, p)
			parts = append(parts, fips[p]...)
		}
		for _, bd := range s.BlockDevices {
			parts = append(parts, bd.Volume)
		}
		return mark(parts...)
	}
	// links are a server's ports: the network each joins, and its mark.
	links := func(s *specs.Server) []link {
		var out []link
		for _, p := range s.Ports {
			if pt := ports[p]; pt != nil {
				out = append(out, link{pt.Network, mark(append([]specs.Address{p}, fips[p]...)...)})
			}
		}
		return out
	}
	var slaves []*specs.Server
	for _, s := range servers {
		if s.Role == "slave" {
			slaves = append(slaves, s)
			continue
		}
		label := s.Name
		for _, p := range s.Ports {
			if len(fips[p]) > 0 {
				label += "\nfloating IP"
				break
			}
		}
		pic.add(node{id: id(s.Address), label: label, mark: serverMark(s)})
		for _, l := range links(s) {
			pic.link(id(l.network), id(s.Address), l.mark)
		}
	}
	drawSlaves(pic, slaves, serverMark, links)
	drawGone(pic, lab, marks)
	return pic
}

// link is a server's port as the picture shows it.
type link struct {
	network specs.Address
	mark    plan.Action
}

// drawSlaves draws each slave, or, past MaxSlaves, ranges of consecutive
// slaves with the same mark and networks.
func drawSlaves(pic *picture, slaves []*specs.Server, markOf func(*specs.Server) plan.Action, links func(*specs.Server) []link) {
	if len(slaves) <= MaxSlaves {
		for _, s := range slaves {
			pic.add(node{id: id(s.Address), label: s.Name, mark: markOf(s)})
			for _, l := range links(s) {
				pic.link(id(l.network), id(s.Address), l.mark)
			}
		}
		return
	}
	for i := 0; i < len(slaves); {
		j := i + 1
		for j < len(slaves) && markOf(slaves[j]) == markOf(slaves[i]) && slices.Equal(links(slaves[j]), links(slaves[i])) {
			j++
		}
		first, last := slaves[i], slaves[j-1]
		label := first.Name
		if j-i > 1 {
			label = fmt.Sprintf("%s … %s\n%d slaves", first.Name, last.Name, j-i)
		}
		nid := id(first.Address)
		if j-i > 1 {
			nid += "_to_" + id(last.Address)
		}
		pic.add(node{id: nid, label: label, mark: markOf(first)})
		for _, l := range links(first) {
			pic.link(id(l.network), nid, l.mark)
		}
		i = j
	}
}

// drawGone adds what a plan deletes that the spec no longer has (a slave
// after the count went down, a removed network), unconnected: only the
// cloud knew their links.
func drawGone(pic *picture, lab *specs.Lab, marks Marks) {
	var gone []specs.Address
	for a, m := range marks {
		if m != plan.Delete {
			continue
		}
		if _, inLab := lab.Resource(a); inLab {
			continue
		}
		switch a.Kind() {
		case specs.KindServer, specs.KindNetwork, specs.KindRouter:
			gone = append(gone, a)
		}
	}
	slices.SortFunc(gone, func(a, b specs.Address) int {
		if specs.Less(a, b) {
			return -1
		}
		if specs.Less(b, a) {
			return 1
		}
		return 0
	})
	for _, a := range gone {
		shape := ""
		switch a.Kind() {
		case specs.KindNetwork:
			shape = "network"
		case specs.KindRouter:
			shape = "router"
		}
		pic.add(node{id: id(a), label: a.Name() + "\n(" + string(a.Kind()) + ", not in the spec)", shape: shape, mark: plan.Delete})
	}
}

func resourceAs[T specs.Resource](lab *specs.Lab, a specs.Address) (T, bool) {
	r, ok := lab.Resource(a)
	if !ok {
		var zero T
		return zero, false
	}
	t, ok := r.(T)
	return t, ok
}
