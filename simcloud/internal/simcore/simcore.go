// Package simcore holds the few things every simulated service shares: the
// caller's identity, JSON I/O, IDs, the test knobs, and the narrow
// interfaces one service uses to reach another in-process (as the real
// services would over their internal APIs). It holds no service logic.
package simcore

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Identity is who a validated token belongs to.
type Identity struct {
	UserID      string
	UserName    string
	ProjectID   string
	ProjectName string
	Roles       []string
	// Admin is true for a token with the admin role: admin-only fields
	// (OS-EXT-SRV-ATTR:host, binding:host_id) are shown only then.
	Admin bool
}

type identityKey struct{}

// WithIdentity returns ctx carrying id; the core's auth middleware calls it.
func WithIdentity(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the caller's identity, or nil on an unauthenticated
// request (which the core never lets through to a service).
func IdentityFrom(ctx context.Context) *Identity {
	id, _ := ctx.Value(identityKey{}).(*Identity)
	return id
}

// WriteJSON writes v as a JSON response with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// ReadJSON decodes the request body into v, rejecting trailing data.
func ReadJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON body: %w", err)
	}
	if dec.More() {
		return fmt.Errorf("invalid JSON body: trailing data")
	}
	return nil
}

// NewID returns a random UUID (version 4), as OpenStack uses for IDs.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Timestamp formats t the way Neutron and Nova do ("2006-01-02T15:04:05Z").
func Timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// Knobs are the test controls services read at request time. Safe for
// concurrent use; tests change them while the cloud runs.
type Knobs struct {
	mu sync.Mutex
	// BuildTime is how long a server stays in BUILD before ACTIVE.
	buildTime time.Duration
	// DeleteTime is how long a deleted server is still listed (status
	// DELETED is never shown: it stays ACTIVE with task_state deleting).
	deleteTime time.Duration
	// errorServers: servers whose name is in the set go to ERROR instead of
	// ACTIVE, with this fault message.
	errorServers map[string]string
	// volumeBuildTime is how long a new volume stays "creating".
	volumeBuildTime time.Duration
	// errorVolumes: volumes created with a name in the set go to "error".
	errorVolumes map[string]bool
	// fuelBoot and fuelDiscovery: see FuelTimes.
	fuelBoot, fuelDiscovery time.Duration
	// Now is the clock; tests may replace it.
	now func() time.Time
}

// NewKnobs returns knobs with instant builds and deletes and the real clock.
func NewKnobs() *Knobs {
	return &Knobs{now: time.Now, errorServers: map[string]string{}, errorVolumes: map[string]bool{}}
}

func (k *Knobs) Now() time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.now()
}

func (k *Knobs) SetNow(f func() time.Time) { k.mu.Lock(); k.now = f; k.mu.Unlock() }

func (k *Knobs) BuildTime() time.Duration {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.buildTime
}

func (k *Knobs) SetBuildTime(d time.Duration) { k.mu.Lock(); k.buildTime = d; k.mu.Unlock() }

// VolumeBuildTime is how long a new Cinder volume stays "creating"
// before it is "available" (an image copy takes a while on a real cloud).
func (k *Knobs) VolumeBuildTime() time.Duration {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.volumeBuildTime
}

func (k *Knobs) SetVolumeBuildTime(d time.Duration) {
	k.mu.Lock()
	k.volumeBuildTime = d
	k.mu.Unlock()
}

func (k *Knobs) DeleteTime() time.Duration {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.deleteTime
}

func (k *Knobs) SetDeleteTime(d time.Duration) { k.mu.Lock(); k.deleteTime = d; k.mu.Unlock() }

// FailServer makes the next server created with this name go to ERROR with
// the given fault message (as a failed spawn on the compute node would).
func (k *Knobs) FailServer(name, fault string) {
	k.mu.Lock()
	k.errorServers[name] = fault
	k.mu.Unlock()
}

// FailVolume makes volumes created with this name go to "error" instead
// of "available" (as a failed image copy on the volume host would).
func (k *Knobs) FailVolume(name string) {
	k.mu.Lock()
	k.errorVolumes[name] = true
	k.mu.Unlock()
}

// VolumeFails reports whether volumes of this name are set to fail.
func (k *Knobs) VolumeFails(name string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.errorVolumes[name]
}

// ServerFault returns the fault for a server name, if one was set.
func (k *Knobs) ServerFault(name string) (string, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	f, ok := k.errorServers[name]
	return f, ok
}

// Service is one simulated OpenStack service, mounted by the core under
// its own path prefix (the prefix is stripped before ServeHTTP). The core
// has authenticated the request: IdentityFrom(r.Context()) is set.
type Service interface {
	http.Handler
	// Snapshot returns the service's whole state as JSON, for the state file.
	Snapshot() (json.RawMessage, error)
	// Restore replaces the service's state with a snapshot.
	Restore(json.RawMessage) error
}

// PortView is what Nova shows of a port in a server's "addresses" and
// os-interface list.
type PortView struct {
	NetworkName string
	MAC         string
	FixedIPs    []string
	FloatingIPs []string
	// PortSecurity is the port's port_security_enabled: with it on,
	// Neutron drops DHCP replies the instance sends (the Fuel master's).
	PortSecurity bool
	// NetworkID, Status and SubnetIDs (parallel to FixedIPs) feed
	// os-interface; Nova shows them empty when not filled in.
	NetworkID string
	Status    string
	SubnetIDs []string
}

// Ports is what Nova needs from Neutron, in-process.
type Ports interface {
	// BindPort attaches a port to a server on a host: device_id, device_owner
	// "compute:nova", binding:host_id, status ACTIVE. Errors: ErrNotFound,
	// ErrPortInUse (bound to another device), ErrForbidden (another project).
	BindPort(projectID, portID, deviceID, host string) error
	// UnbindPort detaches it again (a pre-created port survives its server).
	UnbindPort(portID, deviceID string)
	// Port describes a port for a server's addresses.
	Port(portID string) (PortView, bool)
}

// Images is what Nova needs from Glance, in-process.
type Images interface {
	// Image reports whether an active image exists and is visible to the
	// project, and what Cinder copies of it into a volume's
	// volume_image_metadata.
	Image(projectID, id string) (ImageView, bool)
}

// ImageView is what other services see of an active Glance image.
type ImageView struct {
	Name                        string
	MinDisk, MinRAM             int // GB, MB
	Size                        int64
	Checksum                    string
	DiskFormat, ContainerFormat string
}

// Volumes is what Nova needs from Cinder, in-process, for
// block_device_mapping_v2 entries whose source is a volume.
type Volumes interface {
	// AttachVolume reserves an available volume for a server at device,
	// as Nova's attachment create does; the attachment completes at done
	// (when the server has built): Cinder shows the volume reserved,
	// attaching, then in-use. Errors: ErrNotFound (no such volume, or
	// another project's), ErrVolumeNotAvailable (still creating, or
	// attached elsewhere).
	AttachVolume(projectID, volumeID, serverID, host, device string, done time.Time) error
	// DetachVolume releases the volume from the server; it is available
	// again. A volume that is gone, or attached elsewhere, is left alone.
	DetachVolume(volumeID, serverID string)
	// Volume describes a volume the project can see: its size (GB),
	// whether it is bootable (Nova boots only from a bootable one) and,
	// for one made from an image, that image's ID.
	Volume(projectID, volumeID string) (v VolumeView, ok bool)
}

// VolumeView is what Nova sees of a volume.
type VolumeView struct {
	Status   string
	SizeGB   int
	Bootable bool
	ImageID  string
}

// Errors the in-process interfaces return.
var (
	ErrNotFound           = fmt.Errorf("not found")
	ErrPortInUse          = fmt.Errorf("port in use")
	ErrForbidden          = fmt.Errorf("forbidden")
	ErrVolumeNotAvailable = fmt.Errorf("volume not available")
)

// CheckSnapshot checks a service's restored state before the service
// serves from it: in every map of objects (a struct's map fields, one
// level down) no entry may be null, and an object with an ID must sit
// under that ID. A state file is edited by hand or cut short by a crash;
// a null port used to panic the list handler. The error names the entry.
func CheckSnapshot(st any) error {
	v := reflect.ValueOf(st)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return fmt.Errorf("no state")
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := v.Field(i)
		if !t.Field(i).IsExported() || f.Kind() != reflect.Map || f.Type().Key().Kind() != reflect.String {
			continue
		}
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" {
			name = t.Field(i).Name
		}
		keys := f.MapKeys()
		sort.Slice(keys, func(a, b int) bool { return keys[a].String() < keys[b].String() })
		for _, k := range keys {
			e := f.MapIndex(k)
			if e.Kind() != reflect.Pointer {
				continue
			}
			at := fmt.Sprintf("%s[%s]", name, strconv.Quote(k.String()))
			if e.IsNil() {
				return fmt.Errorf("%s is null", at)
			}
			if id := e.Elem().FieldByName("ID"); id.IsValid() && id.Kind() == reflect.String && id.String() != k.String() {
				return fmt.Errorf("%s has id %s", at, strconv.Quote(id.String()))
			}
		}
	}
	return nil
}

// Guest is a running server as the software inside it would see its
// world: what the simulated Fuel master needs to play its part.
type Guest struct {
	ID, ProjectID, Name string
	// ActiveSince is when the server became ACTIVE (booted).
	ActiveSince time.Time
	// Ports are its ports, in NIC order.
	Ports []string
	// BootImages names the images it boots from: its image, and the
	// source images of its volumes, in boot order.
	BootImages []string
}

// Addresses finds which port holds an IP address, fixed or floating, as
// the host cloud routes it; "" when none does.
type Addresses interface {
	PortAt(ip string) string
}

// fuel timings: how long after boot the Fuel master answers, and how long
// after a slave boots (or the master comes up, if later) Fuel lists it.
func (k *Knobs) FuelTimes() (boot, discovery time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.fuelBoot, k.fuelDiscovery
}

func (k *Knobs) SetFuelTimes(boot, discovery time.Duration) {
	k.mu.Lock()
	k.fuelBoot, k.fuelDiscovery = boot, discovery
	k.mu.Unlock()
}
