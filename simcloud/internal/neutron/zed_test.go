package neutron

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

// Behaviour read off a real Neutron (Zed, Debian bookworm packages) by the
// end-to-end suite's probe, where the simulator used to differ.

// NetworkInUse and RouterInUse name the ports in the way
// (_ensure_network_not_in_use: comma-joined; _ensure_router_not_in_use:
// ", "-joined).
func TestInUseErrorsNameThePorts(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	n, sn := memberNet(t, c, "10.20.0.0/24")
	p := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID}).Extract())
	r := must[*routers.Router](t)(routers.Create(ctx, c.member, routers.CreateOpts{Name: "r"}).Extract())
	ri := must[*routers.InterfaceInfo](t)(routers.AddInterface(ctx, c.member, r.ID, routers.AddInterfaceOpts{SubnetID: sn.ID}).Extract())

	err := networks.Delete(ctx, c.member, n.ID).ExtractErr()
	wantFault(t, err, 409, "NetworkInUse")
	ids := []string{p.ID, ri.PortID}
	slices.Sort(ids) // the simulator's order; Neutron's is its query's
	if !strings.Contains(err.Error(), "still in use on the network, id for these ports is: "+strings.Join(ids, ",")+".") {
		t.Errorf("NetworkInUse: %v, want the ports %v named", err, ids)
	}
	err = routers.Delete(ctx, c.member, r.ID).ExtractErr()
	wantFault(t, err, 409, "RouterInUse")
	if !strings.Contains(err.Error(), "Router "+r.ID+" has ports still attached: "+ri.PortID) {
		t.Errorf("RouterInUse: %v, want the interface port named", err)
	}
}

// add_router_interface answers with exactly id, tenant_id, port_id,
// network_id, subnet_id and subnet_ids.
func TestRouterInterfaceResponseKeys(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	_, sn := memberNet(t, c, "10.20.0.0/24")
	r := must[*routers.Router](t)(routers.Create(ctx, c.member, routers.CreateOpts{Name: "r"}).Extract())
	res := routers.AddInterface(ctx, c.member, r.ID, routers.AddInterfaceOpts{SubnetID: sn.ID})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	var m map[string]any
	if err := res.ExtractInto(&m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"id", "network_id", "port_id", "subnet_id", "subnet_ids", "tenant_id"}; !slices.Equal(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
}

// With fip-port-details a floating IP carries port_details: null when
// not associated, the port's summary when it is; without the
// port-forwarding plugin there is no port_forwardings attribute.
func TestFloatingIPPortDetails(t *testing.T) {
	cfg := defaultConfig()
	cfg.Extensions = append(slices.Clone(DefaultExtensions), "fip-port-details")
	c := newTestCloud(t, cfg)
	ctx := context.Background()
	n, sn := memberNet(t, c, "10.20.0.0/24")
	r := must[*routers.Router](t)(routers.Create(ctx, c.member, routers.CreateOpts{Name: "r",
		GatewayInfo: &routers.GatewayInfo{NetworkID: extNetID}}).Extract())
	must[*routers.InterfaceInfo](t)(routers.AddInterface(ctx, c.member, r.ID, routers.AddInterfaceOpts{SubnetID: sn.ID}).Extract())
	p := must[*ports.Port](t)(ports.Create(ctx, c.member, ports.CreateOpts{NetworkID: n.ID, Name: "vm"}).Extract())
	f := must[*floatingips.FloatingIP](t)(floatingips.Create(ctx, c.member, floatingips.CreateOpts{FloatingNetworkID: extNetID}).Extract())

	raw := func() map[string]any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, c.member.ServiceURL("floatingips", f.ID), nil)
		req.Header.Set("X-Auth-Token", c.member.Token())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var m struct {
			FloatingIP map[string]any `json:"floatingip"`
		}
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		return m.FloatingIP
	}
	got := raw()
	if v, ok := got["port_details"]; !ok || v != nil {
		t.Errorf("unassociated port_details = %v (present %v), want null", v, ok)
	}
	if _, ok := got["port_forwardings"]; ok {
		t.Error("port_forwardings shown without the port-forwarding extension")
	}
	must[*floatingips.FloatingIP](t)(floatingips.Update(ctx, c.member, f.ID, floatingips.UpdateOpts{PortID: &p.ID}).Extract())
	details, _ := raw()["port_details"].(map[string]any)
	want := map[string]any{"name": "vm", "network_id": n.ID, "mac_address": p.MACAddress, "admin_state_up": true,
		"status": "DOWN", "device_id": "", "device_owner": ""}
	for k, v := range want {
		if details[k] != v {
			t.Errorf("port_details[%s] = %v, want %v", k, details[k], v)
		}
	}
	if len(details) != len(want) {
		t.Errorf("port_details %v, want exactly the keys of %v", details, want)
	}
}

// What real Zed stores for a rule, probed with the API (POST
// /v2.0/security-group-rules) on ../shared/realcloud: the whole port range
// becomes null bounds whatever the protocol, names are lower-cased and
// icmpv6 becomes ipv6-icmp, numbers and prefixes stay as sent (a bare
// address gets /32).
func TestRuleStoredAsZedStoresIt(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	tests := []struct {
		name             string
		body             string
		protocol, remote any
		portMin, portMax any
	}{
		{"tcp 1-65535", `"protocol":"tcp","port_range_min":1,"port_range_max":65535`, "tcp", nil, nil, nil},
		{"udp 1-65535", `"protocol":"udp","port_range_min":1,"port_range_max":65535`, "udp", nil, nil, nil},
		{"6 as a number, 1-65535", `"protocol":6,"port_range_min":1,"port_range_max":65535,"direction":"egress"`, "6", nil, nil, nil},
		{"sctp 1-65535", `"protocol":"sctp","port_range_min":1,"port_range_max":65535`, "sctp", nil, nil, nil},
		{"icmp 1-65535", `"protocol":"icmp","port_range_min":1,"port_range_max":65535,"direction":"egress"`, "icmp", nil, nil, nil},
		{"no protocol 1-65535", `"port_range_min":1,"port_range_max":65535,"ethertype":"IPv6"`, nil, nil, nil, nil},
		{"tcp 2-65535", `"protocol":"tcp","port_range_min":2,"port_range_max":65535,"remote_ip_prefix":"10.1.2.3/8"`, "tcp", "10.1.2.3/8", 2.0, 65535.0},
		{"TCP upper case", `"protocol":"TCP","port_range_min":80,"port_range_max":80`, "tcp", nil, 80.0, 80.0},
		{"17 as a string", `"protocol":"17","port_range_min":53,"port_range_max":53`, "17", nil, 53.0, 53.0},
		{"icmpv6", `"protocol":"icmpv6","ethertype":"IPv6"`, "ipv6-icmp", nil, nil, nil},
		{"hopopt", `"protocol":"hopopt","ethertype":"IPv6","direction":"egress","remote_ip_prefix":"2001:db8::1/64"`, "hopopt", "2001:db8::1/64", nil, nil},
		{"bare address", `"protocol":"udp","remote_ip_prefix":"10.9.9.9"`, "udp", "10.9.9.9/32", nil, nil},
		{"0.0.0.0/0 kept", `"protocol":"udp","remote_ip_prefix":"0.0.0.0/0","port_range_min":7,"port_range_max":7`, "udp", "0.0.0.0/0", 7.0, 7.0},
	}
	sg := must[*groups.SecGroup](t)(groups.Create(ctx, c.member, groups.CreateOpts{Name: "probe"}).Extract())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"security_group_rule":{"security_group_id":"` + sg.ID + `","direction":"ingress",` + tt.body + `}}`
			var out struct {
				Rule map[string]any `json:"security_group_rule"`
			}
			_, err := c.member.Post(ctx, c.member.ServiceURL("security-group-rules"), json.RawMessage(body), &out, &gophercloud.RequestOpts{OkCodes: []int{201}})
			if err != nil {
				t.Fatal(err)
			}
			r := out.Rule
			got := fmt.Sprintf("%v %v %v %v", r["protocol"], r["remote_ip_prefix"], r["port_range_min"], r["port_range_max"])
			if want := fmt.Sprintf("%v %v %v %v", tt.protocol, tt.remote, tt.portMin, tt.portMax); got != want {
				t.Errorf("stored protocol %v, remote %v, ports %v-%v; want %v, %v, %v-%v", r["protocol"], r["remote_ip_prefix"],
					r["port_range_min"], r["port_range_max"], tt.protocol, tt.remote, tt.portMin, tt.portMax)
			}
		})
	}
}

// Real Zed's refusals and duplicate check for rules: "any" is no
// protocol, one port bound without the other is a bad range, port 0 a bad
// value; "6" duplicates "tcp", no prefix duplicates 0.0.0.0/0.
func TestRuleRefusalsAsZed(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	sg := must[*groups.SecGroup](t)(groups.Create(ctx, c.member, groups.CreateOpts{Name: "probe"}).Extract())
	post := func(body string) error {
		body = `{"security_group_rule":{"security_group_id":"` + sg.ID + `","direction":"ingress",` + body + `}}`
		_, err := c.member.Post(ctx, c.member.ServiceURL("security-group-rules"), json.RawMessage(body), nil, &gophercloud.RequestOpts{OkCodes: []int{201}})
		return err
	}
	must[struct{}](t)(struct{}{}, post(`"protocol":"tcp","port_range_min":1,"port_range_max":65535`))
	must[struct{}](t)(struct{}{}, post(`"protocol":"tcp","port_range_min":3000,"port_range_max":3000`))
	tests := []struct {
		name, body, typ, message string
		status                   int
	}{
		{"any", `"protocol":"any"`, "SecurityGroupRuleInvalidProtocol",
			"Security group rule protocol any not supported. Only protocol values [None, 'ah', 'dccp', 'egp', 'esp', 'gre', 'hopopt', 'icmp', 'igmp', 'ip', 'ipip', 'ipv6-encap', 'ipv6-frag', 'ipv6-icmp', 'icmpv6', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', 'ospf', 'pgm', 'rsvp', 'sctp', 'tcp', 'udp', 'udplite', 'vrrp'] and integer representations [0 to 255] are supported.", 400},
		{"min only", `"protocol":"tcp","port_range_min":1`, "SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min must be <= port_range_max", 400},
		{"port 0", `"protocol":"tcp","port_range_min":0,"port_range_max":10`, "SecurityGroupInvalidPortValue", "Invalid value for port 0", 400},
		{"6 next to tcp", `"protocol":"6","port_range_min":1,"port_range_max":65535`, "SecurityGroupRuleExists", "Security group rule already exists.", 409},
		{"0.0.0.0/0 next to none", `"protocol":"tcp","port_range_min":3000,"port_range_max":3000,"remote_ip_prefix":"0.0.0.0/0"`, "SecurityGroupRuleExists", "Security group rule already exists.", 409},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := post(tt.body)
			wantFault(t, err, tt.status, tt.typ)
			var ue gophercloud.ErrUnexpectedResponseCode
			var body struct{ NeutronError struct{ Message string } }
			if errors.As(err, &ue) && json.Unmarshal(ue.Body, &body) == nil && !strings.HasPrefix(body.NeutronError.Message, tt.message) {
				t.Errorf("message %q, want %q", body.NeutronError.Message, tt.message)
			}
		})
	}
}

// Real Zed takes a subnet CIDR with host bits and stores its network:
// sent 10.77.0.5/24, it answers 10.77.0.0/24 (gateway 10.77.0.1).
func TestSubnetCIDRHostBitsCleared(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	n := must[*networks.Network](t)(networks.Create(ctx, c.member, networks.CreateOpts{Name: "probe"}).Extract())
	sn := must[*subnets.Subnet](t)(subnets.Create(ctx, c.member, subnets.CreateOpts{NetworkID: n.ID, CIDR: "10.77.0.5/24", IPVersion: 4}).Extract())
	if sn.CIDR != "10.77.0.0/24" || sn.GatewayIP != "10.77.0.1" {
		t.Errorf("cidr %s, gateway %s; want 10.77.0.0/24, 10.77.0.1", sn.CIDR, sn.GatewayIP)
	}
}

// Bulk port create (POST /v2.0/ports with a "ports" list), as real Zed
// answers it (probed): one item taking an address already allocated
// fails the whole request with that item's 409 IpAddressAlreadyAllocated
// and creates nothing; tags in the items are ignored (Zed does not list
// tag-ports-during-bulk-creation): 201, the ports with no tags.
func TestBulkPortCreate(t *testing.T) {
	c := newTestCloud(t, defaultConfig())
	ctx := context.Background()
	n, sn := memberNet(t, c, "10.99.0.0/24")
	post := func(items ...map[string]any) (map[string][]ports.Port, error) {
		var out map[string][]ports.Port
		_, err := c.member.Post(ctx, c.member.ServiceURL("ports"), map[string]any{"ports": items}, &out, nil)
		return out, err
	}
	item := func(name, ip string) map[string]any {
		m := map[string]any{"network_id": n.ID, "name": name, "description": "d-" + name}
		if ip != "" {
			m["fixed_ips"] = []map[string]any{{"subnet_id": sn.ID, "ip_address": ip}}
		}
		return m
	}
	_, err := post(item("b1", "10.99.0.20"), item("b2", "10.99.0.20"))
	wantFault(t, err, 409, "IpAddressAlreadyAllocated")
	for _, name := range []string{"b1", "b2"} {
		if ps := must[[]ports.Port](t)(listPorts(c, c.member, ports.ListOpts{NetworkID: n.ID, Name: name})); len(ps) != 0 {
			t.Fatalf("a failed bulk create left port %s", name)
		}
	}
	tagged := item("b1", "")
	tagged["tags"] = []string{"x1"}
	out, err := post(tagged, item("b2", ""))
	if err != nil {
		t.Fatal(err)
	}
	got := out["ports"]
	if len(got) != 2 || got[0].Name != "b1" || got[1].Name != "b2" || got[0].Description != "d-b1" {
		t.Fatalf("bulk create answered %+v, want b1 and b2 in order", got)
	}
	for _, p := range got {
		if len(p.Tags) != 0 {
			t.Errorf("port %s has tags %v, want none (Zed ignores tags in a bulk create)", p.Name, p.Tags)
		}
	}
	// Real Zed drops an item's allowed address pairs in a bulk create:
	// the port comes back, and stays, with none.
	paired := item("b3", "")
	paired["allowed_address_pairs"] = []map[string]any{{"ip_address": "10.99.0.100"}}
	out, err = post(paired)
	if err != nil {
		t.Fatal(err)
	}
	if got := out["ports"]; len(got) != 1 || len(got[0].AllowedAddressPairs) != 0 {
		t.Fatalf("bulk create with address pairs answered %+v, want the port with none (as Zed)", got)
	}
	if ps := must[[]ports.Port](t)(listPorts(c, c.member, ports.ListOpts{NetworkID: n.ID, Name: "b3"})); len(ps) != 1 || len(ps[0].AllowedAddressPairs) != 0 {
		t.Fatalf("port b3 listed as %+v, want no address pairs", ps)
	}
}
