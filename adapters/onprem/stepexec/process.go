package stepexec

import (
	"context"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// drainDelay bounds how long Execute waits, once the step's process group
// is gone, for processes that escaped the group to close its output.
const drainDelay = time.Second

// process is one step's process, ready to start.
type process struct {
	path    string   // resolved binary
	argv    []string // argv[0] is the name the step used
	dir     string
	env     []string
	secrets []string // values to mask in the output
	output  io.Writer
	timeout time.Duration // zero: none
	grace   time.Duration // between SIGTERM and SIGKILL
	// stateDir, when set, is where the step's process group is recorded
	// while it runs, with token (also in env) marking its processes for
	// Sweep.
	stateDir string
	token    string
}

// run starts p in a process group of its own, copies its combined output
// through the masking writer, and waits for it to end, for its timeout or
// for ctx. Whatever is left of the group afterwards is stopped: SIGTERM,
// then SIGKILL after the grace period.
func run(ctx context.Context, p process) (ports.StepResult, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return ports.StepResult{}, fault.Wrap(fault.Internal, err, "step executor: creating the output pipe")
	}
	cmd := &exec.Cmd{
		Path:        p.path,
		Args:        p.argv,
		Dir:         p.dir,
		Env:         p.env,
		Stdout:      pw,
		Stderr:      pw,
		SysProcAttr: sysProcAttr(),
	}
	start := time.Now()
	err = spawn(cmd)
	_ = pw.Close() // the child holds its own copy
	if err != nil {
		_ = pr.Close()
		return ports.StepResult{}, fault.Wrap(fault.Unavailable, err,
			"step executor: cannot start %q (%s)", p.argv[0], p.path)
	}
	pgid := cmd.Process.Pid
	var rec *record
	if p.stateDir != "" {
		if rec, err = recordGroup(p.stateDir, pgid, p.token); err != nil {
			// Unrecorded, the step could outlive a dying worker unseen.
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			_ = pw.Close()
			_, _ = io.Copy(io.Discard, pr)
			_ = pr.Close()
			_ = cmd.Wait()
			return ports.StepResult{}, err
		}
		defer rec.remove() // runs once the group has been stopped below
	}

	sink := &stickyWriter{w: p.output}
	masker := newMaskingWriter(sink, p.secrets)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		// Read errors other than EOF only come from the deadline set
		// below to give up on escaped processes; write errors are kept
		// by sink.
		_, _ = io.Copy(masker, pr)
	}()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	var timeoutC <-chan time.Time
	if p.timeout > 0 {
		t := time.NewTimer(p.timeout)
		defer t.Stop()
		timeoutC = t.C
	}

	var res ports.StepResult
	var waitErr error
	exited, drained := false, false
	select {
	case waitErr = <-waited:
		exited = true
	case <-timeoutC:
		res.TimedOut = true
	case <-ctx.Done():
		res.Cancelled = true
	}

	// Stop what is left of the group: everything on timeout or
	// cancellation, leftover background processes otherwise. ESRCH means
	// the group is already empty.
	if syscall.Kill(-pgid, syscall.SIGTERM) == nil {
		grace := time.NewTimer(p.grace)
	wait:
		for !exited || !drained {
			select {
			case waitErr = <-waited:
				exited = true
			case <-copied:
				drained = true
			case <-grace.C:
				break wait
			}
		}
		grace.Stop()
		// Processes that closed their output but ignore SIGTERM are
		// still in the group; those already gone make this a no-op.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
	if !exited {
		// SIGKILL has gone to the group; this covers a failed kill(2).
		_ = cmd.Process.Kill()
		waitErr = <-waited
	}
	if !drained {
		select {
		case <-copied:
		case <-time.After(drainDelay):
			// A process outside the group still holds the pipe.
			_ = pr.SetReadDeadline(time.Now())
			<-copied
		}
	}
	_ = pr.Close()
	_ = masker.Flush() // sink keeps write errors
	res.Duration = time.Since(start)

	switch {
	case res.TimedOut || res.Cancelled:
		res.ExitCode = -1
	case cmd.ProcessState != nil:
		res.ExitCode = cmd.ProcessState.ExitCode() // -1 when a signal killed it
	default:
		return res, fault.Wrap(fault.Internal, waitErr, "step executor: waiting for %q", p.argv[0])
	}
	if sink.err != nil {
		return res, fault.Wrap(fault.Unavailable, sink.err, "step executor: writing the output of %q", p.argv[0])
	}
	return res, nil
}

// stickyWriter passes writes to w until one fails, then drops them and
// keeps the first error: the step's pipe must still be drained, or a step
// with a broken log sink would block on a full pipe.
type stickyWriter struct {
	w   io.Writer
	err error
}

// Write writes p to w unless an earlier write failed. It always reports
// success so that the copy from the pipe goes on.
func (s *stickyWriter) Write(p []byte) (int, error) {
	if s.err == nil {
		if _, err := s.w.Write(p); err != nil {
			s.err = err
		}
	}
	return len(p), nil
}
