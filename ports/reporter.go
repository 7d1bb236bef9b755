package ports

import (
	"context"

	"github.com/catalyst-forge/forge/domain/pipeline"
)

// RunReporter is how a worker tells the platform what its task and steps
// are doing, and learns whether their run has ended (cancelled, or failed
// elsewhere) so it can stop. The API client implements it. Safe for
// concurrent use.
type RunReporter interface {
	// ReportTask records a task's status (running, success, failed) and,
	// for a failure, why. Repeating a report is harmless. Errors: Conflict
	// (the task already ended otherwise), NotFound, Unavailable.
	ReportTask(ctx context.Context, taskID string, status pipeline.Status, reason string) error
	// ReportStep records a step's status, exit code and log key.
	// Errors as ReportTask.
	ReportStep(ctx context.Context, stepID string, status pipeline.Status, exitCode *int, logsKey string) error
	// RunStatus returns the current status of a run. Errors: NotFound, Unavailable.
	RunStatus(ctx context.Context, runID string) (pipeline.Status, error)
}

type reportKeyContext struct{}

// WithReportKey returns ctx carrying a run's report key (a job's
// ReportKey, pipeline.ReportKey), which RunReporter implementations send
// with the statuses they report, so the platform knows they come from a
// worker of that run.
func WithReportKey(ctx context.Context, key string) context.Context {
	if key == "" {
		return ctx
	}
	return context.WithValue(ctx, reportKeyContext{}, key)
}

// ReportKeyFrom returns the report key ctx carries, "" when none.
func ReportKeyFrom(ctx context.Context) string {
	k, _ := ctx.Value(reportKeyContext{}).(string)
	return k
}
