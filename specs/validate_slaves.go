package specs

// expandSlaves turns the template into one server per index, applying
// overrides; problems in a pattern are reported once, at the pattern.
func (v *validator) expandSlaves(sl *SlavesSpec) {
	if !sl.Count.Set {
		return
	}
	if sl.Count.V < 0 || sl.Count.V > maxSlaves {
		v.errorf(sl.Count.At, "slaves.count: %d is out of range 0-%d", sl.Count.V, maxSlaves)
		return
	}
	// A short template times a large count can ask for millions of
	// objects (4,096 slaves with a port on each of 1,000 networks is a
	// 60 KB spec and 4 million ports): bound what expansion builds.
	ports := len(sl.Ports)
	if ports == 0 {
		ports = len(v.netOrder) // a port on every network
	}
	if per := 1 + ports + v.taggedCount(sl.Ports) + len(sl.Volumes); sl.Count.V*per > maxSlaveObjects {
		v.errorf(sl.Count.At, "slaves.count: %d slaves of %d objects each (server, ports, subports and trunks, volumes) make %s objects; at most %s",
			sl.Count.V, per, thousands(sl.Count.V*per), thousands(maxSlaveObjects))
		return
	}
	namePat := sl.Name.Or("slave-{index:02d}")
	pat, err := parsePattern(namePat, true)
	if err != nil {
		v.errorf(sl.Name.At, "slaves.name: %v", err)
		return
	}
	if !pat.varies() && sl.Count.V > 1 {
		v.errorf(sl.Name.At, "slaves.name: pattern %q does not use the index, so all %d slaves get the same name", namePat, sl.Count.V)
		return
	}
	v.checkBootRefs(&sl.ServerBody, sl.At, "slaves")
	overrides := map[int]*OverrideSpec{}
	for i := range sl.Overrides {
		o := &sl.Overrides[i]
		if !o.Index.Set {
			continue
		}
		if o.Index.V < 1 || o.Index.V > sl.Count.V {
			v.errorf(o.Index.At, "%s.index: no slave %d (count is %d)", o.Path, o.Index.V, sl.Count.V)
			continue
		}
		if prev, dup := overrides[o.Index.V]; dup {
			v.errorf(o.Index.At, "%s.index: slave %d is already overridden at line %d", o.Path, o.Index.V, prev.At.Line)
			continue
		}
		overrides[o.Index.V] = o
		if o.Flavor.Set {
			v.refFlavor(o.Flavor, o.Path+".flavor")
		}
		if o.Image.Set {
			v.refImage(o.Image, o.Path+".image")
			if len(sl.Volumes) > 0 {
				v.errorf(o.Image.At, "%s.image: the template boots from volumes; an override cannot switch to an image", o.Path)
			}
		}
		for j := range o.Ports {
			op := &o.Ports[j]
			if !hasPortOn(sl.Ports, op.Network.V, len(sl.Ports) == 0 && v.nets[op.Network.V] != nil) {
				v.errorf(op.Network.At, "%s.network: the template has no port on network %s", op.Path, op.Network.Q())
			}
		}
	}
	ctx := &slaveCtx{first: true, pats: map[*String]pattern{}, bad: map[*String]bool{}}
	seenNames := map[string]int{}
	for i := 1; i <= sl.Count.V; i++ {
		name := pat.expand(i)
		if prev, dup := seenNames[name]; dup {
			v.errorf(sl.Name.At, "slaves.name: slaves %d and %d both get the name %q", prev, i, name)
			return
		}
		seenNames[name] = i
		if !logicalName.MatchString(name) {
			v.errorf(sl.Name.At, "slaves.name: slave %d gets the invalid name %q", i, name)
			return
		}
		ctx.index = i
		s := &serverModel{name: name, cloudName: v.lab + "-" + name, role: "slave", index: i, at: sl.At, path: "slaves"}
		body := sl.ServerBody
		if o := overrides[i]; o != nil {
			body = applyOverride(body, o)
		}
		v.resolveBody(s, &body, "slaves", ctx)
		ctx.first = false
		v.addServer(s, sl.Name.At)
	}
}

func hasPortOn(ports []PortSpec, network string, implicit bool) bool {
	if implicit {
		return true
	}
	for _, p := range ports {
		if p.Network.V == network {
			return true
		}
	}
	return false
}

// applyOverride returns the template body with one slave's changes. Port
// overrides replace only the fields they set, on the template's port.
func applyOverride(b ServerBody, o *OverrideSpec) ServerBody {
	if o.Flavor.Set {
		b.Flavor = o.Flavor
	}
	if o.Image.Set {
		b.Image = o.Image
	}
	if o.Metadata != nil {
		md := make(map[string]String, len(b.Metadata)+len(o.Metadata))
		for k, v := range b.Metadata {
			md[k] = v
		}
		for k, v := range o.Metadata {
			md[k] = v
		}
		b.Metadata = md
	}
	if len(o.Ports) > 0 {
		ports := append([]PortSpec(nil), b.Ports...)
		for _, op := range o.Ports {
			for i := range ports {
				if ports[i].Network.V != op.Network.V {
					continue
				}
				if op.MAC.Set {
					ports[i].MAC = op.MAC
				}
				if op.FixedIP.Set {
					ports[i].FixedIP = op.FixedIP
				}
				if op.PortSecurity.Set {
					ports[i].PortSecurity = op.PortSecurity
				}
			}
		}
		b.Ports = ports
	}
	return b
}
