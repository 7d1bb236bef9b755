package endpoints

import (
	"context"

	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/ports"
)

// API is the platform API as a Go interface: the client of every
// transport implements it, so that code written against it (a worker's
// reports, a test table) runs over HTTP or NATS alike. Errors are
// *fault.Error with the kind the server answered.
type API interface {
	// CreateRun creates the run of a commit; created is false when it existed.
	CreateRun(ctx context.Context, req CreateRunRequest) (run *pipeline.Run, created bool, err error)
	// GetRun returns a run with its phases, tasks and steps, and the
	// releases it created.
	GetRun(ctx context.Context, id string) (*RunResponse, error)
	// RunStatus reads a run's status alone.
	RunStatus(ctx context.Context, id string) (pipeline.Status, error)
	// ListRuns lists runs, newest first.
	ListRuns(ctx context.Context, f ports.RunFilter, p ports.Page) (*RunList, error)
	// CancelRun cancels a run that has not finished.
	CancelRun(ctx context.Context, id string) error
	// RetryRun reopens a run that failed in its release stage.
	RetryRun(ctx context.Context, id string) (*pipeline.Run, error)
	// UpdateTaskStatus reports a task's status (service accounts).
	UpdateTaskStatus(ctx context.Context, id string, req TaskStatusRequest) (*pipeline.Task, error)
	// UpdateStepStatus reports a step's status (service accounts).
	UpdateStepStatus(ctx context.Context, id string, req StepStatusRequest) (*pipeline.Step, error)
	// CreateRelease registers a release; created is false when it existed.
	CreateRelease(ctx context.Context, req CreateReleaseRequest) (r *ReleaseResponse, created bool, err error)
	// SetReleaseImage records the digest of a release's pushed image.
	SetReleaseImage(ctx context.Context, id, digest string) (*ReleaseResponse, error)
	// GetRelease returns a release named by an alias, a number or a
	// commit prefix.
	GetRelease(ctx context.Context, repository, project, id string) (*ReleaseResponse, error)
	// ListReleases lists a project's releases, newest first.
	ListReleases(ctx context.Context, repository, project string, page ports.Page) (*ReleaseList, error)
	// Deploy deploys a release to an environment.
	Deploy(ctx context.Context, req DeployRequest) (*DeploymentResponse, error)
	// Rollback deploys an earlier release again.
	Rollback(ctx context.Context, req RollbackRequest) (*DeploymentResponse, error)
	// CurrentDeployment returns what a project runs in an environment.
	CurrentDeployment(ctx context.Context, environment, repository, project string) (*DeploymentResponse, error)
	// Approve approves a release for an environment.
	Approve(ctx context.Context, req ApproveRequest) (*release.Approval, error)
	// Environments lists the environments and their promotion policies.
	Environments(ctx context.Context) (*EnvironmentList, error)
	// GetApproval returns the newest approval of a release for an environment.
	GetApproval(ctx context.Context, releaseID, environment string) (*release.Approval, error)
	// RevokeApproval withdraws an approval.
	RevokeApproval(ctx context.Context, id string) (*release.Approval, error)
	// RegisterRepository registers a repository; created is false when it was.
	RegisterRepository(ctx context.Context, req RegisterRepositoryRequest) (r *repository.Repository, created bool, err error)
	// ListRepositories lists registered repositories.
	ListRepositories(ctx context.Context, page ports.Page) (*RepositoryList, error)
}
