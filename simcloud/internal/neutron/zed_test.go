package neutron

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/routers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
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
