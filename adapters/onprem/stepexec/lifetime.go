package stepexec

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/catalyst-forge/forge/domain/fault"
)

// Steps die with their worker. Two mechanisms, because neither is enough
// alone:
//
//   - The parent-death signal (Linux): the step's first process gets
//     SIGKILL from the kernel the moment its parent goes away. The kernel
//     sends it when the *thread* that forked the child exits, not the
//     process; Go parks its threads rather than ending them, except that a
//     goroutine which ends while locked to its thread takes the thread with
//     it. So every step is started from one goroutine locked to its thread
//     for the life of the process (spawn below): that thread ends only with
//     the worker.
//   - The sweep: the parent-death signal reaches only the first process;
//     whatever it started (a background job of the script, the command a
//     shell forked) is orphaned and keeps running. With a state directory
//     (WithStateDir) the executor records every running step there — its
//     process group and a token placed in the step's environment — and
//     Sweep, called when a worker starts, kills what is left of the groups
//     that a dead worker recorded. Only processes still carrying the token
//     are killed, so a process group number reused by something else is
//     never touched. A process that leaves the group and clears its
//     environment escapes both.

// tokenEnv is the environment variable that marks a step's processes for
// the sweep.
const tokenEnv = "FORGE_STEP_TOKEN"

var spawner struct {
	once sync.Once
	reqs chan spawnRequest
}

type spawnRequest struct {
	cmd  *exec.Cmd
	done chan error
}

// spawn starts cmd from the goroutine that holds the spawning thread (see
// above), so that the parent-death signal fires only when the worker
// process ends.
func spawn(cmd *exec.Cmd) error {
	spawner.once.Do(func() {
		spawner.reqs = make(chan spawnRequest)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for r := range spawner.reqs {
				r.done <- r.cmd.Start()
			}
		}()
	})
	done := make(chan error, 1)
	spawner.reqs <- spawnRequest{cmd: cmd, done: done}
	return <-done
}

// newToken returns a random token for one step's processes.
func newToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// record is the file that says a step's process group runs: its name is
// the group's ID, its content the owner's PID and the token.
type record struct{ path string }

// recordGroup writes the record of a running step's group under dir.
func recordGroup(dir string, pgid int, token string) (*record, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fault.Wrap(fault.Unavailable, err, "step executor: creating the state directory %s", dir)
	}
	path := filepath.Join(dir, strconv.Itoa(pgid)+".step")
	body := fmt.Sprintf("owner %d\ntoken %s\n", os.Getpid(), token)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		return nil, fault.Wrap(fault.Unavailable, err, "step executor: recording step process group %d", pgid)
	}
	return &record{path: path}, nil
}

// remove drops the record once the step's group is gone.
func (r *record) remove() {
	if r != nil {
		_ = os.Remove(r.path)
	}
}

// Sweep kills what is left of the steps that an earlier worker process,
// now dead, recorded in the state directory (WithStateDir), and removes
// their records. Call it when a worker starts, before it takes jobs, so a
// step orphaned by a worker that was killed does not run on beside its
// next attempt. Records of a worker that is still alive are left alone.
// It returns how many processes it killed; without a state directory it
// does nothing. Errors: Unavailable when the state directory or the
// process table cannot be read.
func (e *Executor) Sweep() (int, error) {
	if e.stateDir == "" {
		return 0, nil
	}
	entries, err := os.ReadDir(e.stateDir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fault.Wrap(fault.Unavailable, err, "step executor: reading the state directory %s", e.stateDir)
	}
	killed := 0
	for _, ent := range entries {
		name, ok := strings.CutSuffix(ent.Name(), ".step")
		if !ok {
			continue
		}
		pgid, err := strconv.Atoi(name)
		path := filepath.Join(e.stateDir, ent.Name())
		b, rerr := os.ReadFile(path)
		if err != nil || pgid <= 1 || rerr != nil {
			_ = os.Remove(path)
			continue
		}
		fields := map[string]string{}
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, " "); ok {
				fields[k] = v
			}
		}
		if owner, err := strconv.Atoi(fields["owner"]); err == nil && alive(owner) {
			continue // a live worker's step
		}
		n, err := killMarked(pgid, fields["token"])
		killed += n
		if err != nil {
			return killed, err
		}
		_ = os.Remove(path)
	}
	return killed, nil
}

// alive reports whether a process with this PID runs: one that has
// ended but was not yet reaped by its parent (a zombie) is dead. A reused
// PID reads as alive, which only keeps a record for a later sweep.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return true
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return true // no /proc to look at: believe kill(2)
	}
	// The state follows the command name, which is in parentheses and
	// may itself hold spaces and parentheses.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z' && stat[i+2] != 'X'
	}
	return true
}

// killMarked sends SIGKILL to every process of group pgid whose
// environment holds the step's token, and returns how many it signalled.
func killMarked(pgid int, token string) (int, error) {
	if token == "" {
		return 0, nil
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fault.Wrap(fault.Unavailable, err, "step executor: listing processes")
	}
	mark := tokenEnv + "=" + token
	n := 0
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		if g, err := syscall.Getpgid(pid); err != nil || g != pgid {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", p.Name(), "environ"))
		if err != nil || !containsEntry(env, mark) {
			continue
		}
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			n++
		}
	}
	return n, nil
}

// containsEntry reports whether the NUL-separated environment env holds
// entry.
func containsEntry(env []byte, entry string) bool {
	for _, e := range bytes.Split(env, []byte{0}) {
		if string(e) == entry {
			return true
		}
	}
	return false
}
