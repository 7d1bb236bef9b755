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
}

// StepStatus is a worker's report on a step.
type StepStatus struct {
	Status   pipeline.Status
	ExitCode *int
	LogsKey  string
}

// maxErrorLength bounds the error text a worker may store on a task.
const maxErrorLength = 4096

// UpdateTask records a task's status. Reporting the current status again
// changes nothing; a finished task never changes (conflict). Service
// accounts only.
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
	now := s.Clock.Now()
	return s.Store.UpdateTask(ctx, id, func(t *pipeline.Task) error {
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
// same rules as UpdateTask.
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
	now := s.Clock.Now()
	return s.Store.UpdateStep(ctx, id, func(p *pipeline.Step) error {
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
