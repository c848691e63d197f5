package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fuelplan/fuelplan/internal/sshx/sshtest"
)

// TestCheckSSHReach: check connects to a command patch's nodes; a node
// whose host key is not the one known_hosts has (which also fails the
// live read, where the patch's check command would run) and a node that
// refuses the key are each one ssh-reach finding, with the patch's
// position; the node that is fine gives none. (The live read, as plan's,
// runs the patch's check command where it can: preflight's tests show
// the reach check itself runs nothing.)
func TestCheckSSHReach(t *testing.T) {
	t.Setenv("OS_CLOUD", "")
	t.Setenv("SSH_AUTH_SOCK", "")
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	if err := os.MkdirAll(keys, 0o700); err != nil {
		t.Fatal(err)
	}
	pub := sshtest.WriteKey(t, filepath.Join(keys, "id"))
	good, impostor, strict := sshtest.Serve(t, pub), sshtest.Serve(t, pub), sshtest.Serve(t) // node-1, node-2, node-3
	known := sshtest.KnownHostsLine(good.Addr, good.HostKey) + sshtest.KnownHostsLine(strict.Addr, strict.HostKey) +
		sshtest.KnownHostsLine(impostor.Addr, good.HostKey)
	if err := os.WriteFile(filepath.Join(keys, "known_hosts"), []byte(known), 0o600); err != nil {
		t.Fatal(err)
	}
	node := func(name, addr string) string {
		return "  " + name + ": {address: \"" + addr + "\", user: root, key_file: keys/id, known_hosts: keys/known_hosts}\n"
	}
	spec := writeLab(t, dir, 1, func(s string) string {
		return s + "\npatches:\n  - {name: tftp, type: command, hosts: [node-1, node-2, node-3], check: \"test -e /x\", apply: \"touch /x\"}\n" +
			"inventory:\n" + node("node-1", good.Addr) + node("node-2", impostor.Addr) + node("node-3", strict.Addr)
	})
	code, out, errOut := run(t, "check", spec, "--cloud", "sim", "--sim-state", filepath.Join(dir, "sim.json"))
	if code != ExitError {
		t.Fatalf("check: exit %d, want %d\n%s%s", code, ExitError, out, errOut)
	}
	all := out + errOut
	for _, want := range []string{
		": error: [ssh-reach] inventory host node-2: node-2 (root@" + impostor.Addr + "): HOST KEY CHANGED",
		": error: [ssh-reach] inventory host node-3: authentication refused: node-3 (root@" + strict.Addr + ")",
		"preflight: 2 errors, ",
	} {
		if strings.Count(all, want) != 1 {
			t.Errorf("want %q once in:\n%s", want, all)
		}
	}
	if strings.Contains(all, "node-1:") || strings.Count(all, "HOST KEY CHANGED") != 1 {
		t.Errorf("node-1 reported, or the changed key more than once:\n%s", all)
	}
}
