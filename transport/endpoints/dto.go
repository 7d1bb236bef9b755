package endpoints

import (
	"time"

	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/domain/repository"
)

// The request and response bodies of the API. Field names follow spec 06;
// the server and the client share these types.

// CreateRunRequest is the body of POST /v1/runs.
type CreateRunRequest struct {
	Repository  string `json:"repository"`
	Branch      string `json:"branch"`
	CommitSHA   string `json:"commit_sha"`
	TriggeredBy string `json:"triggered_by"`
	TriggerType string `json:"trigger_type"`
	// GitHubContext, from a GitHub workflow, says where the run's commit
	// statuses and pull request summary go (spec 03).
	GitHubContext *pipeline.GitHubContext `json:"github_context,omitempty"`
}

// RunList is the body of GET /v1/runs.
type RunList struct {
	Runs   []pipeline.Run `json:"runs"`
	Total  int            `json:"total"`
	Limit  int            `json:"limit"`
	Offset int            `json:"offset"`
}

// RunStatusResponse is the answer of GET /v1/runs/{id}/status: a run's
// status alone, what workers poll.
type RunStatusResponse struct {
	ID     string          `json:"id"`
	Status pipeline.Status `json:"status"`
}

// TaskStatusRequest is the body of PUT /v1/tasks/{id}/status.
type TaskStatusRequest struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// StepStatusRequest is the body of PUT /v1/steps/{id}/status.
type StepStatusRequest struct {
	Status    string `json:"status"`
	ExitCode  *int   `json:"exit_code,omitempty"`
	LogsS3Key string `json:"logs_s3_key,omitempty"`
}

// ReleaseArtifactRequest is one artifact of a CreateReleaseRequest.
type ReleaseArtifactRequest struct {
	Name                string `json:"name"`
	Type                string `json:"type"`
	TrackingOCIURI      string `json:"tracking_oci_uri"`
	TrackingOCIDigest   string `json:"tracking_oci_digest,omitempty"`
	PrimaryPublishedURI string `json:"primary_published_uri"`
}

// ReleaseTriggerRequest says what created a release (an addition to spec
// 06's body, needed to check promotion policies).
type ReleaseTriggerRequest struct {
	Type   string `json:"type"`
	Branch string `json:"branch,omitempty"`
	Tag    string `json:"tag,omitempty"`
}

// CreateReleaseRequest is the body of POST /v1/releases.
type CreateReleaseRequest struct {
	PipelineRunID string                   `json:"pipeline_run_id,omitempty"`
	Repository    string                   `json:"repository"`
	Project       string                   `json:"project"`
	CommitSHA     string                   `json:"commit_sha"`
	OCIDigest     string                   `json:"oci_digest,omitempty"`
	Artifacts     []ReleaseArtifactRequest `json:"artifacts"`
	Trigger       *ReleaseTriggerRequest   `json:"trigger,omitempty"`
}

// ReleaseResponse is a release as the API returns it: the entity plus its
// canonical identifier.
type ReleaseResponse struct {
	release.Release
	CanonicalID string `json:"canonical_id"`
}

// SetReleaseImageRequest is the body of PUT /v1/releases/{id}/image: the
// manifest digest of the release's pushed image.
type SetReleaseImageRequest struct {
	OCIDigest string `json:"oci_digest"`
}

// RunResponse is a run as GET /v1/runs/{id} returns it: the run with its
// phases, tasks and steps, and the releases it created.
type RunResponse struct {
	pipeline.Run
	Releases []ReleaseResponse `json:"releases"`
}

// ReleaseList is the body of GET /v1/releases/{repo}/{project}.
type ReleaseList struct {
	Releases []ReleaseResponse `json:"releases"`
	Total    int               `json:"total"`
	Limit    int               `json:"limit"`
	Offset   int               `json:"offset"`
}

// DeployRequest is the body of POST /v1/deployments.
type DeployRequest struct {
	ReleaseID   string `json:"release_id"`
	Environment string `json:"environment"`
	ApprovalID  string `json:"approval_id,omitempty"`
}

// RollbackRequest is the body of POST /v1/rollbacks, which deploys again
// the release that ran before the current one.
type RollbackRequest struct {
	Environment string `json:"environment"`
	Repository  string `json:"repository"`
	Project     string `json:"project"`
	// To names an older release to roll back to (an alias, a number or a
	// commit prefix); empty: the release that ran before the current one.
	To string `json:"to,omitempty"`
}

// DeploymentResponse is a deployment as the API returns it.
type DeploymentResponse struct {
	ID              string    `json:"id"`
	DeploymentID    string    `json:"deployment_id"`
	ReleaseID       string    `json:"release_id"`
	ReleaseNumber   int       `json:"release_number"`
	Repository      string    `json:"repository"`
	Project         string    `json:"project"`
	Environment     string    `json:"environment"`
	Status          string    `json:"status"`
	DeployedAt      time.Time `json:"deployed_at"`
	DeployedBy      string    `json:"deployed_by"`
	GitOpsCommitSHA string    `json:"gitops_commit_sha"`
	ApprovalID      *string   `json:"approval_id,omitempty"`
	// Reason says why a failed deployment failed.
	Reason string `json:"reason,omitempty"`
	// RollbackOf names the deployment a rollback rolled back from.
	RollbackOf *string   `json:"rollback_of,omitempty"`
	Previous   *Previous `json:"previous,omitempty"`
}

// Previous names the deployment a rollback replaced.
type Previous struct {
	DeploymentID  string `json:"deployment_id"`
	ReleaseID     string `json:"release_id"`
	ReleaseNumber int    `json:"release_number"`
}

func deploymentResponse(d *release.Deployment) DeploymentResponse {
	return DeploymentResponse{
		ID: d.ID, DeploymentID: d.ID, ReleaseID: d.ReleaseID, ReleaseNumber: d.ReleaseNumber,
		Repository: d.Repository, Project: d.Project, Environment: d.Environment, Status: string(d.Status),
		DeployedAt: d.DeployedAt, DeployedBy: d.DeployedBy, GitOpsCommitSHA: d.GitOpsCommitSHA, ApprovalID: d.ApprovalID,
		Reason: d.Reason, RollbackOf: d.RollbackOf,
	}
}

// EnvironmentList is the answer of GET /v1/environments: every
// environment with its promotion policy, by name.
type EnvironmentList struct {
	Environments []Environment `json:"environments"`
}

// Environment is an environment and its promotion policy.
type Environment struct {
	Name   string         `json:"name"`
	Policy release.Policy `json:"policy"`
}

// ApproveRequest is the body of POST /v1/approvals.
type ApproveRequest struct {
	ReleaseID     string `json:"release_id"`
	Environment   string `json:"environment"`
	Justification string `json:"justification"`
}

// RegisterRepositoryRequest is the body of POST /v1/repositories.
type RegisterRepositoryRequest struct {
	Repository string             `json:"repository"`
	Limits     *repository.Limits `json:"limits,omitempty"`
}

// RepositoryList is the body of GET /v1/repositories.
type RepositoryList struct {
	Repositories []repository.Repository `json:"repositories"`
	Total        int                     `json:"total"`
	Limit        int                     `json:"limit"`
	Offset       int                     `json:"offset"`
}
