package running_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/memory/memstore"
	"github.com/catalyst-forge/forge/application/announcing"
	"github.com/catalyst-forge/forge/application/limiting"
	"github.com/catalyst-forge/forge/application/running"
	"github.com/catalyst-forge/forge/domain/event"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/ports"
)

var (
	ci  = &identity.Principal{Subject: "ci", Roles: []identity.Role{identity.RoleServiceAccount}}
	dev = &identity.Principal{Subject: "alice", Roles: []identity.Role{identity.RoleDeveloper}}
)

type recorder struct{ events []event.Event }

func (r *recorder) Publish(_ context.Context, e event.Event) error {
	r.events = append(r.events, e)
	return nil
}

func sha(n int) string { return strings.Repeat(string(rune('a'+n%6)), 39) + string(rune('0'+n%10)) }

func setup(t *testing.T, limits repository.Limits) (*running.Service, *recorder, *time.Time) {
	t.Helper()
	store := memstore.New()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	if _, _, err := store.CreateRepository(context.Background(), &repository.Repository{Name: "acme/mono", Limits: limits.WithDefaults(), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	return &running.Service{Store: store, Clock: clock, Limiter: limiting.New(clock),
		Events: &announcing.Announcer{Publisher: rec, Clock: clock}}, rec, &now
}

func TestCreateIsIdempotentAndAnnounced(t *testing.T) {
	svc, rec, _ := setup(t, repository.Limits{})
	ctx := context.Background()
	req := running.CreateRequest{Repository: "acme/mono", Branch: "main", CommitSHA: sha(1)}
	r1, created, err := svc.Create(ctx, ci, req)
	if err != nil || !created || r1.Status != pipeline.StatusPending || r1.TriggeredBy != "ci" || r1.TriggerType != pipeline.TriggerPush {
		t.Fatalf("create = %+v, %v, %v", r1, created, err)
	}
	r2, created, err := svc.Create(ctx, ci, req)
	if err != nil || created || r2.ID != r1.ID {
		t.Fatalf("second create = %+v, %v, %v", r2, created, err)
	}
	if len(rec.events) != 1 || rec.events[0].Type != event.RunCreated || rec.events[0].Data["run_id"] != r1.ID {
		t.Errorf("events = %+v, want one run.created", rec.events)
	}
}

func TestCreateRefusals(t *testing.T) {
	svc, _, _ := setup(t, repository.Limits{})
	ctx := context.Background()
	cases := []struct {
		name string
		who  *identity.Principal
		req  running.CreateRequest
		kind fault.Kind
		msg  string
	}{
		{"developer", dev, running.CreateRequest{Repository: "acme/mono", CommitSHA: sha(1)}, fault.PermissionDenied, "create-run needs one of the roles service-account"},
		{"unregistered", ci, running.CreateRequest{Repository: "acme/other", CommitSHA: sha(1)}, fault.Validation, "repository acme/other is not registered"},
		{"bad sha", ci, running.CreateRequest{Repository: "acme/mono", CommitSHA: "abc"}, fault.Validation, "commit_sha must be a full commit SHA"},
		{"bad repo", ci, running.CreateRequest{Repository: "mono", CommitSHA: sha(1)}, fault.Validation, "repository must be owner/name"},
		{"bad trigger", ci, running.CreateRequest{Repository: "acme/mono", CommitSHA: sha(1), TriggerType: "cron"}, fault.Validation, "trigger_type must be push, pull_request or manual"},
		{"bad branch", ci, running.CreateRequest{Repository: "acme/mono", CommitSHA: sha(1), Branch: "a b"}, fault.Validation, "branch is not a valid git branch name"},
	}
	for _, c := range cases {
		_, _, err := svc.Create(ctx, c.who, c.req)
		if fault.KindOf(err) != c.kind || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want %s with %q", c.name, err, c.kind, c.msg)
		}
	}
}

func TestRepositoryLimits(t *testing.T) {
	svc, _, now := setup(t, repository.Limits{RunsPerMinute: 3, MaxConcurrentRuns: 100})
	ctx := context.Background()
	for i := range 3 {
		if _, _, err := svc.Create(ctx, ci, running.CreateRequest{Repository: "acme/mono", CommitSHA: sha(i)}); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := svc.Create(ctx, ci, running.CreateRequest{Repository: "acme/mono", CommitSHA: sha(3)})
	if !fault.Is(err, fault.RateLimited) {
		t.Fatalf("4th run in a minute = %v", err)
	}
	// An existing run is returned even when the limit is reached.
	if _, created, err := svc.Create(ctx, ci, running.CreateRequest{Repository: "acme/mono", CommitSHA: sha(0)}); err != nil || created {
		t.Fatalf("existing run over the limit = %v, %v", created, err)
	}
	*now = now.Add(time.Minute)

	svc2, _, _ := setup(t, repository.Limits{RunsPerMinute: 100, MaxConcurrentRuns: 2})
	for i := range 2 {
		if _, _, err := svc2.Create(ctx, ci, running.CreateRequest{Repository: "acme/mono", CommitSHA: sha(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := svc2.Create(ctx, ci, running.CreateRequest{Repository: "acme/mono", CommitSHA: sha(2)}); !fault.Is(err, fault.RateLimited) ||
		!strings.Contains(err.Error(), "already has 2 runs in progress") {
		t.Fatalf("3rd concurrent run = %v", err)
	}
}

func TestCancel(t *testing.T) {
	svc, rec, _ := setup(t, repository.Limits{})
	ctx := context.Background()
	run, _, _ := svc.Create(ctx, ci, running.CreateRequest{Repository: "acme/mono", CommitSHA: sha(1)})
	if err := svc.Cancel(ctx, &identity.Principal{Subject: "x"}, run.ID); !fault.Is(err, fault.PermissionDenied) {
		t.Errorf("cancel without a role = %v", err)
	}
	if err := svc.Cancel(ctx, dev, run.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := svc.Get(ctx, dev, run.ID)
	if got.Status != pipeline.StatusCancelled || got.CompletedAt == nil || got.Reason != "cancelled by alice" {
		t.Errorf("after cancel: %+v", got)
	}
	if err := svc.Cancel(ctx, dev, run.ID); !fault.Is(err, fault.Conflict) {
		t.Errorf("cancelling twice = %v", err)
	}
	if err := svc.Cancel(ctx, dev, "missing"); !fault.Is(err, fault.NotFound) {
		t.Errorf("cancel unknown = %v", err)
	}
	if last := rec.events[len(rec.events)-1]; last.Type != event.RunCompleted || last.Data["status"] != "cancelled" {
		t.Errorf("last event = %+v", last)
	}
}

func TestStatusUpdates(t *testing.T) {
	svc, _, now := setup(t, repository.Limits{})
	ctx := context.Background()
	run, _, _ := svc.Create(ctx, ci, running.CreateRequest{Repository: "acme/mono", CommitSHA: sha(1)})
	phases, err := svc.Store.AddPhases(ctx, run.ID, []pipeline.Phase{{Name: "test", GroupNumber: 1, Status: pipeline.StatusPending,
		Tasks: []pipeline.Task{{ProjectName: "api", ProjectPath: "services/api", Status: pipeline.StatusPending,
			Steps: []pipeline.Step{{Name: "unit", Action: "script", Status: pipeline.StatusPending}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	task, step := phases[0].Tasks[0], phases[0].Tasks[0].Steps[0]
	if _, err := svc.UpdateStep(ctx, dev, step.ID, running.StepStatus{Status: pipeline.StatusRunning}); !fault.Is(err, fault.PermissionDenied) {
		t.Errorf("developer reporting = %v", err)
	}
	// Nothing starts before the run and its phase do (the orchestrator
	// starts them), and no step before its task.
	if _, err := svc.UpdateTask(ctx, ci, task.ID, running.TaskStatus{Status: pipeline.StatusRunning}); !fault.Is(err, fault.Conflict) {
		t.Errorf("task running in a pending run = %v", err)
	}
	if _, err := svc.Store.UpdateRun(ctx, run.ID, func(r *pipeline.Run) error { r.Status = pipeline.StatusRunning; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Store.UpdatePhase(ctx, phases[0].ID, func(p *pipeline.Phase) error { p.Status = pipeline.StatusRunning; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdateStep(ctx, ci, step.ID, running.StepStatus{Status: pipeline.StatusRunning}); !fault.Is(err, fault.Conflict) {
		t.Errorf("step running in a pending task = %v", err)
	}
	if _, err := svc.UpdateStep(ctx, ci, step.ID, running.StepStatus{Status: pipeline.StatusSuccess}); !fault.Is(err, fault.Conflict) {
		t.Errorf("success of a step that never started = %v", err)
	}
	if _, err := svc.UpdateTask(ctx, ci, task.ID, running.TaskStatus{Status: pipeline.StatusRunning}); err != nil {
		t.Fatal(err)
	}
	st, err := svc.UpdateStep(ctx, ci, step.ID, running.StepStatus{Status: pipeline.StatusRunning})
	if err != nil || st.StartedAt == nil || !st.StartedAt.Equal(*now) {
		t.Fatalf("running = %+v, %v", st, err)
	}
	*now = now.Add(time.Minute)
	zero, one := 0, 1
	st, err = svc.UpdateStep(ctx, ci, step.ID, running.StepStatus{Status: pipeline.StatusSuccess, ExitCode: &zero, LogsKey: "pipeline-runs/x/logs/test/api/unit.log"})
	if err != nil || st.CompletedAt == nil || *st.ExitCode != 0 || st.LogsKey == "" {
		t.Fatalf("success = %+v, %v", st, err)
	}
	// A repeated report keeps what was recorded; a different one is a conflict.
	st, err = svc.UpdateStep(ctx, ci, step.ID, running.StepStatus{Status: pipeline.StatusSuccess, ExitCode: &one})
	if err != nil || *st.ExitCode != 0 {
		t.Errorf("repeated success = %+v, %v", st, err)
	}
	if _, err := svc.UpdateStep(ctx, ci, step.ID, running.StepStatus{Status: pipeline.StatusFailed, ExitCode: &one}); !fault.Is(err, fault.Conflict) {
		t.Errorf("success → failed = %v", err)
	}
	if _, err := svc.UpdateStep(ctx, ci, step.ID, running.StepStatus{Status: pipeline.StatusPending}); !fault.Is(err, fault.Validation) {
		t.Errorf("reporting pending = %v", err)
	}
	if _, err := svc.UpdateStep(ctx, ci, step.ID, running.StepStatus{Status: pipeline.StatusRunning, LogsKey: "../etc/passwd"}); !fault.Is(err, fault.Validation) {
		t.Errorf("log key with .. = %v", err)
	}
	tk, err := svc.UpdateTask(ctx, ci, task.ID, running.TaskStatus{Status: pipeline.StatusFailed, Error: strings.Repeat("e", 5000)})
	if err != nil || tk.Status != pipeline.StatusFailed || len(tk.Error) != 4096 {
		t.Fatalf("task failed = %v, %v", len(tk.Error), err)
	}
	list, total, err := svc.List(ctx, dev, ports.RunFilter{Repository: "acme/mono"}, ports.Page{})
	if err != nil || total != 1 || len(list) != 1 {
		t.Errorf("list = %d runs of %d, %v", len(list), total, err)
	}
	if _, _, err := svc.List(ctx, dev, ports.RunFilter{Status: "bogus"}, ports.Page{}); !fault.Is(err, fault.Validation) {
		t.Errorf("list with a bad status = %v", err)
	}
}

// engine is a WorkflowEngine that records what it is asked and fails its
// first start when told to.
type engine struct {
	failStart int
	failRetry bool
	starts    []string
	retries   []string
	cancels   []string
}

func (e *engine) Retry(_ context.Context, run *pipeline.Run) (string, error) {
	e.retries = append(e.retries, run.ID)
	if e.failRetry {
		return "", fault.New(fault.Unavailable, "argo is down")
	}
	return "forge-run-" + run.ID + "-retry", nil
}

func (e *engine) Start(_ context.Context, run *pipeline.Run) (string, error) {
	e.starts = append(e.starts, run.ID)
	if e.failStart > 0 {
		e.failStart--
		return "", fault.New(fault.Unavailable, "argo is down")
	}
	return "forge-run-" + run.ID, nil
}

func (e *engine) Active(context.Context, *pipeline.Run) (bool, error) { return false, nil }

func (e *engine) Cancel(_ context.Context, run *pipeline.Run) error {
	e.cancels = append(e.cancels, run.ID)
	return nil
}

// TestEngineStartsAndCancels: a new run is handed to the engine and keeps
// its workflow's name; a start that failed is retried by creating the run
// again; cancelling stops the workflow.
func TestEngineStartsAndCancels(t *testing.T) {
	svc, _, _ := setup(t, repository.Limits{})
	eng := &engine{failStart: 1}
	svc.Engine = eng
	ctx := context.Background()
	req := running.CreateRequest{Repository: "acme/mono", CommitSHA: sha(3)}
	if _, _, err := svc.Create(ctx, ci, req); !fault.Is(err, fault.Unavailable) || !strings.Contains(err.Error(), "creating it again retries") {
		t.Fatalf("create with the engine down = %v", err)
	}
	run, created, err := svc.Create(ctx, ci, req)
	if err != nil || created || run.ArgoWorkflowName != "forge-run-"+run.ID {
		t.Fatalf("retried create = %+v, %v, %v", run, created, err)
	}
	if len(eng.starts) != 2 || eng.starts[0] != run.ID || eng.starts[1] != run.ID {
		t.Errorf("starts = %v", eng.starts)
	}
	if err := svc.Cancel(ctx, dev, run.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Create(ctx, ci, req); err != nil {
		t.Fatal(err)
	}
	if len(eng.cancels) != 1 || eng.cancels[0] != run.ID || len(eng.starts) != 2 {
		t.Errorf("cancels = %v, starts = %v: a finished run is not started again", eng.cancels, eng.starts)
	}
}

// TestRetryReopensOnlyAReleaseStageFailure: a run that failed after all
// its phases succeeded is reopened and handed to the engine's retry (its
// workflow recorded, its time limit counting from now, the retry
// announced with the failure it retries); a run that failed in a phase,
// one still running and one without a release are refused with why, and
// a token of another repository is refused before any of that.
func TestRetryReopensOnlyAReleaseStageFailure(t *testing.T) {
	svc, rec, now := setup(t, repository.Limits{})
	eng := &engine{}
	svc.Engine = eng
	ctx := context.Background()
	failed := func(n int, phase pipeline.Status, release bool) *pipeline.Run {
		t.Helper()
		run, _, err := svc.Create(ctx, ci, running.CreateRequest{Repository: "acme/mono", Branch: "main", CommitSHA: sha(n)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Store.AddPhases(ctx, run.ID, []pipeline.Phase{{Name: "build", GroupNumber: 1, Status: phase}}); err != nil {
			t.Fatal(err)
		}
		disc := `{"releaseEnabled":false}`
		if release {
			disc = `{"releaseEnabled":true}`
		}
		run, err = svc.Store.UpdateRun(ctx, run.ID, func(r *pipeline.Run) error {
			done := *now
			r.Status, r.Reason, r.CompletedAt, r.DiscoveryOutput = pipeline.StatusFailed, "artifact site of web failed to publish", &done, []byte(disc)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	run := failed(1, pipeline.StatusSuccess, true)
	*now = now.Add(time.Hour)
	got, err := svc.Retry(ctx, dev, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != pipeline.StatusRunning || got.Reason != "" || got.CompletedAt != nil || !got.StartedAt.Equal(*now) ||
		got.ArgoWorkflowName != "forge-run-"+run.ID+"-retry" {
		t.Errorf("retried run = %s %q completed %v started %v workflow %q", got.Status, got.Reason, got.CompletedAt, got.StartedAt, got.ArgoWorkflowName)
	}
	if len(eng.retries) != 1 || eng.retries[0] != run.ID {
		t.Errorf("engine retries = %v", eng.retries)
	}
	last := rec.events[len(rec.events)-1]
	if last.Type != event.RunRetried || last.Data["retried_by"] != "alice" || last.Data["previous_reason"] != "artifact site of web failed to publish" {
		t.Errorf("last event = %+v, want the retry announced", last)
	}
	// Creating the run again does not start the first workflow over the
	// retry's.
	if again, _, err := svc.Create(ctx, ci, running.CreateRequest{Repository: "acme/mono", Branch: "main", CommitSHA: sha(1)}); err != nil || again.ArgoWorkflowName != got.ArgoWorkflowName {
		t.Errorf("create during the retry = %q, %v", again.ArgoWorkflowName, err)
	}

	for _, c := range []struct {
		name string
		run  string
		who  *identity.Principal
		kind fault.Kind
		msg  string
	}{
		{"running", run.ID, dev, fault.Conflict, "only a failed run can be retried"},
		{"failed phase", failed(2, pipeline.StatusFailed, true).ID, dev, fault.Conflict, "failed in phase build, not in its release stage"},
		{"no release", failed(3, pipeline.StatusSuccess, false).ID, dev, fault.Conflict, "its branch does not release"},
		{"approver", failed(4, pipeline.StatusSuccess, true).ID, &identity.Principal{Subject: "bob", Roles: []identity.Role{identity.RoleApprover}}, fault.PermissionDenied, "retry-run needs one of the roles"},
		{"unknown", "0192f7c4-3b1a-7c9e-9a4b-5d6e7f8a9b0c", dev, fault.NotFound, ""},
		// A token bound to another repository is refused before the
		// run's state is told (the run is running: not a Conflict).
		{"other repository", run.ID, &identity.Principal{Subject: "carol", Roles: dev.Roles, Repository: "acme/other"}, fault.PermissionDenied, "may act on repository acme/other only"},
	} {
		_, err := svc.Retry(ctx, c.who, c.run)
		if !fault.Is(err, c.kind) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: retry = %v, want %v saying %q", c.name, err, c.kind, c.msg)
		}
	}
	if len(eng.retries) != 1 {
		t.Errorf("refused retries reached the engine: %v", eng.retries)
	}

	// The engine down: the run is reopened, and the error says when it
	// can be retried again.
	eng.failRetry = true
	down := failed(5, pipeline.StatusSuccess, true)
	got, err = svc.Retry(ctx, dev, down.ID)
	if !fault.Is(err, fault.Unavailable) || !strings.Contains(err.Error(), "can be retried then") || got.Status != pipeline.StatusRunning {
		t.Errorf("retry with the engine down = %v, %v", got.Status, err)
	}
}
