// Package atomicfile writes files so that a crash leaves the old content
// or the new, never half of each: a temporary file in the same folder,
// fsynced, then renamed over the target, and the folder fsynced so that
// the rename itself survives a power loss.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces path with data. The file gets mode perm, or keeps its
// current mode when it exists.
func Write(path string, data []byte, perm os.FileMode) error {
	if fi, err := os.Stat(path); err == nil {
		perm = fi.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename, a no-op
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	// Make the rename durable. A folder that cannot be opened or synced
	// (some filesystems refuse fsync on a directory) still has the new
	// file in place: the write succeeded.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
