package waits

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// Live is the live state checks are resolved against (engine.State).
type Live interface {
	Live(specs.Address) (*resources.Object, bool)
}

var templateRef = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

// Resolve turns the lab's waits into checks: templates filled in from the
// live cloud, the slaves' admin MACs for fuel-nodes, the servers whose
// console a console check reads. A check that cannot be resolved carries
// its Problem rather than failing the others.
func Resolve(lab *specs.Lab, live Live) []Check {
	var out []Check
	for _, a := range lab.Addresses() {
		r, _ := lab.Resource(a)
		w, ok := r.(*specs.Wait)
		if !ok {
			continue
		}
		c := Check{
			Addr: w.Addr(), Type: w.Type, Status: w.Status, Count: w.Count, Username: w.Username,
			Password: w.Password, Marker: w.Marker,
			Timeout: time.Duration(w.TimeoutS) * time.Second, Interval: time.Duration(w.IntervalS) * time.Second,
		}
		var problems []string
		fill := func(field, s string) string {
			v, err := expand(lab, live, s)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", field, err))
			}
			return v
		}
		c.URL = fill("url", w.URL)
		c.Address = fill("address", w.Address)
		for _, dep := range w.After {
			switch dep.Kind() {
			case specs.KindWait:
				c.After = append(c.After, dep)
			case specs.KindServer:
				if w.Type != TypeConsole {
					continue
				}
				if o, ok := live.Live(dep); ok && o.ID != "" {
					c.Servers = append(c.Servers, Server{Addr: dep, ID: o.ID})
				} else {
					problems = append(problems, fmt.Sprintf("%s is not on the cloud (apply first)", dep))
				}
			}
		}
		if w.Type == TypeFuelNodes {
			c.MACs = slaveAdminMACs(lab, live)
		}
		if len(problems) > 0 {
			c.Problem = strings.Join(problems, "; ")
		}
		out = append(out, c)
	}
	return out
}

// expand fills {{SERVER.ATTR}} templates: floating_ip, fixed_ip (of the
// server's first port, the admin network), and ip (the floating IP when
// there is one, else the fixed one).
func expand(lab *specs.Lab, live Live, s string) (string, error) {
	var err error
	out := templateRef.ReplaceAllStringFunc(s, func(m string) string {
		ref := templateRef.FindStringSubmatch(m)[1]
		server, attr, _ := strings.Cut(ref, ".")
		v, e := attribute(lab, live, specs.NewAddress(specs.KindServer, server), attr)
		if e != nil && err == nil {
			err = fmt.Errorf("{{%s}}: %w", ref, e)
		}
		return v
	})
	return out, err
}

func attribute(lab *specs.Lab, live Live, server specs.Address, attr string) (string, error) {
	r, ok := lab.Resource(server)
	srv, isServer := r.(*specs.Server)
	if !ok || !isServer {
		return "", fmt.Errorf("no server %s in the lab", server)
	}
	switch attr {
	case "floating_ip", "ip":
		fip := floatingIPOf(lab, server)
		if fip == "" {
			if attr == "ip" {
				return fixedIP(lab, live, srv)
			}
			return "", fmt.Errorf("%s has no floating IP in the spec", server)
		}
		o, ok := live.Live(fip)
		if !ok || o.Fields["floating_ip_address"] == "" {
			return "", fmt.Errorf("%s is not on the cloud (apply first)", fip)
		}
		return o.Fields["floating_ip_address"], nil
	case "fixed_ip":
		return fixedIP(lab, live, srv)
	}
	return "", fmt.Errorf("unknown attribute %q: want ip, floating_ip or fixed_ip", attr)
}

// floatingIPOf is the address of the floating IP on one of the server's ports.
func floatingIPOf(lab *specs.Lab, server specs.Address) specs.Address {
	for _, a := range lab.Addresses() {
		r, _ := lab.Resource(a)
		f, ok := r.(*specs.FloatingIP)
		if !ok {
			continue
		}
		if pr, ok := lab.Resource(f.Port); ok {
			if p, ok := pr.(*specs.Port); ok && p.Server == server {
				return f.Addr()
			}
		}
	}
	return ""
}

// fixedIP is the fixed IP of the server's first port: the live one, else
// the spec's.
func fixedIP(lab *specs.Lab, live Live, srv *specs.Server) (string, error) {
	if len(srv.Ports) == 0 {
		return "", fmt.Errorf("%s has no ports", srv.Addr())
	}
	if o, ok := live.Live(srv.Ports[0]); ok && o.Fields["fixed_ip"] != "" {
		return o.Fields["fixed_ip"], nil
	}
	if pr, ok := lab.Resource(srv.Ports[0]); ok {
		if p, ok := pr.(*specs.Port); ok && p.FixedIP != "" {
			return p.FixedIP, nil
		}
	}
	return "", fmt.Errorf("%s is not on the cloud (apply first)", srv.Ports[0])
}

// slaveAdminMACs are the MACs of every slave's first port (the admin
// network, which slaves PXE-boot from): the spec's fixed MAC, else the
// live port's. Fuel identifies discovered nodes by them.
func slaveAdminMACs(lab *specs.Lab, live Live) []string {
	var out []string
	for _, a := range lab.Addresses() {
		r, _ := lab.Resource(a)
		s, ok := r.(*specs.Server)
		if !ok || s.Role != "slave" || len(s.Ports) == 0 {
			continue
		}
		mac := ""
		if pr, ok := lab.Resource(s.Ports[0]); ok {
			if p, ok := pr.(*specs.Port); ok {
				mac = p.MAC
			}
		}
		if mac == "" {
			if o, ok := live.Live(s.Ports[0]); ok {
				mac = o.Fields["mac"]
			}
		}
		if mac != "" {
			out = append(out, strings.ToLower(mac))
		}
	}
	slices.Sort(out)
	return out
}
