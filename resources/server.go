package resources

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/fuelplan/fuelplan/specs"
)

// Server manages Nova servers: booted on the lab's ports, tagged with the
// lab's mark in the create request (microversion 2.52+), and waited for
// until ACTIVE.
//
// Nova cannot return a server's user_data to a non-admin, so Create
// stores its SHA-256 in the server's metadata; a change of user_data is
// then visible to any reader as a change of that hash, and replaces the
// server. Nova shows a server's flavor as a copy (2.47+), not an ID:
// Relate finds the flavor object with the same name and sizes, so a
// server booted from an older flavor of the same name shows as drift.
//
// Volumes attached at boot (block_device_mapping_v2) are the volumes.*
// family, completed by Relate from the volumes' attachments. Nova does not
// show how a volume was attached (device type, bus, boot index), so Create
// keeps that layout in the server's metadata too; a changed layout
// replaces the server, as Nova cannot re-plug a boot device.
type Server struct{}

// Server metadata keys fuelplan keeps for itself, not spec metadata.
const (
	userDataHashKey      = "fuelplan_user_data_sha256"
	userDataSensitiveKey = "fuelplan_user_data_sensitive"
	blockDevicesKey      = "fuelplan_block_devices"
	metadataPrefix       = "metadata."
	serverPortsPrefix    = "ports."
	serverVolumesPrefix  = "volumes."
	// novaTagMax is Nova's limit on a server tag's length.
	novaTagMax = 60
)

func (Server) Kind() specs.Kind { return specs.KindServer }

// Schema: the hash of sensitive user_data is a field of its own, marked
// Sensitive, because sensitivity belongs to a field, not to a value.
// status is read for the operator and the engine, never desired.
func (Server) Schema() Schema {
	return Schema{
		{Name: "name"},
		{Name: "flavor", ForceNew: true},
		{Name: "image", ForceNew: true},
		{Name: "keypair", ForceNew: true},
		{Name: serverPortsPrefix + "*", ForceNew: true},
		{Name: serverVolumesPrefix + "*", ForceNew: true},
		{Name: "block_devices", ForceNew: true, Type: Devices},
		{Name: "user_data_sha256", ForceNew: true},
		{Name: "sensitive_user_data_sha256", ForceNew: true, Sensitive: true},
		{Name: metadataPrefix + "*"},
		{Name: "status"},
	}
}

// serverUserData is the user_data to send, and whether it is secret.
func serverUserData(s *specs.Server) (string, bool) {
	if !s.SensitiveUserData.IsZero() {
		return s.SensitiveUserData.Reveal(), true
	}
	return s.UserData, false
}

func userDataHash(ud string) string {
	h := sha256.Sum256([]byte(ud))
	return hex.EncodeToString(h[:])
}

// userDataField is the field the hash lives in.
func userDataField(sensitive bool) string {
	if sensitive {
		return "sensitive_user_data_sha256"
	}
	return "user_data_sha256"
}

// serverPortKey is the key of a port in the ports.* family: the network
// part of its address ("port.slave-03.admin" of "server.slave-03" is
// "admin"), the spec network name ports are keyed by.
func serverPortKey(server, port specs.Address) string {
	return strings.TrimPrefix(port.Name(), server.Name()+".")
}

func (Server) Desired(r specs.Resource) Desired {
	s := r.(*specs.Server)
	fs := Fields{"name": s.Name}
	for k, v := range s.Metadata {
		fs[metadataPrefix+k] = v
	}
	if ud, sensitive := serverUserData(s); ud != "" {
		fs[userDataField(sensitive)] = userDataHash(ud)
	}
	refs := Refs{"flavor": {s.Flavor}}
	if s.Image != "" {
		refs["image"] = []specs.Address{s.Image}
	}
	if s.Keypair != "" {
		refs["keypair"] = []specs.Address{s.Keypair}
	}
	for _, p := range s.Ports {
		refs[serverPortsPrefix+serverPortKey(s.Addr(), p)] = []specs.Address{p}
	}
	if len(s.BlockDevices) > 0 {
		fs["block_devices"] = blockDeviceLayout(s)
		for _, b := range s.BlockDevices {
			refs[serverVolumesPrefix+serverPortKey(s.Addr(), b.Volume)] = []specs.Address{b.Volume}
		}
	}
	return Desired{Fields: fs, Refs: refs}
}

// blockDeviceLayout describes how the volumes are attached, in boot
// order: "iso=cdrom/ide/0;disk=disk/virtio/1" (an empty bus is Nova's
// default). Nova limits a metadata value to 255 characters; a longer
// layout is kept as its SHA-256.
func blockDeviceLayout(s *specs.Server) string {
	parts := make([]string, len(s.BlockDevices))
	for i, b := range s.BlockDevices {
		parts[i] = fmt.Sprintf("%s=%s/%s/%d", serverPortKey(s.Addr(), b.Volume), b.DeviceType, b.DiskBus, b.BootIndex)
	}
	l := strings.Join(parts, ";")
	if len(l) > 255 {
		return "sha256:" + userDataHash(l)
	}
	return l
}

// List reads the lab's servers with one call filtered on the lab tag,
// then the unowned servers using a wanted name: Nova's name filter is a
// regular expression (a search), so names go in batches as one anchored
// alternation and the answers are matched exactly here.
func (Server) List(ctx context.Context, c *Cloud, q Query) ([]*Object, error) {
	owned, err := listServers(ctx, c, servers.ListOpts{Tags: LabTag(q.Lab)})
	if err != nil {
		return nil, fmt.Errorf("list servers: %w", err)
	}
	var out []*Object
	seen := map[string]bool{}
	found := map[specs.Address]bool{}
	for i := range owned {
		o := owned[i].object()
		o.Address, o.Owned, o.lab = Ownership(q.Lab, deref(owned[i].Tags)), true, q.Lab
		out = append(out, o)
		seen[o.ID], found[o.Address] = true, true
	}
	byName := map[string]specs.Address{}
	var names []string
	for _, r := range q.Want {
		s, ok := r.(*specs.Server)
		if !ok {
			return nil, fmt.Errorf("%s: server adapter got %T", r.Addr(), r)
		}
		if _, dup := byName[s.Name]; !found[s.Addr()] && !dup {
			byName[s.Name] = s.Addr()
			names = append(names, s.Name)
		}
	}
	for len(names) > 0 {
		n := min(len(names), serverNameBatch)
		batch := names[:n]
		names = names[n:]
		others, err := listServers(ctx, c, servers.ListOpts{Name: exactNames(batch)})
		if err != nil {
			return nil, fmt.Errorf("find servers named %s: %w", strings.Join(batch, ", "), err)
		}
		for i := range others {
			addr, wanted := byName[others[i].Name]
			if !wanted || seen[others[i].ID] {
				continue
			}
			o := others[i].object()
			o.Address = addr
			out = append(out, o)
			seen[o.ID] = true
		}
	}
	return out, nil
}

// serverNameBatch bounds the names in one name filter, keeping the URL
// short and the database's regular expression small.
const serverNameBatch = 40

// exactNames is a regular expression matching exactly the given names.
func exactNames(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = regexp.QuoteMeta(n)
	}
	return "^(" + strings.Join(q, "|") + ")$"
}

// listServers reads every page of servers/detail, as servers.List
// would, decoding each page once into serverViews (pages.go).
func listServers(ctx context.Context, c *Cloud, opts servers.ListOpts) ([]serverView, error) {
	qs, err := opts.ToServerListQuery()
	if err != nil {
		return nil, err
	}
	return readPages[serverView, serverPage](ctx, c.Compute, c.Compute.ServiceURL("servers", "detail")+qs)
}

// listFullServers is listServers into gophercloud's servers.Server (the
// waits read a server's fault too), still decoded once per page.
func listFullServers(ctx context.Context, c *Cloud, opts servers.ListOpts) ([]servers.Server, error) {
	qs, err := opts.ToServerListQuery()
	if err != nil {
		return nil, err
	}
	return readPages[servers.Server, fullServerPage](ctx, c.Compute, c.Compute.ServiceURL("servers", "detail")+qs)
}

// serverView is a server as Nova shows it at ComputeMicroversion: the
// fields serverObject reads, and nothing else (a server's addresses,
// links and the rest are not decoded).
type serverView struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Status    string            `json:"status"`
	TaskState string            `json:"OS-EXT-STS:task_state"`
	Updated   time.Time         `json:"updated"`
	KeyName   string            `json:"key_name"`
	Metadata  map[string]string `json:"metadata"`
	Tags      *[]string         `json:"tags"`
	Flavor    bootedFlavor      `json:"flavor"`
	Image     serverImage       `json:"image"`
}

// bootedFlavor is a server's flavor: its ID before microversion 2.47,
// a copy of what it was booted with since.
type bootedFlavor struct {
	ID           jsonString `json:"id"`
	OriginalName jsonString `json:"original_name"`
	VCPUs        jsonNumber `json:"vcpus"`
	RAM          jsonNumber `json:"ram"`
	Disk         jsonNumber `json:"disk"`
	Ephemeral    jsonNumber `json:"ephemeral"`
}

// serverImage is a server's image: an object with the image's ID, or ""
// for a server booted from a volume.
type serverImage struct{ ID string }

func (i *serverImage) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	var v struct {
		ID jsonString `json:"id"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	i.ID = v.ID.s
	return nil
}

// jsonString and jsonNumber read a value the way the adapters read
// gophercloud's map[string]any: a string (a number) where the JSON value
// is one, else absent, never an error.
type (
	jsonString struct {
		s  string
		ok bool
	}
	jsonNumber struct {
		f  float64
		ok bool
	}
)

// UnmarshalJSON takes a string without escapes as it is (a flavor's
// name, nearly always), sparing a decoder per value.
func (v *jsonString) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) < 2 || b[0] != '"':
		v.ok = false
	case !bytes.ContainsRune(b, '\\'):
		v.s, v.ok = string(b[1:len(b)-1]), true
	default:
		v.ok = json.Unmarshal(b, &v.s) == nil
	}
	return nil
}

// UnmarshalJSON parses a JSON number as encoding/json would into a
// float64 (its grammar is a subset of ParseFloat's); null, a string or
// anything else leaves it absent.
func (v *jsonNumber) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	v.f, v.ok = f, err == nil && len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9')
	return nil
}

// viewOfServer is the view of a server gophercloud decoded (Get and the
// waits read servers with servers.Get).
func viewOfServer(s *servers.Server) *serverView {
	v := &serverView{ID: s.ID, Name: s.Name, Status: s.Status, TaskState: s.TaskState, Updated: s.Updated,
		KeyName: s.KeyName, Metadata: s.Metadata, Tags: s.Tags}
	v.Flavor.ID.s, v.Flavor.ID.ok = s.Flavor["id"].(string)
	v.Flavor.OriginalName.s, v.Flavor.OriginalName.ok = s.Flavor["original_name"].(string)
	for k, n := range map[string]*jsonNumber{"vcpus": &v.Flavor.VCPUs, "ram": &v.Flavor.RAM, "disk": &v.Flavor.Disk, "ephemeral": &v.Flavor.Ephemeral} {
		n.f, n.ok = s.Flavor[k].(float64)
	}
	v.Image.ID, _ = s.Image["id"].(string)
	return v
}

// serverObject is the live view of a server gophercloud decoded.
func serverObject(s *servers.Server) *Object { return viewOfServer(s).object() }

// object is the live view, without ownership. The flavor field holds the
// flavor as booted until Relate finds its object (see flavorSignature);
// ports come from Relate.
func (s *serverView) object() *Object {
	fs := Fields{"name": s.Name, "status": serverStatus(s)}
	if s.Flavor.ID.ok {
		fs["flavor"] = s.Flavor.ID.s // before microversion 2.47
	} else {
		fs["flavor"] = bootedFlavorSignature(&s.Flavor)
	}
	if s.Image.ID != "" {
		fs["image"] = s.Image.ID
	}
	if s.KeyName != "" {
		fs["keypair"] = s.KeyName // a keypair's ID is its name
	}
	for k, v := range s.Metadata {
		if k != userDataHashKey && k != userDataSensitiveKey && k != blockDevicesKey {
			fs[metadataPrefix+k] = v
		}
	}
	if l := s.Metadata[blockDevicesKey]; l != "" {
		fs["block_devices"] = l
	}
	if h := s.Metadata[userDataHashKey]; h != "" {
		// The sensitive field always; the plain one only for user_data that
		// was not secret, so a hash of a secret is never shown as plain.
		fs[userDataField(true)] = h
		if s.Metadata[userDataSensitiveKey] != "true" {
			fs[userDataField(false)] = h
		}
	}
	return &Object{
		Kind: specs.KindServer, ID: s.ID, Name: s.Name, Status: fs["status"],
		Revision: s.Updated.UTC().Format(time.RFC3339), Fields: fs,
	}
}

// serverStatus is Nova's status, or DELETING for a server whose delete
// has been accepted but not finished (Nova still shows it ACTIVE).
func serverStatus(s *serverView) string {
	if s.TaskState == "deleting" {
		return "DELETING"
	}
	return s.Status
}

// flavorSignature describes a flavor by what a server gets from it; the
// same text from a flavor object and from a server's copy of its flavor
// means the server runs that flavor.
func flavorSignature(name, vcpus, ramMB, diskGB, ephemeralGB string) string {
	return fmt.Sprintf("name=%s,vcpus=%s,ram_mb=%s,disk_gb=%s,ephemeral_gb=%s", name, vcpus, ramMB, diskGB, ephemeralGB)
}

func bootedFlavorSignature(f *bootedFlavor) string {
	num := func(n jsonNumber) string {
		if n.ok {
			return strconv.FormatFloat(n.f, 'f', -1, 64)
		}
		return "?"
	}
	return flavorSignature(f.OriginalName.s, num(f.VCPUs), num(f.RAM), num(f.Disk), num(f.Ephemeral))
}

// Relate completes servers from the objects read before them: the flavor
// by its signature, the ports.* family from the ports whose device_id is
// the server, and the volumes.* family from the volumes attached to it.
func (Server) Relate(objs []*Object, all Snapshot) {
	flavorBySig := map[string]string{}
	for _, f := range all.Objects(specs.KindFlavor) {
		sig := flavorSignature(f.Fields["name"], f.Fields["vcpus"], f.Fields["ram_mb"], f.Fields["disk_gb"], f.Fields["ephemeral_gb"])
		// Owned flavors first: a looked-up flavor and a lab flavor can
		// hardly share a name, but if they do, the lab's wins.
		if _, dup := flavorBySig[sig]; !dup || f.Owned {
			flavorBySig[sig] = f.ID
		}
	}
	// The ports and volumes by the server they are attached to, each
	// server's in the order read: a lab of 1,000 slaves has 5,000 ports,
	// and a scan of them per server was most of Relate's time.
	portsOf := map[string][]*Object{}
	for _, p := range all.Objects(specs.KindPort) {
		if p.ID != "" {
			portsOf[p.Fields["device_id"]] = append(portsOf[p.Fields["device_id"]], p)
		}
	}
	volsOf := map[string][]*Object{}
	for _, v := range all.Objects(specs.KindVolume) {
		if v.ID == "" {
			continue
		}
		servers := strings.Split(v.Fields["attached_to"], ",")
		for i, id := range servers {
			if !slices.Contains(servers[:i], id) {
				volsOf[id] = append(volsOf[id], v)
			}
		}
	}
	for _, s := range objs {
		var vols, ports []*Object
		if s.ID != "" { // "" keys the ports and volumes attached to nothing
			vols, ports = volsOf[s.ID], portsOf[s.ID]
		}
		for _, v := range vols {
			key := v.ID
			if v.Address != "" {
				key = serverPortKey(s.Address, v.Address)
			}
			s.Fields[serverVolumesPrefix+key] = v.ID
		}
		if id, ok := flavorBySig[s.Fields["flavor"]]; ok {
			s.Fields["flavor"] = id
		}
		for _, p := range ports {
			key := p.Fields["network"]
			if p.Address != "" {
				key = serverPortKey(s.Address, p.Address)
			}
			s.Fields[serverPortsPrefix+key] = p.ID
		}
	}
}

func (Server) Get(ctx context.Context, c *Cloud, id string) (*Object, error) {
	s, err := servers.Get(ctx, c.Compute, id).Extract()
	if gophercloud.ResponseCodeIs(err, 404) {
		return nil, fmt.Errorf("server %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("server %s: read: %w", id, err)
	}
	return serverObject(s), nil
}

// serverRefs are the IDs a create request needs.
type serverRefs struct {
	flavor, image, keyName string
	ports                  []string
	volumes                []string // in BlockDevices order
}

func resolveServerRefs(s *specs.Server, ids IDs) (serverRefs, error) {
	var refs serverRefs
	var missing []string
	get := func(a specs.Address) string {
		id, ok := ids.ID(a)
		if !ok || id == "" {
			missing = append(missing, string(a))
		}
		return id
	}
	refs.flavor = get(s.Flavor)
	if s.Image != "" {
		refs.image = get(s.Image)
	}
	if s.Keypair != "" {
		refs.keyName = get(s.Keypair)
	}
	for _, p := range s.Ports {
		refs.ports = append(refs.ports, get(p))
	}
	for _, b := range s.BlockDevices {
		refs.volumes = append(refs.volumes, get(b.Volume))
	}
	if len(missing) > 0 {
		return refs, fmt.Errorf("%s has no ID yet", strings.Join(missing, ", "))
	}
	return refs, nil
}

// Create boots the server with its ports in NIC order and waits for
// ACTIVE. A server that goes to ERROR is deleted again (it is of no use,
// and its ports must be freed for the next attempt) and the error carries
// Nova's fault message.
func (a Server) Create(ctx context.Context, c *Cloud, lab string, r specs.Resource, ids IDs) (*Object, error) {
	s, ok := r.(*specs.Server)
	if !ok {
		return nil, fmt.Errorf("%s: server adapter got %T", r.Addr(), r)
	}
	tags := []string{LabTag(lab), AddrTag(s.Addr())}
	for _, t := range tags {
		if len(t) > novaTagMax || strings.ContainsAny(t, "/,") {
			return nil, fmt.Errorf("%s: create: Nova takes server tags of at most %d characters without \"/\" or \",\"; "+
				"the ownership tag %q is not one: shorten the lab or server name", s.Addr(), novaTagMax, t)
		}
	}
	refs, err := resolveServerRefs(s, ids)
	if err != nil {
		return nil, fmt.Errorf("%s: create: %w", s.Addr(), err)
	}
	meta := maps.Clone(s.Metadata)
	if meta == nil {
		meta = map[string]string{}
	}
	opts := servers.CreateOpts{
		Name: s.Name, FlavorRef: refs.flavor, ImageRef: refs.image, Metadata: meta, Tags: tags,
	}
	if len(s.BlockDevices) > 0 {
		meta[blockDevicesKey] = blockDeviceLayout(s)
	}
	if ud, sensitive := serverUserData(s); ud != "" {
		// Encoded here: gophercloud sends text that happens to be valid
		// base64 as is, which Nova would then decode into garbage.
		opts.UserData = []byte(base64.StdEncoding.EncodeToString([]byte(ud)))
		meta[userDataHashKey] = userDataHash(ud)
		if sensitive {
			meta[userDataSensitiveKey] = "true"
		}
	}
	nets := make([]servers.Network, len(refs.ports))
	for i, p := range refs.ports {
		nets[i] = servers.Network{Port: p}
	}
	opts.Networks = nets
	if len(nets) == 0 {
		// Since 2.37 Nova wants to be told; "none" rather than "auto",
		// which would plug the server into whatever network it finds.
		opts.Networks = "none"
	}
	for i, b := range s.BlockDevices {
		opts.BlockDevice = append(opts.BlockDevice, servers.BlockDevice{
			SourceType: servers.SourceVolume, DestinationType: servers.DestinationVolume, UUID: refs.volumes[i],
			BootIndex: b.BootIndex, DeviceType: b.DeviceType, DiskBus: b.DiskBus,
		})
	}
	var builder servers.CreateOptsBuilder = opts
	if refs.keyName != "" {
		builder = keypairs.CreateOptsExt{CreateOptsBuilder: opts, KeyName: refs.keyName}
	}
	created, err := servers.Create(ctx, c.Compute, builder, nil).Extract()
	if err != nil {
		return nil, fmt.Errorf("%s: create: %w", s.Addr(), err)
	}
	live, err := waitServerActive(ctx, c, created.ID, lab)
	if err != nil {
		err = fmt.Errorf("%s: create: %w", s.Addr(), err)
		var fe *serverFaultError
		if errors.As(err, &fe) {
			if derr := a.deleteAndWait(context.WithoutCancel(ctx), c, created.ID, lab); derr != nil {
				err = errors.Join(err, fmt.Errorf("%s: create: remove the failed server %s: %w", s.Addr(), created.ID, derr))
			}
		}
		return nil, err
	}
	o := serverObject(live)
	o.Address, o.Owned = s.Addr(), true
	// What Relate would find, from what the server was booted with.
	o.Fields["flavor"] = refs.flavor
	for i, p := range s.Ports {
		o.Fields[serverPortsPrefix+serverPortKey(s.Addr(), p)] = refs.ports[i]
	}
	for i, b := range s.BlockDevices {
		o.Fields[serverVolumesPrefix+serverPortKey(s.Addr(), b.Volume)] = refs.volumes[i]
	}
	return o, nil
}

// serverFaultError is a server that went to ERROR.
type serverFaultError struct{ id, fault string }

func (e *serverFaultError) Error() string {
	if e.fault == "" {
		return fmt.Sprintf("server %s went to ERROR (Nova gave no fault message)", e.id)
	}
	return fmt.Sprintf("server %s went to ERROR: %s", e.id, e.fault)
}

// waitServerActive waits until the server is ACTIVE, failing on ERROR,
// with the Cloud's server watcher (one list for every server waited on).
func waitServerActive(ctx context.Context, c *Cloud, id, lab string) (*servers.Server, error) {
	var live *servers.Server
	err := watchFor(ctx, c, "servers", listWatchedServers, DefaultBackoff, DefaultBackoff.Initial, watchItem{ID: id, Lab: lab},
		func(s servers.Server, found bool) (bool, error) {
			if !found {
				return false, fmt.Errorf("wait for server %s: %w", id, ErrNotFound)
			}
			live = &s
			switch s.Status {
			case "ACTIVE":
				return true, nil
			case "ERROR":
				return false, &serverFaultError{id: id, fault: s.Fault.Message}
			}
			return false, nil
		})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			err = fmt.Errorf("server %s not ACTIVE (last status %s): %w", id, lastStatus(live), err)
		}
		return nil, err
	}
	return live, nil
}

// listWatchedServers lists the servers waited on: those of a lab by its
// tag, one list for all of them (Nova filters servers by tag, not by ID);
// with a server of no known lab among them (a delete), the project's.
func listWatchedServers(ctx context.Context, c *Cloud, items []watchItem) (map[string]servers.Server, error) {
	var labs []string
	for _, it := range items {
		if it.Lab == "" {
			labs = []string{""}
			break
		}
		if !slices.Contains(labs, it.Lab) {
			labs = append(labs, it.Lab)
		}
	}
	out := map[string]servers.Server{}
	for _, lab := range labs {
		var opts servers.ListOpts
		if lab != "" {
			opts.Tags = LabTag(lab)
		}
		ss, err := listFullServers(ctx, c, opts)
		if err != nil {
			return nil, fmt.Errorf("wait for servers: %w", err)
		}
		for _, s := range ss {
			out[s.ID] = s
		}
	}
	return out, nil
}

func lastStatus(s *servers.Server) string {
	if s == nil {
		return "unknown"
	}
	return s.Status
}

// Update renames the server and sets or removes spec metadata keys; the
// other fields force a replace and never reach here.
func (a Server) Update(ctx context.Context, c *Cloud, r specs.Resource, live *Object, fields []string, _ IDs) (*Object, error) {
	s, ok := r.(*specs.Server)
	if !ok {
		return nil, fmt.Errorf("%s: server adapter got %T", r.Addr(), r)
	}
	set := servers.MetadataOpts{}
	var unset []string
	rename := false
	for _, name := range fields {
		if name == "name" {
			rename = true
			continue
		}
		key, ok := strings.CutPrefix(name, metadataPrefix)
		if !ok {
			return nil, fmt.Errorf("%s: update: server field %s cannot change in place", s.Addr(), name)
		}
		if key == userDataHashKey || key == userDataSensitiveKey || key == blockDevicesKey {
			return nil, fmt.Errorf("%s: update: metadata key %s is fuelplan's own", s.Addr(), key)
		}
		if v, ok := s.Metadata[key]; ok {
			set[key] = v
		} else {
			unset = append(unset, key)
		}
	}
	if rename {
		if _, err := servers.Update(ctx, c.Compute, live.ID, servers.UpdateOpts{Name: s.Name}).Extract(); err != nil {
			return nil, fmt.Errorf("%s: update: rename: %w", s.Addr(), err)
		}
	}
	if len(set) > 0 {
		if _, err := servers.UpdateMetadata(ctx, c.Compute, live.ID, set).Extract(); err != nil {
			return nil, fmt.Errorf("%s: update: metadata: %w", s.Addr(), err)
		}
	}
	slices.Sort(unset)
	for _, k := range unset {
		err := servers.DeleteMetadatum(ctx, c.Compute, live.ID, k).ExtractErr()
		if err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			return nil, fmt.Errorf("%s: update: remove metadata %q: %w", s.Addr(), k, err)
		}
	}
	o, err := a.Get(ctx, c, live.ID)
	if err != nil {
		return nil, fmt.Errorf("%s: update: %w", s.Addr(), err)
	}
	o.Address, o.Owned = live.Address, live.Owned
	// Update changes neither flavor, ports nor volumes: keep what Relate found.
	o.Fields["flavor"] = live.Fields["flavor"]
	for k, v := range live.Fields {
		if strings.HasPrefix(k, serverPortsPrefix) || strings.HasPrefix(k, serverVolumesPrefix) {
			o.Fields[k] = v
		}
	}
	return o, nil
}

// Delete deletes the server and waits until Nova no longer knows it, so
// its ports are free when the engine moves on.
func (a Server) Delete(ctx context.Context, c *Cloud, live *Object) error {
	if err := a.deleteAndWait(ctx, c, live.ID, live.lab); err != nil {
		return fmt.Errorf("%s: delete: %w", liveLabel(live), err)
	}
	return nil
}

func (Server) deleteAndWait(ctx context.Context, c *Cloud, id, lab string) error {
	err := servers.Delete(ctx, c.Compute, id).ExtractErr()
	if gophercloud.ResponseCodeIs(err, 404) {
		return nil
	}
	if err != nil {
		return err
	}
	// Listed by the lab's tag where the read knew the lab (else the
	// project's servers).
	return watchFor(ctx, c, "servers", listWatchedServers, DefaultBackoff, deleteFirstLook, watchItem{ID: id, Lab: lab},
		func(_ servers.Server, found bool) (bool, error) { return !found, nil })
}
