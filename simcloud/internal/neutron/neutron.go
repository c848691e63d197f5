// Package neutron simulates the OpenStack Networking API v2.0 (Neutron)
// closely enough that the real gophercloud v2 client works against it
// unchanged: networks, subnets, ports, routers, security groups, floating
// IPs and tags, with Neutron's JSON shapes, status codes and error bodies.
//
// The core mounts it under /network and strips that prefix, so handlers see
// /v2.0/...; it has authenticated the caller, whose identity is in the
// request context. All state is in one store behind one mutex and is
// computed on read, with no timers, so Snapshot/Restore is the whole story.
//
// Choices where real clouds differ, made once here:
//   - Tenant networks get MTU 1450 (ML2/OVS with VXLAN) unless Config's
//     NetworkMTU says otherwise; seeded external networks 1500 unless their
//     config says otherwise.
//   - A DHCP-enabled subnet gets an address on the network's DHCP port (the
//     first free one, usually .2), as the DHCP agent takes it.
//   - Subnets are IPv4 only; subnet pools and IPv6 modes are refused.
//   - Lists are ordered by id unless sort_key/sort_dir say otherwise (id
//     breaks ties, so pages never repeat or skip).
//   - Error types and status codes follow neutron-lib: a second router
//     interface on a subnet is a 400 BadRequest, a gateway inside an
//     allocation pool a 409 GatewayConflictWithAllocationPools, security
//     groups on a port without port security a 400
//     PortSecurityAndIPRequiredForSecurityGroups.
package neutron

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/fuelplan/fuelplan/simcloud/internal/simcore"
)

// Config seeds the service.
type Config struct {
	Knobs *simcore.Knobs
	// Extensions are the enabled extension aliases; nil means DefaultExtensions.
	Extensions []string
	// Quotas are per-project limits by resource (network, subnet, port,
	// router, floatingip, security_group, security_group_rule); an absent
	// resource is unlimited.
	Quotas map[string]int
	// ExternalNetworks are seeded, owned by the admin project, with
	// router:external=true and shared=false: visible to all, usable for
	// router gateways and floating IPs.
	ExternalNetworks []ExternalNetwork
	// NetworkMTU is the MTU a new network gets without an explicit one,
	// also the largest one may ask for; 0 is DefaultMTU.
	NetworkMTU int
}

// ExternalNetwork is a provider network that exists before any lab, such as
// net04_ext on the Fuel host cloud.
type ExternalNetwork struct {
	ID, Name, ProjectID, SubnetID, CIDR, Gateway, PoolStart, PoolEnd string
	MTU                                                              int
}

// DefaultMTU is what a network gets without an explicit mtu. The simulated
// host cloud is an ML2/OVS cloud with VXLAN tenant networks, whose MTU is
// 1500 minus the 50-byte VXLAN overhead; it is also the largest allowed.
// Real Zed (tenant_network_types = vxlan) gives a new network 1450 and
// refuses mtu 1451 with 400 InvalidInput "Invalid input for operation:
// Requested MTU is too big, maximum is 1450.".
const DefaultMTU = 1450

// Service is the simulated Neutron. It implements simcore.Service and
// simcore.Ports.
type Service struct {
	knobs  *simcore.Knobs
	exts   map[string]bool
	extOrd []string
	quotas map[string]int
	netMTU int // what a new network gets, and the largest it may ask for
	mux    *http.ServeMux

	mu sync.Mutex
	st *store
	// idx indexes st's ports (portindex.go); nil until first used.
	idx *portIndex
	// orders caches each kind's objects sorted by id (by plural), for
	// lists; gen counts the changes that may add or remove objects, and a
	// cached order is used only at the gen it was built at.
	orders map[string]idOrder
	gen    uint64
}

type idOrder struct {
	gen  uint64
	objs []object
}

// ordered returns k's objects sorted by id, sorting them again only after
// a change. Objects are changed in place, so a cached order stays true
// until one is added or removed: every request but a GET may do that
// (wrap counts them), and so may the lazy default security group.
func (s *Service) ordered(k *kind) []object {
	if o, ok := s.orders[k.plural]; ok && o.gen == s.gen {
		return o.objs
	}
	objs := sortByID(k.all())
	if s.orders == nil {
		s.orders = map[string]idOrder{}
	}
	s.orders[k.plural] = idOrder{gen: s.gen, objs: objs}
	return objs
}

// selected returns the objects of k that pass the filters on standard
// attributes, sorted by id. With a filter by name or id and no sorted
// order at hand (the lab changed since the last list, as between the
// creates of an apply, each preceded by a lookup by name), it sorts the
// few that pass rather than all of them.
func (s *Service) selected(k *kind, q url.Values) []object {
	if o, ok := s.orders[k.plural]; (ok && o.gen == s.gen) || (!q.Has("name") && !q.Has("id")) {
		return s.ordered(k)
	}
	var out []object
	for _, o := range k.all() {
		if stdMatch(o.base(), q) {
			out = append(out, o)
		}
	}
	return sortByID(out)
}

func sortByID(objs []object) []object {
	slices.SortFunc(objs, func(a, b object) int { return strings.Compare(a.base().ID, b.base().ID) })
	return objs
}

// changed invalidates the cached orders.
func (s *Service) changed() { s.gen++ }

var (
	_ simcore.Service = (*Service)(nil)
	_ simcore.Ports   = (*Service)(nil)
)

// New returns a Neutron seeded from cfg.
func New(cfg Config) *Service {
	s := &Service{knobs: cfg.Knobs, exts: map[string]bool{}, quotas: map[string]int{}, st: newStore(), netMTU: cfg.NetworkMTU}
	if s.netMTU < 68 {
		s.netMTU = DefaultMTU
	}
	if s.knobs == nil {
		s.knobs = simcore.NewKnobs()
	}
	exts := cfg.Extensions
	if exts == nil {
		exts = DefaultExtensions
	}
	for _, a := range exts {
		if !s.exts[a] {
			s.exts[a] = true
			s.extOrd = append(s.extOrd, a)
		}
	}
	for k, v := range cfg.Quotas {
		s.quotas[k] = v
	}
	for _, en := range cfg.ExternalNetworks {
		s.seedExternal(en)
	}
	s.mux = s.routes()
	return s
}

func (s *Service) seedExternal(en ExternalNetwork) {
	mtu := en.MTU
	if mtu == 0 {
		mtu = 1500
	}
	n := &network{std: s.newStd(en.ProjectID, en.Name, ""), AdminStateUp: true, External: true,
		MTU: mtu, PortSecurity: true}
	if en.ID != "" {
		n.ID = en.ID
	}
	s.st.Networks[n.ID] = n
	if en.CIDR == "" {
		return
	}
	sn := &subnet{std: s.newStd(en.ProjectID, en.Name+"__subnet", ""), NetworkID: n.ID, CIDR: en.CIDR,
		IPVersion: 4, GatewayIP: en.Gateway, Pools: []pool{{en.PoolStart, en.PoolEnd}},
		DNS: []string{}, HostRoutes: []hostRoute{}}
	if en.PoolStart == "" || en.PoolEnd == "" {
		// No pool given: the whole range but the gateway, as for any subnet.
		if p, err := netip.ParsePrefix(en.CIDR); err == nil {
			gw, _ := netip.ParseAddr(en.Gateway)
			sn.Pools = defaultPools(p.Masked(), gw)
		}
	}
	if en.SubnetID != "" {
		sn.ID = en.SubnetID
	}
	s.st.Subnets[sn.ID] = sn
}

func (s *Service) ext(alias string) bool { return s.exts[alias] }

// ServeHTTP serves /v2.0/... (the core has stripped /network). Unknown
// paths and methods get NeutronError bodies (404, 405 with Allow) rather
// than the mux's plain text.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		// Through the mux again, which also sets r.PathValue.
		s.mux.ServeHTTP(w, r)
		return
	}
	probe := &statusProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if probe.code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.header.Get("Allow"))
		writeError(w, errf(http.StatusMethodNotAllowed, "HTTPMethodNotAllowed",
			"The method %s is not allowed for this resource.", r.Method))
		return
	}
	writeError(w, notFoundPage())
}

// statusProbe records what the mux would answer for an unmatched request.
type statusProbe struct {
	header http.Header
	code   int
}

func (p *statusProbe) Header() http.Header         { return p.header }
func (p *statusProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *statusProbe) WriteHeader(code int)        { p.code = code }

// handler is a request handler that returns a Neutron fault instead of
// writing one; it runs under the service lock.
type handler func(w http.ResponseWriter, r *http.Request, who *simcore.Identity) *apiError

func (s *Service) wrap(ext string, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ext != "" && !s.ext(ext) {
			writeError(w, notFoundPage())
			return
		}
		who := simcore.IdentityFrom(r.Context())
		if who == nil {
			simcore.WriteJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]any{
				"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}})
			return
		}
		// The answer is sent after the lock is released (simcore.Buffered).
		b := simcore.NewBuffered(w)
		func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if r.Method != http.MethodGet {
				s.changed()
			}
			s.ensureDefaultSG(who.ProjectID)
			if err := h(b, r, who); err != nil {
				writeError(b, err)
			}
		}()
		b.Send()
	}
}

func (s *Service) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.versions)
	mux.HandleFunc("GET /v2.0/{$}", s.resources)
	mux.HandleFunc("GET /v2.0/extensions", s.wrap("", s.listExtensions))
	mux.HandleFunc("GET /v2.0/extensions/{alias}", s.wrap("", s.showExtension))
	// gophercloud asks for details.json; real Neutron answers both forms.
	mux.HandleFunc("GET /v2.0/quotas/{project}/details", s.wrap("quota_details", s.quotaDetails))
	mux.HandleFunc("GET /v2.0/quotas/{project}/details.json", s.wrap("quota_details", s.quotaDetails))
	for _, k := range s.kinds() {
		base := "/v2.0/" + k.path
		mux.HandleFunc("GET "+base, s.wrap(k.ext, s.listHandler(k)))
		mux.HandleFunc("POST "+base, s.wrap(k.ext, s.createHandler(k)))
		mux.HandleFunc("GET "+base+"/{id}", s.wrap(k.ext, s.showHandler(k)))
		mux.HandleFunc("PUT "+base+"/{id}", s.wrap(k.ext, s.updateHandler(k)))
		mux.HandleFunc("DELETE "+base+"/{id}", s.wrap(k.ext, s.deleteHandler(k)))
		if k.tagged {
			s.tagRoutes(mux, k)
		}
	}
	mux.HandleFunc("PUT /v2.0/routers/{id}/add_router_interface", s.wrap("router", s.addInterface))
	mux.HandleFunc("PUT /v2.0/routers/{id}/remove_router_interface", s.wrap("router", s.removeInterface))
	mux.HandleFunc("PUT /v2.0/trunks/{id}/add_subports", s.wrap("trunk", s.subportsHandler(false)))
	mux.HandleFunc("PUT /v2.0/trunks/{id}/remove_subports", s.wrap("trunk", s.subportsHandler(true)))
	mux.HandleFunc("GET /v2.0/trunks/{id}/get_subports", s.wrap("trunk", s.getSubports))
	return mux
}

// Snapshot returns the whole store as deterministic JSON.
func (s *Service) Snapshot() (json.RawMessage, error) {
	return simcore.Snapshot(&s.mu, func() any { return s.st })
}

// Restore replaces the store with a snapshot.
func (s *Service) Restore(data json.RawMessage) error {
	return simcore.Restore("neutron", data, newStore(), func(st *store) error {
		if st.Networks == nil || st.Subnets == nil || st.Ports == nil || st.Routers == nil ||
			st.SecGroups == nil || st.SGRules == nil || st.FloatingIPs == nil || st.DefaultSG == nil {
			return fmt.Errorf("neutron: restore: snapshot has a null collection")
		}
		if st.Trunks == nil {
			// A state file written before the simulator had trunks.
			st.Trunks = map[string]*trunk{}
		}
		if err := simcore.CheckSnapshot(st); err != nil {
			return fmt.Errorf("neutron: restore: %w", err)
		}
		return nil
	}, &s.mu, func(st *store) {
		s.st = st
		s.idx = nil
		s.changed()
	})
}
