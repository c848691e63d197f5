package simcloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// ErrStateLocked is returned by Start when another process holds the state
// file's lock past Config.LockWait.
var ErrStateLocked = errors.New("simcloud: the state file is in use by another process")

// stateLock is an exclusive flock(2) on STATEFILE.lock, held by a cloud
// that may change the state from Start to Close. Each process has its own
// copy of the cloud and writes it all back, so two writers at once lose
// each other's work; the lock makes them take turns. The lock is on a
// file of its own because the state file is replaced by rename on every
// save, which would leave a lock on the old file's inode behind. The
// kernel drops it when the process dies, so it never goes stale.
type stateLock struct{ f *os.File }

// lockPollInterval is how often a waiting Start retries the lock.
const lockPollInterval = 100 * time.Millisecond

func lockState(ctx context.Context, stateFile string, wait time.Duration, progress io.Writer) (*stateLock, error) {
	path := stateFile + ".lock"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("simcloud: state lock %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("simcloud: state lock %s: %w", path, err)
	}
	deadline := time.Now().Add(wait)
	said := false
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("simcloud: state lock %s: %w", path, err)
		}
		holder := holderOf(f)
		if !time.Now().Before(deadline) {
			f.Close()
			return nil, fmt.Errorf("%w: %s is locked by %s (--lock-timeout waits for it)", ErrStateLocked, stateFile, holder)
		}
		if !said && progress != nil {
			fmt.Fprintf(progress, "Waiting up to %s for the simulated cloud's state %s, locked by %s...\n", wait, stateFile, holder)
			said = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("simcloud: waiting for the state lock on %s: %w", stateFile, ctx.Err())
		case <-time.After(lockPollInterval):
		}
	}
	// Say who holds it, for the message another process prints.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &stateLock{f: f}, nil
}

// holderOf names the process that wrote its pid into the lock file.
func holderOf(f *os.File) string {
	buf := make([]byte, 16)
	n, _ := f.ReadAt(buf, 0)
	if pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n]))); err == nil && pid > 0 {
		return fmt.Sprintf("another fuelplan (pid %d)", pid)
	}
	return "another fuelplan"
}

func (l *stateLock) release() error {
	if l == nil {
		return nil
	}
	err := unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	return errors.Join(err, l.f.Close())
}
