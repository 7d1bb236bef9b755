package forgedev

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/catalyst-forge/forge/adapters/onprem/gormstore"
	"github.com/catalyst-forge/forge/application/releasing"
	"github.com/catalyst-forge/forge/application/running"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
)

// printer writes progress lines: the run's status points and each step as
// it starts and ends, with its duration.
type printer struct {
	w       io.Writer
	mu      sync.Mutex
	started map[string]time.Time
}

var _ ports.StatusReporter = (*printer)(nil)

func (p *printer) printf(format string, args ...any) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}

// Report prints a status point of the run.
func (p *printer) Report(_ context.Context, _ *pipeline.Run, _ ports.StatusPoint, description string) error {
	p.printf("%s", description)
	return nil
}

func (p *printer) step(label string, st pipeline.Status, code *int) {
	p.mu.Lock()
	now := time.Now()
	start, ok := p.started[label]
	if st == pipeline.StatusRunning {
		p.started[label] = now
	}
	p.mu.Unlock()
	switch {
	case st == pipeline.StatusRunning:
		p.printf("  ▶ %s", label)
	case st == pipeline.StatusSkipped:
		p.printf("  - %s skipped", label)
	case ok && st == pipeline.StatusSuccess:
		p.printf("  ✓ %s (%s)", label, now.Sub(start).Round(time.Millisecond))
	case st == pipeline.StatusFailed:
		exit := "?"
		if code != nil {
			exit = fmt.Sprint(*code)
		}
		p.printf("  ✗ %s failed, exit %s (%s)", label, exit, now.Sub(start).Round(time.Millisecond))
	}
}

// reporter is the RunReporter of in-process workers: it records statuses
// through the running service, as the API would, and prints step events.
type reporter struct {
	runs  *running.Service
	store *gormstore.Store
	print *printer

	mu     sync.Mutex
	labels map[string]string
}

var _ ports.RunReporter = (*reporter)(nil)

func (r *reporter) ReportTask(ctx context.Context, taskID string, status pipeline.Status, reason string) error {
	_, err := r.runs.UpdateTask(ctx, worker, taskID, running.TaskStatus{Status: status, Error: reason, Key: ports.ReportKeyFrom(ctx)})
	return err
}

func (r *reporter) ReportStep(ctx context.Context, stepID string, status pipeline.Status, exitCode *int, logsKey string) error {
	_, err := r.runs.UpdateStep(ctx, worker, stepID, running.StepStatus{Status: status, ExitCode: exitCode, LogsKey: logsKey, Key: ports.ReportKeyFrom(ctx)})
	if err == nil {
		r.print.step(r.label(ctx, stepID), status, exitCode)
	}
	return err
}

func (r *reporter) RunStatus(ctx context.Context, runID string) (pipeline.Status, error) {
	return r.store.RunStatus(ctx, runID)
}

// label names a step phase/project/step. The first step of a run not
// named yet names every step of the run (one read of the run's plan
// instead of one per step).
func (r *reporter) label(ctx context.Context, stepID string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if l, ok := r.labels[stepID]; ok {
		return l
	}
	if r.labels == nil {
		r.labels = map[string]string{}
	}
	p, err := r.store.PlaceOfStep(ctx, stepID)
	if err != nil {
		return stepID
	}
	if run, err := r.store.GetRun(ctx, p.RunID); err == nil {
		for _, ph := range run.Phases {
			for _, t := range ph.Tasks {
				for _, st := range t.Steps {
					r.labels[st.ID] = ph.Name + "/" + t.ProjectName + "/" + st.Name
				}
			}
		}
	}
	l := p.PhaseName + "/" + p.TaskProject + "/" + p.StepName
	r.labels[stepID] = l
	return l
}

// registrar is the ReleaseRegistrar of in-process workers: it registers
// releases through the releasing service, as the API would.
type registrar struct {
	releases *releasing.Service
}

var _ ports.ReleaseRegistrar = registrar{}

func (r registrar) RegisterRelease(ctx context.Context, reg ports.ReleaseRegistration) (*release.Release, bool, error) {
	req := releasing.CreateRequest{PipelineRunID: reg.PipelineRunID, Repository: reg.Repository, Project: reg.Project, CommitSHA: reg.CommitSHA}
	for _, a := range reg.Artifacts {
		req.Artifacts = append(req.Artifacts, releasing.ArtifactInput{Name: a.Name, Type: a.Type, TrackingOCIURI: a.TrackingOCIURI,
			TrackingOCIDigest: a.TrackingOCIDigest, PrimaryPublishedURI: a.PrimaryPublishedURI})
	}
	return r.releases.Create(ctx, worker, req)
}

func (r registrar) SetReleaseImage(ctx context.Context, releaseID, digest string) (*release.Release, error) {
	return r.releases.SetImage(ctx, worker, releaseID, digest)
}
