package gitcache

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
)

// repoLock serialises the operations on one bare repository: a semaphore
// for the goroutines of this Cache, then an exclusive flock(2) on the
// repository's lock file for other Cache values and other processes.
// flock locks belong to an open file, so two Cache values in one process
// exclude each other as two processes do.
type repoLock struct {
	path string
	sem  chan struct{}
	f    *os.File // the locked file while held
}

func newRepoLock(path string) *repoLock {
	return &repoLock{path: path, sem: make(chan struct{}, 1)}
}

// lock waits for the repository until ctx ends.
func (l *repoLock) lock(ctx context.Context) error {
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return fault.Wrap(fault.Unavailable, ctx.Err(), "waiting for the lock of %s", l.path)
	}
	f, err := l.open()
	if err != nil {
		<-l.sem
		return err
	}
	delay := time.Millisecond
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			l.f = f
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			<-l.sem
			return fault.Wrap(fault.Internal, err, "locking %s", l.path)
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			_ = f.Close()
			<-l.sem
			return fault.Wrap(fault.Unavailable, ctx.Err(), "waiting for the lock of %s", l.path)
		}
		delay = min(2*delay, 50*time.Millisecond)
	}
}

// tryLock takes the lock if nobody holds it, without waiting.
func (l *repoLock) tryLock() bool {
	select {
	case l.sem <- struct{}{}:
	default:
		return false
	}
	f, err := l.open()
	if err != nil {
		<-l.sem
		return false
	}
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		_ = f.Close()
		<-l.sem
		return false
	}
	l.f = f
	return true
}

// unlock releases a lock taken by lock or tryLock.
func (l *repoLock) unlock() {
	_ = l.f.Close() // closing the file releases the flock
	l.f = nil
	<-l.sem
}

func (l *repoLock) open() (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(l.path), 0o755); err != nil {
		return nil, fault.Wrap(fault.Internal, err, "creating the directory of %s", l.path)
	}
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "opening %s", l.path)
	}
	return f, nil
}

// leaseRecord is what a lease file says about its workspace, for the
// process that cleans up after a crash.
type leaseRecord struct {
	Workspace  string    `json:"workspace"`
	GitDir     string    `json:"git_dir"`
	Repository string    `json:"repository"`
	JobID      string    `json:"job_id"`
	Created    time.Time `json:"created"`
}

// lease marks a workspace as alive: its file stays flocked for as long as
// the workspace exists, and the lock dies with the process that holds it.
type lease struct {
	path string
	f    *os.File
}

// tmpLeasePrefix starts the names of lease files being written.
const tmpLeasePrefix = ".tmp-"

// newLease writes and locks the lease of a workspace called name. The file
// is locked before it gets its final name, so no other process ever sees
// an unlocked lease of a live workspace.
func (c *Cache) newLease(name string, rec leaseRecord) (*lease, error) {
	f, err := os.CreateTemp(c.leasesDir, tmpLeasePrefix+"*")
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "creating a lease")
	}
	fail := func(err error) (*lease, error) {
		_ = os.Remove(f.Name())
		_ = f.Close()
		return nil, fault.Wrap(fault.Internal, err, "writing the lease of %s", rec.Workspace)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fail(err)
	}
	if err := json.NewEncoder(f).Encode(rec); err != nil {
		return fail(err)
	}
	path := filepath.Join(c.leasesDir, name+".lock")
	if err := os.Rename(f.Name(), path); err != nil {
		return fail(err)
	}
	return &lease{path: path, f: f}, nil
}

// release deletes the lease, then unlocks it.
func (l *lease) release() {
	_ = os.Remove(l.path)
	_ = l.f.Close()
}
