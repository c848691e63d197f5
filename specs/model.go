package specs

import "net/netip"

// The resolved model: what validation works out once (parsed prefixes,
// expanded slaves, resolved references) and Compile then reads, so the
// two never disagree about what the spec means.

type netModel struct {
	spec      *NetworkSpec
	name      string
	index     int
	prefix    netip.Prefix // invalid when the CIDR did not parse
	gateway   netip.Addr
	noGateway bool
	pools     []poolRange // in spec order
	byStart   []poolRange // sorted by start address, see checkPoolOverlaps
	poolReach []int
	routed    bool
	// family is the pattern a network was made from (tenant-{vlan}) and
	// vlanID the ID it was made for; "" and 0 for a network the spec lists.
	family string
	vlanID int
}

type poolRange struct {
	start, end netip.Addr
	spec       *PoolSpec
}

func (p poolRange) contains(a netip.Addr) bool {
	return p.start.Compare(a) <= 0 && a.Compare(p.end) <= 0
}

type portModel struct {
	net     *netModel
	at      Pos
	path    string
	fixedIP string
	// fixedIPGiven: the spec sets a fixed IP, even one rejected (fixedIP
	// is then ""), so that only a port without one is warned about.
	fixedIPGiven   bool
	mac            string
	portSecurity   Bool
	securityGroups []string
	pairs          []PairSpec
	vlans          []vlanModel // tagged on this NIC, in spec order
}

type serverModel struct {
	name      string // logical name: master, slave-01
	cloudName string
	role      string
	index     int
	at        Pos
	path      string
	flavor    string
	image     string
	volumes   []VolumeSpec
	ports     []portModel // in network order
	keypair   string
	userData  *UserDataSpec
	metadata  map[string]String
	fip       *FloatingIPSpec
	protect   bool
}

func (s *serverModel) port(network string) *portModel {
	for i := range s.ports {
		if s.ports[i].net.name == network {
			return &s.ports[i]
		}
	}
	return nil
}
