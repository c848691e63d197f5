package nova

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// TestServerBodyIsServerView: server lists answer with encodeServer's
// struct instead of serverView's map (the attributes real Zed answers,
// which the other tests compare); the two must encode to the same bytes
// for every kind of server (building, active, in error, being deleted,
// booted from an image or a volume, with and without a keypair, ports on
// one or two networks, a floating IP, IPv6, metadata and tags, a
// description), at every microversion that adds or changes attributes,
// to an admin and to a member.
func TestServerBodyIsServerView(t *testing.T) {
	c := newCloud(t, nil)
	c.ports.add("p1", "p-member", "admin", "aa:00:00:00:00:01", []string{"10.20.0.3"}, []string{"172.16.0.131"})
	c.ports.add("p2", "p-member", "admin", "aa:00:00:00:00:02", []string{"fd00::5"}, nil)
	c.ports.add("p3", "p-member", "storage", "aa:00:00:00:00:03", []string{"192.168.1.3"}, nil)
	desc := `<a & "b">`
	t0 := c.t0
	deleted := t0.Add(time.Minute)
	boot := func(id string) *server {
		return &server{ID: id, Name: "s-" + id, ProjectID: "p-member", UserID: "u-member", FlavorID: "1",
			Flavor: flavor{ID: "1", Name: "m1.small", VCPUs: 1, RAM: 2048, Disk: 20}, AZ: "nova",
			Host: "node-1", InstanceName: "instance-0001", Created: t0, Updated: t0, ReadyAt: t0.Add(time.Second)}
	}
	var svs []*server
	plain := boot("a1")
	plain.ImageID, plain.KeyName, plain.Ports = imageID, "key", []string{"p1", "p2", "p3"}
	plain.Metadata, plain.Tags, plain.Description = map[string]string{"role": "master", "x": "<y>"}, []string{"t1", "t2"}, &desc
	plain.UserData = "I2Nsb3VkLWNvbmZpZw=="
	svs = append(svs, plain)
	building := boot("b2")
	building.ImageID, building.ReadyAt, building.Host = imageID, t0.Add(time.Hour), ""
	svs = append(svs, building)
	failed := boot("c3")
	failed.Fault, failed.ImageID = "No valid host was found.", imageID
	svs = append(svs, failed)
	fromVolume := boot("d4")
	fromVolume.BDMs = []bdm{{SourceType: "volume", DestinationType: "volume", UUID: "v1", DeleteOnTermination: true},
		{SourceType: "blank", DestinationType: "local"}, {SourceType: "volume", UUID: "v2"}}
	fromVolume.Flavor.ExtraSpecs = map[string]string{"hw:cpu_policy": "dedicated"}
	svs = append(svs, fromVolume)
	deleting := boot("e5")
	deleting.ImageID, deleting.DeletedAt = imageID, &deleted
	svs = append(svs, deleting)

	c.at(10 * time.Second)
	for _, who := range []*simcore.Identity{admin, member} {
		for _, mvr := range []int{1, 3, 9, 19, 26, 47, 61, 73, 93} {
			r := httptest.NewRequest("GET", "http://nova.example/compute/v2.1/servers/detail?tags=x", nil)
			r.RequestURI = "/compute/v2.1/servers/detail?tags=x"
			r.URL.Path = "/v2.1/servers/detail"
			ctx := context.WithValue(simcore.WithIdentity(r.Context(), who), mvKey{}, mvr)
			r = r.WithContext(ctx)
			for _, sv := range svs {
				want, err := json.Marshal(c.svc.serverView(r, sv))
				if err != nil {
					t.Fatal(err)
				}
				got, err := json.Marshal(c.svc.encodeServer(r, sv))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("server %s at 2.%d to %s:\n got %s\nwant %s", sv.ID, mvr, who.UserID, got, want)
				}
			}
		}
	}
}
