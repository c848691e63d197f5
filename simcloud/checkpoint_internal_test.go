package simcloud

import (
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Changes that come together while a write of a large state is under way
// share the next checkpoint. They once each found the last write old
// enough, queued on the save lock and wrote the whole state one after
// another: a 300-slave apply wrote 186 MB for a 2.4 MB state, a
// 1,000-slave one about 3 GB.
func TestConcurrentChangesShareCheckpoints(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state.json")
	c, _, _ := labCloud(t, 100, file) // 400 ports: past syncSaveMax
	waitIdle := func() {
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			c.ckMu.Lock()
			idle := c.pending == nil
			c.ckMu.Unlock()
			if idle || time.Now().After(deadline) {
				// Taking the lock waits for the write under way.
				c.saveMu.Lock()
				defer c.saveMu.Unlock()
				return
			}
		}
	}
	waitIdle() // the setup's last checkpoint
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	c.ckMu.Lock()
	size := c.lastSize
	c.ckMu.Unlock()
	if size <= syncSaveMax {
		t.Fatalf("state of %d bytes, want one past syncSaveMax (%d)", size, syncSaveMax)
	}
	time.Sleep(checkpointDelay(size)) // the last write is old enough
	before := c.BytesSaved()
	c.saveMu.Lock() // a write under way (a slow disk)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(c.changed)
	}
	time.Sleep(100 * time.Millisecond) // the changes arrive during it
	c.saveMu.Unlock()
	wg.Wait()
	waitIdle()
	if writes := float64(c.BytesSaved()-before) / float64(size); writes < 0.5 || writes > 1.5 {
		t.Errorf("20 changes during a write wrote the %d-byte state %.1f times, want once", size, writes)
	}
}
