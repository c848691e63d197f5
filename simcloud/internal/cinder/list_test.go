package cinder

import (
	"maps"
	"testing"
)

// TestParseMetadataFilter: the metadata query parameter as clients send
// it (gophercloud and the openstack CLI write a Python dict literal).
func TestParseMetadataFilter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want map[string]string
		bad  bool
	}{
		{in: "", want: nil},
		{in: "{}", want: map[string]string{}},
		{in: "{'fuelplan-lab':'fuel'}", want: map[string]string{"fuelplan-lab": "fuel"}},
		{in: "{'a':'1', 'b':'volume.master.disk'}", want: map[string]string{"a": "1", "b": "volume.master.disk"}},
		{in: ` { "a" : "x y" } `, want: map[string]string{"a": "x y"}},
		{in: "{'a':'1',}", want: map[string]string{"a": "1"}},
		{in: "a=1", bad: true},
		{in: "{'a'}", bad: true},
		{in: "{'a':1}", bad: true},
		{in: "{'a':'1' 'b':'2'}", bad: true},
		{in: "{'a:'1'}", bad: true},
	} {
		got, err := parseMetadataFilter(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: parsed as %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || !maps.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("%q = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
