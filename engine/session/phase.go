package session

import (
	"fmt"
	"strings"

	"github.com/fuelplan/fuelplan/specs"
)

// The boot phases of `apply --phase` (docs/boot.md, sequence (b)).
const (
	PhaseInstall   = "install"   // as the spec says: the master boots the ISO
	PhaseInstalled = "installed" // the master is rebuilt from its installed disk
)

// WithPhase returns the lab as a boot phase wants it. "install" (or
// nothing) is the spec itself. "installed" rebuilds the master from the
// disk Fuel installed onto: its cdrom volumes are no longer attached, its
// disks boot in their order from index 0, and the one that boots first is
// made bootable (Nova boots from no other volume; Cinder flips the flag in
// place). The volumes stay in the lab, so the installed disk is kept (and
// the ISO volume with it, for a reinstall); the changed layout makes the
// plan replace the master alone.
//
// The compiled lab is immutable, so a new one is built with copies of the
// master and its boot disk in place of the originals.
func WithPhase(lab *specs.Lab, phase string) (*specs.Lab, error) {
	switch phase {
	case "", PhaseInstall:
		return lab, nil
	case PhaseInstalled:
	default:
		return nil, fmt.Errorf("--phase %q: want %s or %s", phase, PhaseInstall, PhaseInstalled)
	}
	replaced := map[specs.Address]specs.Resource{}
	for _, a := range lab.Addresses() {
		r, _ := lab.Resource(a)
		s, ok := r.(*specs.Server)
		if !ok || s.Role != "master" {
			continue
		}
		m, ok := installedMaster(s)
		if !ok {
			continue
		}
		replaced[a] = m
		if vr, ok := lab.Resource(m.BlockDevices[0].Volume); ok {
			if v, ok := vr.(*specs.Volume); ok && !v.Bootable {
				boot := *v
				boot.Bootable = true
				replaced[v.Addr()] = &boot
			}
		}
	}
	if len(replaced) == 0 {
		return nil, fmt.Errorf("--phase %s: the master boots from no cdrom volume, so there is nothing to rebuild "+
			"(a master whose blank disk boots first, sequence (a), needs no second phase)", PhaseInstalled)
	}
	out := specs.NewLab(lab.Name)
	out.Cloud, out.File, out.Hash = lab.Cloud, lab.File, lab.Hash
	out.InheritEnv(lab)
	out.Notes, out.Warnings = lab.Notes, lab.Warnings
	out.Notes, out.Warnings = lab.Notes, lab.Warnings
	for _, a := range lab.Addresses() {
		r, _ := lab.Resource(a)
		if n, ok := replaced[a]; ok {
			r = n
		}
		if err := out.Add(r); err != nil {
			return nil, err
		}
	}
	if err := out.Link(); err != nil {
		return nil, err
	}
	return out, nil
}

// installedMaster is the master without its cdrom volumes, its remaining
// disks booting first in spec order. ok is false when it had no cdrom, or
// no disk to boot from once the cdrom is gone.
func installedMaster(s *specs.Server) (*specs.Server, bool) {
	var disks []specs.BlockDevice
	cdrom := false
	for _, b := range s.BlockDevices {
		if strings.EqualFold(b.DeviceType, "cdrom") {
			cdrom = true
			continue
		}
		disks = append(disks, b)
	}
	if !cdrom || len(disks) == 0 {
		return s, false
	}
	for i := range disks {
		disks[i].BootIndex = i
	}
	m := *s
	m.BlockDevices = disks
	return &m, true
}
