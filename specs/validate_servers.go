package specs

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

var (
	deviceTypes = []string{"disk", "cdrom"}
	diskBuses   = []string{"virtio", "ide", "scsi", "sata", "usb"}
)

// checkServers resolves the master and expands the slave template, then
// checks what only the whole set can show: name, MAC and IP collisions.
func (v *validator) checkServers() {
	v.byServer = map[string]*serverModel{}
	if m := v.doc.Master; m != nil {
		name := m.Name.Or("master")
		if !logicalName.MatchString(name) {
			v.errorf(m.Name.At, "master.name: invalid server name %s", m.Name.Q())
		}
		s := &serverModel{name: name, cloudName: v.cloudName(m.Named, name), role: "master", at: m.At, path: m.Path, protect: m.Protect.V}
		v.resolveBody(s, &m.ServerBody, m.Path, nil)
		s.fip = m.FloatingIP
		v.checkFloatingIP(s)
		v.addServer(s, m.Name.At)
		if n, ok := v.nets["admin"]; ok && n.prefix.IsValid() {
			// A fixed IP that was rejected (the gateway's, say) has its own
			// error: this warning is for a master given none.
			if p := s.port("admin"); p == nil || !p.fixedIPGiven {
				v.warnf(m.At, "master: no fixed IP on the admin network; Fuel's PXE and the slaves expect a known master address (e.g. %s)", n.prefix.Addr().Next().Next())
			}
		}
	}
	if sl := v.doc.Slaves; sl != nil {
		v.expandSlaves(sl)
	}
	v.checkCollisions()
}

func (v *validator) addServer(s *serverModel, at Pos) {
	if prev, dup := v.byServer[s.name]; dup {
		v.errorf(at, "%s: server name %q collides with %s", s.path, s.name, prev.path)
		return
	}
	v.byServer[s.name] = s
	v.servers = append(v.servers, s)
}

// resolveBody checks references of a server (or the slave template) and
// fills s. slave is non-nil for the template: it expands port patterns.
func (v *validator) resolveBody(s *serverModel, b *ServerBody, path string, slave *slaveCtx) {
	s.flavor = b.Flavor.V
	s.image = b.Image.V
	// A slave's flavor and image are checked once, on the template and
	// on each override (expandSlaves), not once per slave.
	if slave == nil {
		v.checkBootRefs(b, s.at, path)
	}
	s.volumes = b.Volumes
	if slave == nil || slave.first {
		v.checkVolumes(b.Volumes)
	}
	if b.Keypair.Set {
		s.keypair = b.Keypair.V
		if v.doc.Keypair == nil || b.Keypair.V != v.keypair {
			v.errorf(b.Keypair.At, "%s.keypair: undefined keypair %s", path, b.Keypair.Q())
		}
	}
	s.userData = b.UserData
	s.metadata = b.Metadata
	var groups []string
	if slave == nil || slave.first {
		groups = v.refGroups(b.SecurityGroups, path+".security_groups")
	} else {
		groups = slave.groups
	}
	if slave != nil && slave.first {
		slave.groups = groups
	}
	v.resolvePorts(s, b.Ports, groups, slave)
}

func (v *validator) checkBootRefs(b *ServerBody, at Pos, path string) {
	if b.Flavor.Set {
		v.refFlavor(b.Flavor, path+".flavor")
	}
	switch {
	case b.Image.Set && len(b.Volumes) > 0:
		v.errorf(b.Image.At, "%s: boot from image or from volumes, not both", path)
	case !b.Image.Set && len(b.Volumes) == 0:
		v.errorf(at, "%s: needs a boot image or boot volumes", path)
	case b.Image.Set:
		v.refImage(b.Image, path+".image")
	}
}

func (v *validator) refFlavor(f String, path string) {
	if _, ok := v.flavors[f.V]; !ok {
		v.errorf(f.At, "%s: undefined flavor %s%s", path, f.Q(), v.didYouMean(f.V, sortedKeys(v.flavors)))
	}
}

func (v *validator) refImage(i String, path string) {
	if _, ok := v.images[i.V]; !ok {
		v.errorf(i.At, "%s: undefined image %s%s", path, i.Q(), v.didYouMean(i.V, sortedKeys(v.images)))
	}
}

func (v *validator) refGroups(gs []String, path string) []string {
	var out []string
	for i, g := range gs {
		if _, ok := v.groups[g.V]; !ok {
			v.errorf(g.At, "%s[%d]: undefined security group %s%s", path, i, g.Q(), v.didYouMean(g.V, sortedKeys(v.groups)))
			continue
		}
		out = append(out, g.V)
	}
	return out
}

func (v *validator) checkVolumes(vols []VolumeSpec) {
	names := map[string]Pos{}
	boots := map[int]Pos{}
	hasBoot := false
	for i := range vols {
		vol := &vols[i]
		if vol.Name.Set {
			if !logicalName.MatchString(vol.Name.V) {
				v.errorf(vol.Name.At, "%s.name: invalid volume name %s", vol.Path, vol.Name.Q())
			} else if prev, dup := names[vol.Name.V]; dup {
				v.errorf(vol.Name.At, "%s.name: duplicate volume name %q (first defined at line %d)", vol.Path, vol.Name.V, prev.Line)
			}
			names[vol.Name.V] = vol.Name.At
		}
		if vol.Size.Set && (vol.Size.V < 1 || vol.Size.V > 16384) {
			v.errorf(vol.Size.At, "%s.size: %d GB is out of range 1-16384", vol.Path, vol.Size.V)
		}
		if vol.Image.Set {
			v.refImage(vol.Image, vol.Path+".image")
		}
		if vol.DeviceType.Set && !containsStr(deviceTypes, vol.DeviceType.V) {
			v.errorf(vol.DeviceType.At, "%s.device_type: want disk or cdrom, got %s", vol.Path, vol.DeviceType.Q())
		}
		if vol.DiskBus.Set && !containsStr(diskBuses, vol.DiskBus.V) {
			v.errorf(vol.DiskBus.At, "%s.disk_bus: want one of %s, got %s", vol.Path, strings.Join(diskBuses, ", "), vol.DiskBus.Q())
		}
		if vol.DeviceType.V == "cdrom" && !vol.Image.Set {
			v.errorf(vol.At, "%s: a cdrom volume needs an image to hold", vol.Path)
		}
		if bi := vol.BootIndex; bi.Set {
			if bi.V < -1 {
				v.errorf(bi.At, "%s.boot_index: want -1 (not bootable) or 0 and up, got %d", vol.Path, bi.V)
			} else if prev, dup := boots[bi.V]; dup && bi.V >= 0 {
				v.errorf(bi.At, "%s.boot_index: boot index %d already used at line %d", vol.Path, bi.V, prev.Line)
			}
			boots[bi.V] = bi.At
			hasBoot = hasBoot || bi.V == 0
		}
	}
	if len(vols) > 0 && !hasBoot {
		v.errorf(vols[0].At, "%s: no volume has boot_index: 0; say which one the server boots from", strings.TrimSuffix(vols[0].Path, "[0]"))
	}
}

// slaveCtx carries the template's parsed patterns while expanding.
type slaveCtx struct {
	index  int
	first  bool
	groups []string
	pats   map[*String]pattern
	bad    map[*String]bool // patterns already reported, so 1,000 slaves give one error
}

func (v *validator) resolvePorts(s *serverModel, specs []PortSpec, defGroups []string, slave *slaveCtx) {
	if len(specs) == 0 {
		// No ports listed: one port on every network, in network order,
		// but for the networks carried as VLANs.
		for _, n := range v.netOrder {
			if _, tagged := v.tagged[n.name]; tagged {
				continue
			}
			s.ports = append(s.ports, portModel{net: n, at: s.at, path: s.path, securityGroups: defGroups})
		}
		return
	}
	byNet := map[string]portModel{}
	for i := range specs {
		ps := &specs[i]
		n, ok := v.nets[ps.Network.V]
		if !ps.Network.Set {
			continue
		}
		if !ok {
			if slave == nil || slave.first {
				v.errorf(ps.Network.At, "%s.network: undefined network %s%s", ps.Path, ps.Network.Q(), v.didYouMean(ps.Network.V, v.netNames()))
			}
			continue
		}
		if at, tagged := v.tagged[n.name]; tagged {
			if slave == nil || slave.first {
				v.errorf(ps.Network.At, "%s.network: network %q is carried as a VLAN (line %d), so it cannot be a NIC's own network", ps.Path, n.name, at.Line)
			}
			continue
		}
		if _, dup := byNet[n.name]; dup {
			if slave == nil || slave.first {
				v.errorf(ps.Network.At, "%s.network: a second port on network %q; a server has one port per network", ps.Path, n.name)
			}
			continue
		}
		pm := portModel{net: n, at: ps.At, path: ps.Path, portSecurity: ps.PortSecurity, pairs: ps.AllowedAddressPairs}
		for j := range ps.VLANs {
			pm.vlans = append(pm.vlans, v.vlanItems[&ps.VLANs[j]]...)
		}
		if len(ps.VLANs) > 0 && (slave == nil || slave.first) {
			v.checkCarrier(n, ps)
		}
		pm.securityGroups = defGroups
		if ps.SecurityGroups != nil {
			if slave == nil || slave.first {
				pm.securityGroups = v.refGroups(ps.SecurityGroups, ps.Path+".security_groups")
			} else {
				pm.securityGroups = resolvedNames(ps.SecurityGroups, v.groups)
			}
		}
		// Port security off (on the port, or by the network's default)
		// and security groups together are refused by Neutron.
		if !ps.PortSecurity.Or(n.spec.PortSecurity.Or(true)) && len(pm.securityGroups) > 0 && (slave == nil || slave.first) {
			at := ps.PortSecurity.At
			if !ps.PortSecurity.Set {
				at = ps.At
			}
			v.errorf(at, "%s: a port without port security cannot have security groups (%s)", ps.Path, strings.Join(pm.securityGroups, ", "))
		}
		if slave == nil || slave.first {
			v.checkPairs(ps)
		}
		pm.mac = v.value(&ps.MAC, ps.Path+".mac", slave)
		pm.fixedIP = v.value(&ps.FixedIP, ps.Path+".fixed_ip", slave)
		pm.fixedIPGiven = pm.fixedIP != ""
		if pm.mac != "" {
			if msg := checkMAC(pm.mac); msg != "" {
				v.reportOnce(&ps.MAC, slave, "%s.mac: %s%s", ps.Path, forSlave(s, slave), hideEnv(ps.MAC, msg))
				pm.mac = ""
			}
		}
		if pm.fixedIP != "" {
			a, err := netip.ParseAddr(pm.fixedIP)
			switch {
			case err != nil || !a.Is4():
				v.reportOnce(&ps.FixedIP, slave, "%s.fixed_ip: %sinvalid IPv4 address %s", ps.Path, forSlave(s, slave), valueQ(ps.FixedIP, pm.fixedIP))
				pm.fixedIP = ""
			default:
				if msg := n.checkFixedIP(a); msg != "" {
					v.reportOnce(&ps.FixedIP, slave, "%s.fixed_ip: %s%s", ps.Path, forSlave(s, slave), hideEnv(ps.FixedIP, msg))
					pm.fixedIP = ""
				}
			}
		}
		byNet[n.name] = pm
	}
	for _, n := range v.netOrder {
		if pm, ok := byNet[n.name]; ok {
			s.ports = append(s.ports, pm)
		}
	}
}

func resolvedNames(gs []String, known map[string]*SecurityGroupSpec) []string {
	var out []string
	for _, g := range gs {
		if _, ok := known[g.V]; ok {
			out = append(out, g.V)
		}
	}
	return out
}

func (v *validator) checkPairs(ps *PortSpec) {
	for i := range ps.AllowedAddressPairs {
		p := &ps.AllowedAddressPairs[i]
		if p.IP.Set {
			if _, err := netip.ParsePrefix(p.IP.V); err != nil {
				if _, err := netip.ParseAddr(p.IP.V); err != nil {
					v.errorf(p.IP.At, "%s.ip_address: invalid IP address or CIDR %s", p.Path, p.IP.Q())
				}
			}
		}
		if p.MAC.Set {
			if msg := checkMAC(p.MAC.V); msg != "" {
				v.errorf(p.MAC.At, "%s.mac_address: %s", p.Path, msg)
			}
		}
	}
}

// value expands a field for one server: itself for the master, its
// pattern for a slave. A malformed pattern is reported once.
func (v *validator) value(f *String, path string, slave *slaveCtx) string {
	if !f.Set || f.V == "" {
		return ""
	}
	if slave == nil {
		return f.V
	}
	p, ok := slave.pats[f]
	if !ok {
		var err error
		p, err = parsePattern(f.V, false)
		if err != nil {
			v.reportOnce(f, slave, "%s: %v", path, err)
			return ""
		}
		slave.pats[f] = p
	}
	return p.expand(slave.index)
}

func (v *validator) reportOnce(f *String, slave *slaveCtx, format string, args ...any) {
	if slave != nil {
		if slave.bad[f] {
			return
		}
		slave.bad[f] = true
	}
	v.errorf(f.At, format, args...)
}

func forSlave(s *serverModel, slave *slaveCtx) string {
	if slave == nil {
		return ""
	}
	return s.name + ": "
}

// hideEnv replaces a message that quotes a value from the environment.
func hideEnv(f String, msg string) string {
	if f.FromEnv {
		return "the value from the environment is not valid here"
	}
	return msg
}

func valueQ(f String, expanded string) string {
	if f.FromEnv {
		return f.Q()
	}
	return fmt.Sprintf("%q", expanded)
}

// checkMAC accepts a unicast MAC in colon form.
func checkMAC(s string) string {
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 || strings.Count(s, ":") != 5 {
		return fmt.Sprintf("invalid MAC address %q (want aa:bb:cc:dd:ee:ff)", s)
	}
	if hw[0]&1 == 1 {
		return fmt.Sprintf("%s is a multicast MAC address; the first octet must be even", s)
	}
	return ""
}

func (v *validator) checkFloatingIP(s *serverModel) {
	f := s.fip
	if f == nil || f.Off {
		s.fip = nil
		return
	}
	if !v.doc.ExternalNetwork.Set {
		v.errorf(f.At, "%s: a floating IP needs the top-level external_network", f.Path)
	}
	var pm *portModel
	if f.Network.Set {
		pm = s.port(f.Network.V)
		if pm == nil {
			v.errorf(f.Network.At, "%s.network: the server has no port on network %s", f.Path, f.Network.Q())
		}
	} else if len(s.ports) > 0 {
		pm = &s.ports[0]
	}
	if pm == nil && !f.Network.Set {
		v.errorf(f.At, "%s: the server has no port to put a floating IP on", f.Path)
	}
	if pm != nil && (!pm.net.routed || !v.routerHasGateway()) {
		v.errorf(f.At, "%s: network %q must be attached to a router with an external gateway for a floating IP", f.Path, pm.net.name)
	}
	if f.Address.Set {
		if a, err := netip.ParseAddr(f.Address.V); err != nil || !a.Is4() {
			v.errorf(f.Address.At, "%s.address: invalid IPv4 address %s", f.Path, f.Address.Q())
		}
	}
}

// checkCollisions finds two ports with one fixed IP on a network, or one MAC.
func (v *validator) checkCollisions() {
	type owner struct {
		server *serverModel
		port   *portModel
	}
	ips := map[string]owner{}
	macs := map[string]owner{}
	reported := map[string]bool{}
	for _, s := range v.servers {
		for i := range s.ports {
			p := &s.ports[i]
			if p.fixedIP != "" {
				k := p.net.name + "/" + p.fixedIP
				if o, dup := ips[k]; dup {
					if !reported[p.path+"ip"] {
						v.errorf(p.at, "%s.fixed_ip: %s gets %s on network %q, already used by %s", p.path, s.name, p.fixedIP, p.net.name, o.server.name)
						reported[p.path+"ip"] = true
					}
				} else {
					ips[k] = owner{s, p}
				}
			}
			if p.mac != "" {
				k := strings.ToLower(p.mac)
				if o, dup := macs[k]; dup {
					if !reported[p.path+"mac"] {
						v.errorf(p.at, "%s.mac: %s gets MAC %s, already used by %s on network %q", p.path, s.name, p.mac, o.server.name, o.port.net.name)
						reported[p.path+"mac"] = true
					}
				} else {
					macs[k] = owner{s, p}
				}
			}
		}
	}
}
