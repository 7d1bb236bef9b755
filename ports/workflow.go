package ports

import (
	"context"

	"github.com/catalyst-forge/forge/domain/pipeline"
)

// WorkflowEngine runs the orchestration of a pipeline run: in the process
// (local profile) or as an Argo Workflow whose steps call
// `forge-dispatcher <stage>` (on premises and AWS). Safe for concurrent use.
type WorkflowEngine interface {
	// Start begins the run's orchestration and returns the workflow's name
	// (recorded on the run as argo_workflow_name). Idempotent per run:
	// starting a run that already has a workflow returns that workflow.
	// Errors: Validation, Unavailable.
	Start(ctx context.Context, run *pipeline.Run) (workflow string, err error)
	// Retry begins the orchestration of a run reopened for a retry
	// (RunStore.ReopenRun) and returns its workflow's name: a workflow of
	// its own, not the one that failed, named after the run and its new
	// start time, so that retrying the same reopening is idempotent and a
	// later retry gets another workflow. Errors: as Start.
	Retry(ctx context.Context, run *pipeline.Run) (workflow string, err error)
	// Cancel stops the run's workflow; a finished or unknown workflow is
	// not an error. Errors: Validation (the engine refused the request),
	// Unavailable.
	Cancel(ctx context.Context, run *pipeline.Run) error
	// Active reports whether the run's workflow is still pending or
	// running; a finished, failed or unknown workflow is not. A run whose
	// workflow is no longer active but which has not ended was abandoned
	// (see orchestrating.Orchestrator.Reconcile). Errors: Unavailable.
	Active(ctx context.Context, run *pipeline.Run) (bool, error)
}
