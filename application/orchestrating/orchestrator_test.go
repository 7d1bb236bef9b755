package orchestrating_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/memory/memqueue"
	"github.com/catalyst-forge/forge/adapters/memory/memstore"
	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
)

// output is a discovery with two groups: build (api) then test (api, web).
func output() discovery.Output {
	step := func(name string, prio int) config.Step {
		return config.Step{Name: name, Action: config.ActionScript, Run: "echo " + name, Priority: prio, Args: []string{}, Secrets: []config.SecretRef{}}
	}
	return discovery.Output{
		Repository: discovery.Repository{ForgeVersion: "v1.0.0", Phases: map[string]config.Phase{
			"build": {Group: 1}, "test": {Group: 2, Timeout: "1m"}}},
		Projects: []discovery.Project{
			{Name: "api", Path: "services/api", Phases: map[string][]config.Step{"build": {step("compile", 10), step("vet", 0)}, "test": {step("unit", 0)}}},
			{Name: "web", Path: "services/web", Phases: map[string][]config.Step{"test": {step("unit", 0)}}},
		},
		PhaseGroups: []discovery.PhaseGroup{{Group: 1, Phases: []string{"build"}}, {Group: 2, Phases: []string{"test"}}},
	}
}

type reports struct {
	mu     sync.Mutex
	points []string
}

func (r *reports) Report(_ context.Context, _ *pipeline.Run, p ports.StatusPoint, d string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.points = append(r.points, string(p)+": "+d)
	return nil
}

type fixture struct {
	store   *memstore.Store
	queue   *memqueue.Queue
	orch    *orchestrating.Orchestrator
	reports *reports
	run     *pipeline.Run
	mu      sync.Mutex
	tasks   []orchestrating.TaskJob
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{store: memstore.New(), queue: memqueue.New(), reports: &reports{}}
	t.Cleanup(f.queue.Close)
	f.orch = &orchestrating.Orchestrator{Store: f.store, Jobs: f.queue, Status: f.reports, DiscoveryTimeout: 5 * time.Second, TaskTimeout: 5 * time.Second}
	now := time.Now().UTC()
	run, _, err := f.store.CreateRun(context.Background(), &pipeline.Run{Repository: "acme/mono", Branch: "main",
		CommitSHA: strings.Repeat("a", 40), Status: pipeline.StatusPending, CreatedAt: now, StartedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	f.run = run
	return f
}

// worker consumes discovery and CI jobs until the test ends: discovery
// answers disc; a CI job runs ci, which decides the task's result.
func (f *fixture) worker(tb testing.TB, disc func() ([]byte, error), ci func(ctx context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	tb.Cleanup(stop)
	go func() {
		defer close(done)
		_ = f.queue.Consume(ctx, []job.Type{job.TypeDiscovery, job.TypeCI}, 8, func(ctx context.Context, d *ports.Delivery) ([]byte, error) {
			if d.Job.Type == job.TypeDiscovery {
				return disc()
			}
			var tj orchestrating.TaskJob
			if err := json.Unmarshal(d.Job.Payload, &tj); err != nil {
				return nil, err
			}
			f.mu.Lock()
			f.tasks = append(f.tasks, tj)
			f.mu.Unlock()
			res, err := ci(ctx, tj)
			if err != nil {
				return nil, err
			}
			return json.Marshal(res)
		})
	}()
	return stop
}

func discoveryOf(out discovery.Output) func() ([]byte, error) {
	return func() ([]byte, error) { return json.Marshal(out) }
}

// runSteps reports every step of a task as a worker would, failing the one named fail.
func (f *fixture) runSteps(tj orchestrating.TaskJob, fail string) orchestrating.TaskResult {
	ctx := context.Background()
	for _, st := range tj.Steps {
		status := pipeline.StatusSuccess
		if st.Name == fail {
			status = pipeline.StatusFailed
		}
		_, _ = f.store.UpdateStep(ctx, st.ID, func(s *pipeline.Step) error { s.Status = status; return nil })
		if status == pipeline.StatusFailed {
			return orchestrating.TaskResult{Status: pipeline.StatusFailed, FailedStep: st.Name}
		}
	}
	return orchestrating.TaskResult{Status: pipeline.StatusSuccess}
}

func statuses(run *pipeline.Run) map[string]string {
	out := map[string]string{}
	for _, ph := range run.Phases {
		out[ph.Name] = string(ph.Status)
		for _, t := range ph.Tasks {
			out[ph.Name+"/"+t.ProjectName] = string(t.Status)
			for _, s := range t.Steps {
				out[ph.Name+"/"+t.ProjectName+"/"+s.Name] = string(s.Status)
			}
		}
	}
	return out
}

func TestGreenRun(t *testing.T) {
	f := newFixture(t)
	f.worker(t, discoveryOf(output()), func(_ context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error) {
		return f.runSteps(tj, ""), nil
	})
	if err := f.orch.Execute(context.Background(), f.run.ID); err != nil {
		t.Fatal(err)
	}
	run, _ := f.store.GetRun(context.Background(), f.run.ID)
	if run.Status != pipeline.StatusSuccess || run.CompletedAt == nil || len(run.DiscoveryOutput) == 0 {
		t.Fatalf("run = %s (completed %v, discovery %d bytes)", run.Status, run.CompletedAt, len(run.DiscoveryOutput))
	}
	want := map[string]string{"build": "success", "build/api": "success", "build/api/compile": "success", "build/api/vet": "success",
		"test": "success", "test/api": "success", "test/api/unit": "success", "test/web": "success", "test/web/unit": "success"}
	if got := statuses(run); !equal(got, want) {
		t.Errorf("statuses = %v\nwant %v", got, want)
	}
	// Group 1 was dispatched before group 2, and steps carry their IDs and order.
	if len(f.tasks) != 3 || f.tasks[0].Phase != "build" || f.tasks[0].Steps[0].Name != "compile" || f.tasks[0].Steps[0].ID == "" {
		t.Errorf("tasks = %+v", f.tasks)
	}
	if got := strings.Join(f.reports.points, "\n"); !strings.Contains(got, "discovery-complete: Discovered 2 projects") ||
		!strings.Contains(got, "phase: Running phase group 2 of 2") || !strings.Contains(got, "finished: Pipeline succeeded") {
		t.Errorf("status reports:\n%s", got)
	}
	// A finished run is left alone.
	if err := f.orch.Execute(context.Background(), f.run.ID); err != nil || len(f.tasks) != 3 {
		t.Errorf("executing a finished run again = %v, %d tasks", err, len(f.tasks))
	}
}

func TestFailFast(t *testing.T) {
	f := newFixture(t)
	f.worker(t, discoveryOf(output()), func(_ context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error) {
		return f.runSteps(tj, "compile"), nil
	})
	if err := f.orch.Execute(context.Background(), f.run.ID); err != nil {
		t.Fatal(err)
	}
	run, _ := f.store.GetRun(context.Background(), f.run.ID)
	if run.Status != pipeline.StatusFailed || !strings.Contains(run.Reason, "step compile of api failed in phase build") {
		t.Fatalf("run = %s (%q)", run.Status, run.Reason)
	}
	want := map[string]string{"build": "failed", "build/api": "failed", "build/api/compile": "failed", "build/api/vet": "skipped",
		"test": "skipped", "test/api": "skipped", "test/api/unit": "skipped", "test/web": "skipped", "test/web/unit": "skipped"}
	if got := statuses(run); !equal(got, want) {
		t.Errorf("statuses = %v\nwant %v", got, want)
	}
	if len(f.tasks) != 1 {
		t.Errorf("%d tasks dispatched; group 2 must never start", len(f.tasks))
	}
}

// TestFailureStopsTheRestOfTheGroup: the first failure ends the run at
// once; the group's other tasks, whose workers stop when they see that,
// are waited for so that the run's record is complete when Execute
// returns. A worker that never stops is waited for StopWait only.
func TestFailureStopsTheRestOfTheGroup(t *testing.T) {
	for _, stuck := range []bool{false, true} {
		f := newFixture(t)
		f.orch.StopWait = 300 * time.Millisecond
		out := output()
		out.PhaseGroups = []discovery.PhaseGroup{{Group: 1, Phases: []string{"build", "test"}}}
		out.Repository.Phases["test"] = config.Phase{Group: 1}
		release := make(chan struct{})
		f.worker(t, discoveryOf(out), func(ctx context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error) {
			if tj.Project == "web" {
				return f.runSteps(tj, "unit"), nil // fails at once
			}
			if stuck {
				<-release
				return f.runSteps(tj, ""), nil
			}
			for { // stops when its run has ended, as workers do
				if run, _ := f.store.GetRun(ctx, tj.RunID); run.Status.Terminal() {
					return orchestrating.TaskResult{Status: pipeline.StatusFailed}, nil
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
		done := make(chan error, 1)
		go func() { done <- f.orch.Execute(context.Background(), f.run.ID) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("stuck=%v: the run did not end when a task of its group failed", stuck)
		}
		close(release)
		run, _ := f.store.GetRun(context.Background(), f.run.ID)
		if run.Status != pipeline.StatusFailed || !strings.Contains(run.Reason, "step unit of web failed in phase test") {
			t.Fatalf("stuck=%v: run = %s (%q)", stuck, run.Status, run.Reason)
		}
		if got := statuses(run)["build/api"]; !stuck && got != "failed" {
			t.Errorf("the stopped sibling task = %s, want failed (recorded before Execute returned)", got)
		}
	}
}

func TestDiscoveryFailure(t *testing.T) {
	f := newFixture(t)
	f.worker(t, func() ([]byte, error) { return nil, errors.New("not a forge repository") }, nil)
	if err := f.orch.Execute(context.Background(), f.run.ID); err != nil {
		t.Fatal(err)
	}
	run, _ := f.store.GetRun(context.Background(), f.run.ID)
	if run.Status != pipeline.StatusFailed || run.Reason != "discovery failed: not a forge repository" || len(run.Phases) != 0 {
		t.Fatalf("run = %s (%q), %d phases", run.Status, run.Reason, len(run.Phases))
	}
}

func TestCancelledRunSkipsLaterGroups(t *testing.T) {
	f := newFixture(t)
	f.worker(t, discoveryOf(output()), func(_ context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error) {
		// The run is cancelled (DELETE /v1/runs/{id}) while group 1 runs.
		now := time.Now()
		_, _ = f.store.UpdateRun(context.Background(), tj.RunID, func(r *pipeline.Run) error {
			r.Status, r.Reason, r.CompletedAt = pipeline.StatusCancelled, "cancelled by alice", &now
			return nil
		})
		return f.runSteps(tj, ""), nil
	})
	if err := f.orch.Execute(context.Background(), f.run.ID); err != nil {
		t.Fatal(err)
	}
	run, _ := f.store.GetRun(context.Background(), f.run.ID)
	if run.Status != pipeline.StatusCancelled || run.Reason != "cancelled by alice" {
		t.Fatalf("run = %s (%q)", run.Status, run.Reason)
	}
	if got := statuses(run); got["test"] != "skipped" || got["test/web/unit"] != "skipped" || len(f.tasks) != 1 {
		t.Errorf("statuses = %v, %d tasks", got, len(f.tasks))
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
