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
	where, err := s.Store.PlaceOfTask(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.reporter(where.RunID, st.Key); err != nil {
		return nil, err
	}
	if st.Status == pipeline.StatusRunning && where.TaskStatus == pipeline.StatusPending {
		if err := canStart(where, "task of "+where.TaskProject); err != nil {
			return nil, err
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
	where, err := s.Store.PlaceOfStep(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.reporter(where.RunID, st.Key); err != nil {
		return nil, err
	}
	if st.Status == pipeline.StatusRunning && where.StepStatus == pipeline.StatusPending {
		what := "step " + where.StepName + " of " + where.TaskProject
		if err := canStart(where, what); err != nil {
			return nil, err
		}
		if where.TaskStatus != pipeline.StatusRunning {
			return nil, fault.New(fault.Conflict, "%s cannot start: its task is %s, not running", what, where.TaskStatus)
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

// canStart refuses to start work in a run or phase that is not running:
// work reported for a run that has ended, or ahead of its phase group,
// is not work a worker was given. The place is read without loading the
// run (Store.PlaceOfTask, PlaceOfStep).
func canStart(p *pipeline.Place, what string) error {
	if p.RunStatus != pipeline.StatusRunning {
		return fault.New(fault.Conflict, "%s cannot start: the run is %s", what, p.RunStatus)
	}
	if p.PhaseStatus != pipeline.StatusRunning {
		return fault.New(fault.Conflict, "%s cannot start: phase %s is %s", what, p.PhaseName, p.PhaseStatus)
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
