package specs

import (
	"net/netip"
	"reflect"
	"testing"
)

func TestPoolsExcluding(t *testing.T) {
	ip := netip.MustParseAddr
	tests := []struct {
		name     string
		prefix   string
		reserved []netip.Addr
		want     []AllocationPool
	}{
		{"gateway and master", "10.20.0.0/24", []netip.Addr{ip("10.20.0.2"), ip("10.20.0.1")},
			[]AllocationPool{{"10.20.0.3", "10.20.0.254"}}},
		{"hole in the middle", "10.0.0.0/29", []netip.Addr{ip("10.0.0.1"), ip("10.0.0.4")},
			[]AllocationPool{{"10.0.0.2", "10.0.0.3"}, {"10.0.0.5", "10.0.0.6"}}},
		{"last host reserved", "10.0.0.0/29", []netip.Addr{ip("10.0.0.6")},
			[]AllocationPool{{"10.0.0.1", "10.0.0.5"}}},
		{"duplicates and outside ignored", "10.0.0.0/29", []netip.Addr{ip("10.0.0.3"), ip("10.0.0.3"), ip("10.9.9.9")},
			[]AllocationPool{{"10.0.0.1", "10.0.0.2"}, {"10.0.0.4", "10.0.0.6"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := poolsExcluding(netip.MustParsePrefix(tt.prefix), tt.reserved)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCompiledPoolsLeaveFixedIPsOut(t *testing.T) {
	lab, diags := LoadLab("../examples/fuel-lab.yaml", func(string) (string, bool) { return "", false })
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	r, _ := lab.Resource("subnet.admin")
	// Gateway .1, master .2, slaves .3 and .4 (examples/fuel-lab.yaml).
	want := []AllocationPool{{"10.20.0.5", "10.20.0.254"}}
	if got := r.(*Subnet).AllocationPools; !reflect.DeepEqual(got, want) {
		t.Errorf("subnet.admin pools %v, want %v", got, want)
	}
	r, _ = lab.Resource("subnet.storage")
	if got := r.(*Subnet).AllocationPools; got != nil {
		t.Errorf("subnet.storage has no fixed IPs but got pools %v", got)
	}
}
