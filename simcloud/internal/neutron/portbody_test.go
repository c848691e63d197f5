package neutron

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/portsecurity"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/trunks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
)

// TestPortBodyIsRenderPort: a list answers ports with encodePort's struct
// instead of renderPort's map (the attributes real Zed answers, which the
// other tests compare); the two must encode to the same bytes for every
// kind of port, to an admin and to a member, with and without the
// extensions that add attributes: a plain port, one with address pairs,
// one with port security off, a trunk's parent and subport, a port bound
// to a host, and names and descriptions that JSON escapes.
func TestPortBodyIsRenderPort(t *testing.T) {
	for _, tc := range []struct {
		name string
		exts []string
	}{{"default extensions", nil}, {"none optional", []string{"standard-attr-tag", "trunk"}}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := defaultConfig()
			cfg.Extensions = tc.exts
			c := newTestCloud(t, cfg)
			ctx := context.Background()
			l := newTrunkLab(t, c)
			if c.svc.ext("trunk") {
				must[*trunks.Trunk](t)(trunks.Create(ctx, c.member, trunks.CreateOpts{Name: "t", PortID: l.parent.ID,
					Subports: []trunks.Subport{vlan(l.subs[0].ID, 101)}}).Extract())
			}
			n := must[*networks.Network](t)(networks.Create(ctx, c.member, networks.CreateOpts{Name: "n"}).Extract())
			create := func(opts ports.CreateOptsBuilder) *ports.Port {
				return must[*ports.Port](t)(ports.Create(ctx, c.member, opts).Extract())
			}
			create(ports.CreateOpts{NetworkID: n.ID, Name: `<odd> & "quoted" \ é`, Description: "line\nbreak\u2028"})
			if c.svc.ext("allowed-address-pairs") {
				create(ports.CreateOpts{NetworkID: n.ID, Name: "pairs", AllowedAddressPairs: []ports.AddressPair{
					{IPAddress: "10.9.0.5"}, {IPAddress: "10.9.0.6", MACAddress: "aa:bb:cc:dd:ee:ff"}}})
			}
			if c.svc.ext("port-security") {
				off := false
				create(portsecurity.PortCreateOptsExt{CreateOptsBuilder: ports.CreateOpts{NetworkID: n.ID, Name: "insecure",
					SecurityGroups: &[]string{}}, PortSecurityEnabled: &off})
			}
			bound := create(ports.CreateOpts{NetworkID: n.ID, Name: "bound"})
			if err := c.svc.BindPort(bound.ProjectID, bound.ID, "server-1", "compute-1"); err != nil {
				t.Fatal(err)
			}
			c.svc.mu.Lock()
			defer c.svc.mu.Unlock()
			if len(c.svc.st.Ports) < 6 {
				t.Fatalf("%d ports made", len(c.svc.st.Ports))
			}
			for _, who := range identities {
				for _, p := range c.svc.st.Ports {
					want, err := json.Marshal(c.svc.renderPort(who, p))
					if err != nil {
						t.Fatal(err)
					}
					got, err := json.Marshal(c.svc.encodePort(who, p))
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, want) {
						t.Errorf("port %q to %s:\n got %s\nwant %s", p.Name, who.UserName, got, want)
					}
				}
			}
		})
	}
}
