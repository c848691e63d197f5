package simcloud

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
)

// labCloud is a cloud holding a lab's ports: four networks of one /21
// each (a lab's admin, public, management and storage networks) with
// four ports per slave spread over them, as a Fuel lab has.
func labCloud(b testing.TB, slaves int, stateFile string) (*Cloud, *gophercloud.ServiceClient, []string) {
	b.Helper()
	w := DefaultWorld()
	w.Quotas = nil
	c, err := Start(Config{World: w, StateFile: stateFile})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	nc := networkClient(b, c.Member())
	ctx := context.Background()
	var nets []string
	for i := range 4 {
		n, err := networks.Create(ctx, nc, networks.CreateOpts{Name: fmt.Sprintf("net%d", i)}).Extract()
		if err != nil {
			b.Fatal(err)
		}
		cidr := fmt.Sprintf("10.%d.0.0/21", i)
		if _, err := subnets.Create(ctx, nc, subnets.CreateOpts{NetworkID: n.ID, CIDR: cidr, IPVersion: gophercloud.IPv4}).Extract(); err != nil {
			b.Fatal(err)
		}
		nets = append(nets, n.ID)
	}
	for i := range 4 * slaves {
		if _, err := ports.Create(ctx, nc, ports.CreateOpts{NetworkID: nets[i%4]}).Extract(); err != nil {
			b.Fatal(err)
		}
	}
	return c, nc, nets
}

// changeBatch is how many changes one measurement makes: the Makefile
// runs each benchmark once (-benchtime 1x).
const changeBatch = 500

// perChange makes changeBatch changes with change(i) and returns the
// process's CPU time per change (client and cloud: they share the
// process), which other work on a busy machine disturbs less than the
// wall time.
func perChange(b *testing.B, change func(i int) error) time.Duration {
	b.Helper()
	start := cpuTime(b)
	for i := range changeBatch {
		if err := change(i); err != nil {
			b.Fatal(err)
		}
	}
	return (cpuTime(b) - start) / changeBatch
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// savedChanges makes changes (port renames: the lab keeps its size) for
// at least changeBatch changes and one checkpoint delay of the lab's
// state, starting just after a write, so that the window holds the
// checkpoint a change makes due whatever the lab's size: a window shorter
// than the delay would leave the large lab's writes out. It returns the
// CPU time and the bytes written per change.
func savedChanges(b *testing.B, c *Cloud, change func(i int) error) (time.Duration, float64) {
	b.Helper()
	if err := c.Save(); err != nil {
		b.Fatal(err)
	}
	c.ckMu.Lock()
	window := checkpointDelay(c.lastSize) + 200*time.Millisecond
	c.ckMu.Unlock()
	before, startCPU, start := c.BytesSaved(), cpuTime(b), time.Now()
	n := 0
	for ; n < changeBatch || time.Since(start) < window; n++ {
		if err := change(n); err != nil {
			b.Fatal(err)
		}
	}
	return (cpuTime(b) - startCPU) / time.Duration(n), float64(c.BytesSaved()-before) / float64(n)
}

// BenchmarkChangeCost measures one change to the simulated cloud in a
// lab of 100 slaves and in one of 1,000 (400 and 4,000 ports): a port
// create without a state file, and a saved change (a port rename with a
// state file, written after every change while small, at checkpoints
// once large; see savedChanges for the window). The target is a cost independent of the lab's size: at
// most 1.5x from 100 to 1,000 slaves (growth-x). Written bytes are what
// the state file writes took during the changes, per change. Times are
// CPU time per change, client included (create-us, saved-us).
func BenchmarkChangeCost(b *testing.B) {
	const target = 1.5
	for b.Loop() {
		create := map[int]time.Duration{}
		saved := map[int]time.Duration{}
		written := map[int]float64{}
		for _, slaves := range []int{100, 1000} {
			_, nc, nets := labCloud(b, slaves, "")
			create[slaves] = perChange(b, func(i int) error {
				_, err := ports.Create(context.Background(), nc, ports.CreateOpts{NetworkID: nets[i%4]}).Extract()
				return err
			})
			c, nc, nets := labCloud(b, slaves, filepath.Join(b.TempDir(), "state.json"))
			p, err := ports.Create(context.Background(), nc, ports.CreateOpts{NetworkID: nets[0]}).Extract()
			if err != nil {
				b.Fatal(err)
			}
			saved[slaves], written[slaves] = savedChanges(b, c, func(i int) error {
				name := fmt.Sprintf("p%d", i)
				_, err := ports.Update(context.Background(), nc, p.ID, ports.UpdateOpts{Name: &name}).Extract()
				return err
			})
		}
		b.ReportMetric(float64(create[100].Microseconds()), "create-us@100")
		b.ReportMetric(float64(create[1000].Microseconds()), "create-us@1000")
		b.ReportMetric(float64(create[1000])/float64(create[100]), "create-growth-x")
		b.ReportMetric(float64(saved[100].Microseconds()), "saved-us@100")
		b.ReportMetric(float64(saved[1000].Microseconds()), "saved-us@1000")
		b.ReportMetric(float64(saved[1000])/float64(saved[100]), "saved-growth-x")
		b.ReportMetric(written[100]/1024, "written-KB/change@100")
		b.ReportMetric(written[1000]/1024, "written-KB/change@1000")
		b.ReportMetric(target, "target-growth-x")
	}
}
