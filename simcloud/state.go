package simcloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/fuelplan/fuelplan/internal/atomicfile"
)

// stateFormat names the state file's layout; a file in another format is
// refused rather than half understood.
const stateFormat = "fuelplan-simcloud/1"

// state is the state file: each service's snapshot under its mount name.
type state struct {
	Format   string                     `json:"format"`
	Services map[string]json.RawMessage `json:"services"`
}

// Save writes every service's state to the state file atomically (a temp
// file in the same folder, fsync, rename), so a crash leaves either the
// old file or the new one. It does nothing without a state file, or for a
// read-only cloud.
func (c *Cloud) Save() error {
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	return c.saveLocked()
}

func (c *Cloud) saveLocked() error {
	if c.stateFile == "" || c.readOnly {
		return nil
	}
	st := state{Format: stateFormat, Services: map[string]json.RawMessage{}}
	c.stateMu.Lock()
	for _, m := range c.mounts {
		raw, err := m.svc.Snapshot()
		if err != nil {
			c.stateMu.Unlock()
			return fmt.Errorf("simcloud: save %s: %s: %w", c.stateFile, m.name, err)
		}
		st.Services[m.name] = raw
	}
	c.stateMu.Unlock()
	data, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		return fmt.Errorf("simcloud: save %s: %w", c.stateFile, err)
	}
	if err := writeAtomic(c.stateFile, append(data, '\n')); err != nil {
		return fmt.Errorf("simcloud: save %s: %w", c.stateFile, err)
	}
	c.ckMu.Lock()
	c.lastSave, c.lastSize = time.Now(), len(data)+1
	c.saved += int64(len(data) + 1)
	c.ckMu.Unlock()
	return nil
}

// Checkpoints. Writing the whole state after every change made a change
// cost as much as the lab is large: a 1,000-slave apply wrote 33 GB for a
// 7.7 MB state. A small state is still written after every change; a
// larger one at checkpoints, at most one write of its size per
// size/checkpointRate, so the bytes written per second are bounded
// whatever the lab's size. Every write is atomic (temp file, fsync,
// rename), so a kill -9 at any moment leaves a state that loads: the
// last checkpoint, at most checkpointDelay(size) old. Close writes the
// state as it is.
var (
	// syncSaveMax is the largest state written after every change.
	syncSaveMax = 64 << 10
	// checkpointRate bounds the bytes per second checkpoints write.
	checkpointRate = 256 << 10
	// checkpointMin is the least time between two checkpoints.
	checkpointMin = time.Second
)

// checkpointDelay is the least time between two writes of a state of
// size bytes.
func checkpointDelay(size int) time.Duration {
	return max(checkpointMin, time.Duration(float64(size)/float64(checkpointRate)*float64(time.Second)))
}

// changed is called after every successful change: a small state is
// written now; a larger one at the next checkpoint, which one timer
// holds. A failed write cannot fail the request, which did succeed;
// Close writes again and reports it.
//
// A large state is never written from here directly: the changes of
// many requests at once all found the last write old enough, queued on
// saveMu and each wrote the whole state again (a 300-slave apply wrote
// 186 MB for a 2.4 MB state, a 1,000-slave one about 3 GB).
func (c *Cloud) changed() {
	if c.stateFile == "" || c.readOnly {
		return
	}
	c.ckMu.Lock()
	if c.pending != nil { // a checkpoint is already due
		c.ckMu.Unlock()
		return
	}
	if c.lastSize <= syncSaveMax {
		c.ckMu.Unlock()
		_ = c.Save()
		return
	}
	wait := max(0, time.Until(c.lastSave.Add(checkpointDelay(c.lastSize))))
	c.pending = time.AfterFunc(wait, c.checkpoint)
	c.ckMu.Unlock()
}

// checkpoint writes the state a change left unsaved, unless Close has
// taken over (it writes the state itself, then gives up the lock). A
// write since the timer was set (a small state's, or one that waited for
// saveMu) counts: the checkpoint is then put off until that write is old
// enough, so the bytes per second stay bounded.
func (c *Cloud) checkpoint() {
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	c.ckMu.Lock()
	if wait := time.Until(c.lastSave.Add(checkpointDelay(c.lastSize))); wait > 0 && !c.stopped {
		c.pending = time.AfterFunc(wait, c.checkpoint)
		c.ckMu.Unlock()
		return
	}
	c.pending = nil
	c.ckMu.Unlock()
	if c.stopped {
		return
	}
	_ = c.saveLocked()
}

// BytesSaved is how many bytes the state file writes took so far.
func (c *Cloud) BytesSaved() int64 {
	c.ckMu.Lock()
	defer c.ckMu.Unlock()
	return c.saved
}

// writeAtomic writes the state file through internal/atomicfile (temp
// file, fsync, rename, folder fsync), making its folder first.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, data, 0o600)
}

// maxStateFile bounds a state file read: a built 1,000-slave lab saves
// about 20 MB.
const maxStateFile = 512 << 20

// load restores the services from the state file; a missing file is a
// fresh cloud, a corrupt one an error naming the file.
func (c *Cloud) load() error {
	f, err := os.Open(c.stateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("simcloud: state file %s: %w", c.stateFile, err)
	}
	defer f.Close()
	// A device or a pipe (--sim-state /dev/zero) is refused at once rather
	// than read up to the limit.
	if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("simcloud: state file %s is not a regular file", c.stateFile)
	} else if err == nil && fi.Size() > maxStateFile {
		return fmt.Errorf("simcloud: state file %s is larger than %d bytes; delete it to start afresh", c.stateFile, maxStateFile)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxStateFile+1))
	if err != nil {
		return fmt.Errorf("simcloud: state file %s: %w", c.stateFile, err)
	}
	if len(data) > maxStateFile {
		return fmt.Errorf("simcloud: state file %s is larger than %d bytes; delete it to start afresh", c.stateFile, maxStateFile)
	}
	return c.restore(data)
}

// restore sets the services from a state file's bytes; errors name the
// file and the entry.
func (c *Cloud) restore(data []byte) error {
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("simcloud: state file %s is corrupt (%v); delete it to start afresh", c.stateFile, err)
	}
	if st.Format != stateFormat {
		return fmt.Errorf("simcloud: state file %s: format %s, want %q; delete it to start afresh", c.stateFile, quoteShort(st.Format), stateFormat)
	}
	if st.Services == nil {
		// Taken as an empty cloud, it would be saved over the lab.
		return fmt.Errorf("simcloud: state file %s has no services; delete it to start afresh", c.stateFile)
	}
	for _, m := range c.mounts {
		raw, ok := st.Services[m.name]
		if !ok {
			continue // a service added since: it keeps the world's seed
		}
		if err := m.svc.Restore(raw); err != nil {
			return fmt.Errorf("simcloud: state file %s: %s: %w; delete it to start afresh", c.stateFile, m.name, err)
		}
	}
	return nil
}

func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strconv.Quote(s)
}
