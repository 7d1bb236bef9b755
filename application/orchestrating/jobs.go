package orchestrating

import (
	"time"

	"github.com/catalyst-forge/forge/domain/artifact"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/pipeline"
)

// DiscoveryJob is the payload of a discovery job: the commit to discover.
// Its result payload is the discovery output (domain/discovery.Output).
type DiscoveryJob struct {
	RunID      string `json:"run_id"`
	Repository string `json:"repository"`
	CommitSHA  string `json:"commit_sha"`
	Branch     string `json:"branch,omitempty"`
}

// TaskJob is the payload of a CI job: one project's steps of one phase,
// to run in priority batches in the project directory of the commit.
type TaskJob struct {
	RunID      string     `json:"run_id"`
	TaskID     string     `json:"task_id"`
	Repository string     `json:"repository"`
	CommitSHA  string     `json:"commit_sha"`
	Phase      string     `json:"phase"`
	Project    string     `json:"project"`
	Path       string     `json:"path"`
	Steps      []TaskStep `json:"steps"`
	// ReportKey proves the worker's status reports come from a worker of
	// the run (pipeline.ReportKey); empty when the platform sets none.
	ReportKey string `json:"report_key,omitempty"`
}

// TaskStep is a step of a TaskJob with the ID its statuses are reported on.
type TaskStep struct {
	ID string `json:"id"`
	config.Step
}

// TaskResult is the result payload of a CI job.
type TaskResult struct {
	// Status is success, failed, or skipped when the run had ended
	// before the task started.
	Status pipeline.Status `json:"status"`
	// FailedStep names the step that failed, when one did.
	FailedStep string `json:"failed_step,omitempty"`
}

// ArtifactJob is the payload of an artifact job: one artifact of a
// release-triggered project to build, publish and track. Its result
// payload is the artifact's outcome (domain/artifact.Output).
type ArtifactJob struct {
	RunID      string          `json:"run_id"`
	Repository string          `json:"repository"`
	CommitSHA  string          `json:"commit_sha"`
	Project    string          `json:"project"`
	Path       string          `json:"path"`
	Name       string          `json:"name"`
	Artifact   config.Artifact `json:"artifact"`
	// Publishers are the repository's publisher configurations.
	Publishers map[string]config.Publisher `json:"publishers"`
	// Previous is the outcome of an earlier attempt whose publishers
	// partly failed: those that succeeded are not run again.
	Previous *artifact.Output `json:"previous,omitempty"`
}

// ReleaseJob is the payload of a release job: one release-triggered
// project of a run, whose artifacts all succeeded, to render, package as
// a Release OCI image, push and register. Its result payload is a
// ReleaseResult.
type ReleaseJob struct {
	RunID      string            `json:"run_id"`
	Repository string            `json:"repository"`
	CommitSHA  string            `json:"commit_sha"`
	Project    discovery.Project `json:"project"`
	// Commit is what the release records of its source.
	Commit discovery.Commit `json:"commit"`
	// Artifacts are the outcomes of the project's artifacts, by name.
	Artifacts map[string]artifact.Output `json:"artifacts"`
	// Tag, for a release made without a run (forge release create
	// --tag), is the git tag it releases: its trigger is that tag.
	Tag string `json:"tag,omitempty"`
}

// ReleaseResult is the outcome of a release job.
type ReleaseResult struct {
	Project   string   `json:"project"`
	ReleaseID string   `json:"release_id,omitempty"`
	Number    int      `json:"release_number,omitempty"`
	Aliases   []string `json:"aliases,omitempty"`
	// Reference is where the release image is, Digest its manifest
	// digest.
	Reference string `json:"reference,omitempty"`
	Digest    string `json:"digest,omitempty"`
	// Created says this job registered the release (not an earlier one);
	// Pushed that it pushed the image (it was not in the registry).
	Created bool `json:"created,omitempty"`
	Pushed  bool `json:"pushed,omitempty"`
	// Error says why the release failed, when it did.
	Error string `json:"error,omitempty"`
	// Deployments are the auto-deployments of the release (the
	// orchestrator adds them after the job).
	Deployments []Deployed `json:"deployments,omitempty"`
}

// Deployed is an auto-deployment of a release: where, and its outcome.
type Deployed struct {
	Environment string `json:"environment"`
	Status      string `json:"status"`
	Commit      string `json:"gitops_commit_sha,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// Failure says in a sentence why the release failed, "" when it did not.
func (r ReleaseResult) Failure() string {
	if r.Error == "" {
		return ""
	}
	return "release of " + r.Project + " failed: " + r.Error
}

// Default timeouts of the jobs.
const (
	DefaultDiscoveryTimeout = 10 * time.Minute
	DefaultTaskTimeout      = 2 * time.Hour
	DefaultArtifactTimeout  = 2 * time.Hour
	DefaultReleaseTimeout   = 15 * time.Minute
	// RunLimit is the longest a run may take (spec 03: 24 hours).
	RunLimit = 24 * time.Hour
	// DefaultStopWait is how long a failed group waits for its other
	// tasks to stop: workers check their run's status every 2 s.
	DefaultStopWait = 30 * time.Second
)
