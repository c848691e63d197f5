package resources

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"

	"github.com/fuelplan/fuelplan/specs"
)

// SecurityGroup manages the lab's security groups; their rules are the
// SecurityGroupRule kind.
type SecurityGroup struct{}

func (SecurityGroup) Kind() specs.Kind { return specs.KindSecurityGroup }

func (SecurityGroup) Schema() Schema {
	return Schema{{Name: "name"}, {Name: "description"}}
}

func (SecurityGroup) Desired(r specs.Resource) Desired {
	g := r.(*specs.SecurityGroup)
	f := Fields{"name": g.Name}
	if g.Description != "" {
		f["description"] = g.Description
	}
	return Desired{Fields: f}
}

type secGroupView struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	Description    string   `json:"description"`
	Tags           []string `json:"tags"`
	RevisionNumber int      `json:"revision_number"`
}

func (v secGroupView) id() string { return v.ID }

// marked notes the tags and the spec's description tagAfterCreate put on.
func (v *secGroupView) marked(tags []string, description string) {
	v.Tags, v.Description = tags, description
}

func (v secGroupView) object(lab string) *Object {
	o := neutronObject(specs.KindSecurityGroup, lab, v.ID, v.Name, v.Tags, v.RevisionNumber)
	readCreationMark(o, v.Tags, v.Description)
	o.Fields["description"] = v.Description
	return o
}

// listSecGroups pages through security groups; groups.List takes a fixed
// ListOpts, so the pager is built here to send repeated name filters.
func listSecGroups(ctx context.Context, c *Cloud, q neutronQuery) ([]secGroupView, error) {
	return listNeutron[secGroupView, secGroupPage](ctx, c, "security-groups", q)
}

func (SecurityGroup) List(ctx context.Context, c *Cloud, q Query) ([]*Object, error) {
	objs, err := listTagged(ctx, c, q, func(nq neutronQuery) ([]*Object, error) {
		vs, err := listSecGroups(ctx, c, nq)
		if err != nil {
			return nil, err
		}
		return objectsOf(vs, q.Lab), nil
	})
	if err != nil {
		return nil, fmt.Errorf("list security groups: %w", err)
	}
	return objs, nil
}

func (SecurityGroup) Get(ctx context.Context, c *Cloud, id string) (*Object, error) {
	return getNeutron[secGroupView](ctx, c, "security-groups", "security group", id)
}

// Create makes the group. Neutron gives every new group two egress rules
// (any IPv4, any IPv6); the rule adapter adopts them when the spec has the
// same rules, and otherwise leaves them be (see SecurityGroupRule).
func (SecurityGroup) Create(ctx context.Context, c *Cloud, lab string, r specs.Resource, _ IDs) (*Object, error) {
	g, ok := r.(*specs.SecurityGroup)
	if !ok {
		return nil, wrongType(r, "security_group")
	}
	opts := groups.CreateOpts{Name: g.Name, Description: g.Description}
	adopt := func() (*Object, error) {
		return adoptCutShort(ctx, c, SecurityGroup{}, "security-groups", lab, g, g.Description, nil)
	}
	return createNeutron[secGroupView](ctx, c, "security-groups", lab, g.Addr(), g.Description, adopt, opts.ToSecGroupCreateMap, nil)
}

func (SecurityGroup) Update(ctx context.Context, c *Cloud, r specs.Resource, live *Object, fields []string, _ IDs) (*Object, error) {
	g, ok := r.(*specs.SecurityGroup)
	if !ok {
		return nil, wrongType(r, "security_group")
	}
	var opts groups.UpdateOpts
	for _, f := range fields {
		switch f {
		case "name":
			opts.Name = g.Name
		case "description":
			d := g.Description
			opts.Description = &d
		default:
			return nil, unchangeable(g.Addr(), f)
		}
	}
	var v secGroupView
	if err := groups.Update(ctx, c.Network, live.ID, opts).ExtractIntoStructPtr(&v, "security_group"); err != nil {
		return nil, fmt.Errorf("%s: update: %w", g.Addr(), err)
	}
	return updated(&v, g.Addr()), nil
}

// Delete removes the group with its rules. Neutron refuses while a port
// uses it; the engine deletes ports first (they depend on the group).
func (SecurityGroup) Delete(ctx context.Context, c *Cloud, live *Object) error {
	return deleteNeutron(ctx, c, "security-groups", live)
}

// SecurityGroupRule manages one rule of a lab group. Rules carry no tags,
// and Neutron cannot change a rule: every field forces a new one.
//
// A group the lab owns is the lab's, rules and all. Which live rule is
// which, read from the rules of the lab's groups:
//   - a rule whose content equals a wanted rule's is that rule, whoever
//     made it: this adopts the egress rules Neutron puts in every new
//     group when the spec asks for the same, instead of failing on
//     SecurityGroupRuleExists;
//   - a rule fuelplan made (its description is a rule address, which
//     Create writes) that matches no wanted rule is the lab's rule at that
//     address, so a rule dropped from the spec, or changed in it, is
//     deleted or replaced;
//   - Neutron's default egress rules (all traffic out, IPv4 and IPv6,
//     which every new group gets) are left be when the spec does not ask
//     for them: a lab group keeps its way out unless it says otherwise;
//   - any other rule (added by hand, or by another tool) is drift: it is
//     the lab's under an address of its own, "GROUP.unlisted-ID", and the
//     plan deletes it.
type SecurityGroupRule struct{}

func (SecurityGroupRule) Kind() specs.Kind { return specs.KindSecurityGroupRule }

func (SecurityGroupRule) Schema() Schema {
	return Schema{
		{Name: "group", ForceNew: true},
		{Name: "direction", ForceNew: true},
		{Name: "ethertype", ForceNew: true},
		{Name: "protocol", ForceNew: true},
		{Name: "port_min", ForceNew: true, Type: Number},
		{Name: "port_max", ForceNew: true, Type: Number},
		{Name: "remote_ip", ForceNew: true},
		{Name: "remote_group", ForceNew: true},
	}
}

// Desired renders every field, set or not: a rule is all of its content,
// and Neutron fills in no defaults besides the ones canonicalised here.
func (SecurityGroupRule) Desired(r specs.Resource) Desired {
	sr := r.(*specs.SecurityGroupRule)
	d := Desired{Fields: ruleContent(sr), Refs: Refs{"group": {sr.Group}}}
	if sr.RemoteGroup != "" {
		d.Refs["remote_group"] = []specs.Address{sr.RemoteGroup}
	} else {
		d.Fields["remote_group"] = ""
	}
	return d
}

// ruleContent is a spec rule's non-reference fields, canonical.
func ruleContent(sr *specs.SecurityGroupRule) Fields {
	portMin, portMax := canonicalPorts(sr.PortMin, sr.PortMax)
	f := Fields{
		"direction": sr.Direction,
		"ethertype": sr.EtherType,
		"protocol":  canonicalProtocol(sr.Protocol),
		"port_min":  portField(portMin),
		"port_max":  portField(portMax),
		"remote_ip": canonicalPrefix(sr.RemoteIP),
	}
	if f["ethertype"] == "" {
		f["ethertype"] = "IPv4"
	}
	return f
}

// protocolNames maps what Neutron accepts for a protocol to one spelling:
// numbers and names are both allowed, and stored as given. These are the
// names Neutron knows (neutron_lib's IP_PROTOCOL_MAP).
var protocolNames = map[string]string{
	"any": "", "0": "", "icmpv6": "ipv6-icmp",
	"1": "icmp", "2": "igmp", "4": "ipip", "6": "tcp", "8": "egp", "17": "udp", "33": "dccp",
	"41": "ipv6-encap", "43": "ipv6-route", "44": "ipv6-frag", "46": "rsvp", "47": "gre", "50": "esp",
	"51": "ah", "58": "ipv6-icmp", "59": "ipv6-nonxt", "60": "ipv6-opts", "89": "ospf", "112": "vrrp",
	"113": "pgm", "132": "sctp", "136": "udplite",
}

func canonicalProtocol(p string) string {
	p = strings.ToLower(p)
	if n, ok := protocolNames[p]; ok {
		return n
	}
	return p
}

// canonicalPorts writes a port range the way Neutron stores it: the whole
// range, 1-65535, is stored as no range at all (null bounds), whatever the
// protocol (real Zed answers port_range_min/max null to a tcp, udp, sctp
// or numbered-protocol rule sent with 1 and 65535).
func canonicalPorts(portMin, portMax int) (int, int) {
	if portMin == 1 && portMax == 65535 {
		return 0, 0
	}
	return portMin, portMax
}

func portField(p int) string {
	if p == 0 {
		return ""
	}
	return strconv.Itoa(p)
}

// canonicalPrefix writes a remote prefix the way Neutron stores it (host
// bits cleared, a bare address as /32 or /128). The whole address space,
// 0.0.0.0/0 or ::/0, is the same rule as no prefix, and is written so.
func canonicalPrefix(s string) string {
	if s == "" {
		return ""
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		if aerr != nil {
			return s
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Bits() == 0 {
		return ""
	}
	return p.Masked().String()
}

type ruleView struct {
	ID             string  `json:"id"`
	GroupID        string  `json:"security_group_id"`
	Direction      string  `json:"direction"`
	EtherType      string  `json:"ethertype"`
	Protocol       *string `json:"protocol"`
	PortMin        *int    `json:"port_range_min"`
	PortMax        *int    `json:"port_range_max"`
	RemoteIP       *string `json:"remote_ip_prefix"`
	RemoteGroupID  *string `json:"remote_group_id"`
	Description    string  `json:"description"`
	RevisionNumber int     `json:"revision_number"`
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// object is the rule as read; its address is the one its description
// names, when it names a rule (the caller decides what is the lab's).
func (v ruleView) object() *Object {
	o := &Object{Kind: specs.KindSecurityGroupRule, ID: v.ID, Revision: strconv.Itoa(v.RevisionNumber), Fields: Fields{
		"group":        v.GroupID,
		"direction":    v.Direction,
		"ethertype":    v.EtherType,
		"protocol":     canonicalProtocol(deref(v.Protocol)),
		"port_min":     portField(deref(v.PortMin)),
		"port_max":     portField(deref(v.PortMax)),
		"remote_ip":    canonicalPrefix(deref(v.RemoteIP)),
		"remote_group": deref(v.RemoteGroupID),
	}}
	if a := specs.Address(v.Description); a.Kind() == specs.KindSecurityGroupRule && a.Name() != "" {
		o.Address = a
	}
	return o
}

// neutronDefaultEgress reports whether a rule is one of the two Neutron
// gives every new group: egress, any protocol, any port, to anywhere.
func neutronDefaultEgress(f Fields, remoteGroupID *string) bool {
	return f["direction"] == "egress" && f["protocol"] == "" && f["port_min"] == "" && f["port_max"] == "" &&
		f["remote_ip"] == "" && deref(remoteGroupID) == ""
}

// unlistedRule is the address of a rule of a lab group that the spec does
// not list and fuelplan did not make: one per rule, by its ID.
func unlistedRule(group specs.Address, id string) specs.Address {
	return specs.NewAddress(specs.KindSecurityGroupRule, group.Name(), "unlisted-"+id)
}

// ruleKey is a rule's whole content with its groups given as addresses
// (or IDs, for groups that are not the lab's), to match live rules to
// wanted ones.
func ruleKey(f Fields, group, remoteGroup string) string {
	return strings.Join([]string{group, f["direction"], f["ethertype"], f["protocol"], f["port_min"],
		f["port_max"], f["remote_ip"], remoteGroup}, "|")
}

func listRules(ctx context.Context, c *Cloud, q neutronQuery) ([]ruleView, error) {
	return listNeutron[ruleView, rulePage](ctx, c, "security-group-rules", q)
}

// List reads the rules of the lab's groups (already read, in q.Read) in
// one call per batch of groups, and keeps the lab's as the type comment
// says.
func (SecurityGroupRule) List(ctx context.Context, c *Cloud, q Query) ([]*Object, error) {
	groupAddr := map[string]specs.Address{}
	var groupIDs []string
	if q.Read != nil {
		for _, o := range q.Read.Objects(specs.KindSecurityGroup) {
			if o.Owned && o.Address != "" {
				groupAddr[o.ID] = o.Address
				groupIDs = append(groupIDs, o.ID)
			}
		}
	}
	wanted := map[string]specs.Address{}
	for _, r := range q.Want {
		if sr, ok := r.(*specs.SecurityGroupRule); ok {
			wanted[ruleKey(ruleContent(sr), string(sr.Group), string(sr.RemoteGroup))] = sr.Addr()
		}
	}
	addrOrID := func(id string) string {
		if a, ok := groupAddr[id]; ok {
			return string(a)
		}
		return id
	}
	var out, marked []*Object
	taken := map[specs.Address]bool{}
	for _, b := range batches(groupIDs, nameBatch) {
		vs, err := listRules(ctx, c, pageQuery(ctx).with("security_group_id", b...))
		if err != nil {
			return nil, fmt.Errorf("list security group rules: %w", err)
		}
		for _, v := range vs {
			o := v.object()
			k := ruleKey(o.Fields, addrOrID(v.GroupID), addrOrID(deref(v.RemoteGroupID)))
			if a, ok := wanted[k]; ok && !taken[a] {
				o.Address, o.Owned = a, true
				taken[a] = true
				out = append(out, o)
			} else if o.Address != "" {
				marked = append(marked, o)
			} else if !neutronDefaultEgress(o.Fields, v.RemoteGroupID) {
				if g, ok := groupAddr[v.GroupID]; ok {
					o.Address, o.Owned = unlistedRule(g, v.ID), true
					taken[o.Address] = true
					out = append(out, o)
				}
			}
		}
	}
	// Rules fuelplan made that match no wanted rule: one whose address a
	// matching rule already took gets its ID appended, so the engine
	// deletes it rather than taking it for a duplicate of the right one.
	for _, o := range marked {
		if taken[o.Address] {
			o.Address = specs.Address(string(o.Address) + "." + o.ID)
		}
		taken[o.Address], o.Owned = true, true
		out = append(out, o)
	}
	return out, nil
}

func (SecurityGroupRule) Get(ctx context.Context, c *Cloud, id string) (*Object, error) {
	var v ruleView
	if err := rules.Get(ctx, c.Network, id).ExtractIntoStructPtr(&v, "security_group_rule"); err != nil {
		return nil, getError("security group rule", id, err)
	}
	o := v.object()
	o.Owned = o.Address != ""
	return o, nil
}

// Create makes the rule with its address as description. When Neutron
// has the same rule already (the default egress rules of a group made in
// this run, after the read), that rule is adopted.
func (SecurityGroupRule) Create(ctx context.Context, c *Cloud, _ string, r specs.Resource, ids IDs) (*Object, error) {
	sr, ok := r.(*specs.SecurityGroupRule)
	if !ok {
		return nil, wrongType(r, "security_group_rule")
	}
	groupID, err := refID(ids, "create", sr.Addr(), "group", sr.Group)
	if err != nil {
		return nil, err
	}
	remoteID := ""
	if sr.RemoteGroup != "" {
		if remoteID, err = refID(ids, "create", sr.Addr(), "remote_group", sr.RemoteGroup); err != nil {
			return nil, err
		}
	}
	f := ruleContent(sr)
	opts := rules.CreateOpts{
		Direction: rules.RuleDirection(f["direction"]), EtherType: rules.RuleEtherType(f["ethertype"]),
		SecGroupID: groupID, PortRangeMin: sr.PortMin, PortRangeMax: sr.PortMax,
		Protocol: rules.RuleProtocol(f["protocol"]), RemoteIPPrefix: f["remote_ip"], RemoteGroupID: remoteID,
		Description: string(sr.Addr()),
	}
	var v ruleView
	err = rules.Create(ctx, c.Network, opts).ExtractIntoStructPtr(&v, "security_group_rule")
	if gophercloud.ResponseCodeIs(err, 409) {
		o, ferr := findRule(ctx, c, ruleKey(f, groupID, remoteID))
		if ferr != nil {
			return nil, fmt.Errorf("%s: create: %w (and reading the existing rule failed: %v)", sr.Addr(), err, ferr)
		}
		if o != nil {
			o.Address, o.Owned = sr.Addr(), true
			return o, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: create: %w", sr.Addr(), err)
	}
	o := v.object()
	o.Address, o.Owned = sr.Addr(), true
	return o, nil
}

// findRule returns the rule of the key's group with that content, or nil.
func findRule(ctx context.Context, c *Cloud, key string) (*Object, error) {
	groupID, _, _ := strings.Cut(key, "|")
	vs, err := listRules(ctx, c, pageQuery(ctx).with("security_group_id", groupID))
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		o := v.object()
		if ruleKey(o.Fields, v.GroupID, deref(v.RemoteGroupID)) == key {
			return o, nil
		}
	}
	return nil, nil
}

func (SecurityGroupRule) Update(_ context.Context, _ *Cloud, r specs.Resource, _ *Object, fields []string, _ IDs) (*Object, error) {
	return nil, unchangeable(r.Addr(), strings.Join(fields, ", "))
}

func (SecurityGroupRule) Delete(ctx context.Context, c *Cloud, live *Object) error {
	if err := ignoreNotFound(rules.Delete(ctx, c.Network, live.ID).ExtractErr()); err != nil {
		return fmt.Errorf("%s: delete: %w", liveLabel(live), err)
	}
	return nil
}
