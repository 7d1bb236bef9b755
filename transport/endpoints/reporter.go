package endpoints

import (
	"context"

	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
)

// Reporter is the ports.RunReporter of workers and dispatchers: it
// reports through the API, over whichever transport Client speaks, with
// the worker's service-account token.
type Reporter struct {
	Client API
}

var _ ports.RunReporter = Reporter{}

// ReportTask reports a task's status (tasks.update_status).
func (r Reporter) ReportTask(ctx context.Context, taskID string, status pipeline.Status, reason string) error {
	_, err := r.Client.UpdateTaskStatus(ctx, taskID, TaskStatusRequest{Status: string(status), Error: reason})
	return err
}

// ReportStep reports a step's status (steps.update_status).
func (r Reporter) ReportStep(ctx context.Context, stepID string, status pipeline.Status, exitCode *int, logsKey string) error {
	_, err := r.Client.UpdateStepStatus(ctx, stepID, StepStatusRequest{Status: string(status), ExitCode: exitCode, LogsS3Key: logsKey})
	return err
}

// RunStatus reads the run's status alone (runs.status).
func (r Reporter) RunStatus(ctx context.Context, runID string) (pipeline.Status, error) {
	return r.Client.RunStatus(ctx, runID)
}

// Releases is the ports.ReleaseRegistrar of release workers: it registers
// releases through the API, over whichever transport Client speaks, with
// the worker's service-account token.
type Releases struct {
	Client API
}

var _ ports.ReleaseRegistrar = Releases{}

// RegisterRelease registers a release (releases.create).
func (r Releases) RegisterRelease(ctx context.Context, reg ports.ReleaseRegistration) (*release.Release, bool, error) {
	req := CreateReleaseRequest{PipelineRunID: reg.PipelineRunID, Repository: reg.Repository, Project: reg.Project, CommitSHA: reg.CommitSHA,
		Artifacts: []ReleaseArtifactRequest{}}
	if reg.Tag != "" {
		req.Trigger = &ReleaseTriggerRequest{Type: string(release.TriggerTag), Tag: reg.Tag}
	}
	for _, a := range reg.Artifacts {
		req.Artifacts = append(req.Artifacts, ReleaseArtifactRequest{Name: a.Name, Type: string(a.Type), TrackingOCIURI: a.TrackingOCIURI,
			TrackingOCIDigest: a.TrackingOCIDigest, PrimaryPublishedURI: a.PrimaryPublishedURI})
	}
	got, created, err := r.Client.CreateRelease(ctx, req)
	if err != nil {
		return nil, false, err
	}
	return &got.Release, created, nil
}

// SetReleaseImage records a release's image (releases.set_image).
func (r Releases) SetReleaseImage(ctx context.Context, releaseID, digest string) (*release.Release, error) {
	got, err := r.Client.SetReleaseImage(ctx, releaseID, digest)
	if err != nil {
		return nil, err
	}
	return &got.Release, nil
}
