package simcloud

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
)

// crashChildEnv names the state file a child process changes until it is
// killed (see TestStateSurvivesKill).
const crashChildEnv = "FUELPLAN_SIMCLOUD_CRASH_CHILD"

// networkClient authenticates cred and returns a Neutron client.
func networkClient(tb testing.TB, cred Credentials) *gophercloud.ServiceClient {
	tb.Helper()
	pc, err := openstack.AuthenticatedClient(context.Background(), gophercloud.AuthOptions{
		IdentityEndpoint: cred.AuthURL, Username: cred.Username, Password: cred.Password,
		TenantName: cred.ProjectName, DomainName: cred.DomainName,
	})
	if err != nil {
		tb.Fatal(err)
	}
	nc, err := openstack.NewNetworkV2(pc, gophercloud.EndpointOpts{})
	if err != nil {
		tb.Fatal(err)
	}
	return nc
}

// TestCrashChild is the child of TestStateSurvivesKill: it creates
// networks on a cloud saving to the state file until it is killed,
// printing the count after each answer. Checkpoints are made small and
// frequent so that the kills land in every phase: the state written after
// each change, a checkpoint pending, a checkpoint being written.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("run by TestStateSurvivesKill")
	}
	syncSaveMax, checkpointRate, checkpointMin = 8<<10, 256<<10, 20*time.Millisecond
	w := DefaultWorld()
	w.Quotas = nil
	c, err := Start(Config{World: w, StateFile: path})
	if err != nil {
		fmt.Println("start:", err)
		os.Exit(3)
	}
	nc := networkClient(t, c.Member())
	for i := 1; ; i++ {
		if _, err := networks.Create(context.Background(), nc, networks.CreateOpts{Name: "crash-" + strconv.Itoa(i)}).Extract(); err != nil {
			fmt.Println("create:", err)
			os.Exit(3)
		}
		fmt.Println(i)
	}
}

// TestStateSurvivesKill kills (SIGKILL) a process changing the simulated
// cloud at several points, small state and large, and checks that each
// time the state file loads, holds no more networks than were asked for
// and never fewer than the previous load found: a kill at any moment
// leaves the last complete write.
func TestStateSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	path := filepath.Join(t.TempDir(), "state.json")
	ctx := context.Background()
	prev := 0
	asked := 0
	for round, killAfter := range []int{2, 15, 40, 90, 160} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		acked := 0
		for acked < killAfter && sc.Scan() {
			n, err := strconv.Atoi(sc.Text())
			if err != nil {
				t.Fatalf("round %d: child said %q", round, sc.Text())
			}
			acked = n
		}
		// Land the kill at a different moment of the request cycle in
		// each round.
		time.Sleep(time.Duration(round*7) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		for sc.Scan() { // what it answered before it died
			if n, err := strconv.Atoi(sc.Text()); err == nil {
				acked = n
			}
		}
		_ = cmd.Wait()
		if acked < killAfter {
			t.Fatalf("round %d: the child stopped after %d networks", round, acked)
		}
		asked += acked + 1 // one more may have been in flight

		c, err := Start(Config{StateFile: path, ReadOnly: true})
		if err != nil {
			t.Fatalf("round %d (killed after %d changes): the state does not load: %v", round, acked, err)
		}
		pages, err := networks.List(networkClient(t, c.Member()), nil).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		all, _ := networks.ExtractNetworks(pages)
		own := 0
		for _, n := range all {
			if strings.HasPrefix(n.Name, "crash-") {
				own++
			}
		}
		_ = c.Close()
		if own < prev || own > asked {
			t.Fatalf("round %d: %d networks after the kill; want between %d (the last load) and %d (asked for)", round, own, prev, asked)
		}
		t.Logf("round %d: killed after %d acknowledged creates (%d in all); the state loads with %d networks", round, acked, asked, own)
		prev = own
	}
	if prev == 0 {
		t.Fatal("nothing was ever saved")
	}
}
