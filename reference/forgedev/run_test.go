package forgedev

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/reference/internal/gittest"
	"github.com/catalyst-forge/forge/reference/internal/proctest"
)

// example copies the example monorepo into a temporary directory.
func example(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "monorepo")
	if err := os.CopyFS(dir, os.DirFS("../examples/monorepo")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func edit(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func steps(run *pipeline.Run) map[string]pipeline.Step {
	out := map[string]pipeline.Step{}
	for _, ph := range run.Phases {
		for _, t := range ph.Tasks {
			for _, s := range t.Steps {
				out[ph.Name+"/"+t.ProjectName+"/"+s.Name] = s
			}
		}
	}
	return out
}

// TestGreenPipeline runs the example monorepo end to end: every step of
// every project runs for real and succeeds, in priority order.
func TestGreenPipeline(t *testing.T) {
	var progress bytes.Buffer
	out, err := Run(context.Background(), Options{Dir: example(t), Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	run := out.Run
	if run.Status != pipeline.StatusSuccess || !out.Snapshot {
		t.Fatalf("run %s (snapshot %v)\n%s", run.Status, out.Snapshot, progress.String())
	}
	all := steps(run)
	if len(all) != 9 {
		t.Errorf("%d steps, want the example's 9: %v", len(all), all)
	}
	for name, s := range all {
		if s.Status != pipeline.StatusSuccess || s.ExitCode == nil || *s.ExitCode != 0 || s.LogsKey == "" {
			t.Errorf("%s: %s exit %v log %q", name, s.Status, s.ExitCode, s.LogsKey)
		}
	}
	// compile (priority 10) ends before verify (priority 0) starts.
	compile, verify := all["build/hello-api/compile"], all["build/hello-api/verify"]
	if compile.CompletedAt == nil || verify.StartedAt == nil || verify.StartedAt.Before(*compile.CompletedAt) {
		t.Errorf("compile ended %v, verify started %v", compile.CompletedAt, verify.StartedAt)
	}
	for _, want := range []string{"Discovered 3 projects", "Running phase group 2 of 2", "✓ test/hello-api/unit", "Pipeline succeeded"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, progress.String())
		}
	}
}

// TestFailingStepStopsThePipeline fails a group-1 step: the run fails with
// the step named, its exit code and log tail are kept, and group 2 never starts.
func TestFailingStepStopsThePipeline(t *testing.T) {
	dir := example(t)
	edit(t, filepath.Join(dir, "libs/greeting/.forge/project.cue"), `run:    "sh -n greeting.sh"`, `run:    "echo checking; echo broken >&2; exit 4"`)
	out, err := Run(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	run := out.Run
	if run.Status != pipeline.StatusFailed || run.Reason != "step syntax of greeting failed in phase check" {
		t.Fatalf("run %s: %q", run.Status, run.Reason)
	}
	all := steps(run)
	if s := all["check/greeting/syntax"]; s.Status != pipeline.StatusFailed || s.ExitCode == nil || *s.ExitCode != 4 {
		t.Errorf("failed step = %+v", s)
	}
	for name, s := range all {
		if strings.HasPrefix(name, "test/") && s.Status != pipeline.StatusSkipped {
			t.Errorf("%s is %s; group 2 must never start", name, s.Status)
		}
	}
	if got := out.FailedLogs["check/greeting/syntax"]; got != "checking\nbroken" {
		t.Errorf("log tail = %q", got)
	}
}

// TestStepTimeout gives a step a timeout it overruns: it is killed and
// fails, and its log says so.
func TestStepTimeout(t *testing.T) {
	dir := example(t)
	edit(t, filepath.Join(dir, "libs/greeting/.forge/project.cue"), `run:    "sh -n greeting.sh"`, `run:    "sleep 30"
		timeout: "500ms"`)
	start := time.Now()
	out, err := Run(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the run took %s; the step should have been killed at 500ms", took)
	}
	s := steps(out.Run)["check/greeting/syntax"]
	if out.Run.Status != pipeline.StatusFailed || s.Status != pipeline.StatusFailed || s.ExitCode == nil || *s.ExitCode != -1 {
		t.Fatalf("run %s, step %+v", out.Run.Status, s)
	}
	if !strings.Contains(out.FailedLogs["check/greeting/syntax"], "timed out after 500ms") {
		t.Errorf("log tail = %q", out.FailedLogs["check/greeting/syntax"])
	}
}

// TestRunsACommitOfAGitRepository runs --ref of a real git work tree.
func TestRunsACommitOfAGitRepository(t *testing.T) {
	dir := example(t)
	gittest.CommitAll(t, dir)
	data := t.TempDir()
	out, err := Run(context.Background(), Options{Dir: dir, Ref: "main", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if out.Run.Status != pipeline.StatusSuccess || out.Snapshot || out.Run.Branch != "main" {
		t.Fatalf("run %s (%q) snapshot %v branch %q, failed logs %v", out.Run.Status, out.Run.Reason, out.Snapshot, out.Run.Branch, out.FailedLogs)
	}
	if _, err := os.Stat(filepath.Join(data, "forge.db")); err != nil {
		t.Errorf("--data was not used: %v", err)
	}
	if _, err := Run(context.Background(), Options{Dir: dir, Ref: "no-such-branch"}); err == nil || !strings.Contains(err.Error(), "does not name a commit") {
		t.Errorf("unknown ref = %v", err)
	}
}

// lineWatcher is a progress writer that signals when a line containing
// want has been written.
type lineWatcher struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
}

func watchFor(want string) *lineWatcher {
	return &lineWatcher{want: want, seen: make(chan struct{})}
}

func (w *lineWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.want != "" && strings.Contains(w.buf.String(), w.want) {
		w.want = ""
		close(w.seen)
	}
	return len(p), nil
}

func (w *lineWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestInterruptedDevRunIsCancelled interrupts 'forge dev run' (Ctrl-C)
// while a step runs: the run is cancelled, the step's processes are
// killed within the workers' status poll, group 2 never starts, and every
// step ends in a recorded state.
func TestInterruptedDevRunIsCancelled(t *testing.T) {
	dir := example(t)
	edit(t, filepath.Join(dir, "libs/greeting/.forge/project.cue"), `run:    "sh -n greeting.sh"`, `run:    "sleep 41.7"`)
	progress := watchFor("▶ check/greeting/syntax")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-progress.seen
		time.Sleep(200 * time.Millisecond)
		if len(proctest.Running(t, "sleep 41.7")) == 0 {
			t.Error("the step's process is not to be seen before the interrupt")
		}
		cancel()
	}()
	start := time.Now()
	out, err := Run(ctx, Options{Dir: dir, Progress: progress})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("the interrupted run took %s", took)
	}
	run := out.Run
	if run.Status != pipeline.StatusCancelled || !strings.Contains(run.Reason, "cancelled by") {
		t.Fatalf("run %s (%q)\n%s", run.Status, run.Reason, progress.String())
	}
	for name, s := range steps(run) {
		switch {
		case name == "check/greeting/syntax":
			if s.Status != pipeline.StatusFailed || s.ExitCode == nil || *s.ExitCode != -1 {
				t.Errorf("the stopped step = %s exit %v", s.Status, s.ExitCode)
			}
		case strings.HasPrefix(name, "test/"):
			if s.Status != pipeline.StatusSkipped {
				t.Errorf("%s is %s; group 2 must never start", name, s.Status)
			}
		case !s.Status.Terminal():
			t.Errorf("%s was left %s", name, s.Status)
		}
	}
	proctest.Gone(t, "sleep 41.7")
	if !strings.Contains(progress.String(), "interrupted: cancelling run") {
		t.Errorf("progress:\n%s", progress.String())
	}
}

// TestAFailureStopsRunningSiblings fails a step while a step of another
// project runs in the same phase group: the running one is killed within
// the workers' status poll, recorded with exit code -1, and group 2 never
// starts.
func TestAFailureStopsRunningSiblings(t *testing.T) {
	dir := example(t)
	// The failing step waits until its sibling runs, however loaded the
	// machine is, so that there is a running sibling to stop.
	started := filepath.Join(t.TempDir(), "sibling-started")
	edit(t, filepath.Join(dir, "libs/greeting/.forge/project.cue"), `run:    "sh -n greeting.sh"`, `run:    "touch `+started+`; sleep 47.3"`)
	edit(t, filepath.Join(dir, "services/hello-web/.forge/project.cue"), `run:    "sh build.sh"`,
		`run:    "while [ ! -e `+started+` ]; do sleep 0.05; done; sleep 0.2; echo no site; exit 3"`)
	start := time.Now()
	out, err := Run(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("the run took %s; the sleeping sibling should have been stopped", took)
	}
	run := out.Run
	if run.Status != pipeline.StatusFailed || run.Reason != "step site of hello-web failed in phase build" {
		t.Fatalf("run %s: %q", run.Status, run.Reason)
	}
	all := steps(run)
	if s := all["build/hello-web/site"]; s.ExitCode == nil || *s.ExitCode != 3 {
		t.Errorf("the failed step = %s exit %v", s.Status, s.ExitCode)
	}
	if s := all["check/greeting/syntax"]; s.Status != pipeline.StatusFailed || s.ExitCode == nil || *s.ExitCode != -1 {
		t.Errorf("the running sibling = %s exit %v", s.Status, s.ExitCode)
	}
	for name, s := range all {
		if strings.HasPrefix(name, "test/") && s.Status != pipeline.StatusSkipped {
			t.Errorf("%s is %s; group 2 must never start", name, s.Status)
		}
	}
	proctest.Gone(t, "sleep 47.3")
}
