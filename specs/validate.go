package specs

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// validator checks a decoded document and builds the resolved model. It
// collects every problem; each check is independent of the others' order.
type validator struct {
	doc   *Document
	file  string
	dir   string
	diags Diagnostics

	lab      string
	images   map[string]*ImageSpec
	flavors  map[string]*FlavorSpec
	nets     map[string]*netModel
	netOrder []*netModel
	// netPatterns are the networks named with {vlan}, made per VLAN ID;
	// tagged are the networks carried as VLANs (never a NIC's own);
	// vlanItems are each vlans entry, resolved (validate_vlan.go).
	netPatterns  map[string]*netModel
	patternOrder []*netModel
	tagged       map[string]Pos
	vlanItems    map[*VLANSpec][]vlanModel
	groups       map[string]*SecurityGroupSpec
	keypair      string
	servers      []*serverModel
	byServer     map[string]*serverModel
	waits        map[string]*WaitSpec
}

func (v *validator) errorf(p Pos, format string, args ...any) {
	v.diags = append(v.diags, Diagnostic{Pos: p, Severity: SeverityError, Message: fmt.Sprintf(format, args...), kind: format})
}

func (v *validator) warnf(p Pos, format string, args ...any) {
	v.diags = append(v.diags, Diagnostic{Pos: p, Severity: SeverityWarning, Message: fmt.Sprintf(format, args...), kind: format})
}

// maxSlaves bounds the slave count: beyond it a typo is likelier than a lab.
const maxSlaves = 4096

// maxSlaveObjects bounds the objects the slaves expand to: 4,096 Fuel
// slaves (server, 4 ports, 2 volumes) are 28,672.
const maxSlaveObjects = 100_000

var (
	labName     = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$`)
	logicalName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]{0,62})$`)
)

func (v *validator) run() {
	d := v.doc
	if d.APIVersion.Set && d.APIVersion.V != APIVersion {
		v.errorf(d.APIVersion.At, "apiVersion: unsupported version %s: want %q", d.APIVersion.Q(), APIVersion)
	}
	if d.Lab.Set && !labName.MatchString(d.Lab.V) {
		v.errorf(d.Lab.At, "lab: invalid lab name %s: use 1-32 lowercase letters, digits and dashes", d.Lab.Q())
	}
	v.lab = d.Lab.V
	v.checkImages()
	v.checkFlavors()
	v.checkNetworks()
	v.checkVLANs()
	v.checkRouter()
	v.checkGroups()
	v.checkKeypair()
	v.checkServers()
	v.checkObjectNames()
	v.checkInventory()
	v.checkPatches()
	v.checkWaits()
}

// checkName reports a missing, malformed or duplicate logical name and
// returns the name when it may be used.
func (v *validator) checkName(n String, at Pos, path, what string, seen map[string]Pos) (string, bool) {
	if !n.Set || n.V == "" {
		v.errorf(at, "%s: missing required field \"name\"", path)
		return "", false
	}
	if !logicalName.MatchString(n.V) {
		v.errorf(n.At, "%s.name: invalid %s name %s: use letters, digits, '.', '_' and '-'", path, what, n.Q())
		return "", false
	}
	if prev, dup := seen[n.V]; dup {
		v.errorf(n.At, "%s.name: duplicate %s name %s (first defined at line %d)", path, what, n.Q(), prev.Line)
		return "", false
	}
	seen[n.V] = n.At
	return n.V, true
}

// cloudName is the name an object gets in the cloud: <lab>-<name>, unless
// the spec names it outright.
// LockName is the cloud name of a lab's lock: a security group the lab
// owns, which apply and destroy hold (package engine). No lab group may
// take it.
func LockName(lab string) string { return lab + "-fuelplan-lock" }

func (v *validator) cloudName(n Named, logical string) string {
	if n.CloudName.Set && n.CloudName.V != "" {
		return n.CloudName.V
	}
	return v.lab + "-" + logical
}

var diskFormats = []string{"ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"}
var containerFormats = []string{"bare", "ovf", "aki", "ari", "ami", "ova", "docker", "compressed"}

func (v *validator) checkImages() {
	v.images = map[string]*ImageSpec{}
	seen := map[string]Pos{}
	for i := range v.doc.Images {
		im := &v.doc.Images[i]
		name, ok := v.checkName(im.Name, im.At, im.Path, "image", seen)
		if ok {
			v.images[name] = im
		}
		if im.Existing.V {
			for _, f := range []struct {
				s   String
				key string
			}{{im.File, "file"}, {im.DiskFormat, "disk_format"}, {im.ContainerFormat, "container_format"}} {
				if f.s.Set {
					v.errorf(f.s.At, "%s.%s: an existing image is looked up, not uploaded: remove %s", im.Path, f.key, f.key)
				}
			}
			continue
		}
		if !im.File.Set || im.File.V == "" {
			v.errorf(im.At, "%s: missing required field \"file\" (or set existing: true to look the image up)", im.Path)
		}
		if im.DiskFormat.Set && !slices.Contains(diskFormats, im.DiskFormat.V) {
			v.errorf(im.DiskFormat.At, "%s.disk_format: unknown disk format %s: want one of %s", im.Path, im.DiskFormat.Q(), strings.Join(diskFormats, ", "))
		}
		if im.ContainerFormat.Set && !slices.Contains(containerFormats, im.ContainerFormat.V) {
			v.errorf(im.ContainerFormat.At, "%s.container_format: unknown container format %s: want one of %s", im.Path, im.ContainerFormat.Q(), strings.Join(containerFormats, ", "))
		}
	}
}

func (v *validator) checkFlavors() {
	v.flavors = map[string]*FlavorSpec{}
	seen := map[string]Pos{}
	for i := range v.doc.Flavors {
		f := &v.doc.Flavors[i]
		name, ok := v.checkName(f.Name, f.At, f.Path, "flavor", seen)
		if ok {
			v.flavors[name] = f
		}
		if f.Existing.V {
			continue
		}
		for _, c := range []struct {
			n   Int
			key string
			min int
		}{{f.VCPUs, "vcpus", 1}, {f.RAM, "ram", 1}, {f.Disk, "disk", 0}, {f.Ephemeral, "ephemeral", 0}} {
			switch {
			case !c.n.Set && c.min > 0:
				v.errorf(f.At, "%s: missing required field %q (or set existing: true to look the flavor up)", f.Path, c.key)
			case c.n.Set && c.n.V < c.min:
				v.errorf(c.n.At, "%s.%s: must be at least %d, got %d", f.Path, c.key, c.min, c.n.V)
			}
		}
	}
}

func (v *validator) checkRouter() {
	r := v.doc.Router
	if r == nil {
		for _, n := range v.netOrder {
			if n.spec.Router.V {
				v.errorf(n.spec.Router.At, "%s.router: the network attaches to the router, but the spec has no router", n.spec.Path)
			}
		}
		return
	}
	if r.Name.Set && !logicalName.MatchString(r.Name.V) {
		v.errorf(r.Name.At, "router.name: invalid router name %s", r.Name.Q())
	}
	if r.ExternalGateway.V && !v.doc.ExternalNetwork.Set {
		v.errorf(r.ExternalGateway.At, "router.external_gateway: needs the top-level external_network")
	}
	seen := map[string]bool{}
	for i, in := range r.Interfaces {
		n, ok := v.nets[in.V]
		if !ok {
			v.errorf(in.At, "router.interfaces[%d]: undefined network %s%s", i, in.Q(), v.didYouMean(in.V, v.netNames()))
			continue
		}
		if seen[in.V] {
			v.errorf(in.At, "router.interfaces[%d]: network %q listed twice", i, in.V)
			continue
		}
		seen[in.V] = true
		n.routed = true
	}
}

// routerHasGateway reports whether the router reaches the external network.
func (v *validator) routerHasGateway() bool {
	r := v.doc.Router
	return r != nil && v.doc.ExternalNetwork.Set && r.ExternalGateway.Or(true)
}

var (
	directions = []string{"ingress", "egress"}
	etherTypes = []string{"IPv4", "IPv6"}
	protocols  = []string{"tcp", "udp", "icmp", "any"}
	portRange  = regexp.MustCompile(`^([0-9]{1,5})(?:-([0-9]{1,5}))?$`)
)

func (v *validator) checkGroups() {
	v.groups = map[string]*SecurityGroupSpec{}
	seen := map[string]Pos{}
	for i := range v.doc.SecurityGroups {
		g := &v.doc.SecurityGroups[i]
		if name, ok := v.checkName(g.Name, g.At, g.Path, "security group", seen); ok {
			v.groups[name] = g
			if cn := v.cloudName(g.Named, name); cn == LockName(v.lab) {
				at, field := g.Name.At, "name"
				if g.CloudName.Set && g.CloudName.V != "" {
					at, field = g.CloudName.At, "cloud_name"
				}
				v.errorf(at, "%s.%s: the cloud name %q is reserved for the lab's lock (a security group fuelplan keeps); choose another name", g.Path, field, cn)
			}
		}
	}
	for i := range v.doc.SecurityGroups {
		g := &v.doc.SecurityGroups[i]
		keys := map[string]Pos{}
		for j := range g.Rules {
			r := &g.Rules[j]
			v.checkRule(r)
			k := ruleKey(r)
			if prev, dup := keys[k]; dup {
				v.errorf(r.At, "%s: duplicate rule %q (same as line %d)", r.Path, k, prev.Line)
				continue
			}
			keys[k] = r.At
		}
	}
}

func (v *validator) checkRule(r *RuleSpec) {
	if r.Direction.Set && !slices.Contains(directions, r.Direction.V) {
		v.errorf(r.Direction.At, "%s.direction: want ingress or egress, got %s", r.Path, r.Direction.Q())
	}
	if r.EtherType.Set && !slices.Contains(etherTypes, r.EtherType.V) {
		v.errorf(r.EtherType.At, "%s.ethertype: want IPv4 or IPv6, got %s", r.Path, r.EtherType.Q())
	}
	if r.Protocol.Set && !slices.Contains(protocols, r.Protocol.V) {
		v.errorf(r.Protocol.At, "%s.protocol: want tcp, udp, icmp or any, got %s", r.Path, r.Protocol.Q())
	}
	if r.Ports.Set {
		if _, _, err := parsePorts(r.Ports.V); err != nil {
			v.errorf(r.Ports.At, "%s.ports: %v", r.Path, err)
		} else if p := r.Protocol.V; p != "tcp" && p != "udp" {
			v.errorf(r.Ports.At, "%s.ports: ports need protocol tcp or udp", r.Path)
		}
	}
	if r.RemoteIP.Set && r.RemoteGroup.Set {
		v.errorf(r.RemoteGroup.At, "%s: remote_ip and remote_group are exclusive", r.Path)
	}
	if r.RemoteIP.Set {
		if _, err := parsePrefix(r.RemoteIP.V); err != nil {
			v.errorf(r.RemoteIP.At, "%s.remote_ip: invalid CIDR %s", r.Path, r.RemoteIP.Q())
		}
	}
	if r.RemoteGroup.Set {
		if _, ok := v.groups[r.RemoteGroup.V]; !ok {
			v.errorf(r.RemoteGroup.At, "%s.remote_group: undefined security group %s%s", r.Path, r.RemoteGroup.Q(), v.didYouMean(r.RemoteGroup.V, sortedKeys(v.groups)))
		}
	}
}

// parsePorts reads "22" or "8000-8443".
func parsePorts(s string) (lo, hi int, err error) {
	m := portRange.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, fmt.Errorf("invalid port range %q: want PORT or MIN-MAX", s)
	}
	fmt.Sscan(m[1], &lo)
	hi = lo
	if m[2] != "" {
		fmt.Sscan(m[2], &hi)
	}
	if lo < 1 || hi > 65535 || lo > hi {
		return 0, 0, fmt.Errorf("invalid port range %q: ports run 1-65535, MIN <= MAX", s)
	}
	return lo, hi, nil
}

// ruleKey is the rule's address suffix: its name, or a key made of its
// content, so that reordering rules never renames them.
func ruleKey(r *RuleSpec) string {
	if r.Name.Set && r.Name.V != "" {
		return r.Name.V
	}
	parts := []string{r.Direction.Or("ingress"), strings.ToLower(r.EtherType.Or("IPv4")), r.Protocol.Or("any")}
	if r.Ports.Set {
		parts = append(parts, r.Ports.V)
	}
	switch {
	case r.RemoteIP.Set:
		parts = append(parts, "from", r.RemoteIP.V)
	case r.RemoteGroup.Set:
		parts = append(parts, "from", r.RemoteGroup.V)
	}
	return strings.Join(parts, "-")
}

func (v *validator) checkKeypair() {
	k := v.doc.Keypair
	if k == nil {
		return
	}
	name := k.Name.Or("key")
	if !logicalName.MatchString(name) {
		v.errorf(k.Name.At, "keypair.name: invalid keypair name %s", k.Name.Q())
		return
	}
	v.keypair = name
	switch {
	case k.PublicKey.Set == k.PublicKeyFile.Set:
		v.errorf(k.At, "keypair: set exactly one of public_key and public_key_file")
	case k.PublicKey.Set:
		if err := checkPublicKey([]byte(k.PublicKey.V)); err != nil {
			v.errorf(k.PublicKey.At, "keypair.public_key: %v", err)
		}
	default:
		if _, err := readPublicKey(v.resolve(k.PublicKeyFile.V)); err != nil {
			v.errorf(k.PublicKeyFile.At, "keypair.public_key_file: %v", err)
		}
	}
}

func (v *validator) didYouMean(name string, known []string) string {
	if s := suggest(name, known); s != "" {
		return fmt.Sprintf("; did you mean %q?", s)
	}
	return ""
}

func (v *validator) netNames() []string {
	out := make([]string, 0, len(v.netOrder))
	for _, n := range v.netOrder {
		out = append(out, n.name)
	}
	return out
}

func sortedKeys[T any](m map[string]T) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkObjectNames refuses two ports, or two volumes, that get one name
// in the cloud: a port is named <server>-<network>, so server "a-b" on
// network "c" and server "a" on network "b-c" would both make "a-b-c",
// and the live read could not tell them apart.
func (v *validator) checkObjectNames() {
	type owner struct {
		server *serverModel
		what   string
	}
	ports, vols := map[string]owner{}, map[string]owner{}
	for _, s := range v.servers {
		for i := range s.ports {
			p := &s.ports[i]
			name := s.cloudName + "-" + p.net.name
			if o, dup := ports[name]; dup && o.server != s {
				v.errorf(p.at, "%s: %s's port on network %q is named %s in the cloud, as is %s's port on network %q: rename a server or a network",
					p.path, s.name, p.net.name, quote(name), o.server.name, o.what)
				continue
			} else if dup {
				continue // a second port on one network: reported already
			}
			ports[name] = owner{s, p.net.name}
		}
		for _, vol := range s.volumes {
			name := s.cloudName + "-" + vol.Name.V
			if o, dup := vols[name]; dup && o.server != s {
				v.errorf(vol.At, "%s: %s's volume %q is named %s in the cloud, as is %s's volume %q: rename a server or a volume",
					vol.Path, s.name, vol.Name.V, quote(name), o.server.name, o.what)
				continue
			} else if dup {
				continue // a duplicate volume name: reported already
			}
			vols[name] = owner{s, vol.Name.V}
		}
	}
}
