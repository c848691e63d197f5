package preflight

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/fuelplan/fuelplan/internal/sshx"
	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/specs"
)

// Input is what the checks look at: the compiled lab, the cloud, the
// objects the live read found, and what the plan would create.
type Input struct {
	Lab   *specs.Lab
	Cloud *resources.Cloud
	// Live returns the object the read found for an address: the lab's
	// own object or a lookup's result (engine.State.Live). Nil when the
	// read failed (a missing extension can make it fail): the checks that
	// need the live objects (lookups, fit, quotas) are then left out, and
	// the others say why the read could not work.
	Live func(specs.Address) (*resources.Object, bool)
	// Creates are the addresses the plan creates (replacements included:
	// the new object exists beside the old until it is deleted).
	Creates []specs.Address
	// Skip names the checks the operator overrode (--skip-check).
	Skip []string
	// SSH is how the reach check connects to the patch nodes; a zero
	// ConnectTimeout is reachTimeout.
	SSH sshx.Config
}

// Run runs every check and returns the findings in spec order; a check
// named in in.Skip runs too, but its findings are dropped and the report
// records the override. Reading the cloud fails only on a cancelled
// context; an unreadable quota or image is a finding of its own.
func Run(ctx context.Context, in Input) (*Report, error) {
	r := &runner{in: in, ctx: ctx, creating: map[specs.Address]bool{}, images: map[specs.Address]imageRead{}}
	for _, a := range in.Creates {
		r.creating[a] = true
	}
	r.localInputs()
	r.extensions()
	r.microversion()
	r.fuel()
	r.mtu()
	r.rights()
	r.reach()
	if in.Live != nil {
		r.lookups()
		r.fit()
		r.quotas()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep := &Report{Quotas: r.quotaLines, Files: r.files}
	skip := map[string]bool{}
	for _, s := range in.Skip {
		skip[s] = true
	}
	for _, c := range Checks {
		if skip[c] {
			rep.Skipped = append(rep.Skipped, c)
		}
	}
	for _, f := range r.found {
		if !skip[f.Check] {
			rep.Findings = append(rep.Findings, f)
		}
	}
	sortFindings(rep.Findings)
	return rep, nil
}

type runner struct {
	ctx        context.Context
	in         Input
	found      []Finding
	quotaLines []string
	files      []string
	creating   map[specs.Address]bool
	// images caches what was read of an image: a thousand slaves boot one.
	images map[specs.Address]imageRead
}

type imageRead struct {
	facts resources.ImageFacts
	ok    bool
}

// humanSize is a file size for people: "812 bytes", "3.1 GiB".
func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 3; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGT"[exp])
}

func (r *runner) add(check string, sev Severity, res specs.Resource, fix, format string, args ...any) {
	r.found = append(r.found, Finding{Check: check, Severity: sev, Address: res.Addr(), At: res.Declared(),
		Message: fmt.Sprintf(format, args...), Fix: fix})
}

// each calls fn for every resource of the lab, in the lab's order.
func (r *runner) each(fn func(specs.Resource)) {
	for _, a := range r.in.Lab.Addresses() {
		res, _ := r.in.Lab.Resource(a)
		fn(res)
	}
}

func (r *runner) resource(a specs.Address) specs.Resource {
	res, _ := r.in.Lab.Resource(a)
	return res
}

// localInputs: the files apply reads on this machine.
func (r *runner) localInputs() {
	seenHost := map[string]bool{}
	r.each(func(res specs.Resource) {
		switch v := res.(type) {
		case *specs.Image:
			if v.Existing || v.File == "" {
				return
			}
			if err := readable(v.File); err == nil {
				if st, err := os.Stat(v.File); err == nil {
					r.files = append(r.files, fmt.Sprintf("image %s: %s, %s", v.Name, v.File, humanSize(st.Size())))
				}
			} else {
				r.add(CheckImageFile, Error, v, "download the file there, or correct the image's file: (it is read relative to the spec's folder)",
					"image %s: file %s: %v", v.Name, v.File, err)
			}
		case *specs.Keypair:
			if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(v.PublicKey)); err != nil {
				r.add(CheckKeypair, Error, v, "give the public key in OpenSSH authorized_keys form (ssh-ed25519 AAAA...)",
					"keypair %s: the public key does not parse: %v", v.Name, err)
			}
		case *specs.Patch:
			if !r.usesSSH(v) {
				return
			}
			for _, name := range sortedKeys(v.Inventory) {
				h := v.Inventory[name]
				for _, f := range []struct{ field, path string }{{"key_file", h.KeyFile}, {"known_hosts", h.KnownHosts}} {
					key := name + "\x00" + f.field
					if f.path == "" || seenHost[key] {
						continue
					}
					seenHost[key] = true
					if err := readable(f.path); err != nil {
						r.add(CheckSSHFiles, Error, v, "create the file or correct the inventory entry's "+f.field,
							"inventory host %s: %s %s: %v", name, f.field, f.path, err)
					}
				}
			}
		}
	})
}

// readable opens the file: it exists, is a regular file and may be read.
func readable(path string) error {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return fmt.Errorf("no such file")
		}
		if os.IsPermission(err) {
			return fmt.Errorf("not readable (permission denied)")
		}
		return fmt.Errorf("cannot be opened")
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return fmt.Errorf("not a regular file")
	}
	return nil
}

// lookups: what the spec names but never creates must exist.
func (r *runner) lookups() {
	r.each(func(res specs.Resource) {
		var name string
		switch v := res.(type) {
		case *specs.ExternalNetwork:
			name = v.Name
		case *specs.Image:
			if !v.Existing {
				return
			}
			name = v.Name
		case *specs.Flavor:
			if !v.Existing {
				return
			}
			name = v.Name
		default:
			return
		}
		if _, ok := r.in.Live(res.Addr()); !ok {
			r.add(CheckLookup, Error, res, fmt.Sprintf("create %s %s named %q in the project (or make it visible to it), or name one that exists", article(string(res.Kind())), res.Kind(), name),
				"no %s named %q in the cloud (it is looked up, never created)", res.Kind(), name)
		}
	})
}

// article is "an" before a vowel, else "a": "an image", "a flavor".
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

// flavorSize is a flavor's RAM and root disk: the spec's for a flavor the
// lab creates, the cloud's for a looked-up one.
func (r *runner) flavorSize(a specs.Address) (ramMB, diskGB int, ok bool) {
	f, isFlavor := r.resource(a).(*specs.Flavor)
	if !isFlavor {
		return 0, 0, false
	}
	if !f.Existing {
		return f.RAM, f.Disk, true
	}
	o, found := r.in.Live(a)
	if !found {
		return 0, 0, false
	}
	ram, err1 := strconv.Atoi(o.Fields["ram_mb"])
	disk, err2 := strconv.Atoi(o.Fields["disk_gb"])
	return ram, disk, err1 == nil && err2 == nil
}

// imageFacts reads a looked-up or already uploaded image's size and
// minimums; ok is false for an image not in the cloud yet (its file's
// size stands in for the size).
func (r *runner) imageFacts(a specs.Address) (resources.ImageFacts, bool) {
	if c, ok := r.images[a]; ok {
		return c.facts, c.ok
	}
	f, ok := r.readImageFacts(a)
	r.images[a] = imageRead{f, ok}
	return f, ok
}

func (r *runner) readImageFacts(a specs.Address) (resources.ImageFacts, bool) {
	if o, found := r.in.Live(a); found && o.ID != "" {
		f, err := resources.ReadImageFacts(r.ctx, r.in.Cloud, o.ID)
		if err == nil {
			return f, true
		}
	}
	if im, ok := r.resource(a).(*specs.Image); ok && im.File != "" {
		if st, err := os.Stat(im.File); err == nil {
			return resources.ImageFacts{SizeBytes: st.Size()}, true
		}
	}
	return resources.ImageFacts{}, false
}

const gib = 1 << 30

// fit: a flavor holds the image it boots; a volume holds its image.
func (r *runner) fit() {
	r.each(func(res specs.Resource) {
		switch v := res.(type) {
		case *specs.Server:
			if v.Image == "" {
				return
			}
			ram, disk, ok := r.flavorSize(v.Flavor)
			im, iok := r.imageFacts(v.Image)
			if !ok || !iok {
				return
			}
			if im.MinRAMMB > ram {
				r.add(CheckFlavorFit, Error, v, "use a flavor with more RAM, or lower the image's min_ram",
					"server %s: flavor %s has %d MB of RAM, image %s asks for at least %d MB", v.Name, v.Flavor.Name(), ram, v.Image.Name(), im.MinRAMMB)
			}
			need := max(im.MinDiskGB, int((im.SizeBytes+gib-1)/gib))
			if disk > 0 && need > disk {
				r.add(CheckFlavorFit, Error, v, "use a flavor with a larger disk, or boot from a volume",
					"server %s: flavor %s has a %d GB disk, image %s needs at least %d GB", v.Name, v.Flavor.Name(), disk, v.Image.Name(), need)
			}
		case *specs.Volume:
			if v.Image == "" {
				return
			}
			im, ok := r.imageFacts(v.Image)
			if !ok {
				return
			}
			need := max(im.MinDiskGB, int((im.SizeBytes+gib-1)/gib))
			if need > v.SizeGB {
				r.add(CheckVolumeFit, Error, v, fmt.Sprintf("make the volume at least %d GB", need),
					"volume %s: %d GB cannot hold image %s (%d bytes, min_disk %d GB)", v.Name, v.SizeGB, v.Image.Name(), im.SizeBytes, im.MinDiskGB)
			}
		case *specs.Flavor:
			if !v.Existing && r.creates(v.Addr()) && !r.in.Cloud.Admin {
				r.add(CheckFlavorAdmin, Error, v, "ask an admin to create the flavor and mark it existing: true, or use a project with the admin role",
					"flavor %s: creating a flavor needs the admin role, which this project's token does not carry", v.Name)
			}
		}
	})
}

func (r *runner) creates(a specs.Address) bool { return r.creating[a] }

// extensions: the Neutron API extensions a field or kind relies on.
func (r *runner) extensions() {
	has := r.in.Cloud.HasExtension
	need := func(res specs.Resource, alias, what, fix string) {
		if !has(alias) {
			r.add(CheckExtension, Error, res, fix, "%s needs the Neutron extension %s, which this cloud does not offer", what, alias)
		}
	}
	marked := false
	r.each(func(res specs.Resource) {
		switch v := res.(type) {
		case *specs.Network:
			if v.PortSecurity != nil && !*v.PortSecurity {
				need(v, "port-security", "network "+v.Name+": port_security: false", "drop port_security: false (the cloud applies its own port security)")
			}
			if v.VLANTransparent != nil && *v.VLANTransparent {
				need(v, "vlan-transparent", "network "+v.Name+": vlan_transparent: true", "drop vlan_transparent, and use untagged inner networks (see nested-vlan in docs/checks.md)")
			}
			if v.MTU != nil {
				need(v, "net-mtu-writable", "network "+v.Name+": mtu", "drop mtu: the network gets the cloud's default")
			}
			if !marked && !has("standard-attr-tag") && !has("standard-attr-description") {
				marked = true
				r.add(CheckExtension, Error, v, "use a cloud whose Neutron has standard-attr-tag",
					"ownership marks need the Neutron extension standard-attr-tag (or standard-attr-description), which this cloud offers neither of")
			}
		case *specs.Port:
			if v.PortSecurity != nil && !*v.PortSecurity {
				need(v, "port-security", "port "+string(v.Addr())+": port_security: false", "drop port_security: false")
			}
			if v.DHCPPatch == "api" {
				need(v, "port-security", "port "+string(v.Addr())+": the allow-dhcp-server patch with method api", "use method: ssh (or auto, which falls back to SSH)")
			}
		case *specs.Router:
			need(v, "router", "router "+v.Name, "drop the router (and floating IPs), or use a cloud with Neutron's L3 router")
			if v.ExternalNetwork != "" {
				need(v, "external-net", "router "+v.Name+": external gateway", "drop external_gateway")
			}
		}
	})
}

// fuel: what Fuel needs of its admin network, the master's first port.
// Only a lab with slaves is a Fuel lab (the master PXE-boots them); the
// findings are warnings: apply would succeed, but Fuel could not work.
func (r *runner) fuel() {
	var master *specs.Server
	slaves := false
	r.each(func(res specs.Resource) {
		if s, ok := res.(*specs.Server); ok {
			if s.Role == "master" && master == nil {
				master = s
			}
			slaves = slaves || s.Role == "slave"
		}
	})
	if master == nil || !slaves || len(master.Ports) == 0 {
		return
	}
	port, ok := r.resource(master.Ports[0]).(*specs.Port)
	if !ok {
		return
	}
	if sub, ok := r.resource(port.Subnet).(*specs.Subnet); ok && sub.EnableDHCP {
		r.add(CheckFuelDHCP, Warning, sub, "set dhcp: false on the admin network",
			"subnet %s: Neutron DHCP is on for the admin network, where Fuel's master serves DHCP and PXE; the slaves would get Neutron's answers", sub.Name)
	}
	letsOut := port.DHCPPatch != "" || (port.PortSecurity != nil && !*port.PortSecurity)
	if net, ok := r.resource(port.Network).(*specs.Network); ok && net.PortSecurity != nil && !*net.PortSecurity {
		letsOut = true
	}
	if !letsOut {
		r.add(CheckFuelReplies, Warning, master, "add an allow-dhcp-server patch on port "+string(port.Addr())+" (docs/patches.md), or set port_security: false on it",
			"server %s: Neutron drops the DHCP replies the master sends on the admin network; nothing in the spec lets them out", master.Name)
	}
	if port.FixedIP == "" {
		r.add(CheckFuelMasterIP, Warning, port, "give the master's admin port a fixed_ip (Fuel's default is 10.20.0.2)",
			"port %s: the master has no fixed admin IP; Fuel's installer and the slaves' PXE expect a known one", port.Addr())
	}
	if !r.in.Cloud.HasExtension("vlan-transparent") && !r.in.Cloud.HasExtension("trunk") && !vlanTransparentAsked(r) {
		r.add(CheckNestedVLAN, Warning, master,
			"in Fuel's network settings give management and storage no VLAN tag (untagged, one network each), and use GRE/VXLAN segmentation for the inner cloud; or use a host cloud with vlan-transparent or trunk",
			"the host cloud offers neither vlan-transparent networks nor trunks: its Open vSwitch drops the tagged frames of Fuel's default tagged management and storage networks and of VLAN segmentation inside the lab")
	}
}

// vlanTransparentAsked: a network asks for vlan_transparent, which the
// extension check already reports.
func vlanTransparentAsked(r *runner) bool {
	asked := false
	r.each(func(res specs.Resource) {
		if n, ok := res.(*specs.Network); ok && n.VLANTransparent != nil && *n.VLANTransparent {
			asked = true
		}
	})
	return asked
}

// rights: host lookups (a server's hypervisor, for SSH patches) need the
// admin role.
func (r *runner) rights() {
	if r.in.Cloud.Admin {
		return
	}
	r.each(func(res specs.Resource) {
		p, ok := res.(*specs.Patch)
		if !ok || p.Server == "" || p.Host != "" {
			return
		}
		if r.usesSSH(p) {
			r.add(CheckAdminRole, Error, p, "name the compute host in the patch (host:), or use a project with the admin role",
				"patch %s: finding server %s's compute host needs the admin role (Nova shows OS-EXT-SRV-ATTR:host only to admins)", p.Name, p.Server.Name())
		}
	})
}

// usesSSH: the patch is carried out over SSH on compute hosts (a command
// patch always; a DHCP patch by method ssh, or auto where Neutron lacks
// port-security), so it needs the inventory's files and host lookups.
func (r *runner) usesSSH(p *specs.Patch) bool {
	return p.Type != "allow-dhcp-server" || p.Method == "ssh" || (p.Method == "auto" && !r.in.Cloud.HasExtension("port-security"))
}

// quotaUse maps a kind to the quota it consumes one of.
var quotaUse = map[specs.Kind]string{
	specs.KindNetwork: "network", specs.KindSubnet: "subnet", specs.KindPort: "port", specs.KindRouter: "router",
	specs.KindRouterInterface: "port", // Neutron makes the interface a port of the project
	specs.KindFloatingIP:      "floatingip", specs.KindSecurityGroup: "security_group",
	specs.KindSecurityGroupRule: "security_group_rule", specs.KindServer: "instances", specs.KindVolume: "volumes",
	specs.KindKeypair: "keypairs", specs.KindTrunk: "trunk",
}

// quotas: what the plan adds per quota against what the project has left.
// One finding per exhausted quota, at the first object that would not fit.
func (r *runner) quotas() {
	adds := map[string]int{}
	first := map[string]specs.Resource{} // the first create over the limit, found below
	var order []specs.Address
	for _, a := range r.in.Lab.Addresses() {
		if r.creates(a) {
			order = append(order, a)
		}
	}
	qs, unread := resources.Quotas(r.ctx, r.in.Cloud)
	left := map[string]int{}
	limited := map[string]resources.Quota{}
	for _, q := range qs {
		if l, ok := q.Left(); ok {
			left[q.Resource], limited[q.Resource] = l, q
		}
	}
	count := func(res specs.Resource, quota string, n int) {
		adds[quota] += n
		if _, lim := limited[quota]; lim && adds[quota] > left[quota] && first[quota] == nil {
			first[quota] = res
		}
	}
	for _, a := range order {
		res := r.resource(a)
		if q, ok := quotaUse[a.Kind()]; ok {
			count(res, q, 1)
		}
		switch v := res.(type) {
		case *specs.Server:
			if f, ok := r.resource(v.Flavor).(*specs.Flavor); ok {
				vcpus, ram := f.VCPUs, f.RAM
				if f.Existing {
					if o, found := r.in.Live(v.Flavor); found {
						vcpus, _ = strconv.Atoi(o.Fields["vcpus"])
						ram, _ = strconv.Atoi(o.Fields["ram_mb"])
					}
				}
				count(v, "cores", vcpus)
				count(v, "ram", ram)
			}
		case *specs.Volume:
			count(v, "gigabytes", v.SizeGB)
		case *specs.Image:
			r.countImage(v, count)
		}
	}
	for _, q := range qs {
		n, used := adds[q.Resource], q.Used
		if n == 0 {
			continue
		}
		u := quotaUnit(q.Resource)
		line := fmt.Sprintf("%s: plan adds %d%s, unlimited (%d%s used)", q.Resource, n, u, used, u)
		if l, ok := q.Left(); ok {
			line = fmt.Sprintf("%s: plan adds %d%s, %d%s left (quota %d%s, %d%s used)", q.Resource, n, u, l, u, q.Limit, u, used, u)
		}
		r.quotaLines = append(r.quotaLines, line)
		if res := first[q.Resource]; res != nil {
			r.add(CheckQuota, Error, res, quotaFix(q, used+n),
				"%s (%s quota): this object is the first over it", line, q.Service)
		}
	}
	if len(unread) > 0 && len(order) > 0 {
		r.add(CheckQuota, Warning, r.resource(order[0]), "nothing to do, or ask the cloud's admin for the quota figures",
			"quotas not checked: %s", strings.Join(unread, "; "))
	}
}

// quotaFlag is the `openstack quota set` option for a quota.
func quotaFlag(q string) string {
	switch q {
	case "floatingip":
		return "floating-ips"
	case "security_group":
		return "secgroups"
	case "security_group_rule":
		return "secgroup-rules"
	case "network", "subnet", "port", "router":
		return q + "s"
	}
	return q
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
