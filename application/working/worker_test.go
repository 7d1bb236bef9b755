package working_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/application/working"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
)

// The fakes below stand for the ports a worker uses; the real adapters
// have their own conformance suites.

// sources checks out a fixed tree of files into a temporary directory.
type sources struct {
	files   map[string]string
	removed int
	mu      sync.Mutex
	// fail, when set, is every checkout's error.
	fail error
}

func (s *sources) Checkout(_ context.Context, req ports.CheckoutRequest) (*ports.Workspace, error) {
	if s.fail != nil {
		return nil, s.fail
	}
	dir, err := os.MkdirTemp("", "forge-worker-test-")
	if err != nil {
		return nil, err
	}
	for name, content := range s.files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return nil, err
		}
	}
	return &ports.Workspace{Dir: dir, Commit: req.Commit, Remove: func(context.Context) error {
		s.mu.Lock()
		s.removed++
		s.mu.Unlock()
		return os.RemoveAll(dir)
	}}, nil
}

// steps runs scripted steps: "fail" exits 3, "block" waits for its ctx,
// anything else prints its name and succeeds.
type steps struct {
	mu   sync.Mutex
	reqs []ports.StepRequest
}

func (s *steps) Execute(ctx context.Context, req ports.StepRequest) (ports.StepResult, error) {
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()
	switch req.Run {
	case "fail":
		fmt.Fprintln(req.Output, "boom")
		return ports.StepResult{ExitCode: 3}, nil
	case "block":
		<-ctx.Done()
		return ports.StepResult{ExitCode: -1, Cancelled: true}, nil
	}
	fmt.Fprintln(req.Output, "ran "+req.Env["FORGE_STEP"]+" secret="+req.Secrets["TOKEN"])
	return ports.StepResult{ExitCode: 0}, nil
}

// objects keeps objects in a map.
type objects struct {
	mu   sync.Mutex
	data map[string][]byte
	// broken makes every Put fail.
	broken bool
}

func (o *objects) Put(_ context.Context, key string, r io.Reader, _ ports.PutOptions) (ports.ObjectInfo, error) {
	b, _ := io.ReadAll(r)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.broken {
		return ports.ObjectInfo{}, fault.New(fault.Unavailable, "object store: disk full")
	}
	o.data[key] = b
	return ports.ObjectInfo{Key: key, Size: int64(len(b))}, nil
}

func (o *objects) Get(_ context.Context, key string, off int64) (io.ReadCloser, ports.ObjectInfo, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	b, ok := o.data[key]
	if !ok {
		return nil, ports.ObjectInfo{}, fault.New(fault.NotFound, "no %s", key)
	}
	return io.NopCloser(bytes.NewReader(b[min(off, int64(len(b))):])), ports.ObjectInfo{Key: key, Size: int64(len(b))}, nil
}
func (o *objects) Stat(context.Context, string) (ports.ObjectInfo, error) {
	return ports.ObjectInfo{}, nil
}
func (o *objects) Delete(context.Context, string) error { return nil }
func (o *objects) List(context.Context, string, string, int) ([]ports.ObjectInfo, bool, error) {
	return nil, false, nil
}
func (o *objects) PresignGet(context.Context, string, time.Duration) (string, error) { return "", nil }

func (o *objects) text(key string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return string(o.data[key])
}

// reporter records reports; its run status can be set.
type reporter struct {
	mu      sync.Mutex
	events  []string
	run     pipeline.Status
	codes   map[string]int
	logKeys map[string]string
	// refuse, when set, makes ReportStep fail with its error.
	refuse func(id string, st pipeline.Status) error
}

func (r *reporter) ReportTask(_ context.Context, id string, st pipeline.Status, reason string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, "task "+string(st)+" "+reason)
	return nil
}

func (r *reporter) ReportStep(_ context.Context, id string, st pipeline.Status, code *int, key string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refuse != nil {
		if err := r.refuse(id, st); err != nil {
			r.events = append(r.events, "refused step "+id+" "+string(st))
			return err
		}
	}
	r.events = append(r.events, "step "+id+" "+string(st))
	if code != nil {
		r.codes[id] = *code
	}
	if key != "" {
		r.logKeys[id] = key
	}
	return nil
}

func (r *reporter) RunStatus(context.Context, string) (pipeline.Status, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.run, nil
}

func (r *reporter) has(event string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e == event {
			return true
		}
	}
	return false
}

type env struct {
	w       *working.Worker
	src     *sources
	exec    *steps
	objs    *objects
	reports *reporter
}

func newEnv(files map[string]string) *env {
	e := &env{src: &sources{files: files}, exec: &steps{}, objs: &objects{data: map[string][]byte{}},
		reports: &reporter{run: pipeline.StatusRunning, codes: map[string]int{}, logKeys: map[string]string{}}}
	e.w = &working.Worker{Sources: e.src, Steps: e.exec, Objects: e.objs, Reporter: e.reports,
		Remote:     func(repo string) (string, error) { return "file:///repos/" + repo, nil },
		Secrets:    func(_ context.Context, ref config.SecretRef) (string, error) { return "s3cr3t", nil },
		LogFlush:   20 * time.Millisecond,
		CancelPoll: 20 * time.Millisecond}
	return e
}

func script(name, run string, prio int) orchestrating.TaskStep {
	return orchestrating.TaskStep{ID: "id-" + name, Step: config.Step{Name: name, Action: config.ActionScript, Run: run, Priority: prio}}
}

func taskJob(steps ...orchestrating.TaskStep) *ports.Delivery {
	payload, _ := json.Marshal(orchestrating.TaskJob{RunID: "run1", TaskID: "task1", Repository: "acme/mono", CommitSHA: strings.Repeat("c", 40),
		Phase: "test", Project: "api", Path: "services/api", Steps: steps})
	return &ports.Delivery{Job: job.Job{ID: "task1", Type: job.TypeCI, Payload: payload, Timeout: time.Minute}, Attempt: 1}
}

func result(t *testing.T, b []byte, err error) orchestrating.TaskResult {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	var r orchestrating.TaskResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTaskRunsStepsInPriorityBatches(t *testing.T) {
	e := newEnv(map[string]string{"services/api/main.go": "package main\n"})
	lint := script("lint", "lint", 10)
	lint.Secrets = []config.SecretRef{{Provider: "env", Config: map[string]any{"name": "X"}, Env: "token"}}
	b, err := e.w.Handle(context.Background(), taskJob(script("unit", "unit", 0), lint))
	res := result(t, b, err)
	if res.Status != pipeline.StatusSuccess {
		t.Fatalf("result = %+v", res)
	}
	if len(e.exec.reqs) != 2 || e.exec.reqs[0].Env["FORGE_STEP"] != "lint" || e.exec.reqs[1].Env["FORGE_STEP"] != "unit" {
		t.Fatalf("steps ran in the wrong order: %+v", e.exec.reqs)
	}
	if req := e.exec.reqs[1]; !strings.HasSuffix(req.Dir, filepath.FromSlash("services/api")) || req.Env["FORGE_RUN_ID"] != "run1" || req.Env["FORGE_COMMIT"] != strings.Repeat("c", 40) {
		t.Errorf("step request = %+v", req)
	}
	key := working.LogKey("run1", "test", "api", "lint")
	if e.reports.logKeys["id-lint"] != key || e.objs.text(key) != "ran lint secret=s3cr3t\n" {
		t.Errorf("lint log at %q = %q", e.reports.logKeys["id-lint"], e.objs.text(key))
	}
	for _, ev := range []string{"task running ", "step id-lint running", "step id-lint success", "step id-unit success", "task success "} {
		if !e.reports.has(ev) {
			t.Errorf("no report %q in %v", ev, e.reports.events)
		}
	}
	if e.src.removed != 1 {
		t.Errorf("workspace removed %d times", e.src.removed)
	}
}

func TestFailedStepStopsSiblingsAndSkipsLaterBatches(t *testing.T) {
	e := newEnv(nil)
	b, err := e.w.Handle(context.Background(), taskJob(script("a-fails", "fail", 5), script("b-blocks", "block", 5), script("later", "later", 0)))
	res := result(t, b, err)
	if res.Status != pipeline.StatusFailed || res.FailedStep != "a-fails" {
		t.Fatalf("result = %+v", res)
	}
	if e.reports.codes["id-a-fails"] != 3 || e.reports.codes["id-b-blocks"] != -1 || !e.reports.has("step id-later skipped") {
		t.Errorf("codes %v, events %v", e.reports.codes, e.reports.events)
	}
	if !e.reports.has("task failed step a-fails failed with exit code 3") {
		t.Errorf("events %v", e.reports.events)
	}
	if got := e.objs.text(working.LogKey("run1", "test", "api", "a-fails")); got != "boom\n" {
		t.Errorf("failed step's log = %q", got)
	}
}

func TestTaskStopsWhenTheRunEnds(t *testing.T) {
	e := newEnv(nil)
	done := make(chan orchestrating.TaskResult, 1)
	go func() {
		b, err := e.w.Handle(context.Background(), taskJob(script("slow", "block", 0), script("after", "x", -1)))
		done <- result(t, b, err)
	}()
	time.Sleep(100 * time.Millisecond)
	e.reports.mu.Lock()
	e.reports.run = pipeline.StatusCancelled
	e.reports.mu.Unlock()
	select {
	case res := <-done:
		if res.Status != pipeline.StatusFailed || res.FailedStep != "" || !e.reports.has("step id-after skipped") ||
			!e.reports.has("task failed stopped: the run is cancelled") {
			t.Errorf("result %+v, events %v", res, e.reports.events)
		}
		if got := e.objs.text(working.LogKey("run1", "test", "api", "slow")); !strings.Contains(got, "stopped: the run is cancelled") {
			t.Errorf("log = %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the task did not stop when its run was cancelled")
	}
}

func TestStepsWithSecretsNeedAProvider(t *testing.T) {
	e := newEnv(nil)
	e.w.Secrets = nil
	st := script("deploy", "deploy", 0)
	st.Secrets = []config.SecretRef{{Provider: "vault", Config: map[string]any{"path": "x"}}}
	b, err := e.w.Handle(context.Background(), taskJob(st))
	res := result(t, b, err)
	if res.Status != pipeline.StatusFailed || len(e.exec.reqs) != 0 {
		t.Fatalf("result %+v after %d executions", res, len(e.exec.reqs))
	}
	if got := e.objs.text(working.LogKey("run1", "test", "api", "deploy")); !strings.Contains(got, "needs secrets, and this worker has no secret provider") {
		t.Errorf("log = %q", got)
	}
}

func TestDiscoveryJob(t *testing.T) {
	e := newEnv(map[string]string{
		".forge/repo.cue":        "package repo\nforgeVersion: \"v1.0.0\"\ntagging: strategy: \"monorepo\"\nphases: test: {group: 1}\n",
		"api/.forge/project.cue": "package project\nname: \"api\"\nci: phases: test: unit: {action: \"script\", run: \"true\"}\nrelease: on: [{branch: \"main\"}]\n",
	})
	payload, _ := json.Marshal(orchestrating.DiscoveryJob{RunID: "run1", Repository: "acme/mono", CommitSHA: strings.Repeat("c", 40), Branch: "main"})
	b, err := e.w.Handle(context.Background(), &ports.Delivery{Job: job.Job{ID: "d1", Type: job.TypeDiscovery, Payload: payload, Timeout: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	var out discovery.Output
	if err := json.Unmarshal(b, &out); err != nil || len(out.Projects) != 1 || out.Projects[0].Name != "api" || !out.ReleaseEnabled {
		t.Fatalf("output = %+v, %v", out, err)
	}
	e2 := newEnv(map[string]string{"README.md": "no forge here"})
	if _, err := e2.w.Handle(context.Background(), &ports.Delivery{Job: job.Job{ID: "d2", Type: job.TypeDiscovery, Payload: payload, Timeout: time.Minute}}); !fault.Is(err, fault.NotFound) {
		t.Errorf("discovery of a non-forge repository = %v", err)
	}
	if _, err := e.w.Handle(context.Background(), &ports.Delivery{Job: job.Job{ID: "x", Type: job.TypeRelease}}); !fault.Is(err, fault.Validation) {
		t.Errorf("a release job = %v", err)
	}
}

// TestTaskOfAnEndedRunRunsNothing: a job that waited in the queue while
// its run was cancelled checks nothing out and runs no step.
func TestTaskOfAnEndedRunRunsNothing(t *testing.T) {
	e := newEnv(nil)
	e.reports.run = pipeline.StatusCancelled
	b, err := e.w.Handle(context.Background(), taskJob(script("unit", "x", 0)))
	res := result(t, b, err)
	if res.Status != pipeline.StatusSkipped || !e.reports.has("step id-unit skipped") || !e.reports.has("task skipped the run is cancelled") {
		t.Errorf("result %+v, events %v", res, e.reports.events)
	}
	if e.src.removed != 0 || len(e.exec.reqs) != 0 {
		t.Errorf("checked out %d workspaces and ran %d steps", e.src.removed, len(e.exec.reqs))
	}
}

func TestRemoteTemplate(t *testing.T) {
	remote, err := working.RemoteTemplate("file:///srv/git/{owner}/{name}.git")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := remote("acme/mono"); err != nil || got != "file:///srv/git/acme/mono.git" {
		t.Errorf("remote = %q, %v", got, err)
	}
	if _, err := remote("../etc"); !fault.Is(err, fault.Validation) {
		t.Errorf("a bad repository name = %v", err)
	}
	if _, err := working.RemoteTemplate("file://src/{name}"); !fault.Is(err, fault.Validation) || !strings.Contains(err.Error(), "relative path") {
		t.Errorf("a relative file URL = %v", err)
	}
	if _, err := working.RemoteTemplate("file://localhost/srv/{name}"); err != nil {
		t.Errorf("file://localhost/ = %v", err)
	}
	if _, err := working.RemoteTemplate("https://git.example.com/monorepo.git"); !fault.Is(err, fault.Validation) {
		t.Errorf("a template without a placeholder = %v", err)
	}
	def, _ := working.RemoteTemplate(working.DefaultRemote)
	if got, _ := def("acme/mono"); got != "https://github.com/acme/mono.git" {
		t.Errorf("default remote = %q", got)
	}
}

// TestTaskTakenAwayReportsNothingFinal: when the job's own context ends
// (the worker is shutting down), the running step is stopped but neither
// it nor the task is reported finished: the job runs again elsewhere.
func TestTaskTakenAwayReportsNothingFinal(t *testing.T) {
	e := newEnv(nil)
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := e.w.Handle(ctx, taskJob(script("slow", "block", 0), script("after", "x", -1)))
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	shutdown := fmt.Errorf("shutting down")
	cancel(shutdown)
	select {
	case err := <-done:
		if err != shutdown {
			t.Errorf("err = %v, want the context's cause", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the task did not stop")
	}
	for _, ev := range []string{"step id-slow failed", "step id-slow success", "step id-after skipped", "task failed ", "task success "} {
		if e.reports.has(ev) {
			t.Errorf("reported %q for a job that runs again: %v", ev, e.reports.events)
		}
	}
}

// TestStepWhoseLogCannotBeStoredFails runs a step that succeeds while the
// object store refuses every write: its log is lost, so the step is
// recorded failed and the task fails saying why, instead of a success
// with no log.
func TestStepWhoseLogCannotBeStoredFails(t *testing.T) {
	e := newEnv(nil)
	e.objs.broken = true
	b, err := e.w.Handle(context.Background(), taskJob(script("build", "build", 0)))
	res := result(t, b, err)
	if res.Status != pipeline.StatusFailed || res.FailedStep != "build" {
		t.Fatalf("result = %+v", res)
	}
	for _, ev := range []string{"step id-build failed", "task failed step build ran, but its log could not be stored"} {
		if !e.reports.has(ev) {
			t.Errorf("no report %q in %v", ev, e.reports.events)
		}
	}
	if e.reports.has("step id-build success") {
		t.Errorf("the step was recorded successful: %v", e.reports.events)
	}
}

// TestStatusReportsThatFailAreNotDiscarded refuses a step's status
// reports (as the API refuses a bad one): a step whose start cannot be
// recorded does not run, one whose end cannot be recorded counts as
// failed, and either way the task fails with the reason.
func TestStatusReportsThatFailAreNotDiscarded(t *testing.T) {
	refused := fault.New(fault.Validation, "logs_s3_key is not a valid object key")
	for _, c := range []struct {
		name   string
		refuse pipeline.Status
		ran    bool
		reason string
	}{
		{"running", pipeline.StatusRunning, false, "task failed step build did not start: its status could not be recorded"},
		{"success", pipeline.StatusSuccess, true, "task failed step build ran, but its status could not be recorded"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(nil)
			e.reports.refuse = func(_ string, st pipeline.Status) error {
				if st == c.refuse {
					return refused
				}
				return nil
			}
			b, err := e.w.Handle(context.Background(), taskJob(script("build", "build", 0), script("later", "later", -1)))
			res := result(t, b, err)
			if res.Status != pipeline.StatusFailed || res.FailedStep != "build" {
				t.Fatalf("result = %+v (events %v)", res, e.reports.events)
			}
			if ran := len(e.exec.reqs) > 0; ran != c.ran {
				t.Errorf("the step ran = %v, want %v", ran, c.ran)
			}
			if !e.reports.has(c.reason) || !e.reports.has("step id-later skipped") {
				t.Errorf("events %v", e.reports.events)
			}
		})
	}
}
