package neutron

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"slices"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// Device owners Neutron sets on the ports it creates itself.
const (
	ownerDHCP       = "network:dhcp"
	ownerRouterIf   = "network:router_interface"
	ownerRouterGW   = "network:router_gateway"
	ownerFloatingIP = "network:floatingip"
	ownerCompute    = "compute:nova"
)

func portNotFound(id string) *apiError {
	return errf(http.StatusNotFound, "PortNotFound", "Port %s could not be found.", id)
}

func (s *Service) portKind() *kind {
	return &kind{
		singular: "port", plural: "ports", path: "ports", tagged: true, bulk: true,
		all: func() []object { return values(s.st.Ports) },
		get: func(id string) object {
			if v, ok := s.st.Ports[id]; ok {
				return v
			}
			return nil
		},
		visible: owned,
		render:  func(who *simcore.Identity, o object) map[string]any { return s.renderPort(who, o.(*port)) },
		encode:  func(who *simcore.Identity, o object) any { return s.encodePort(who, o.(*port)) },
		// A router's interfaces are found by device_id among every
		// port of the project.
		exact: map[string]func(object) string{
			"device_id":    func(o object) string { return o.(*port).DeviceID },
			"device_owner": func(o object) string { return o.(*port).DeviceOwner },
			"network_id":   func(o object) string { return o.(*port).NetworkID },
		},
		notFound: portNotFound,
		create:   s.createPort,
		update:   func(who *simcore.Identity, o object, a attrs) *apiError { return s.updatePort(who, o.(*port), a) },
		remove:   func(who *simcore.Identity, o object) *apiError { return s.deletePort(o.(*port)) },
	}
}

// status: a port is DOWN until something is plugged into it. Ports that
// Neutron's own agents serve (router, DHCP) are ACTIVE; a floating IP's
// port is never plugged ("N/A").
func portStatus(p *port) string {
	switch {
	case p.DeviceOwner == ownerFloatingIP:
		return "N/A"
	case p.HostID != "", p.DeviceOwner == ownerRouterIf, p.DeviceOwner == ownerRouterGW, p.DeviceOwner == ownerDHCP:
		return "ACTIVE"
	}
	return "DOWN"
}

func (s *Service) renderPort(who *simcore.Identity, p *port) map[string]any {
	m := p.attrs()
	m["network_id"] = p.NetworkID
	m["admin_state_up"] = p.AdminStateUp
	m["status"] = portStatus(p)
	m["mac_address"] = p.MAC
	ips := []map[string]any{}
	for _, f := range p.FixedIPs {
		ips = append(ips, map[string]any{"subnet_id": f.SubnetID, "ip_address": f.IPAddress})
	}
	m["fixed_ips"] = ips
	m["device_id"] = p.DeviceID
	m["device_owner"] = p.DeviceOwner
	if s.ext("security-group") {
		m["security_groups"] = slices.Clone(p.SecurityGroups)
	}
	if s.ext("port-security") {
		m["port_security_enabled"] = p.PortSecurity
	}
	if s.ext("allowed-address-pairs") {
		pairs := []map[string]any{}
		for _, ap := range p.AddressPairs {
			pairs = append(pairs, map[string]any{"ip_address": ap.IPAddress, "mac_address": ap.MACAddress})
		}
		m["allowed_address_pairs"] = pairs
	}
	if td := s.trunkDetails(p); td != nil {
		m["trunk_details"] = td
	}
	if s.ext("binding") {
		m["binding:vnic_type"] = "normal"
		// Where a port is bound is operator knowledge: admin only.
		if who.Admin {
			vif := "unbound"
			if p.HostID != "" {
				vif = "ovs"
			}
			m["binding:host_id"] = p.HostID
			m["binding:vif_type"] = vif
			m["binding:vif_details"] = map[string]any{}
			m["binding:profile"] = map[string]any{}
		}
	}
	return m
}

// portBody is renderPort's map as a struct, for list answers: the same
// attributes, in the order encoding/json writes a map's keys (sorted), so
// that the JSON is the same byte for byte (TestPortBodyIsRenderPort). A
// lab's plan lists thousands of ports; a map per port, its keys sorted at
// every encoding, was most of the simulated Neutron's time. Attributes an
// extension or the admin role adds are pointers, absent when nil.
type portBody struct {
	AdminStateUp        bool           `json:"admin_state_up"`
	AllowedAddressPairs *[]pairBody    `json:"allowed_address_pairs,omitempty"`
	BindingHostID       *string        `json:"binding:host_id,omitempty"`
	BindingProfile      *struct{}      `json:"binding:profile,omitempty"`
	BindingVIFDetails   *struct{}      `json:"binding:vif_details,omitempty"`
	BindingVIFType      *string        `json:"binding:vif_type,omitempty"`
	BindingVNICType     *string        `json:"binding:vnic_type,omitempty"`
	CreatedAt           string         `json:"created_at"`
	Description         string         `json:"description"`
	DeviceID            string         `json:"device_id"`
	DeviceOwner         string         `json:"device_owner"`
	FixedIPs            []fixedIPBody  `json:"fixed_ips"`
	ID                  string         `json:"id"`
	MAC                 string         `json:"mac_address"`
	Name                string         `json:"name"`
	NetworkID           string         `json:"network_id"`
	PortSecurity        *bool          `json:"port_security_enabled,omitempty"`
	ProjectID           string         `json:"project_id"`
	Revision            int            `json:"revision_number"`
	SecurityGroups      *[]string      `json:"security_groups,omitempty"`
	Status              string         `json:"status"`
	Tags                []string       `json:"tags"`
	TenantID            string         `json:"tenant_id"`
	TrunkDetails        map[string]any `json:"trunk_details,omitempty"`
	UpdatedAt           string         `json:"updated_at"`
}

// fixedIPBody and pairBody are a fixed IP and an address pair as
// renderPort writes them (keys sorted).
type (
	fixedIPBody struct {
		IPAddress string `json:"ip_address"`
		SubnetID  string `json:"subnet_id"`
	}
	pairBody struct {
		IPAddress  string `json:"ip_address"`
		MACAddress string `json:"mac_address"`
	}
)

// encodePort is renderPort as a portBody. It shares the port's slices:
// it is encoded under the service's lock, as every answer is.
func (s *Service) encodePort(who *simcore.Identity, p *port) *portBody {
	b := &portBody{
		AdminStateUp: p.AdminStateUp, CreatedAt: simcore.Timestamp(p.CreatedAt), Description: p.Description,
		DeviceID: p.DeviceID, DeviceOwner: p.DeviceOwner, FixedIPs: make([]fixedIPBody, len(p.FixedIPs)),
		ID: p.ID, MAC: p.MAC, Name: p.Name, NetworkID: p.NetworkID, ProjectID: p.ProjectID,
		Revision: p.Revision, Status: portStatus(p), Tags: p.Tags, TenantID: p.ProjectID,
		UpdatedAt: simcore.Timestamp(p.UpdatedAt),
	}
	for i, f := range p.FixedIPs {
		b.FixedIPs[i] = fixedIPBody{IPAddress: f.IPAddress, SubnetID: f.SubnetID}
	}
	if s.ext("security-group") {
		b.SecurityGroups = &p.SecurityGroups
	}
	if s.ext("port-security") {
		b.PortSecurity = &p.PortSecurity
	}
	if s.ext("allowed-address-pairs") {
		pairs := make([]pairBody, len(p.AddressPairs))
		for i, ap := range p.AddressPairs {
			pairs[i] = pairBody(ap) // the tags differ: renderPort writes an empty MAC
		}
		b.AllowedAddressPairs = &pairs
	}
	if td := s.trunkDetails(p); td != nil {
		b.TrunkDetails = td
	}
	if s.ext("binding") {
		normal := "normal"
		b.BindingVNICType = &normal
		if who.Admin {
			vif := "unbound"
			if p.HostID != "" {
				vif = "ovs"
			}
			b.BindingHostID, b.BindingVIFType = &p.HostID, &vif
			b.BindingProfile, b.BindingVIFDetails = &struct{}{}, &struct{}{}
		}
	}
	return b
}

// portAttrs are the attributes a port body may carry.
func (s *Service) portAttrs(create bool) []string {
	allowed := []string{"name", "description", "admin_state_up", "fixed_ips", "device_id", "device_owner", "mac_address"}
	if create {
		allowed = append(s.withTags(allowed), "network_id", "project_id", "tenant_id")
	}
	if s.ext("security-group") {
		allowed = append(allowed, "security_groups")
	}
	if s.ext("port-security") {
		allowed = append(allowed, "port_security_enabled")
	}
	if s.ext("allowed-address-pairs") {
		allowed = append(allowed, "allowed_address_pairs")
	}
	if s.ext("binding") {
		allowed = append(allowed, "binding:host_id", "binding:vnic_type", "binding:profile")
	}
	return allowed
}

type portIn struct {
	NetworkID    string         `json:"network_id"`
	AdminStateUp *bool          `json:"admin_state_up"`
	MAC          *string        `json:"mac_address"`
	FixedIPs     *[]fixedIP     `json:"fixed_ips"`
	DeviceID     *string        `json:"device_id"`
	DeviceOwner  *string        `json:"device_owner"`
	SecGroups    *[]string      `json:"security_groups"`
	AddressPairs *[]addressPair `json:"allowed_address_pairs"`
	PortSecurity *bool          `json:"port_security_enabled"`
	HostID       *string        `json:"binding:host_id"`
	VNICType     *string        `json:"binding:vnic_type"`
	Profile      map[string]any `json:"binding:profile"`
}

// checkPolicy applies Neutron's default policy for port attributes that
// only an admin (or the network's owner) may set.
func (in *portIn) checkPolicy(who *simcore.Identity, op string, n *network) *apiError {
	if in.HostID != nil && !who.Admin {
		return policyError(op + "_port:binding:host_id")
	}
	if in.Profile != nil && !who.Admin {
		return policyError(op + "_port:binding:profile")
	}
	if op == "update" && in.MAC != nil && !who.Admin {
		return policyError("update_port:mac_address")
	}
	// Picking addresses is for the network's owner: on a shared network a
	// member gets what the pools give.
	if in.FixedIPs != nil && n != nil && !owned(who, n) {
		for _, f := range *in.FixedIPs {
			if f.IPAddress != "" {
				return policyError(op + "_port:fixed_ips:ip_address")
			}
		}
	}
	if in.VNICType != nil && *in.VNICType != "normal" {
		return badRequest("Invalid input for binding:vnic_type. Reason: '%s' is not in ['normal'].", *in.VNICType)
	}
	return nil
}

func (s *Service) createPort(who *simcore.Identity, a attrs) (object, *apiError) {
	if err := a.check(s.portAttrs(true)...); err != nil {
		return nil, err
	}
	proj, err := project(who, a)
	if err != nil {
		return nil, err
	}
	var in portIn
	if err := a.decode(&in); err != nil {
		return nil, err
	}
	if in.NetworkID == "" {
		return nil, badRequest("Failed to parse request. Required attribute 'network_id' not specified")
	}
	n, ok := s.st.Networks[in.NetworkID]
	if !ok || !(owned(who, n) || n.Shared || n.External) {
		return nil, networkNotFound(in.NetworkID)
	}
	if err := in.checkPolicy(who, "create", n); err != nil {
		return nil, err
	}
	if !owned(who, n) && !n.Shared {
		return nil, policyError("create_port")
	}
	p := &port{NetworkID: n.ID, AdminStateUp: true, PortSecurity: n.PortSecurity,
		SecurityGroups: []string{}, AddressPairs: []addressPair{}}
	setBool(&p.AdminStateUp, in.AdminStateUp)
	setBool(&p.PortSecurity, in.PortSecurity)
	setStr(&p.DeviceID, in.DeviceID)
	setStr(&p.DeviceOwner, in.DeviceOwner)
	setStr(&p.HostID, in.HostID)
	if p.MAC, err = s.portMAC(n.ID, "", in.MAC); err != nil {
		return nil, err
	}
	if p.FixedIPs, err = s.resolveFixedIPs(n, in.FixedIPs, ""); err != nil {
		return nil, err
	}
	if err := s.applySecurity(p, proj, who.Admin, &in, true); err != nil {
		return nil, err
	}
	if err := s.checkQuota("port", s.projectPorts(proj)); err != nil {
		return nil, err
	}
	st, err := s.newStdFrom(a, proj)
	if err != nil {
		return nil, err
	}
	p.std = st
	s.putPort(p)
	return p, nil
}

// applySecurity settles port_security_enabled, security_groups and
// allowed_address_pairs together, with Neutron's rules:
//   - groups need port security on and a fixed IP (400
//     PortSecurityAndIPRequiredForSecurityGroups when asked for, 409
//     PortSecurityPortHasSecurityGroup when port security is turned off
//     while groups remain);
//   - address pairs need port security (409 AddressPairAndPortSecurityRequired);
//   - a new port with port security and an IP, and no groups given, gets
//     the project's default group (not Neutron's own router/DHCP ports).
func (s *Service) applySecurity(p *port, proj string, admin bool, in *portIn, create bool) *apiError {
	hasIP := len(p.FixedIPs) > 0
	secOK := p.PortSecurity && hasIP
	groups := p.SecurityGroups
	if in.SecGroups != nil {
		groups = *in.SecGroups
		if len(groups) > 0 && !secOK {
			return errf(http.StatusBadRequest, "PortSecurityAndIPRequiredForSecurityGroups",
				"Port security must be enabled and port must have an IP address in order to use security groups.")
		}
		for _, g := range groups {
			sg, ok := s.st.SecGroups[g]
			if !ok || (sg.ProjectID != proj && !admin) {
				return sgNotFound(g)
			}
		}
	} else if create && secOK && s.ext("security-group") && !isNetworkOwner(p.DeviceOwner) {
		groups = []string{s.ensureDefaultSG(proj)}
	}
	pairs := p.AddressPairs
	if in.AddressPairs != nil {
		pairs = slices.Clone(*in.AddressPairs)
		for i, ap := range pairs {
			// As Neutron's AllowedAddressPairsMixin: a pair without a MAC
			// takes the port's (after this request's MAC change, if any).
			if ap.MACAddress == "" {
				pairs[i].MACAddress = p.MAC
			}
			if _, err := netip.ParseAddr(ap.IPAddress); err != nil {
				if _, err := netip.ParsePrefix(ap.IPAddress); err != nil {
					return badRequest("Invalid input for allowed_address_pairs. Reason: '%s' is not a valid IP address.", ap.IPAddress)
				}
			}
			if ap.MACAddress != "" && !macRE.MatchString(ap.MACAddress) {
				return badRequest("Invalid input for allowed_address_pairs. Reason: '%s' is not a valid MAC address.", ap.MACAddress)
			}
		}
	}
	// Address pairs are checked before kept groups, as in Zed: turning
	// port security off on a port with both is AddressPairAndPortSecurityRequired.
	if len(pairs) > 0 && !p.PortSecurity {
		return errf(http.StatusConflict, "AddressPairAndPortSecurityRequired",
			"Port Security must be enabled in order to have allowed address pairs on a port.")
	}
	if !create && in.SecGroups == nil && len(groups) > 0 && !secOK {
		return errf(http.StatusConflict, "PortSecurityPortHasSecurityGroup",
			"Port has security group associated. Cannot disable port security or IP address until security group is removed.")
	}
	p.SecurityGroups = slices.Clone(groups)
	p.AddressPairs = slices.Clone(pairs)
	return nil
}

func (s *Service) updatePort(who *simcore.Identity, p *port, a attrs) *apiError {
	if err := a.check(s.portAttrs(false)...); err != nil {
		return err
	}
	var in portIn
	if err := a.decode(&in); err != nil {
		return err
	}
	if err := in.checkPolicy(who, "update", s.st.Networks[p.NetworkID]); err != nil {
		return err
	}
	if in.MAC != nil && *in.MAC != p.MAC && p.HostID != "" {
		return errf(http.StatusConflict, "PortBound", "Unable to complete operation on port %s, port is already bound, port type: ovs, old_mac %s, new_mac %s.", p.ID, p.MAC, *in.MAC)
	}
	// Validate everything on a copy, then commit, so a rejected update
	// changes nothing.
	next := *p
	var err *apiError
	if in.MAC != nil {
		if next.MAC, err = s.portMAC(p.NetworkID, p.ID, in.MAC); err != nil {
			return err
		}
	}
	if in.FixedIPs != nil {
		if next.FixedIPs, err = s.resolveFixedIPs(s.st.Networks[p.NetworkID], in.FixedIPs, p.ID); err != nil {
			return err
		}
	}
	setBool(&next.PortSecurity, in.PortSecurity)
	if err := s.applySecurity(&next, p.ProjectID, who.Admin, &in, false); err != nil {
		return err
	}
	if err := updateStd(a, &next.std); err != nil {
		return err
	}
	setBool(&next.AdminStateUp, in.AdminStateUp)
	setStr(&next.DeviceID, in.DeviceID)
	setStr(&next.DeviceOwner, in.DeviceOwner)
	setStr(&next.HostID, in.HostID)
	*p = next
	s.reindexPort(p)
	return nil
}

// deletePort: ports that belong to a router or a floating IP are removed
// through those APIs (409 ServicePortInUse). A port bound to a server may be
// deleted; the server just loses the NIC. Floating IPs on it are
// disassociated.
func (s *Service) deletePort(p *port) *apiError {
	switch p.DeviceOwner {
	case ownerRouterIf, ownerRouterGW, ownerFloatingIP:
		return errf(http.StatusConflict, "ServicePortInUse",
			"Port %s cannot be deleted directly via the port API: has device owner %s.", p.ID, p.DeviceOwner)
	}
	if err := s.trunkPortDeletable(p); err != nil {
		return err
	}
	s.disassociatePort(p.ID)
	s.dropPort(p.ID)
	return nil
}

var macRE = regexp.MustCompile(`^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$`)

// portMAC validates an explicit MAC or generates one with OpenStack's
// fa:16:3e prefix; a MAC must be unique on its network (409 MacAddressInUse).
func (s *Service) portMAC(netID, self string, want *string) (string, *apiError) {
	inUse := func(mac string) bool {
		owner, ok := s.macOwner(netID, mac)
		return ok && owner != self
	}
	if want != nil {
		if !macRE.MatchString(*want) {
			return "", badRequest("Invalid input for mac_address. Reason: '%s' is not a valid MAC address.", *want)
		}
		if inUse(*want) {
			return "", errf(http.StatusConflict, "MacAddressInUse",
				"Unable to complete operation for network %s. The mac address %s is in use.", netID, *want)
		}
		return *want, nil
	}
	for {
		var b [3]byte
		_, _ = rand.Read(b[:])
		mac := fmt.Sprintf("fa:16:3e:%02x:%02x:%02x", b[0], b[1], b[2])
		if !inUse(mac) {
			return mac, nil
		}
	}
}

// resolveFixedIPs turns a request's fixed_ips into allocations. Absent:
// one address from the network's first subnet with room. Each entry may
// name an ip_address, a subnet_id, or both.
func (s *Service) resolveFixedIPs(n *network, req *[]fixedIP, self string) ([]fixedIP, *apiError) {
	out := []fixedIP{}
	subnets := s.networkSubnets(n.ID)
	if req == nil {
		for _, id := range subnets {
			if ip, err := s.allocate(s.st.Subnets[id], nil); err == nil {
				return append(out, fixedIP{id, ip}), nil
			}
		}
		if len(subnets) > 0 {
			return nil, errf(http.StatusConflict, "IpAddressGenerationFailure", "No more IP addresses available on network %s.", n.ID)
		}
		return out, nil
	}
	taken := map[string]bool{}
	for _, f := range *req {
		if f.SubnetID != "" && !slices.Contains(subnets, f.SubnetID) {
			return nil, invalidInput("Failed to create port on network %s, because fixed_ips included invalid subnet %s", n.ID, f.SubnetID)
		}
		if f.IPAddress == "" {
			if f.SubnetID == "" {
				return nil, badRequest("Invalid input for fixed_ips. Reason: each entry needs subnet_id or ip_address.")
			}
			ip, err := s.allocate(s.st.Subnets[f.SubnetID], taken)
			if err != nil {
				return nil, err
			}
			taken[ip] = true
			out = append(out, fixedIP{f.SubnetID, ip})
			continue
		}
		addr, err := netip.ParseAddr(f.IPAddress)
		if err != nil {
			return nil, badRequest("Invalid input for fixed_ips. Reason: '%s' is not a valid IP address.", f.IPAddress)
		}
		sid := f.SubnetID
		if sid == "" {
			for _, id := range subnets {
				if p, _ := netip.ParsePrefix(s.st.Subnets[id].CIDR); p.Contains(addr) {
					sid = id
					break
				}
			}
			if sid == "" {
				return nil, errf(http.StatusBadRequest, "InvalidIpForNetwork",
					"IP address %s is not a valid IP for any of the subnets on the specified network.", addr)
			}
		}
		prefix, _ := netip.ParsePrefix(s.st.Subnets[sid].CIDR)
		if first, last := hostRange(prefix); addr.Less(first) || last.Less(addr) {
			return nil, errf(http.StatusBadRequest, "InvalidIpForSubnet",
				"IP address %s is not a valid IP for the specified subnet.", addr)
		}
		if owner, ok := s.ipOwner(sid, addr.String()); (ok && owner != self) || taken[addr.String()] {
			return nil, errf(http.StatusConflict, "IpAddressAlreadyAllocated",
				"IP address %s already allocated in subnet %s", addr, sid)
		}
		taken[addr.String()] = true
		out = append(out, fixedIP{sid, addr.String()})
	}
	return out, nil
}

// addDHCP gives the network's DHCP port (created on first need) an address
// on a DHCP-enabled subnet, as the DHCP agent does: real clouds lose one
// address per subnet to it, and labs see the same.
func (s *Service) addDHCP(n *network, sn *subnet) {
	var dp *port
	for _, p := range byCreation(s.st.Ports) {
		if p.NetworkID == n.ID && p.DeviceOwner == ownerDHCP {
			dp = p
			break
		}
	}
	ip, err := s.allocate(sn, nil)
	if err != nil {
		return
	}
	now := s.knobs.Now()
	if dp == nil {
		mac, _ := s.portMAC(n.ID, "", nil)
		dp = &port{std: s.newStd(n.ProjectID, "", ""), NetworkID: n.ID, AdminStateUp: true, MAC: mac,
			DeviceID: "dhcp-" + n.ID, DeviceOwner: ownerDHCP, SecurityGroups: []string{}, AddressPairs: []addressPair{}}
	} else {
		dp.touch(now)
	}
	dp.FixedIPs = append(dp.FixedIPs, fixedIP{sn.ID, ip})
	s.putPort(dp)
}

// dropDHCP releases the DHCP port's address on a subnet, and the port when
// it has none left.
func (s *Service) dropDHCP(subnetID string) {
	for id, p := range s.st.Ports {
		if p.DeviceOwner != ownerDHCP {
			continue
		}
		p.FixedIPs = slices.DeleteFunc(p.FixedIPs, func(f fixedIP) bool { return f.SubnetID == subnetID })
		if len(p.FixedIPs) == 0 {
			s.dropPort(id)
		} else {
			s.reindexPort(p)
		}
	}
}

func setStr(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}
