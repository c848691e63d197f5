package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/fuelplan/fuelplan/simcloud"
)

// TestSimCommandsConcurrently (issue 13, item 5): with --cloud sim each
// process has its own copy of the cloud. Two applies started together
// used to both report "created" and the state kept one; a plan or wait
// running beside an apply wrote its stale copy back and erased the lab.
// Now writers take turns on the state file's lock and readers never write.
func TestSimCommandsConcurrently(t *testing.T) {
	dir := t.TempDir()
	spec := writeLab(t, dir, 2)
	state := filepath.Join(dir, "state.json")
	sim := []string{"--cloud", "sim", "--sim-state", state}
	type result struct {
		code int
		out  string
	}
	cmds := [][]string{
		append([]string{"apply", spec, "--auto-approve", "--skip-waits", "--lock-timeout", "2m"}, sim...),
		append([]string{"apply", spec, "--auto-approve", "--skip-waits", "--lock-timeout", "2m"}, sim...),
		append([]string{"plan", spec}, sim...),
		append([]string{"plan", spec}, sim...),
		append([]string{"wait", spec}, sim...),
	}
	results := make([]result, len(cmds))
	var wg sync.WaitGroup
	for i, args := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out bytes.Buffer
			code := Run(context.Background(), args, strings.NewReader(""), &out, &out)
			results[i] = result{code, out.String()}
		}()
	}
	wg.Wait()
	created := 0
	for i, r := range results[:2] {
		if r.code != ExitOK {
			t.Fatalf("apply %d: exit %d\n%s", i, r.code, r.out)
		}
		if strings.Contains(r.out, "Apply finished: 28 created") {
			created++
		}
	}
	// Whether the second apply waited or came late, only one builds.
	if created != 1 {
		t.Errorf("want one apply to build the lab and the other to find nothing to do\n--- 1\n%s\n--- 2\n%s", results[0].out, results[1].out)
	}
	for i, r := range results[2:] {
		if r.code != ExitOK {
			t.Errorf("%s: exit %d\n%s", cmds[2+i][0], r.code, r.out)
		}
	}
	code, out, errOut := run(t, append([]string{"plan", spec, "--detailed-exitcode"}, sim...)...)
	if code != ExitOK {
		t.Fatalf("plan after the concurrent runs: exit %d (the lab lost work)\n%s%s", code, out, errOut)
	}
}

// TestSimReadersNeverWrite: plan and wait leave the state file as it is
// (not even rewritten with the same bytes), and run while a writer holds
// its lock; a second writer fails at once without --lock-timeout.
func TestSimReadersNeverWrite(t *testing.T) {
	dir := t.TempDir()
	spec := writeLab(t, dir, 1)
	state := filepath.Join(dir, "state.json")
	sim := []string{"--cloud", "sim", "--sim-state", state}
	if code, out, errOut := run(t, append([]string{"apply", spec, "--auto-approve", "--skip-waits"}, sim...)...); code != ExitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	before, err := os.Stat(state)
	if err != nil {
		t.Fatal(err)
	}
	// Another process's writer holds the lock meanwhile.
	holder, err := simcloud.Start(simcloud.Config{StateFile: state})
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	for _, cmd := range []string{"plan", "wait"} {
		if code, out, errOut := run(t, append([]string{cmd, spec}, sim...)...); code != ExitOK {
			t.Errorf("%s beside a writer: exit %d\n%s%s", cmd, code, out, errOut)
		}
	}
	after, err := os.Stat(state)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
		t.Error("a read-only command rewrote the state file")
	}
	code, _, errOut := run(t, append([]string{"destroy", spec, "--auto-approve"}, sim...)...)
	if code != ExitError || !strings.Contains(errOut, "is locked by another fuelplan (pid ") || !strings.Contains(errOut, "--lock-timeout") {
		t.Errorf("destroy while the state is locked: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = run(t, append([]string{"destroy", spec, "--auto-approve", "--lock-timeout", "300ms"}, sim...)...)
	if code != ExitError || !strings.Contains(errOut, "Waiting up to 300ms for the simulated cloud's state") || !strings.Contains(errOut, "is locked by another fuelplan") {
		t.Errorf("destroy with --lock-timeout while the state is locked: exit %d, stderr %q", code, errOut)
	}
}
