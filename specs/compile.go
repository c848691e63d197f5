package specs

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Compile turns a valid spec into its lab: one instance per cloud object
// (and per lookup), linked into the DAG. It fails only on a spec that did
// not come from a clean Load/Parse.
func Compile(s *Spec) (*Lab, error) { return CompileFor(s, Caps{}) }

// CompileFor compiles for a cloud with caps: vlan_mode auto takes the way
// the cloud supports (compile_vlan.go).
func CompileFor(s *Spec, caps Caps) (*Lab, error) {
	if s == nil || s.v == nil || s.Doc == nil {
		return nil, errors.New("compile: no validated spec")
	}
	c := &compiler{v: s.v, lab: NewLab(s.v.lab)}
	c.lab.Cloud = s.Doc.Cloud.V
	c.lab.File = s.File
	c.lab.Hash = s.Hash
	c.lab.env = slices.Clone(s.env)
	c.lab.spec = s
	c.resolveVLANs(caps)
	c.all()
	c.reserveFixedIPs()
	if err := errors.Join(c.errs...); err != nil {
		return nil, err
	}
	if err := c.lab.Link(); err != nil {
		return nil, err
	}
	return c.lab, nil
}

type compiler struct {
	v    *validator
	lab  *Lab
	errs []error
	// vlanModes is how each carrier network's VLANs are built;
	// neededNets the tagged networks trunks use (compile_vlan.go).
	vlanModes  map[string]string
	neededNets map[string]bool
}

func (c *compiler) add(r Resource) {
	if err := c.lab.Add(r); err != nil {
		c.errs = append(c.errs, err)
	}
}

func (c *compiler) meta(k Kind, name string, at Pos, parts ...string) Meta {
	return Meta{Address: NewAddress(k, parts...), Name: name, At: at}
}

func (c *compiler) all() {
	v := c.v
	d := v.doc
	if d.ExternalNetwork.Set {
		// Lookups are protected: fuelplan never deletes what it did not create.
		m := c.meta(KindExternalNetwork, d.ExternalNetwork.V, d.ExternalNetwork.At, d.ExternalNetwork.V)
		m.Protect = true
		c.add(&ExternalNetwork{Meta: m})
	}
	for i := range d.Images {
		c.image(&d.Images[i])
	}
	for i := range d.Flavors {
		c.flavor(&d.Flavors[i])
	}
	for _, n := range v.netOrder {
		c.network(n)
	}
	c.router()
	for i := range d.SecurityGroups {
		c.group(&d.SecurityGroups[i])
	}
	c.keypair()
	for _, s := range v.servers {
		c.server(s)
	}
	c.patches()
	c.waits()
}

// lookupName is a lookup's cloud name: as given, never lab-prefixed.
func lookupName(n Named) string {
	if n.CloudName.Set {
		return n.CloudName.V
	}
	return n.Name.V
}

func (c *compiler) image(im *ImageSpec) {
	m := c.meta(KindImage, c.v.cloudName(im.Named, im.Name.V), im.At, im.Name.V)
	if im.Existing.V {
		m.Name, m.Protect = lookupName(im.Named), true
		c.add(&Image{Meta: m, Existing: true})
		return
	}
	m.Protect = im.Protect.V
	c.add(&Image{
		Meta:            m,
		File:            c.v.resolve(im.File.V),
		DiskFormat:      im.DiskFormat.Or(defaultDiskFormat(im.File.V)),
		ContainerFormat: im.ContainerFormat.Or("bare"),
		Properties:      plainMap(im.Properties),
	})
}

// defaultDiskFormat guesses from the file name: ISOs are common in Fuel labs.
func defaultDiskFormat(file string) string {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".iso":
		return "iso"
	case ".raw":
		return "raw"
	default:
		return "qcow2"
	}
}

func plainMap(m map[string]String) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v.V
	}
	return out
}

func (c *compiler) flavor(f *FlavorSpec) {
	m := c.meta(KindFlavor, c.v.cloudName(f.Named, f.Name.V), f.At, f.Name.V)
	if f.Existing.V {
		m.Name, m.Protect = lookupName(f.Named), true
		c.add(&Flavor{Meta: m, Existing: true})
		return
	}
	m.Protect = f.Protect.V
	c.add(&Flavor{Meta: m, VCPUs: f.VCPUs.V, RAM: f.RAM.V, Disk: f.Disk.V, Ephemeral: f.Ephemeral.V, ExtraSpecs: plainMap(f.ExtraSpecs)})
}

func (c *compiler) network(n *netModel) {
	if c.skipNetwork(n) {
		return
	}
	ns := n.spec
	name := c.networkCloudName(n)
	nw := &Network{Meta: c.meta(KindNetwork, name, ns.At, n.name), Description: ns.Description.V,
		PortSecurity: ns.PortSecurity.Ptr(), VLANTransparent: ns.VLANTransparent.Ptr(), Index: n.index}
	if c.vlanModes[n.name] == VLANModeTransparent {
		yes := true
		nw.VLANTransparent = &yes
	}
	if ns.MTU.Set {
		mtu := ns.MTU.V
		nw.MTU = &mtu
	}
	nw.Protect = ns.Protect.V
	c.add(nw)
	sn := &Subnet{Meta: c.meta(KindSubnet, name, ns.At, n.name), Network: nw.Address, CIDR: n.prefix.String(),
		NoGateway: n.noGateway, EnableDHCP: ns.DHCP.Or(true)}
	sn.Protect = ns.Protect.V
	if ns.Gateway.Set && !n.noGateway {
		sn.Gateway = n.gateway.String()
	}
	for _, p := range n.pools {
		sn.AllocationPools = append(sn.AllocationPools, AllocationPool{Start: p.start.String(), End: p.end.String()})
	}
	for _, d := range ns.DNS {
		sn.DNSNameservers = append(sn.DNSNameservers, d.V)
	}
	c.add(sn)
}

func (c *compiler) router() {
	r := c.v.doc.Router
	if r == nil {
		return
	}
	name := r.Name.Or("router")
	rt := &Router{Meta: c.meta(KindRouter, c.v.cloudName(r.Named, name), r.At, name)}
	rt.Protect = r.Protect.V
	if c.v.routerHasGateway() {
		rt.ExternalNetwork = NewAddress(KindExternalNetwork, c.v.doc.ExternalNetwork.V)
	}
	c.add(rt)
	for _, n := range c.v.netOrder {
		if !n.routed || c.skipNetwork(n) {
			continue
		}
		c.add(&RouterInterface{Meta: c.meta(KindRouterInterface, rt.Name+"-"+n.name, n.spec.At, n.name),
			Router: rt.Address, Subnet: NewAddress(KindSubnet, n.name)})
	}
}

func (c *compiler) group(g *SecurityGroupSpec) {
	m := c.meta(KindSecurityGroup, c.v.cloudName(g.Named, g.Name.V), g.At, g.Name.V)
	m.Protect = g.Protect.V
	c.add(&SecurityGroup{Meta: m, Description: g.Description.V})
	for i := range g.Rules {
		r := &g.Rules[i]
		key := ruleKey(r)
		rule := &SecurityGroupRule{
			Meta:      c.meta(KindSecurityGroupRule, m.Name+"-"+key, r.At, g.Name.V, key),
			Group:     m.Address,
			Direction: r.Direction.Or("ingress"),
			EtherType: r.EtherType.Or("IPv4"),
			Protocol:  r.Protocol.V,
			RemoteIP:  r.RemoteIP.V,
		}
		if rule.Protocol == "any" {
			rule.Protocol = ""
		}
		if r.Ports.Set {
			rule.PortMin, rule.PortMax, _ = parsePorts(r.Ports.V)
		}
		if r.RemoteGroup.Set {
			rule.RemoteGroup = NewAddress(KindSecurityGroup, r.RemoteGroup.V)
		}
		c.add(rule)
	}
}

func (c *compiler) keypair() {
	k := c.v.doc.Keypair
	if k == nil {
		return
	}
	key := k.PublicKey.V
	if k.PublicKeyFile.Set {
		var err error
		if key, err = readPublicKey(c.v.resolve(k.PublicKeyFile.V)); err != nil {
			c.errs = append(c.errs, fmt.Errorf("keypair: %w", err))
			return
		}
	}
	m := c.meta(KindKeypair, c.v.cloudName(k.Named, c.v.keypair), k.At, c.v.keypair)
	m.Protect = k.Protect.V
	c.add(&Keypair{Meta: m, PublicKey: key})
}

func (c *compiler) server(s *serverModel) {
	addr := NewAddress(KindServer, s.name)
	srv := &Server{Meta: Meta{Address: addr, Name: s.cloudName, At: s.at, Protect: s.protect}, Flavor: NewAddress(KindFlavor, s.flavor),
		Role: s.role, Index: s.index, Metadata: plainMap(s.metadata)}
	if s.image != "" {
		srv.Image = NewAddress(KindImage, s.image)
	}
	for _, vol := range s.volumes {
		va := NewAddress(KindVolume, s.name, vol.Name.V)
		// A protected server's volumes hold its data: protected too.
		v := &Volume{Meta: Meta{Address: va, Name: s.cloudName + "-" + vol.Name.V, At: vol.At, Protect: s.protect}, SizeGB: vol.Size.V, Bootable: vol.Bootable.V}
		if vol.Image.Set {
			v.Image = NewAddress(KindImage, vol.Image.V)
		}
		c.add(v)
		srv.BlockDevices = append(srv.BlockDevices, BlockDevice{Volume: va, DeviceType: vol.DeviceType.Or("disk"),
			DiskBus: vol.DiskBus.V, BootIndex: vol.BootIndex.Or(-1)})
	}
	for _, p := range s.ports {
		pa := NewAddress(KindPort, s.name, p.net.name)
		port := &Port{Meta: Meta{Address: pa, Name: s.cloudName + "-" + p.net.name, At: p.at}, Server: addr,
			Network: NewAddress(KindNetwork, p.net.name), Subnet: NewAddress(KindSubnet, p.net.name),
			NetworkName: p.net.name, FixedIP: p.fixedIP, MAC: p.mac, PortSecurity: p.portSecurity.Ptr()}
		for _, g := range p.securityGroups {
			port.SecurityGroups = append(port.SecurityGroups, NewAddress(KindSecurityGroup, g))
		}
		for _, pr := range p.pairs {
			port.AllowedAddressPairs = append(port.AllowedAddressPairs, AddressPair{IP: pr.IP.V, MAC: pr.MAC.V})
		}
		c.add(port)
		srv.Ports = append(srv.Ports, pa)
		c.trunk(s, srv, p, port)
	}
	if s.keypair != "" {
		srv.Keypair = NewAddress(KindKeypair, s.keypair)
	}
	if u := s.userData; u != nil {
		if u.Sensitive.V || u.Content.FromEnv {
			// Anything from the environment is treated as a secret.
			srv.SensitiveUserData = NewSecret(u.Content.V)
		} else {
			srv.UserData = u.Content.V
		}
	}
	c.add(srv)
	if f := s.fip; f != nil && len(s.ports) > 0 {
		p := s.ports[0]
		if f.Network.Set {
			p = *s.port(f.Network.V)
		}
		fip := &FloatingIP{Meta: Meta{Address: NewAddress(KindFloatingIP, s.name), Name: s.cloudName, At: f.At},
			Port: NewAddress(KindPort, s.name, p.net.name), ExternalNetwork: NewAddress(KindExternalNetwork, c.v.doc.ExternalNetwork.V),
			FixedAddress: f.Address.V}
		if p.net.routed {
			fip.RouterInterface = NewAddress(KindRouterInterface, p.net.name)
		}
		c.add(fip)
	}
}

func (c *compiler) patches() {
	d := c.v.doc
	var inv map[string]SSHHost
	if len(d.Inventory) > 0 {
		inv = make(map[string]SSHHost, len(d.Inventory))
		for name, h := range d.Inventory {
			if h != nil {
				inv[name] = c.sshHost(name, h)
			}
		}
	}
	for i := range d.Patches {
		p := &d.Patches[i]
		pt := &Patch{Meta: c.meta(KindPatch, c.v.lab+"-"+p.Name.V, p.At, p.Name.V), Type: p.Type.V, Host: p.Host.V,
			Check: p.Check.V, Apply: p.Apply.V, Inventory: inv}
		if p.Type.V == "allow-dhcp-server" {
			pt.Method = p.Method.Or("auto")
			server, network, _ := cutDot(p.Port.V)
			pt.Port = NewAddress(KindPort, server, network)
			pt.Server = NewAddress(KindServer, server)
			if port, ok := c.lab.Resource(pt.Port); ok {
				port.(*Port).DHCPPatch = pt.Method
			}
		}
		if p.After.Set {
			pt.Server = NewAddress(KindServer, p.After.V)
		}
		for _, h := range p.Hosts {
			pt.Hosts = append(pt.Hosts, h.V)
		}
		c.add(pt)
	}
}

func cutDot(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func (c *compiler) sshHost(name string, h *SSHHostSpec) SSHHost {
	addr, _ := sshAddress(h.Address.V)
	out := SSHHost{Hypervisor: name, Address: addr, User: h.User.Or("root"), KeyFile: c.v.resolve(h.KeyFile.V),
		KnownHosts: c.v.resolve(h.KnownHosts.V), Sudo: h.Sudo.V}
	if h.Jump != nil {
		j := c.sshHost("", h.Jump)
		out.Jump = &j
	}
	return out
}

func (c *compiler) waits() {
	d := c.v.doc
	for i := range d.Waits {
		w := &d.Waits[i]
		wt := &Wait{Meta: c.meta(KindWait, c.v.lab+"-"+w.Name.V, w.At, w.Name.V), Type: w.Type.V, URL: w.URL.V,
			Count: w.Count.V, Address: w.Address.V, Marker: w.Marker.V, Username: w.Username.V}
		if w.Type.V == "http" {
			wt.Status = w.Status.Or(200)
		}
		if w.Type.V == "fuel-nodes" && !w.Count.Set && d.Slaves != nil {
			wt.Count = d.Slaves.Count.V
		}
		wt.TimeoutS, _ = seconds(w.Timeout.Or("3600"))
		wt.IntervalS, _ = seconds(w.Interval.Or("10"))
		if w.Password.Set {
			wt.Password = NewSecret(w.Password.V)
		}
		wt.After = c.waitAfter(w)
		c.add(wt)
	}
}

// waitAfter resolves `after:`; by default a wait watches the master (and,
// counting Fuel nodes, every slave).
func (c *compiler) waitAfter(w *WaitSpec) []Address {
	set := map[Address]bool{}
	addSlaves := func() {
		for _, s := range c.v.servers {
			if s.role == "slave" {
				set[NewAddress(KindServer, s.name)] = true
			}
		}
	}
	if len(w.After) == 0 {
		if m := c.v.doc.Master; m != nil {
			set[NewAddress(KindServer, m.Name.Or("master"))] = true
		}
		if w.Type.V == "fuel-nodes" {
			addSlaves()
		}
	}
	for _, a := range w.After {
		switch {
		case c.v.byServer[a.V] != nil:
			set[NewAddress(KindServer, a.V)] = true
		case a.V == "slaves":
			addSlaves()
		default:
			set[NewAddress(KindWait, a.V)] = true
		}
	}
	out := make([]Address, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return Less(out[i], out[j]) })
	return out
}
