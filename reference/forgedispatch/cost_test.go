package forgedispatch

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm/logger"

	"github.com/catalyst-forge/forge/adapters/onprem/gormstore"
	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/application/running"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/pipeline"
)

// statements is a gorm logger that counts the SQL statements run.
type statements struct{ n atomic.Int64 }

func (s *statements) LogMode(logger.LogLevel) logger.Interface                        { return s }
func (s *statements) Info(context.Context, string, ...any)                            {}
func (s *statements) Warn(context.Context, string, ...any)                            {}
func (s *statements) Error(context.Context, string, ...any)                           {}
func (s *statements) Trace(context.Context, time.Time, func() (string, int64), error) { s.n.Add(1) }

// TestThePhaseGroupOf600TasksUnderArgo measures what one phase group of
// 600 tasks of one step costs under the argo engine: forge-dispatcher's
// SQL statements, and the API's requests and their statements, the
// worker reporting each task as forge-worker does through the API (the
// status check a task starts with, then running and success for the task
// and its step), here through the API's services on a store of their own.
// The figures are logged for docs/benchmarks.md; the test fails when
// either side's statements per task grow past twice what they were
// measured at.
func TestThePhaseGroupOf600TasksUnderArgo(t *testing.T) {
	const tasks = 600
	out := discovery.Output{Repository: discovery.Repository{ForgeVersion: "v1.0.0", Phases: map[string]config.Phase{"check": {Group: 1}}},
		PhaseGroups: []discovery.PhaseGroup{{Group: 1, Phases: []string{"check"}}}}
	for i := range tasks {
		out.Projects = append(out.Projects, discovery.Project{Name: fmt.Sprintf("p%03d", i), Path: fmt.Sprintf("p%03d", i),
			Phases: map[string][]config.Step{"check": {{Name: "noop", Action: config.ActionScript, Run: "true", Args: []string{}, Secrets: []config.SecretRef{}}}}})
	}
	var api statements
	var requests atomic.Int64
	var reports *running.Service
	worker := &identity.Principal{Subject: "worker", Roles: []identity.Role{identity.RoleServiceAccount}}
	report := func(ctx context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error) {
		requests.Add(5)
		if _, err := reports.Store.RunStatus(ctx, tj.RunID); err != nil {
			return orchestrating.TaskResult{}, err
		}
		for _, st := range []pipeline.Status{pipeline.StatusRunning, pipeline.StatusSuccess} {
			if st == pipeline.StatusRunning {
				if _, err := reports.UpdateTask(ctx, worker, tj.TaskID, running.TaskStatus{Status: st}); err != nil {
					return orchestrating.TaskResult{}, err
				}
			}
			if _, err := reports.UpdateStep(ctx, worker, tj.Steps[0].ID, running.StepStatus{Status: st}); err != nil {
				return orchestrating.TaskResult{}, err
			}
		}
		if _, err := reports.UpdateTask(ctx, worker, tj.TaskID, running.TaskStatus{Status: pipeline.StatusSuccess}); err != nil {
			return orchestrating.TaskResult{}, err
		}
		return orchestrating.TaskResult{Status: pipeline.StatusSuccess}, nil
	}
	e := newEnv(t, out, report)
	apiStore, err := gormstore.Open(context.Background(), e.dsn, gormstore.WithLogger(&api))
	if err != nil {
		t.Fatal(err)
	}
	defer apiStore.Close()
	reports = &running.Service{Store: apiStore}

	e.stage(StageDiscovery, "")
	var dispatcher statements
	o := e.options(StagePhaseGroup, "1")
	o.StoreOptions = []gormstore.Option{gormstore.WithLogger(&dispatcher)}
	start := time.Now()
	if err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	run := e.getRun()
	if run.Status != pipeline.StatusSuccess {
		t.Fatalf("the run is %s (%s), want success", run.Status, run.Reason)
	}
	perTask := func(n int64) float64 { return float64(n) / tasks }
	t.Logf("one phase group of %d tasks under argo, %s: forge-dispatcher ran %d SQL statements (%.1f a task) and dispatched %d jobs; "+
		"the API answered %d requests (%.1f a task) with %d SQL statements (%.1f a task)",
		tasks, took.Round(time.Millisecond), dispatcher.n.Load(), perTask(dispatcher.n.Load()), tasks,
		requests.Load(), perTask(requests.Load()), api.n.Load(), perTask(api.n.Load()))
	// Measured when written (2026-12-04): 4.1 statements a task in the
	// dispatcher, 17.0 in the API (docs/benchmarks.md).
	if d := perTask(dispatcher.n.Load()); d > 8.2 {
		t.Errorf("forge-dispatcher ran %.1f SQL statements a task; it ran 4.1", d)
	}
	if a := perTask(api.n.Load()); a > 34 {
		t.Errorf("the API ran %.1f SQL statements a task; it ran 17.0", a)
	}
}
