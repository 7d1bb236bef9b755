package orchestrating_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
)

// failOnce fails the first dispatch of one job as a queue briefly
// unreachable would.
type failOnce struct {
	ports.JobQueue
	mu     sync.Mutex
	jobID  string
	failed bool
}

func (q *failOnce) Dispatch(ctx context.Context, j job.Job) (job.Result, error) {
	q.mu.Lock()
	fail := !q.failed && j.ID == q.jobID
	q.failed = q.failed || fail
	q.mu.Unlock()
	if fail {
		return job.Result{}, fault.New(fault.Unavailable, "nats: no responders")
	}
	return q.JobQueue.Dispatch(ctx, j)
}

func taskID(run *pipeline.Run, phase, project string) string {
	for _, ph := range run.Phases {
		for _, t := range ph.Tasks {
			if ph.Name == phase && t.ProjectName == project {
				return t.ID
			}
		}
	}
	return ""
}

// TestAnInterruptedGroupLeavesItsRecordsForTheResume: a queue error in
// the middle of a group interrupts the run without deciding anything
// about the group's other tasks; the resumed run runs them and ends as
// they do (here: failed, because one of them fails).
func TestAnInterruptedGroupLeavesItsRecordsForTheResume(t *testing.T) {
	f := newFixture(t)
	q := &failOnce{JobQueue: f.queue}
	f.orch.Jobs = q
	f.worker(t, discoveryOf(output()), func(_ context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error) {
		if tj.Phase == "test" && tj.Project == "api" {
			time.Sleep(100 * time.Millisecond)
			return f.runSteps(tj, "unit"), nil
		}
		return f.runSteps(tj, ""), nil
	})
	ctx := context.Background()
	if _, err := f.orch.Discover(ctx, f.run.ID); err != nil {
		t.Fatal(err)
	}
	run, _ := f.store.GetRun(ctx, f.run.ID)
	q.jobID = taskID(run, "test", "web")
	if err := f.orch.Execute(ctx, f.run.ID); !fault.Is(err, fault.Unavailable) {
		t.Fatalf("first Execute = %v, want the queue's error", err)
	}
	run, _ = f.store.GetRun(ctx, f.run.ID)
	if got := statuses(run); run.Status != pipeline.StatusRunning || got["test/web"] == "skipped" || got["test"] == "success" {
		t.Fatalf("after the interruption: run %s, %v", run.Status, got)
	}
	if err := f.orch.Execute(ctx, f.run.ID); err != nil {
		t.Fatal(err)
	}
	run, _ = f.store.GetRun(ctx, f.run.ID)
	if got := statuses(run); run.Status != pipeline.StatusFailed || got["test/web"] != "success" || got["test/api/unit"] != "failed" {
		t.Errorf("resumed run = %s (%q), %v", run.Status, run.Reason, got)
	}
}

// TestAStoppedOrchestrationDecidesNothing: when the orchestration's own
// context ends mid-group (the engine stops), Execute returns the error
// and the run stays running with its group as it was.
func TestAStoppedOrchestrationDecidesNothing(t *testing.T) {
	f := newFixture(t)
	release := make(chan struct{})
	defer close(release)
	f.worker(t, discoveryOf(output()), func(_ context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error) {
		<-release
		return f.runSteps(tj, ""), nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(200 * time.Millisecond); cancel() }()
	if err := f.orch.Execute(ctx, f.run.ID); err == nil {
		t.Fatal("Execute returned nil after its context ended mid-group")
	}
	run, _ := f.store.GetRun(context.Background(), f.run.ID)
	if got := statuses(run); run.Status != pipeline.StatusRunning || got["build"] != "running" || got["test"] != "pending" || got["build/api"] != "pending" {
		t.Errorf("run %s, %v", run.Status, got)
	}
}

// TestAWorkerThatDoesNotReportIsClosedAfterStopWait: when a group fails
// and another task's worker never reports, the task is failed after
// StopWait and its phase fails too: nothing is left running.
func TestAWorkerThatDoesNotReportIsClosedAfterStopWait(t *testing.T) {
	f := newFixture(t)
	f.orch.StopWait = 200 * time.Millisecond
	out := output()
	out.PhaseGroups = []discovery.PhaseGroup{{Group: 1, Phases: []string{"build", "test"}}}
	out.Repository.Phases["test"] = config.Phase{Group: 1}
	release := make(chan struct{})
	defer close(release)
	f.worker(t, discoveryOf(out), func(_ context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error) {
		_, _ = f.store.UpdateTask(context.Background(), tj.TaskID, func(tk *pipeline.Task) error { tk.Status = pipeline.StatusRunning; return nil })
		if tj.Project == "web" {
			return f.runSteps(tj, "unit"), nil
		}
		_, _ = f.store.UpdateStep(context.Background(), tj.Steps[0].ID, func(s *pipeline.Step) error { s.Status = pipeline.StatusRunning; return nil })
		<-release // a worker that never reports
		return f.runSteps(tj, ""), nil
	})
	if err := f.orch.Execute(context.Background(), f.run.ID); err != nil {
		t.Fatal(err)
	}
	run, _ := f.store.GetRun(context.Background(), f.run.ID)
	for name, st := range statuses(run) {
		if !pipeline.Status(st).Terminal() {
			t.Errorf("%s left %s", name, st)
		}
	}
	if got := statuses(run); got["build"] != "failed" || got["build/api"] != "failed" {
		t.Errorf("statuses = %v", got)
	}
}

// TestARunFoundPastItsLimitSettlesItsPlan: a discovered run resumed after
// its limit fails, and its plan is settled, not left pending.
func TestARunFoundPastItsLimitSettlesItsPlan(t *testing.T) {
	f := newFixture(t)
	f.worker(t, discoveryOf(output()), func(_ context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error) {
		return f.runSteps(tj, ""), nil
	})
	ctx := context.Background()
	if _, err := f.orch.Discover(ctx, f.run.ID); err != nil {
		t.Fatal(err)
	}
	f.orch.Clock = func() time.Time { return time.Now().Add(25 * time.Hour) }
	if err := f.orch.Execute(ctx, f.run.ID); err != nil {
		t.Fatal(err)
	}
	run, _ := f.store.GetRun(ctx, f.run.ID)
	if run.Status != pipeline.StatusFailed || len(f.tasks) != 0 {
		t.Fatalf("run = %s, %d tasks dispatched", run.Status, len(f.tasks))
	}
	for name, st := range statuses(run) {
		if st != "skipped" {
			t.Errorf("%s = %s, want skipped", name, st)
		}
	}
}
