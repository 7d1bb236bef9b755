package orchestrating_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
)

func (f *fixture) waitFinished(t *testing.T) *pipeline.Run {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		run, err := f.store.GetRun(context.Background(), f.run.ID)
		if err == nil && run.Status.Terminal() {
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("run still %s after 10 s", run.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLocalEngineResumesWhereTheRunStopped: the process stopped after
// group 1; the restarted engine finds the run still running, resumes it
// and runs only group 2, without dispatching discovery or group 1 again.
func TestLocalEngineResumesWhereTheRunStopped(t *testing.T) {
	f := newFixture(t)
	discoveries := 0
	var mu sync.Mutex
	f.worker(t, func() ([]byte, error) {
		mu.Lock()
		discoveries++
		mu.Unlock()
		return discoveryOf(output())()
	}, func(_ context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error) {
		return f.runSteps(tj, ""), nil
	})
	ctx := context.Background()
	plan, err := f.orch.Discover(ctx, f.run.ID)
	if err != nil || plan.Ended || len(plan.Groups) != 2 || plan.Groups[0] != 1 {
		t.Fatalf("discover = %+v, %v", plan, err)
	}
	if ended, err := f.orch.RunGroup(ctx, f.run.ID, 1); err != nil || ended {
		t.Fatalf("group 1 = %v, %v", ended, err)
	}
	if _, err := f.orch.RunGroup(ctx, f.run.ID, 7); !fault.Is(err, fault.Validation) {
		t.Errorf("an unknown group = %v", err)
	}

	eng := orchestrating.NewLocalEngine(f.orch, nil)
	defer eng.Close()
	if n, err := eng.Resume(ctx); err != nil || n != 1 {
		t.Fatalf("resume = %d, %v", n, err)
	}
	run := f.waitFinished(t)
	if run.Status != pipeline.StatusSuccess {
		t.Fatalf("resumed run = %s (%s)", run.Status, run.Reason)
	}
	mu.Lock()
	defer mu.Unlock()
	if discoveries != 1 || len(f.tasks) != 3 {
		t.Errorf("discoveries = %d, tasks = %d: the resumed run repeated finished work", discoveries, len(f.tasks))
	}
	if n, _ := eng.Resume(ctx); n != 0 {
		t.Errorf("a second resume started %d runs", n)
	}
}

// flaky fails its first dispatch as an unreachable queue would.
type flaky struct {
	ports.JobQueue
	mu    sync.Mutex
	fails int
}

func (q *flaky) Dispatch(ctx context.Context, j job.Job) (job.Result, error) {
	q.mu.Lock()
	if q.fails > 0 {
		q.fails--
		q.mu.Unlock()
		return job.Result{}, fault.New(fault.Unavailable, "queue unreachable")
	}
	q.mu.Unlock()
	return q.JobQueue.Dispatch(ctx, j)
}

// TestLocalEngineRetriesAfterAnError: a run whose orchestration failed
// for a passing reason is driven again, and starting it twice drives it
// once.
func TestLocalEngineRetriesAfterAnError(t *testing.T) {
	f := newFixture(t)
	f.orch.Jobs = &flaky{JobQueue: f.queue, fails: 1}
	f.worker(t, discoveryOf(output()), func(_ context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error) {
		return f.runSteps(tj, ""), nil
	})
	var mu sync.Mutex
	var errs []error
	eng := orchestrating.NewLocalEngine(f.orch, func(id string, err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	})
	defer eng.Close()
	for range 2 {
		if name, err := eng.Start(context.Background(), f.run); err != nil || name != "" {
			t.Fatalf("start = %q, %v", name, err)
		}
	}
	run := f.waitFinished(t)
	if run.Status != pipeline.StatusSuccess {
		t.Fatalf("run = %s (%s)", run.Status, run.Reason)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(errs) != 1 || !fault.Is(errs[0], fault.Unavailable) || len(f.tasks) != 3 {
		t.Errorf("errors = %v, tasks = %d", errs, len(f.tasks))
	}
}

// TestRunLimit: a run that passes its time limit while a group runs fails
// with a reason, its unstarted work skipped; one found past its limit
// (after a long outage) fails without dispatching anything.
func TestRunLimit(t *testing.T) {
	f := newFixture(t)
	f.orch.Limit = 300 * time.Millisecond
	f.worker(t, discoveryOf(output()), func(ctx context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error) {
		// Starts its first step, never finishes on its own, and stops
		// when the run has ended, as workers do.
		_, _ = f.store.UpdateTask(ctx, tj.TaskID, func(t *pipeline.Task) error { t.Status = pipeline.StatusRunning; return nil })
		_, _ = f.store.UpdateStep(ctx, tj.Steps[0].ID, func(s *pipeline.Step) error { s.Status = pipeline.StatusRunning; return nil })
		for {
			if run, err := f.store.GetRun(ctx, tj.RunID); err == nil && run.Status.Terminal() {
				return orchestrating.TaskResult{Status: pipeline.StatusFailed}, nil
			}
			select {
			case <-ctx.Done():
				return orchestrating.TaskResult{}, ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	if err := f.orch.Execute(context.Background(), f.run.ID); err != nil {
		t.Fatal(err)
	}
	run, _ := f.store.GetRun(context.Background(), f.run.ID)
	if run.Status != pipeline.StatusFailed || run.Reason != "the run passed its 300ms limit" {
		t.Fatalf("run = %s (%q)", run.Status, run.Reason)
	}
	if got := statuses(run); got["build"] != "failed" || got["build/api/compile"] != "failed" || got["build/api/vet"] != "skipped" ||
		got["test"] != "skipped" || got["test/web/unit"] != "skipped" {
		t.Errorf("statuses = %v", got)
	}

	g := newFixture(t)
	long := time.Now().Add(-25 * time.Hour)
	old, _, err := g.store.CreateRun(context.Background(), &pipeline.Run{Repository: "acme/mono", CommitSHA: strings.Repeat("b", 40),
		Status: pipeline.StatusRunning, CreatedAt: long, StartedAt: long})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.orch.Execute(context.Background(), old.ID); err != nil {
		t.Fatal(err)
	}
	run, _ = g.store.GetRun(context.Background(), old.ID)
	if run.Status != pipeline.StatusFailed || run.Reason != "the run passed its 24h0m0s limit" || len(g.tasks) != 0 {
		t.Errorf("run = %s (%q), %d tasks dispatched", run.Status, run.Reason, len(g.tasks))
	}
}

// discoveredWithBuildRunning discovers the fixture's run and marks its
// first task of phase build, and that task's first step, running, as a
// worker would; it returns the build phase.
func (f *fixture) discoveredWithBuildRunning(t *testing.T) pipeline.Phase {
	t.Helper()
	f.worker(t, discoveryOf(output()), nil)
	ctx := context.Background()
	if _, err := f.orch.Discover(ctx, f.run.ID); err != nil {
		t.Fatal(err)
	}
	run, _ := f.store.GetRun(ctx, f.run.ID)
	build := run.Phases[0]
	_, _ = f.store.UpdateTask(ctx, build.Tasks[0].ID, func(t *pipeline.Task) error { t.Status = pipeline.StatusRunning; return nil })
	_, _ = f.store.UpdateStep(ctx, build.Tasks[0].Steps[0].ID, func(s *pipeline.Step) error { s.Status = pipeline.StatusRunning; return nil })
	return build
}

// engineStub answers Active from a set of active runs.
type engineStub struct{ active map[string]bool }

func (e engineStub) Start(context.Context, *pipeline.Run) (string, error) { return "", nil }
func (e engineStub) Retry(context.Context, *pipeline.Run) (string, error) { return "", nil }
func (e engineStub) Cancel(context.Context, *pipeline.Run) error          { return nil }
func (e engineStub) Active(_ context.Context, r *pipeline.Run) (bool, error) {
	return e.active[r.ID], nil
}

// TestReconcileEndsRunsWhoseWorkflowIsGone: a run whose workflow ended
// without ending the run (a failed or deleted Argo workflow) is failed
// with a reason, its running step failed and the rest skipped; runs whose
// workflow is active, or which are younger than the grace, are left alone.
func TestReconcileEndsRunsWhoseWorkflowIsGone(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.discoveredWithBuildRunning(t)
	mk := func(sha string) *pipeline.Run {
		r, _, err := f.store.CreateRun(ctx, &pipeline.Run{Repository: "acme/mono", CommitSHA: strings.Repeat(sha, 40),
			Status: pipeline.StatusPending, CreatedAt: time.Now().Add(-time.Hour), StartedAt: time.Now().Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	alive := mk("b")
	later := time.Now().Add(10 * time.Minute) // the fixture's run is ten minutes old
	f.orch.Clock = func() time.Time { return later }
	young, _, _ := f.store.CreateRun(ctx, &pipeline.Run{Repository: "acme/mono", CommitSHA: strings.Repeat("c", 40),
		Status: pipeline.StatusPending, CreatedAt: later, StartedAt: later})

	n, err := f.orch.Reconcile(ctx, engineStub{active: map[string]bool{alive.ID: true}}, time.Minute)
	if err != nil || n != 1 {
		t.Fatalf("reconcile = %d, %v; want the one abandoned run ended", n, err)
	}
	got, _ := f.store.GetRun(ctx, f.run.ID)
	if got.Status != pipeline.StatusFailed || !strings.Contains(got.Reason, "its workflow ended before the run did") {
		t.Fatalf("abandoned run = %s (%q)", got.Status, got.Reason)
	}
	want := map[string]string{"build": "failed", "build/api": "failed", "build/api/compile": "failed", "build/api/vet": "skipped",
		"test": "skipped", "test/api": "skipped", "test/api/unit": "skipped", "test/web": "skipped", "test/web/unit": "skipped"}
	if s := statuses(got); !equal(s, want) {
		t.Errorf("statuses = %v\nwant %v", s, want)
	}
	for _, id := range []string{alive.ID, young.ID} {
		if r, _ := f.store.GetRun(ctx, id); r.Status != pipeline.StatusPending {
			t.Errorf("run %s was touched: %s", id, r.Status)
		}
	}
}

// TestReconcileTidiesACancelledRun: a run cancelled while its (Argo)
// workflow's dispatcher was killed keeps running and pending records;
// once the workflow has stopped, Reconcile ends them.
func TestReconcileTidiesACancelledRun(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.orch.Clock = func() time.Time { return time.Now().Add(-5 * time.Minute) }
	build := f.discoveredWithBuildRunning(t)
	_, _ = f.store.UpdatePhase(ctx, build.ID, func(p *pipeline.Phase) error { p.Status = pipeline.StatusRunning; return nil })
	cancelled := time.Now().Add(-5 * time.Minute)
	_, _ = f.store.UpdateRun(ctx, f.run.ID, func(r *pipeline.Run) error {
		r.Status, r.CompletedAt = pipeline.StatusCancelled, &cancelled
		return nil
	})
	f.orch.Clock = nil
	if _, err := f.orch.Reconcile(ctx, engineStub{active: map[string]bool{f.run.ID: true}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.store.GetRun(ctx, f.run.ID); statuses(got)["build/api"] != "running" {
		t.Fatalf("tidied while its workflow still runs: %v", statuses(got))
	}
	if _, err := f.orch.Reconcile(ctx, engineStub{}, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, _ := f.store.GetRun(ctx, f.run.ID)
	want := map[string]string{"build": "failed", "build/api": "failed", "build/api/compile": "failed", "build/api/vet": "skipped",
		"test": "skipped", "test/api": "skipped", "test/api/unit": "skipped", "test/web": "skipped", "test/web/unit": "skipped"}
	if s := statuses(got); got.Status != pipeline.StatusCancelled || !equal(s, want) {
		t.Errorf("run %s, statuses = %v\nwant %v", got.Status, s, want)
	}
}
