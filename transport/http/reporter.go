package httptransport

import (
	"context"

	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
)

// Reporter is the ports.RunReporter of workers: it reports through the
// API with the worker's service-account token.
type Reporter struct {
	Client *Client
}

var _ ports.RunReporter = Reporter{}

// ReportTask calls PUT /v1/tasks/{id}/status.
func (r Reporter) ReportTask(ctx context.Context, taskID string, status pipeline.Status, reason string) error {
	_, err := r.Client.UpdateTaskStatus(ctx, taskID, TaskStatusRequest{Status: string(status), Error: reason})
	return err
}

// ReportStep calls PUT /v1/steps/{id}/status.
func (r Reporter) ReportStep(ctx context.Context, stepID string, status pipeline.Status, exitCode *int, logsKey string) error {
	_, err := r.Client.UpdateStepStatus(ctx, stepID, StepStatusRequest{Status: string(status), ExitCode: exitCode, LogsS3Key: logsKey})
	return err
}

// RunStatus reads the run's status alone, with GET /v1/runs/{id}/status.
func (r Reporter) RunStatus(ctx context.Context, runID string) (pipeline.Status, error) {
	return r.Client.RunStatus(ctx, runID)
}
