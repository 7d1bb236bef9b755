package stepexec_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/onprem/stepexec"
	"github.com/catalyst-forge/forge/ports"
)

// Environment of the test binary when it plays a worker (TestMain).
const (
	workerStateEnv = "FORGE_STEPEXEC_TEST_WORKER_STATE"
	workerRunEnv   = "FORGE_STEPEXEC_TEST_WORKER_RUN"
)

// TestMain lets this test binary play a worker: with workerStateEnv set
// it runs the script in workerRunEnv as a step (its output on stdout)
// and exits.
func TestMain(m *testing.M) {
	if dir := os.Getenv(workerStateEnv); dir != "" {
		e := stepexec.New(stepexec.WithStateDir(dir))
		_, err := e.Execute(context.Background(), ports.StepRequest{Action: "script", Run: os.Getenv(workerRunEnv), Dir: dir, Output: os.Stdout})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startWorker starts this test binary as a worker running script as a
// step, and returns once the step printed "ready".
func startWorker(t *testing.T, state, script string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), workerStateEnv+"="+state, workerRunEnv+"="+script)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "ready" {
				close(ready)
				break
			}
		}
		for sc.Scan() { // keep the pipe drained
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("the step never printed ready")
	}
	return cmd
}

// running returns the PIDs of processes whose command line holds cmd.
func running(t *testing.T, cmd string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatalf("cannot list processes: %v", err)
	}
	var pids []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		if strings.Contains(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})), cmd) {
			if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && strings.Contains(string(stat), ") Z ") {
				continue // a zombie waiting for its parent has ended
			}
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// goneWithin fails unless no process whose command line holds cmd runs
// within d.
func goneWithin(t *testing.T, cmd string, d time.Duration, why string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		pids := running(t, cmd)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%q still runs (pids %v) %s", cmd, pids, why)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAStepDiesWithItsWorker kills a worker process (SIGKILL) while its
// step runs: the step's process gets the parent-death signal and is gone
// within seconds, with no sweep.
func TestAStepDiesWithItsWorker(t *testing.T) {
	state := t.TempDir()
	w := startWorker(t, state, "echo ready; exec sleep 63.71")
	// "ready" comes just before the shell execs sleep; while it does, its
	// command line may read empty for a moment.
	for deadline := time.Now().Add(3 * time.Second); len(running(t, "sleep 63.71")) != 1; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the step is not to be seen before the kill")
		}
	}
	if err := w.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	goneWithin(t, "sleep 63.71", 3*time.Second, "after its worker was killed")
}

// TestSweepKillsWhatADeadWorkerLeft kills a worker whose step started
// processes of its own: the step's first process dies with the worker;
// the processes it started are orphans until the next worker's Sweep,
// which kills them (and only them) and removes the record.
func TestSweepKillsWhatADeadWorkerLeft(t *testing.T) {
	state := t.TempDir()
	w := startWorker(t, state, "sleep 61.37 & sleep 62.41 & echo ready; wait")
	if err := w.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// Not reaped yet, as a worker whose supervisor is slow: a zombie is
	// dead to the sweep.
	zombie := filepath.Join("/proc", fmt.Sprint(w.Process.Pid), "stat")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(zombie); err == nil && strings.Contains(string(b), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the killed worker never became a zombie")
		}
	}
	// The step's own shell dies of the parent-death signal, which the
	// kernel delivers on its own time; what is left is the orphans.
	goneWithin(t, "echo ready; wait", 3*time.Second, "after its worker was killed")
	// An unrelated process in a group of its own is never touched.
	bystander := exec.Command("sleep", "64.19")
	if err := bystander.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = bystander.Process.Kill(); _ = bystander.Wait() }()

	// A live worker's records are not swept: this executor's own process
	// is not the recorded owner, and the owner is dead, so sweeping now
	// finds the orphans.
	n, err := stepexec.New(stepexec.WithStateDir(state)).Sweep()
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("Sweep killed %d processes, want the 2 orphaned sleeps", n)
	}
	goneWithin(t, "sleep 61.37", 3*time.Second, "after the sweep")
	goneWithin(t, "sleep 62.41", 3*time.Second, "after the sweep")
	if len(running(t, "sleep 64.19")) != 1 {
		t.Error("the sweep killed a process that was not the step's")
	}
	if left, _ := filepath.Glob(filepath.Join(state, "*.step")); len(left) != 0 {
		t.Errorf("records left after the sweep: %v", left)
	}
}

// TestARunningStepIsNotSwept sweeps while a step of this process runs:
// nothing is killed, and the step's record is gone once it ends.
func TestARunningStepIsNotSwept(t *testing.T) {
	state := t.TempDir()
	e := stepexec.New(stepexec.WithStateDir(state))
	done := make(chan error, 1)
	go func() {
		_, err := e.Execute(context.Background(), ports.StepRequest{Action: "script", Run: "sleep 0.8", Dir: state, Output: &bytes.Buffer{}})
		done <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if left, _ := filepath.Glob(filepath.Join(state, "*.step")); len(left) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the running step was never recorded")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n, err := e.Sweep(); err != nil || n != 0 {
		t.Errorf("Sweep = %d, %v while the step runs", n, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(state, "*.step")); len(left) != 0 {
		t.Errorf("records left after the step ended: %v", left)
	}
}
