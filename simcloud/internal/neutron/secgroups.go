package neutron

import (
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

func sgNotFound(id string) *apiError {
	return errf(http.StatusNotFound, "SecurityGroupNotFound", "Security group %s does not exist", id)
}

func sgRuleNotFound(id string) *apiError {
	return errf(http.StatusNotFound, "SecurityGroupRuleNotFound", "Security group rule %s does not exist", id)
}

func (s *Service) secGroupKind() *kind {
	return &kind{
		singular: "security_group", plural: "security_groups", path: "security-groups",
		ext: "security-group", tagged: true,
		all: func() []object { return values(s.st.SecGroups) },
		get: func(id string) object {
			if v, ok := s.st.SecGroups[id]; ok {
				return v
			}
			return nil
		},
		visible:  owned,
		render:   func(who *simcore.Identity, o object) map[string]any { return s.renderSG(o.(*secGroup)) },
		notFound: sgNotFound,
		create:   s.createSG,
		update:   func(who *simcore.Identity, o object, a attrs) *apiError { return s.updateSG(o.(*secGroup), a) },
		remove:   func(who *simcore.Identity, o object) *apiError { return s.deleteSG(who, o.(*secGroup)) },
	}
}

func (s *Service) sgRuleKind() *kind {
	return &kind{
		singular: "security_group_rule", plural: "security_group_rules", path: "security-group-rules",
		ext: "security-group",
		all: func() []object { return values(s.st.SGRules) },
		get: func(id string) object {
			if v, ok := s.st.SGRules[id]; ok {
				return v
			}
			return nil
		},
		visible:  owned,
		render:   func(who *simcore.Identity, o object) map[string]any { return renderRule(o.(*sgRule)) },
		notFound: sgRuleNotFound,
		create:   s.createRule,
		update: func(who *simcore.Identity, o object, a attrs) *apiError {
			return a.check("description")
		},
		remove: func(who *simcore.Identity, o object) *apiError { return s.deleteRule(o.(*sgRule)) },
	}
}

func (s *Service) renderSG(g *secGroup) map[string]any {
	m := g.attrs()
	m["stateful"] = g.Stateful
	m["shared"] = false
	rules := []map[string]any{}
	for _, r := range sorted(s.st.SGRules) {
		if r.GroupID == g.ID {
			rules = append(rules, renderRule(r))
		}
	}
	m["security_group_rules"] = rules
	return m
}

func renderRule(r *sgRule) map[string]any {
	m := r.attrs()
	delete(m, "name")
	delete(m, "tags")
	m["security_group_id"] = r.GroupID
	m["direction"] = r.Direction
	m["ethertype"] = r.Ethertype
	m["protocol"] = nilIfEmpty(r.Protocol)
	m["remote_ip_prefix"] = nilIfEmpty(r.RemoteIP)
	m["normalized_cidr"] = nilIfEmpty(normalizedCIDR(r.RemoteIP))
	m["remote_group_id"] = nilIfEmpty(r.RemoteGroup)
	m["remote_address_group_id"] = nil
	m["port_range_min"] = nil
	m["port_range_max"] = nil
	if r.PortMin != nil {
		m["port_range_min"] = *r.PortMin
	}
	if r.PortMax != nil {
		m["port_range_max"] = *r.PortMax
	}
	return m
}

func nilIfEmpty(v string) any {
	if v == "" {
		return nil
	}
	return v
}

// ensureDefaultSG returns the project's "default" group, creating it with
// Neutron's default rules on first use: all egress, and ingress from
// members of the same group, for IPv4 and IPv6.
func (s *Service) ensureDefaultSG(projectID string) string {
	if id, ok := s.st.DefaultSG[projectID]; ok || projectID == "" || !s.ext("security-group") {
		return id
	}
	g := &secGroup{std: s.newStd(projectID, "default", "Default security group"), Stateful: true}
	s.st.SecGroups[g.ID] = g
	s.st.DefaultSG[projectID] = g.ID
	s.changed()
	for _, eth := range []string{"IPv4", "IPv6"} {
		s.addRule(&sgRule{std: s.newStd(projectID, "", ""), GroupID: g.ID, Direction: "egress", Ethertype: eth})
		s.addRule(&sgRule{std: s.newStd(projectID, "", ""), GroupID: g.ID, Direction: "ingress", Ethertype: eth, RemoteGroup: g.ID})
	}
	return g.ID
}

func (s *Service) addRule(r *sgRule) { s.st.SGRules[r.ID] = r }

func (s *Service) createSG(who *simcore.Identity, a attrs) (object, *apiError) {
	if err := a.check(append(s.withTags(slices.Clone(createCommon)), "stateful")...); err != nil {
		return nil, err
	}
	proj, err := project(who, a)
	if err != nil {
		return nil, err
	}
	var in struct {
		Stateful *bool `json:"stateful"`
	}
	if err := a.decode(&in); err != nil {
		return nil, err
	}
	st, err := s.newStdFrom(a, proj)
	if err != nil {
		return nil, err
	}
	if st.Name == "default" {
		return nil, errf(http.StatusConflict, "SecurityGroupDefaultAlreadyExists", "Default security group already exists.")
	}
	if err := s.checkQuota("security_group", countProject(s.st.SecGroups, proj)); err != nil {
		return nil, err
	}
	s.ensureDefaultSG(proj)
	g := &secGroup{std: st, Stateful: true}
	setBool(&g.Stateful, in.Stateful)
	s.st.SecGroups[g.ID] = g
	// A new group may send anything out, and nothing in, until rules say so.
	for _, eth := range []string{"IPv4", "IPv6"} {
		s.addRule(&sgRule{std: s.newStd(proj, "", ""), GroupID: g.ID, Direction: "egress", Ethertype: eth})
	}
	return g, nil
}

func (s *Service) updateSG(g *secGroup, a attrs) *apiError {
	if err := a.check("name", "description", "stateful"); err != nil {
		return err
	}
	if s.st.DefaultSG[g.ProjectID] == g.ID && a.has("name") {
		return errf(http.StatusConflict, "SecurityGroupCannotUpdateDefault", "Updating default security group not allowed.")
	}
	return updateStd(a, &g.std)
}

func (s *Service) deleteSG(who *simcore.Identity, g *secGroup) *apiError {
	if s.st.DefaultSG[g.ProjectID] == g.ID && !who.Admin {
		return errf(http.StatusConflict, "SecurityGroupCannotRemoveDefault", "Insufficient rights for removing default security group.")
	}
	for _, p := range s.st.Ports {
		if slices.Contains(p.SecurityGroups, g.ID) {
			return errf(http.StatusConflict, "SecurityGroupInUse", "Security Group %s in use.", g.ID)
		}
	}
	for id, r := range s.st.SGRules {
		if r.GroupID == g.ID {
			delete(s.st.SGRules, id)
		}
	}
	if s.st.DefaultSG[g.ProjectID] == g.ID {
		delete(s.st.DefaultSG, g.ProjectID)
	}
	delete(s.st.SecGroups, g.ID)
	return nil
}

type ruleIn struct {
	GroupID     string `json:"security_group_id"`
	Direction   string `json:"direction"`
	Ethertype   string `json:"ethertype"`
	Protocol    any    `json:"protocol"`
	PortMin     *int   `json:"port_range_min"`
	PortMax     *int   `json:"port_range_max"`
	RemoteIP    string `json:"remote_ip_prefix"`
	RemoteGroup string `json:"remote_group_id"`
}

// protocols Neutron accepts by name, in the order its error message
// lists them (neutron_lib's IP_PROTOCOL_MAP plus the icmpv6 alias).
var protocols = []string{"ah", "dccp", "egp", "esp", "gre", "hopopt", "icmp", "igmp", "ip", "ipip",
	"ipv6-encap", "ipv6-frag", "ipv6-icmp", "icmpv6", "ipv6-nonxt", "ipv6-opts", "ipv6-route", "ospf",
	"pgm", "rsvp", "sctp", "tcp", "udp", "udplite", "vrrp"}

// protocolNumbers maps the names that have a number to it, so that a rule
// sent as "6" is the same rule as one sent as "tcp" (real Zed answers
// SecurityGroupRuleExists to the second), though each is stored as sent.
var protocolNumbers = map[string]string{
	"hopopt": "0", "ip": "0", "icmp": "1", "igmp": "2", "ipip": "4", "tcp": "6", "egp": "8", "udp": "17",
	"dccp": "33", "ipv6-encap": "41", "ipv6-route": "43", "ipv6-frag": "44", "rsvp": "46", "gre": "47",
	"esp": "50", "ah": "51", "ipv6-icmp": "58", "ipv6-nonxt": "59", "ipv6-opts": "60", "ospf": "89",
	"vrrp": "112", "pgm": "113", "sctp": "132", "udplite": "136",
}

// portProtocols are the protocols whose rules carry a port range rather
// than an ICMP type and code (neutron_lib's SG_PORT_PROTO_NAMES).
var portProtocols = []string{"6", "17", "33", "132", "136"}

// invalidProtocol is Neutron's refusal, with its list written as Python
// prints it.
func invalidProtocol(p any) *apiError {
	quoted := make([]string, len(protocols))
	for i, n := range protocols {
		quoted[i] = "'" + n + "'"
	}
	return errf(http.StatusBadRequest, "SecurityGroupRuleInvalidProtocol",
		"Security group rule protocol %v not supported. Only protocol values [None, %s] and integer representations [0 to 255] are supported.",
		p, strings.Join(quoted, ", "))
}

func protocolNumber(p string) string {
	if n, ok := protocolNumbers[p]; ok {
		return n
	}
	return p
}

func (s *Service) createRule(who *simcore.Identity, a attrs) (object, *apiError) {
	if err := a.check("description", "project_id", "tenant_id", "security_group_id", "direction", "ethertype",
		"protocol", "port_range_min", "port_range_max", "remote_ip_prefix", "remote_group_id"); err != nil {
		return nil, err
	}
	proj, err := project(who, a)
	if err != nil {
		return nil, err
	}
	var in ruleIn
	if err := a.decode(&in); err != nil {
		return nil, err
	}
	g, ok := s.st.SecGroups[in.GroupID]
	if in.GroupID == "" {
		return nil, badRequest("Failed to parse request. Required attribute 'security_group_id' not specified")
	}
	if !ok || !owned(who, g) {
		return nil, sgNotFound(in.GroupID)
	}
	r, aerr := s.validateRule(in)
	if aerr != nil {
		return nil, aerr
	}
	for _, o := range s.st.SGRules {
		if o.GroupID == g.ID && sameRule(o, r) {
			return nil, errf(http.StatusConflict, "SecurityGroupRuleExists", "Security group rule already exists. Rule id is %s.", o.ID)
		}
	}
	if err := s.checkQuota("security_group_rule", countProject(s.st.SGRules, proj)); err != nil {
		return nil, err
	}
	st, aerr := s.newStdFrom(a, proj)
	if aerr != nil {
		return nil, aerr
	}
	r.std = st
	r.GroupID = g.ID
	s.addRule(r)
	// Real Neutron bumps the group's revision when its rules change.
	g.touch(st.CreatedAt)
	return r, nil
}

// validateRule checks a rule with Neutron's exception names and codes.
func (s *Service) validateRule(in ruleIn) (*sgRule, *apiError) {
	r := &sgRule{Direction: in.Direction, Ethertype: in.Ethertype, PortMin: in.PortMin, PortMax: in.PortMax}
	if r.Direction != "ingress" && r.Direction != "egress" {
		return nil, badRequest("Invalid input for direction. Reason: '%s' is not in ['ingress', 'egress'].", in.Direction)
	}
	if r.Ethertype == "" {
		r.Ethertype = "IPv4"
	}
	if r.Ethertype != "IPv4" && r.Ethertype != "IPv6" {
		return nil, errf(http.StatusBadRequest, "SecurityGroupRuleInvalidEtherType",
			"Security group rule for ethertype '%s' not supported. Allowed values are ['IPv4', 'IPv6'].", in.Ethertype)
	}
	// Real Zed stores the whole port range, 1-65535, as no range (null
	// bounds), whatever the protocol, even none: this comes before any
	// check of the range.
	if r.PortMin != nil && r.PortMax != nil && *r.PortMin == 1 && *r.PortMax == 65535 {
		r.PortMin, r.PortMax = nil, nil
	}
	switch p := in.Protocol.(type) {
	case nil:
	case string:
		// Names are stored lower-cased, icmpv6 as ipv6-icmp; numbers as
		// sent. "any" is not a protocol to Neutron (the CLI's "any" sends
		// none).
		if n, err := strconv.Atoi(p); err == nil && n >= 0 && n <= 255 {
			r.Protocol = p
		} else if name := strings.ToLower(p); slices.Contains(protocols, name) {
			if name == "icmpv6" {
				name = "ipv6-icmp"
			}
			r.Protocol = name
		} else if p != "" {
			return nil, invalidProtocol(p)
		}
	case float64:
		if p < 0 || p > 255 || p != float64(int(p)) {
			return nil, invalidProtocol(p)
		}
		r.Protocol = strconv.Itoa(int(p))
	default:
		return nil, badRequest("Invalid input for protocol. Reason: '%v' is not a string or integer.", p)
	}
	if (r.PortMin != nil || r.PortMax != nil) && r.Protocol == "" {
		return nil, errf(http.StatusBadRequest, "SecurityGroupProtocolRequiredWithPorts", "Must also specify protocol if port range is given.")
	}
	if slices.Contains(portProtocols, protocolNumber(r.Protocol)) && (r.PortMin != nil || r.PortMax != nil) {
		// Real Zed: a bound of 0 is SecurityGroupInvalidPortValue; one
		// bound without the other, or min > max, SecurityGroupInvalidPortRange.
		for _, v := range []*int{r.PortMin, r.PortMax} {
			if v != nil && (*v < 1 || *v > 65535) {
				return nil, errf(http.StatusBadRequest, "SecurityGroupInvalidPortValue", "Invalid value for port %d", *v)
			}
		}
		if r.PortMin == nil || r.PortMax == nil || *r.PortMin > *r.PortMax {
			return nil, errf(http.StatusBadRequest, "SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min must be <= port_range_max")
		}
	}
	if in.RemoteIP != "" && in.RemoteGroup != "" {
		return nil, errf(http.StatusBadRequest, "SecurityGroupRemoteGroupAndRemoteIpPrefix", "Only remote_ip_prefix or remote_group_id may be provided.")
	}
	if in.RemoteIP != "" {
		p, err := netip.ParsePrefix(in.RemoteIP)
		if err != nil {
			a, aerr := netip.ParseAddr(in.RemoteIP)
			if aerr != nil {
				return nil, badRequest("Invalid input for remote_ip_prefix. Reason: '%s' is not a valid IP subnet.", in.RemoteIP)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Addr().Is4() != (r.Ethertype == "IPv4") {
			return nil, errf(http.StatusBadRequest, "SecurityGroupRuleParameterConflict",
				"Conflicting value ethertype %s for CIDR %s", r.Ethertype, in.RemoteIP)
		}
		// Stored as sent (host bits and all; a bare address as /32 or
		// /128): real Zed keeps 10.9.9.9/24 as 10.9.9.9/24 and reports
		// 10.9.9.0/24 in normalized_cidr.
		r.RemoteIP = p.String()
	}
	if in.RemoteGroup != "" {
		if _, ok := s.st.SecGroups[in.RemoteGroup]; !ok {
			return nil, sgNotFound(in.RemoteGroup)
		}
		r.RemoteGroup = in.RemoteGroup
	}
	return r, nil
}

// sameRule is Neutron's duplicate check: protocols compared by number,
// remote prefixes by the network they name, and no prefix the same as the
// whole address space (real Zed answers SecurityGroupRuleExists to a rule
// from 0.0.0.0/0 next to the same rule without a prefix, but takes
// 10.9.9.9/24 next to 10.9.9.0/24).
func sameRule(a, b *sgRule) bool {
	eqp := func(x, y *int) bool { return (x == nil && y == nil) || (x != nil && y != nil && *x == *y) }
	return a.Direction == b.Direction && a.Ethertype == b.Ethertype &&
		protocolNumber(a.Protocol) == protocolNumber(b.Protocol) &&
		eqp(a.PortMin, b.PortMin) && eqp(a.PortMax, b.PortMax) &&
		remoteKey(a.RemoteIP) == remoteKey(b.RemoteIP) && a.RemoteGroup == b.RemoteGroup
}

func remoteKey(prefix string) string {
	p, err := netip.ParsePrefix(prefix)
	if err != nil || p.Bits() == 0 {
		return ""
	}
	return p.String()
}

// normalizedCIDR is the remote prefix with its host bits cleared, as Zed
// reports it beside the prefix as sent.
func normalizedCIDR(prefix string) string {
	p, err := netip.ParsePrefix(prefix)
	if err != nil {
		return prefix
	}
	return p.Masked().String()
}

func (s *Service) deleteRule(r *sgRule) *apiError {
	delete(s.st.SGRules, r.ID)
	if g, ok := s.st.SecGroups[r.GroupID]; ok {
		g.touch(s.knobs.Now())
	}
	return nil
}
