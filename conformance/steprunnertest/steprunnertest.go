package steprunnertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// Factory returns a new executor for one spec and a cleanup func (may be
// nil), called when the spec ends. The suite expects a step to be gone
// within 2 s of its timeout or cancellation, so the executor's grace
// period between SIGTERM and SIGKILL should be well under a second (the
// suite's steps exit on SIGTERM, but a slow grace period is not a reason
// to wait).
type Factory func() (ports.StepExecutor, func())

// Steps makes requests that drive an executor of one kind: each method
// returns a request with Action and what that action needs (Target and
// Args, or Run and Shell), and with Env and Secrets empty; the suite fills
// in Dir, Output, Timeout, Env and Secrets. Text, names and paths given to
// the methods are printable ASCII without newlines or quotes.
type Steps interface {
	// Succeed returns a step that exits 0 and prints nothing.
	Succeed() ports.StepRequest
	// Fail returns a step that exits with code (1 to 125).
	Fail(code int) ports.StepRequest
	// Print returns a step that writes text and a newline to its standard
	// output, then text and a newline to its standard error, and exits 0.
	Print(text string) ports.StepRequest
	// Sleep returns a step that sleeps for d, then exits 0.
	Sleep(d time.Duration) ports.StepRequest
	// PrintEnv returns a step that writes the value of the environment
	// variable name and a newline to its standard output (just the newline
	// when it is unset), and exits 0.
	PrintEnv(name string) ports.StepRequest
	// SpawnChildThatSleeps returns a step that starts a child process
	// that sleeps for d, writes "<pid of the step>\n<pid of the child>\n"
	// to pidFile (relative to Dir unless absolute), waits for the child
	// and exits 0. The step's pid is that of the process the executor
	// started (the shell, the earthly binary). The file should appear
	// whole (write it under another name and rename it); the suite polls
	// for it.
	SpawnChildThatSleeps(d time.Duration, pidFile string) ports.StepRequest
}

// Describe declares the StepExecutor conformance specs for the adapter
// called name, each on a fresh executor from factory and with requests
// made by steps. Call it at the top level of a Ginkgo suite file (var _ =
// steprunnertest.Describe(...)) or inside a container. It returns what
// ginkgo.Describe returns.
func Describe(name string, factory Factory, steps Steps) bool {
	return ginkgo.Describe("StepExecutor conformance: "+name, func() {
		h := &harness{steps: steps}

		ginkgo.BeforeEach(func() {
			executor, cleanup := factory()
			Expect(executor).NotTo(BeNil(), "the factory returned no executor")
			h.executor = executor
			h.dir = ginkgo.GinkgoT().TempDir()
			if cleanup != nil {
				ginkgo.DeferCleanup(cleanup)
			}
		})

		describeResults(h)
		describeOutput(h)
		describeSecrets(h)
		describeTermination(h)
		describeValidation(h)
	})
}

// harness holds the executor and directory of the running spec.
type harness struct {
	steps    Steps
	executor ports.StepExecutor
	dir      string
}

// outcome is what one Execute call returned.
type outcome struct {
	result  ports.StepResult
	err     error
	output  string
	elapsed time.Duration
}

// run executes req in the spec's directory with timeout and returns what
// Execute returned and the output it wrote.
func (h *harness) run(ctx context.Context, req ports.StepRequest, timeout time.Duration) outcome {
	ginkgo.GinkgoHelper()
	return await(h.start(ctx, req, timeout))
}

// hangLimit is how long the suite waits for Execute to return before it
// declares the executor stuck; every step of the suite ends well before.
const hangLimit = 30 * time.Second

// await returns the outcome of a step started by start, failing the spec
// if Execute does not return within hangLimit.
func await(done <-chan outcome) outcome {
	ginkgo.GinkgoHelper()
	select {
	case o := <-done:
		return o
	case <-time.After(hangLimit):
		ginkgo.Fail(fmt.Sprintf("Execute did not return within %s", hangLimit))
		return outcome{}
	}
}

// start executes req like run, in the background.
func (h *harness) start(ctx context.Context, req ports.StepRequest, timeout time.Duration) <-chan outcome {
	out := &recorder{}
	req.Dir, req.Output, req.Timeout = h.dir, out, timeout
	ginkgo.DeferCleanup(func() {
		Expect(out.lateWrites()).To(BeZero(), "the executor wrote to Output after Execute returned")
	})
	done := make(chan outcome, 1)
	go func() {
		defer ginkgo.GinkgoRecover()
		began := time.Now()
		res, err := h.executor.Execute(ctx, req)
		elapsed := time.Since(began)
		done <- outcome{result: res, err: err, output: out.seal(), elapsed: elapsed}
	}()
	return done
}

// recorder is the Output of a step. It notes writes that come after
// Execute returned, which the contract does not allow.
type recorder struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	sealed bool
	late   int
}

// Write records p.
func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sealed {
		r.late++
	}
	return r.buf.Write(p)
}

// seal marks the end of Execute and returns what was written.
func (r *recorder) seal() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sealed = true
	return r.buf.String()
}

// lateWrites returns how many writes came after seal.
func (r *recorder) lateWrites() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.late
}

// expectKind asserts that err is a *fault.Error of kind k.
func expectKind(err error, k fault.Kind) {
	ginkgo.GinkgoHelper()
	Expect(err).To(HaveOccurred(), "want a %s error", k)
	var fe *fault.Error
	Expect(errors.As(err, &fe)).To(BeTrue(), "want a *fault.Error, got %T: %v", err, err)
	Expect(fe.Kind).To(Equal(k), "error: %v", err)
}

// waitForPIDs polls pidFile until it holds the step's and the child's
// pids, failing if the step ends first or nothing appears within 10 s.
func waitForPIDs(pidFile string, done <-chan outcome) (step, child int) {
	ginkgo.GinkgoHelper()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if step, child, ok := readPIDs(pidFile); ok {
			return step, child
		}
		select {
		case o := <-done:
			ginkgo.Fail(fmt.Sprintf("the step ended before writing %s: result %+v, error %v, output %q",
				pidFile, o.result, o.err, o.output))
		case <-deadline:
			ginkgo.Fail("the step wrote no pid file " + pidFile + " within 10s")
		case <-tick.C:
		}
	}
}

// readPIDs parses a pid file written by a SpawnChildThatSleeps step.
func readPIDs(pidFile string) (step, child int, ok bool) {
	data, err := os.ReadFile(pidFile)
	if err != nil || !bytes.HasSuffix(data, []byte("\n")) {
		return 0, 0, false
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 2 {
		return 0, 0, false
	}
	step, err1 := strconv.Atoi(strings.TrimSpace(lines[0]))
	child, err2 := strconv.Atoi(strings.TrimSpace(lines[1]))
	if err1 != nil || err2 != nil || step <= 0 || child <= 0 {
		return 0, 0, false
	}
	return step, child, true
}

// expectGone asserts that the process pid is gone (soon: signals are
// delivered asynchronously).
func expectGone(pid int, what string) {
	ginkgo.GinkgoHelper()
	Eventually(func() bool { return gone(pid) }).
		WithTimeout(time.Second).WithPolling(10*time.Millisecond).
		Should(BeTrue(), "%s (pid %d) is still running", what, pid)
}

// gone reports whether the process pid no longer runs: kill(pid, 0) fails
// with ESRCH, or the process is a zombie waiting to be reaped (orphans are
// reaped by PID 1, which in some containers does so only now and then).
// EPERM means the pid now belongs to another user's process.
func gone(pid int) bool {
	switch err := syscall.Kill(pid, 0); {
	case errors.Is(err, syscall.ESRCH), errors.Is(err, syscall.EPERM):
		return true
	case err != nil:
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return os.IsNotExist(err)
	}
	// The state follows the command name, which is in parentheses and
	// may itself hold ") ".
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return false
	}
	state := stat[i+2]
	return state == 'Z' || state == 'X'
}

// procFile reads /proc/<pid>/<name>, skipping the spec where /proc is not
// readable.
func procFile(pid int, name string) string {
	ginkgo.GinkgoHelper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, name))
	if err != nil {
		if _, statErr := os.Stat("/proc/self/" + name); statErr != nil {
			ginkgo.Skip("this host has no /proc/<pid>/" + name)
		}
		Expect(err).NotTo(HaveOccurred(), "reading /proc/%d/%s while the step runs", pid, name)
	}
	return string(data)
}
