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
	m["normalized_cidr"] = nilIfEmpty(r.RemoteIP)
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

// protocols Neutron accepts by name.
var protocols = []string{"tcp", "udp", "icmp", "icmpv6", "ah", "dccp", "egp", "esp", "gre", "igmp",
	"ipip", "ipv6-encap", "ipv6-frag", "ipv6-icmp", "ipv6-nonxt", "ipv6-opts", "ipv6-route", "ospf",
	"pgm", "rsvp", "sctp", "udplite", "vrrp"}

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
	switch p := in.Protocol.(type) {
	case nil:
	case string:
		if n, err := strconv.Atoi(p); err == nil && n >= 0 && n <= 255 {
			r.Protocol = p
		} else if slices.Contains(protocols, strings.ToLower(p)) {
			r.Protocol = strings.ToLower(p)
		} else if p != "" && !strings.EqualFold(p, "any") {
			return nil, errf(http.StatusBadRequest, "SecurityGroupRuleInvalidProtocol",
				"Security group rule protocol %s not supported. Only protocol values %v and integer representations [0 to 255] are supported.", p, protocols)
		}
	case float64:
		if p < 0 || p > 255 || p != float64(int(p)) {
			return nil, errf(http.StatusBadRequest, "SecurityGroupRuleInvalidProtocol", "Security group rule protocol %v not supported.", p)
		}
		r.Protocol = strconv.Itoa(int(p))
	default:
		return nil, badRequest("Invalid input for protocol. Reason: '%v' is not a string or integer.", p)
	}
	if (r.PortMin != nil || r.PortMax != nil) && r.Protocol == "" {
		return nil, errf(http.StatusBadRequest, "SecurityGroupProtocolRequiredWithPorts", "Must also specify protocol if port range is given.")
	}
	if r.Protocol == "tcp" || r.Protocol == "udp" {
		if r.PortMin != nil && r.PortMax != nil && *r.PortMin > *r.PortMax {
			return nil, errf(http.StatusBadRequest, "SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min must be <= port_range_max")
		}
		for _, v := range []*int{r.PortMin, r.PortMax} {
			if v != nil && (*v < 1 || *v > 65535) {
				return nil, errf(http.StatusBadRequest, "SecurityGroupInvalidPortValue", "Invalid value for port %d", *v)
			}
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
		r.RemoteIP = p.Masked().String()
	}
	if in.RemoteGroup != "" {
		if _, ok := s.st.SecGroups[in.RemoteGroup]; !ok {
			return nil, sgNotFound(in.RemoteGroup)
		}
		r.RemoteGroup = in.RemoteGroup
	}
	return r, nil
}

func sameRule(a, b *sgRule) bool {
	eqp := func(x, y *int) bool { return (x == nil && y == nil) || (x != nil && y != nil && *x == *y) }
	return a.Direction == b.Direction && a.Ethertype == b.Ethertype && a.Protocol == b.Protocol &&
		eqp(a.PortMin, b.PortMin) && eqp(a.PortMax, b.PortMax) && a.RemoteIP == b.RemoteIP && a.RemoteGroup == b.RemoteGroup
}

func (s *Service) deleteRule(r *sgRule) *apiError {
	delete(s.st.SGRules, r.ID)
	if g, ok := s.st.SecGroups[r.GroupID]; ok {
		g.touch(s.knobs.Now())
	}
	return nil
}
