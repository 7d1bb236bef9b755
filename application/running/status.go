package running

import (
	"context"
	"strings"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/pipeline"
)

// TaskStatus is a worker's report on a task.
type TaskStatus struct {
	Status pipeline.Status
	Error  string
	// Key is the run's report key the worker got in its job; it is
	// required when the service has a ReportSecret.
	Key string
}

// StepStatus is a worker's report on a step.
type StepStatus struct {
	Status   pipeline.Status
	ExitCode *int
	LogsKey  string
	// Key is as TaskStatus.Key.
	Key string
}

// reporter checks that a status report of run runID comes from one of its
// workers: with a report secret set, it must carry the run's report key.
func (s *Service) reporter(runID, key string) error {
	if len(s.ReportSecret) == 0 || pipeline.ValidReportKey(s.ReportSecret, runID, key) {
		return nil
	}
	if key == "" {
		return fault.New(fault.PermissionDenied, "statuses of run %s are reported by its workers, with the report key of their job", runID)
	}
	return fault.New(fault.PermissionDenied, "this report key is not that of run %s: only its own workers report its statuses", runID)
}

// maxErrorLength bounds the error text a worker may store on a task.
const maxErrorLength = 4096

// UpdateTask records a task's status as the worker doing it reports it
// (pipeline.Reported): pending → running → success or failed, or
// pending → skipped. Reporting the current status again changes nothing;
// a finished task never changes, and a task cannot start unless its run
// and its phase are running (conflict). Service accounts only.
func (s *Service) UpdateTask(ctx context.Context, who *identity.Principal, id string, st TaskStatus) (*pipeline.Task, error) {
	if err := identity.Require(who, identity.PermUpdateStatus); err != nil {
		return nil, err
	}
	if err := checkReported(pipeline.KindTask, st.Status); err != nil {
		return nil, err
	}
	if len(st.Error) > maxErrorLength {
		st.Error = st.Error[:maxErrorLength]
	}
	runID, err := s.Store.RunIDOfTask(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.reporter(runID, st.Key); err != nil {
		return nil, err
	}
	if st.Status == pipeline.StatusRunning {
		where, err := s.locate(ctx, runID, id, "")
		if err != nil {
			return nil, err
		}
		if where.task.Status == pipeline.StatusPending {
			if err := where.canStart("task of " + where.task.ProjectName); err != nil {
				return nil, err
			}
		}
	}
	now := s.Clock.Now()
	return s.Store.UpdateTask(ctx, id, func(t *pipeline.Task) error {
		if err := pipeline.Reported(pipeline.KindTask, t.Status, st.Status); err != nil {
			return err
		}
		if t.Status == st.Status {
			return nil
		}
		t.Status = st.Status
		if st.Error != "" {
			t.Error = st.Error
		}
		pipeline.Apply(t.Status, now, &t.StartedAt, &t.CompletedAt)
		return nil
	})
}

// UpdateStep records a step's status, exit code and log key, with the
// same rules as UpdateTask; a step cannot start unless its task is
// running too.
func (s *Service) UpdateStep(ctx context.Context, who *identity.Principal, id string, st StepStatus) (*pipeline.Step, error) {
	if err := identity.Require(who, identity.PermUpdateStatus); err != nil {
		return nil, err
	}
	if err := checkReported(pipeline.KindStep, st.Status); err != nil {
		return nil, err
	}
	if strings.Contains(st.LogsKey, "..") || len(st.LogsKey) > 1024 {
		return nil, &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "logs_s3_key"}, Message: "logs_s3_key is not a valid object key"}
	}
	runID, err := s.Store.RunIDOfStep(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.reporter(runID, st.Key); err != nil {
		return nil, err
	}
	if st.Status == pipeline.StatusRunning {
		where, err := s.locate(ctx, runID, "", id)
		if err != nil {
			return nil, err
		}
		if where.step.Status == pipeline.StatusPending {
			what := "step " + where.step.Name + " of " + where.task.ProjectName
			if err := where.canStart(what); err != nil {
				return nil, err
			}
			if where.task.Status != pipeline.StatusRunning {
				return nil, fault.New(fault.Conflict, "%s cannot start: its task is %s, not running", what, where.task.Status)
			}
		}
	}
	now := s.Clock.Now()
	return s.Store.UpdateStep(ctx, id, func(p *pipeline.Step) error {
		if err := pipeline.Reported(pipeline.KindStep, p.Status, st.Status); err != nil {
			return err
		}
		if p.Status == st.Status && (p.Status.Terminal() || (st.ExitCode == nil && st.LogsKey == "")) {
			return nil // a repeated report: a finished step keeps what it recorded
		}
		p.Status = st.Status
		if st.ExitCode != nil {
			code := *st.ExitCode
			p.ExitCode = &code
		}
		if st.LogsKey != "" {
			p.LogsKey = st.LogsKey
		}
		pipeline.Apply(p.Status, now, &p.StartedAt, &p.CompletedAt)
		return nil
	})
}

// place is where a task or step sits in its run.
type place struct {
	run   *pipeline.Run
	phase *pipeline.Phase
	task  *pipeline.Task
	step  *pipeline.Step
}

// locate finds task taskID, or the task of step stepID, in run runID.
func (s *Service) locate(ctx context.Context, runID, taskID, stepID string) (*place, error) {
	run, err := s.Store.GetRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	for i := range run.Phases {
		ph := &run.Phases[i]
		for j := range ph.Tasks {
			t := &ph.Tasks[j]
			if taskID != "" && t.ID == taskID {
				return &place{run: run, phase: ph, task: t}, nil
			}
			for k := range t.Steps {
				if stepID != "" && t.Steps[k].ID == stepID {
					return &place{run: run, phase: ph, task: t, step: &t.Steps[k]}, nil
				}
			}
		}
	}
	return nil, fault.New(fault.NotFound, "run %s holds no such task or step", runID)
}

// canStart refuses to start work in a run or phase that is not running:
// work reported for a run that has ended, or ahead of its phase group,
// is not work a worker was given.
func (p *place) canStart(what string) error {
	if p.run.Status != pipeline.StatusRunning {
		return fault.New(fault.Conflict, "%s cannot start: the run is %s", what, p.run.Status)
	}
	if p.phase.Status != pipeline.StatusRunning {
		return fault.New(fault.Conflict, "%s cannot start: phase %s is %s", what, p.phase.Name, p.phase.Status)
	}
	return nil
}

// checkReported accepts the statuses a worker reports (spec 06: running,
// success, failed) plus skipped, which the orchestrator uses.
func checkReported(k pipeline.Kind, st pipeline.Status) error {
	switch st {
	case pipeline.StatusRunning, pipeline.StatusSuccess, pipeline.StatusFailed, pipeline.StatusSkipped:
		return nil
	}
	return &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "status"},
		Message: "status of a " + string(k) + " must be running, success, failed or skipped, got " + quote(string(st))}
}
