package forgedev

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// lockFile is the file under the data directory that one process at a
// time holds an exclusive flock(2) on. It holds the holder's PID, command
// line and start time, so that a second process can say who holds it.
const lockFile = "forge.lock"

// dataDir is a data directory opened by one process: an absolute path and
// the lock that keeps every other dev process out of it.
type dataDir struct {
	path string
	lock *os.File
}

// openDataDir makes data absolute (paths under it become file:// and
// sqlite:// URLs, where a relative path would read as a host), creates it
// when it does not exist, and takes its lock. It fails with one line that
// names the directory when data is not a directory, cannot be created, or
// is held by another process (named with its PID, command and start time).
// The lock is released by close, and by the kernel when the process dies.
func openDataDir(data string) (*dataDir, error) {
	abs, err := filepath.Abs(data)
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %v", data, err)
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return nil, fmt.Errorf("cannot create the data directory %s: %v", abs, unwrapPath(err))
		}
	case err != nil:
		return nil, fmt.Errorf("cannot use the data directory %s: %v", abs, unwrapPath(err))
	case !fi.IsDir():
		return nil, fmt.Errorf("the data directory %s is not a directory", abs)
	}
	f, err := os.OpenFile(filepath.Join(abs, lockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot lock the data directory %s: %v", abs, unwrapPath(err))
	}
	if err := flock(f); err != nil {
		holder := readHolder(f)
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("the data directory %s is in use by %s; stop it or give another --data", abs, holder)
		}
		return nil, fmt.Errorf("cannot lock the data directory %s: %v", abs, err)
	}
	// Ours now: say who holds it.
	info := fmt.Sprintf("pid %d\ncommand %s\nstarted %s\n", os.Getpid(), strings.Join(os.Args, " "), time.Now().UTC().Format(time.RFC3339))
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(info), 0)
	}
	return &dataDir{path: abs, lock: f}, nil
}

// flock takes an exclusive lock on f without waiting, retrying when a
// signal interrupts the call.
func flock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// readHolder describes the process named in a lock file: "process 123
// (forge dev up --data x, started 2026-01-02T03:04:05Z)".
func readHolder(f *os.File) string {
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 4096))
	if err != nil || len(b) == 0 {
		return "another process"
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, " ")
		if ok {
			fields[k] = v
		}
	}
	pid, err := strconv.Atoi(fields["pid"])
	if err != nil {
		return "another process"
	}
	desc := fmt.Sprintf("process %d", pid)
	var more []string
	if c := fields["command"]; c != "" {
		more = append(more, c)
	}
	if s := fields["started"]; s != "" {
		more = append(more, "started "+s)
	}
	if len(more) > 0 {
		desc += " (" + strings.Join(more, ", ") + ")"
	}
	return desc
}

// close releases the lock. The file stays: removing it would let a
// process that opened it before the removal lock a file nobody else sees.
func (d *dataDir) close() error {
	if d == nil || d.lock == nil {
		return nil
	}
	err := d.lock.Close() // closing the last descriptor releases the flock
	d.lock = nil
	return err
}

// unwrapPath drops the path an *os.PathError repeats, since the messages
// above name the directory already.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
