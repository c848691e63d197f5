package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"

	"github.com/fuelplan/fuelplan/resources"
	"github.com/fuelplan/fuelplan/simcloud"
)

// sharedSim starts a simulated cloud that several invocations (and the
// test) share through a clouds.yaml entry named "shared".
func sharedSim(t *testing.T) (*simcloud.Cloud, *resources.Cloud) {
	t.Helper()
	sim, err := simcloud.Start(simcloud.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	clouds := filepath.Join(t.TempDir(), "clouds.yaml")
	if err := os.WriteFile(clouds, []byte(sim.CloudsYAML("shared", sim.Admin())), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OS_CLIENT_CONFIG_FILE", clouds)
	t.Setenv("OS_CLOUD", "")
	t.Setenv("NO_COLOR", "1")
	c, err := resources.Connect(context.Background(), resources.Target{CloudName: "shared"})
	if err != nil {
		t.Fatal(err)
	}
	return sim, c
}

// TestNoColorEveryCommand: --no-color is one of the common flags the
// README lists, so every command takes it (unlock, validate, graph and
// wait refused it as an unknown flag).
func TestNoColorEveryCommand(t *testing.T) {
	t.Setenv("OS_CLOUD", "")
	dir := t.TempDir()
	spec := writeLab(t, dir, 1)
	for _, args := range [][]string{
		{"validate", spec},
		{"graph", spec},
		{"plan", spec, "--cloud", "sim"},
		{"wait", spec, "--cloud", "sim"},
		{"unlock", spec, "--cloud", "sim"},
		{"destroy", spec, "--cloud", "sim", "--auto-approve"},
		{"apply", spec, "--cloud", "sim", "--auto-approve", "--target", "network.admin"},
	} {
		t.Run(args[0], func(t *testing.T) {
			code, out, errOut := run(t, append(args, "--no-color")...)
			if code != ExitOK {
				t.Fatalf("%s --no-color: exit %d\n%s%s", args[0], code, out, errOut)
			}
		})
	}
	// Every command, present and future: the flag is common to all.
	for _, c := range newRootCmd(&streams{}).Commands() {
		if c.Flags().Lookup("no-color") == nil && c.InheritedFlags().Lookup("no-color") == nil {
			t.Errorf("%s does not take --no-color", c.Name())
		}
	}
}

// TestFailedDestroySaysDestroy: a destroy that could not delete a server
// says the destroy did not finish and to run destroy again, not apply.
func TestFailedDestroySaysDestroy(t *testing.T) {
	sim, _ := sharedSim(t)
	spec := writeLab(t, t.TempDir(), 1)
	if code, out, errOut := run(t, "apply", spec, "--cloud", "shared", "--auto-approve"); code != ExitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	// A policy refusal is permanent: the destroy fails at once.
	sim.InjectFaults(simcloud.Fault{Method: "DELETE", Path: "/compute/v2.1/servers", Status: 403})
	code, out, errOut := run(t, "destroy", spec, "--cloud", "shared", "--auto-approve")
	if code != ExitError {
		t.Fatalf("destroy with servers that cannot be deleted: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "destroy did not finish") || !strings.Contains(errOut, "Run destroy again") ||
		strings.Contains(errOut, "apply") {
		t.Errorf("failed destroy's error should say the destroy did not finish and to run destroy again:\n%s", errOut)
	}
	if !strings.Contains(errOut, "server.master") {
		t.Errorf("failed destroy's error does not name the server it could not delete:\n%s", errOut)
	}
}

// cancelAfter cancels once n operations have finished (n "created" lines,
// which apply prints with --verbose).
type cancelAfter struct {
	syncBuffer
	n      int
	once   sync.Once
	cancel context.CancelFunc
}

func (w *cancelAfter) Write(p []byte) (int, error) {
	n, err := w.syncBuffer.Write(p)
	if strings.Count(w.String(), ": created after ") >= w.n {
		w.once.Do(w.cancel)
	}
	return n, err
}

// TestInterruptedApplySaysInterrupted: Ctrl-C during an apply reports an
// interrupt and what was left undone; nothing failed, so it does not
// speak of failed dependencies.
func TestInterruptedApplySaysInterrupted(t *testing.T) {
	sharedSim(t)
	spec := writeLab(t, t.TempDir(), 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &cancelAfter{n: 4, cancel: cancel}
	var errw syncBuffer
	code := Run(ctx, []string{"apply", spec, "--cloud", "shared", "--auto-approve", "--parallelism", "1", "--verbose"},
		strings.NewReader(""), out, &errw)
	if code != ExitError {
		t.Fatalf("interrupted apply: exit %d\n%s%s", code, out.String(), errw.String())
	}
	msg := errw.String()
	t.Logf("interrupted apply said:\n%s", msg)
	if !strings.Contains(msg, "interrupted") || !strings.Contains(msg, "not started") {
		t.Errorf("interrupted apply should say so and what was not started:\n%s", msg)
	}
	if strings.Contains(msg, "depend on failed") || strings.Contains(msg, "did not finish") {
		t.Errorf("interrupted apply speaks of failures, yet nothing failed:\n%s", msg)
	}
	if !strings.Contains(msg, "server.master") {
		t.Errorf("interrupted apply does not say what was left undone (the master was never created):\n%s", msg)
	}
}

// TestRefusedSavedPlanLeavesNoLock: a saved plan applied after the lab
// was destroyed is refused, and the refusal leaves nothing on the cloud:
// not even the lab lock's security group, which destroy removed.
func TestRefusedSavedPlanLeavesNoLock(t *testing.T) {
	_, c := sharedSim(t)
	dir := t.TempDir()
	spec := writeLab(t, dir, 1)
	sh := []string{"--cloud", "shared"}
	if code, out, errOut := run(t, append([]string{"apply", spec, "--auto-approve", "--skip-waits"}, sh...)...); code != ExitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	writeLab(t, dir, 1, func(s string) string {
		return strings.Replace(s, "cidr: 192.168.1.0/24", "cidr: 192.168.1.0/24\n    mtu: 1400", 1)
	})
	planFile := filepath.Join(dir, "change.plan")
	if code, out, errOut := run(t, append([]string{"plan", spec, "--out", planFile}, sh...)...); code != ExitOK {
		t.Fatalf("plan --out: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := run(t, append([]string{"destroy", spec, "--auto-approve"}, sh...)...); code != ExitOK {
		t.Fatalf("destroy: exit %d\n%s%s", code, out, errOut)
	}
	if n := lockGroups(t, c); n != 0 {
		t.Fatalf("destroy left %d lock group(s)", n)
	}
	code, _, errOut := run(t, append([]string{"apply", planFile}, sh...)...)
	if code != ExitError || !strings.Contains(errOut, "changed since the plan was made") {
		t.Fatalf("saved plan after destroy: exit %d, stderr %q; want it refused", code, errOut)
	}
	if n := lockGroups(t, c); n != 0 {
		t.Errorf("the refused apply left %d lock group(s) on a destroyed lab", n)
	}
}

func lockGroups(t *testing.T, c *resources.Cloud) int {
	t.Helper()
	pages, err := groups.List(c.Network, groups.ListOpts{Name: "eng-fuelplan-lock"}).AllPages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	all, err := groups.ExtractGroups(pages)
	if err != nil {
		t.Fatal(err)
	}
	return len(all)
}
