package running

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/catalyst-forge/forge/application/announcing"
	"github.com/catalyst-forge/forge/application/limiting"
	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/event"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/ports"
)

// Service manages pipeline runs.
type Service struct {
	Store  ports.Store
	Clock  ports.Clock
	Events *announcing.Announcer
	// Limiter enforces each repository's runs-per-minute limit; nil
	// disables rate limiting.
	Limiter *limiting.Limiter
	// Objects holds step logs; nil means logs cannot be read here.
	Objects ports.ObjectStore
	// Engine runs the pipelines of new runs; nil leaves them pending for
	// something else to pick up.
	Engine ports.WorkflowEngine
	// ReportSecret, when set, is the secret run report keys are made with
	// (pipeline.ReportKey): task and step statuses are accepted only with
	// their run's key, which only the orchestrator's jobs carry. Empty
	// accepts any service account's report (a library without workers).
	ReportSecret []byte
	// Status, when set, is told of each new run (the created status point
	// of spec 03: a pending commit status on GitHub).
	StatusReporter ports.StatusReporter
}

// CreateRequest is what a run is created from.
type CreateRequest struct {
	Repository  string
	Branch      string
	CommitSHA   string
	TriggeredBy string
	TriggerType pipeline.TriggerType
	// GitHub, when a GitHub workflow starts the run, says where its
	// commit statuses and pull request summary go.
	GitHub *pipeline.GitHubContext
}

func (r *CreateRequest) validate() error {
	if err := repository.ValidateName(r.Repository); err != nil {
		return err
	}
	if err := release.ValidateCommitSHA("commit_sha", r.CommitSHA); err != nil {
		return err
	}
	if r.TriggerType == "" {
		r.TriggerType = pipeline.TriggerPush
	}
	if !r.TriggerType.Valid() {
		return &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "trigger_type"},
			Message: "trigger_type must be push, pull_request or manual, got " + quote(string(r.TriggerType))}
	}
	if field, msg := r.GitHub.Validate(); msg != "" {
		return &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": field}, Message: msg}
	}
	if len(r.Branch) > 255 || strings.ContainsAny(r.Branch, " \t\n~^:?*[\\") {
		return &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "branch"},
			Message: "branch is not a valid git branch name: " + quote(r.Branch)}
	}
	return nil
}

// Create creates the run of a commit, or returns the one that exists
// (created=false). The repository must be registered; its runs-per-minute
// and concurrent-runs limits apply to new runs only.
func (s *Service) Create(ctx context.Context, who *identity.Principal, req CreateRequest) (*pipeline.Run, bool, error) {
	if err := identity.Require(who, identity.PermCreateRun); err != nil {
		return nil, false, err
	}
	if err := req.validate(); err != nil {
		return nil, false, err
	}
	if err := identity.RequireRepository(who, req.Repository); err != nil {
		return nil, false, err
	}
	if existing, err := s.findByCommit(ctx, req.Repository, req.CommitSHA); err != nil || existing != nil {
		if err == nil && !existing.Status.Terminal() && existing.ArgoWorkflowName == "" {
			// Creating again retries a start that failed; engines start a
			// run once however often they are asked. A run with a
			// workflow has started (a retry's workflow is not Start's).
			existing, err = s.start(ctx, existing)
		}
		return existing, false, err
	}
	repo, err := s.Store.GetRepository(ctx, req.Repository)
	if fault.Is(err, fault.NotFound) {
		return nil, false, &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "repository"},
			Message: "repository " + req.Repository + " is not registered; an operator registers it with 'forge repo register " + req.Repository + "'"}
	}
	if err != nil {
		return nil, false, err
	}
	limits := repo.Limits.WithDefaults()
	if s.Limiter != nil {
		if err := s.Limiter.Allow("runs:"+repo.Name, limits.RunsPerMinute, "runs of "+repo.Name); err != nil {
			return nil, false, err
		}
	}
	active, err := s.Store.CountActiveRuns(ctx, repo.Name)
	if err != nil {
		return nil, false, err
	}
	if active >= limits.MaxConcurrentRuns {
		return nil, false, &fault.Error{Kind: fault.RateLimited,
			Message: fmt.Sprintf("%s already has %d runs in progress, its limit; retry when one finishes", repo.Name, active),
			Details: map[string]any{"retry_after_seconds": 30, "limit": limits.MaxConcurrentRuns}}
	}
	now := s.Clock.Now()
	triggeredBy := req.TriggeredBy
	if triggeredBy == "" {
		triggeredBy = who.Subject
	}
	run, created, err := s.Store.CreateRun(ctx, &pipeline.Run{
		Repository:  req.Repository,
		Branch:      req.Branch,
		CommitSHA:   req.CommitSHA,
		TriggeredBy: triggeredBy,
		TriggerType: req.TriggerType,
		Status:      pipeline.StatusPending,
		CreatedAt:   now,
		StartedAt:   now,
		GitHub:      req.GitHub,
	})
	if err != nil {
		return nil, false, err
	}
	if created {
		s.Events.Announce(ctx, event.RunCreated, map[string]any{
			"run_id": run.ID, "repository": run.Repository, "commit_sha": run.CommitSHA,
		})
	}
	run, err = s.start(ctx, run)
	if created && err == nil && s.StatusReporter != nil {
		_ = s.StatusReporter.Report(ctx, run, ports.StatusCreated, "Pipeline started - discovering projects...")
	}
	return run, created, err
}

// start hands the run to the engine and records its workflow's name.
func (s *Service) start(ctx context.Context, run *pipeline.Run) (*pipeline.Run, error) {
	if s.Engine == nil {
		return run, nil
	}
	name, err := s.Engine.Start(ctx, run)
	if err != nil {
		return run, fault.Wrap(fault.Unavailable, err, "run %s is recorded but its pipeline could not start; creating it again retries", run.ID)
	}
	return s.recordWorkflow(ctx, run, name)
}

// recordWorkflow records the name of the run's workflow, when the engine
// has names and it is a new one.
func (s *Service) recordWorkflow(ctx context.Context, run *pipeline.Run, name string) (*pipeline.Run, error) {
	if name == "" || name == run.ArgoWorkflowName {
		return run, nil
	}
	return s.Store.UpdateRun(ctx, run.ID, func(r *pipeline.Run) error {
		r.ArgoWorkflowName = name
		return nil
	})
}

func (s *Service) findByCommit(ctx context.Context, repo, sha string) (*pipeline.Run, error) {
	runs, _, err := s.Store.ListRuns(ctx, ports.RunFilter{Repository: repo, CommitSHA: sha}, ports.Page{Limit: 1})
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	return &runs[0], nil
}

// Get returns a run with its phases, tasks and steps.
func (s *Service) Get(ctx context.Context, who *identity.Principal, id string) (*pipeline.Run, error) {
	if err := identity.Require(who, identity.PermRead); err != nil {
		return nil, err
	}
	return s.Store.GetRun(ctx, id)
}

// Status returns a run's status alone (one indexed read): what workers
// poll while their steps run, to stop when the run has ended.
func (s *Service) Status(ctx context.Context, who *identity.Principal, id string) (pipeline.Status, error) {
	if err := identity.Require(who, identity.PermRead); err != nil {
		return "", err
	}
	return s.Store.RunStatus(ctx, id)
}

// List lists runs, newest first.
func (s *Service) List(ctx context.Context, who *identity.Principal, f ports.RunFilter, page ports.Page) ([]pipeline.Run, int, error) {
	if err := identity.Require(who, identity.PermRead); err != nil {
		return nil, 0, err
	}
	if f.Status != "" && !pipeline.KindRun.Valid(f.Status) {
		return nil, 0, &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "status"},
			Message: "status must be pending, running, success, failed or cancelled, got " + quote(string(f.Status))}
	}
	return s.Store.ListRuns(ctx, f, page.Normalize())
}

// Cancel cancels a run that has not finished; a finished run is a conflict.
func (s *Service) Cancel(ctx context.Context, who *identity.Principal, id string) error {
	if err := identity.Require(who, identity.PermCancelRun); err != nil {
		return err
	}
	now := s.Clock.Now()
	run, err := s.Store.UpdateRun(ctx, id, func(r *pipeline.Run) error {
		if err := identity.RequireRepository(who, r.Repository); err != nil {
			return err
		}
		if r.Status.Terminal() {
			return fault.New(fault.Conflict, "run %s has already finished (%s) and cannot be cancelled", r.ID, r.Status)
		}
		r.Status = pipeline.StatusCancelled
		r.Reason = "cancelled by " + who.Subject
		r.CompletedAt = &now
		return nil
	})
	if err != nil {
		return err
	}
	s.completed(ctx, run)
	if s.Engine != nil {
		if err := s.Engine.Cancel(ctx, run); err != nil {
			return fault.Wrap(fault.Unavailable, err, "run %s is cancelled, but its workflow could not be stopped (its workers still stop within seconds)", run.ID)
		}
	}
	return nil
}

// Retry re-runs what failed in a run's release stage: the run, failed
// after all its phases succeeded, is reopened (its time limit counts from
// now) and handed to the engine, which builds again only the artifacts
// whose producer or publishers failed (publishers that succeeded are not
// run again) and makes the releases that were not made; its tasks, and
// the artifacts and releases that succeeded, keep their outcome. A run
// that failed in a phase, or is not failed, is a Conflict: a fix of the
// code is a new commit and a new run.
func (s *Service) Retry(ctx context.Context, who *identity.Principal, id string) (*pipeline.Run, error) {
	if err := identity.Require(who, identity.PermRetryRun); err != nil {
		return nil, err
	}
	var previous string
	run, err := s.Store.ReopenRun(ctx, id, s.Clock.Now(), func(r *pipeline.Run) error {
		// The token's binding first: a token of another repository
		// learns nothing of the run's state.
		if err := identity.RequireRepository(who, r.Repository); err != nil {
			return err
		}
		if r.Status != pipeline.StatusFailed {
			return nil // the store refuses it as a Conflict
		}
		previous = r.Reason
		return retryable(r)
	})
	if err != nil {
		return nil, err
	}
	s.Events.Announce(ctx, event.RunRetried, map[string]any{
		"run_id": run.ID, "retried_by": who.Subject, "previous_reason": previous,
	})
	if s.Engine == nil {
		return run, nil
	}
	name, err := s.Engine.Retry(ctx, run)
	if err != nil {
		// The run is running with no workflow: the reconciler ends it
		// (failed again, so it can be retried again) once its grace is
		// over.
		return run, fault.Wrap(fault.Unavailable, err, "run %s was reopened but its retry could not start; it is failed again once the reconciler finds no workflow (forge-api --reconcile-grace), and can be retried then", run.ID)
	}
	return s.recordWorkflow(ctx, run, name)
}

// retryable says whether a failed run's failure is its release stage's:
// it was planned with a release and every phase succeeded.
func retryable(r *pipeline.Run) error {
	if len(r.Phases) == 0 {
		return fault.New(fault.Conflict, "run %s failed before its phases ran (%s); there is no release stage to retry: run the commit again once fixed", r.ID, r.Reason)
	}
	for _, ph := range r.Phases {
		if ph.Status != pipeline.StatusSuccess {
			return fault.New(fault.Conflict, "run %s failed in phase %s, not in its release stage; a retry re-runs only artifacts and releases: push a fix and run the new commit", r.ID, ph.Name)
		}
	}
	var out discovery.Output
	if err := json.Unmarshal(r.DiscoveryOutput, &out); err != nil || !out.ReleaseEnabled {
		return fault.New(fault.Conflict, "run %s has no release stage to retry: its branch does not release", r.ID)
	}
	return nil
}

func (s *Service) completed(ctx context.Context, run *pipeline.Run) {
	data := map[string]any{"run_id": run.ID, "status": string(run.Status)}
	if run.CompletedAt != nil {
		data["duration_seconds"] = int(run.CompletedAt.Sub(run.StartedAt).Seconds())
	}
	s.Events.Announce(ctx, event.RunCompleted, data)
}

func quote(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return strconv.Quote(s)
}
