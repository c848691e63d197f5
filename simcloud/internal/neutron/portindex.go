package neutron

import (
	"fmt"
	"net/netip"
)

// portIndex finds ports by address and by MAC, and counts each project's
// ports, so that a port create costs the same in a lab of ten ports and
// one of ten thousand: walking every port for each address, MAC and
// quota check made creates slow from 60 ms to 1.1 s as a lab grew. It is
// derived from the store (built on first use, dropped by Restore) and
// kept current by putPort, dropPort and reindexPort, which every change
// to a port's existence, addresses or MAC goes through.
type portIndex struct {
	ips     map[string]map[string]string // subnet id -> address -> port id
	macs    map[string]map[string]string // network id -> MAC -> port id
	perProj map[string]int               // project id -> ports
	// low is, per subnet, a place in its pools (in their order) before
	// which every address is allocated, so the lowest free one is found
	// without walking the allocated ones again; it holds for the pools it
	// was found with, and until an address of the subnet is released.
	low map[string]lowMark
	// entries is what each port was indexed under, to remove exactly it.
	entries map[string]indexed
}

type lowMark struct {
	pools string // the pools, printed
	pool  int    // index in the pools
	addr  netip.Addr
}

type indexed struct {
	network, mac, project string
	ips                   []fixedIP
}

// index returns the port index, building it from the store if needed.
func (s *Service) index() *portIndex {
	if s.idx != nil {
		return s.idx
	}
	x := &portIndex{ips: map[string]map[string]string{}, macs: map[string]map[string]string{},
		perProj: map[string]int{}, low: map[string]lowMark{}, entries: map[string]indexed{}}
	s.idx = x
	for _, p := range s.st.Ports {
		x.add(p)
	}
	return x
}

func (x *portIndex) add(p *port) {
	e := indexed{network: p.NetworkID, mac: p.MAC, project: p.ProjectID, ips: append([]fixedIP(nil), p.FixedIPs...)}
	x.entries[p.ID] = e
	for _, f := range e.ips {
		m := x.ips[f.SubnetID]
		if m == nil {
			m = map[string]string{}
			x.ips[f.SubnetID] = m
		}
		m[f.IPAddress] = p.ID
	}
	if x.macs[e.network] == nil {
		x.macs[e.network] = map[string]string{}
	}
	x.macs[e.network][e.mac] = p.ID
	x.perProj[e.project]++
}

func (x *portIndex) remove(id string) {
	e, ok := x.entries[id]
	if !ok {
		return
	}
	delete(x.entries, id)
	for _, f := range e.ips {
		if x.ips[f.SubnetID][f.IPAddress] == id {
			delete(x.ips[f.SubnetID], f.IPAddress)
		}
		// A released address may be below the mark: the next
		// allocation looks from the pools' start again.
		delete(x.low, f.SubnetID)
	}
	if x.macs[e.network][e.mac] == id {
		delete(x.macs[e.network], e.mac)
	}
	x.perProj[e.project]--
}

// putPort adds a new port to the store.
func (s *Service) putPort(p *port) {
	s.st.Ports[p.ID] = p
	x := s.index()
	x.remove(p.ID)
	x.add(p)
}

// dropPort removes a port from the store.
func (s *Service) dropPort(id string) {
	s.index().remove(id)
	delete(s.st.Ports, id)
}

// reindexPort records a change of a port's addresses or MAC.
func (s *Service) reindexPort(p *port) {
	x := s.index()
	x.remove(p.ID)
	x.add(p)
}

// ipOwner returns the port holding an address on a subnet.
func (s *Service) ipOwner(subnetID, ip string) (string, bool) {
	id, ok := s.index().ips[subnetID][ip]
	return id, ok
}

// macOwner returns the port holding a MAC on a network.
func (s *Service) macOwner(netID, mac string) (string, bool) {
	id, ok := s.index().macs[netID][mac]
	return id, ok
}

// projectPorts is how many ports a project owns.
func (s *Service) projectPorts(project string) int { return s.index().perProj[project] }

// lowFree returns where the search for a free address on sn may start:
// the pool's index and the address in it.
func (s *Service) lowFree(sn *subnet) (int, netip.Addr) {
	lm, ok := s.index().low[sn.ID]
	if !ok || lm.pools != fmt.Sprint(sn.Pools) {
		return 0, netip.Addr{}
	}
	return lm.pool, lm.addr
}

// setLowFree records that every address of sn's pools before pool i's
// address a is allocated.
func (s *Service) setLowFree(sn *subnet, i int, a netip.Addr) {
	s.index().low[sn.ID] = lowMark{fmt.Sprint(sn.Pools), i, a}
}
