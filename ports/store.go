package ports

import (
	"context"
	"time"

	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/domain/repository"
)

// Store persists the platform's state: repositories, pipeline runs with
// their phases, tasks and steps, releases with aliases, triggers and
// artifacts, deployments and approvals.
//
// Errors are *fault.Error: NotFound for a missing entity, Conflict for a
// uniqueness or status-transition violation, Validation for an entity the
// store refuses (an unknown status, say), Unavailable when the database
// cannot be reached. Implementations are safe for concurrent use.
type Store interface {
	Tx
	// InTx runs fn in one transaction: what fn does through tx is committed
	// when fn returns nil and rolled back when it returns an error (which
	// InTx returns). tx must not be used after fn returns.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// Close releases the store's connections.
	Close() error
}

// Tx is what can be done inside (or, on a Store, outside) a transaction.
type Tx interface {
	RepositoryStore
	RunStore
	ReleaseStore
	DeploymentStore
	ApprovalStore
}

// Page selects part of a list. A zero Limit means DefaultPageLimit; a limit
// above MaxPageLimit is lowered to it.
type Page struct {
	Limit  int
	Offset int
}

// Page limits.
const (
	DefaultPageLimit = 20
	MaxPageLimit     = 100
)

// Normalize returns the page with its limits applied.
func (p Page) Normalize() Page {
	if p.Limit <= 0 {
		p.Limit = DefaultPageLimit
	}
	if p.Limit > MaxPageLimit {
		p.Limit = MaxPageLimit
	}
	if p.Offset < 0 {
		p.Offset = 0
	}
	return p
}

// RepositoryStore persists repository registrations.
type RepositoryStore interface {
	// CreateRepository registers r. Idempotent on r.Name: registering a
	// name again returns the existing registration and created=false. An
	// empty r.ID is filled with a new UUID.
	CreateRepository(ctx context.Context, r *repository.Repository) (got *repository.Repository, created bool, err error)
	// GetRepository returns the registration of name (owner/name), or NotFound.
	GetRepository(ctx context.Context, name string) (*repository.Repository, error)
	// ListRepositories lists registrations by name, and the total count.
	ListRepositories(ctx context.Context, page Page) ([]repository.Repository, int, error)
}

// RunFilter narrows a list of runs; empty fields match everything.
type RunFilter struct {
	Repository string
	Branch     string
	CommitSHA  string
	Status     pipeline.Status
}

// RunStore persists pipeline runs and their phases, tasks and steps.
// Updates go through a closure that receives the current entity; the store
// then checks the status transition with pipeline.Transition (a terminal
// status never changes: Conflict) and saves the result.
type RunStore interface {
	// CreateRun saves r. Idempotent on (repository, commit): creating a run
	// for a commit that has one returns the existing run and created=false.
	// An empty r.ID is filled with a new UUID. Phases in r are ignored: use
	// AddPhases.
	CreateRun(ctx context.Context, r *pipeline.Run) (got *pipeline.Run, created bool, err error)
	// GetRun returns the run with its phases (by group, then name), their
	// tasks (by project name) and steps (in the order they were added).
	GetRun(ctx context.Context, id string) (*pipeline.Run, error)
	// ListRuns returns runs matching f, newest first, without their phases,
	// and the total count of matches.
	ListRuns(ctx context.Context, f RunFilter, page Page) ([]pipeline.Run, int, error)
	// CountActiveRuns counts the runs of repository that are pending or running.
	CountActiveRuns(ctx context.Context, repository string) (int, error)
	// UpdateRun applies fn to the run and saves it. Only status, completed
	// time, reason, workflow name and discovery output change.
	UpdateRun(ctx context.Context, id string, fn func(*pipeline.Run) error) (*pipeline.Run, error)
	// ReopenRun moves a failed run back to running, for a retry of what
	// failed (its release stage): its reason and completion time are
	// cleared and its start time becomes at, so the run's time limit
	// counts from the retry. check sees the run first, whatever its
	// status (so a permission check refuses before the run's state is
	// told), and may refuse with its own error; nothing changes then.
	// Only a failed run reopens: another is a Conflict. Errors: NotFound,
	// check's, Conflict.
	ReopenRun(ctx context.Context, id string, at time.Time, check func(*pipeline.Run) error) (*pipeline.Run, error)
	// AddPhases saves the plan of a run: phases with their tasks and steps,
	// filling empty IDs. Idempotent: when the run already has phases, they
	// are returned unchanged and phases is ignored.
	AddPhases(ctx context.Context, runID string, phases []pipeline.Phase) ([]pipeline.Phase, error)
	// RunStatus returns the status of a run alone, with one indexed read:
	// what workers poll while their steps run. Errors: NotFound.
	RunStatus(ctx context.Context, id string) (pipeline.Status, error)
	// GetTask returns a task with its steps.
	GetTask(ctx context.Context, id string) (*pipeline.Task, error)
	// GetStep returns a step.
	GetStep(ctx context.Context, id string) (*pipeline.Step, error)
	// UpdatePhase, UpdateTask and UpdateStep apply fn and save the status,
	// times, error, exit code and log key.
	UpdatePhase(ctx context.Context, id string, fn func(*pipeline.Phase) error) (*pipeline.Phase, error)
	UpdateTask(ctx context.Context, id string, fn func(*pipeline.Task) error) (*pipeline.Task, error)
	UpdateStep(ctx context.Context, id string, fn func(*pipeline.Step) error) (*pipeline.Step, error)
	// PlaceOfTask and PlaceOfStep return where a task or step sits, with
	// the statuses of its run, phase and task: one indexed read, what a
	// status report is checked against. Errors: NotFound.
	PlaceOfTask(ctx context.Context, taskID string) (*pipeline.Place, error)
	PlaceOfStep(ctx context.Context, stepID string) (*pipeline.Place, error)
	// ExpiredRuns returns the IDs of at most limit runs created before
	// before that have ended and that no release names (a release keeps
	// its run as provenance), oldest first: what data retention deletes.
	// One indexed read. Errors: Unavailable.
	ExpiredRuns(ctx context.Context, before time.Time, limit int) ([]string, error)
	// DeleteRuns deletes the runs ids with their phases, tasks and steps,
	// each only if it has ended and no release names it (checked as it is
	// deleted), and returns how many it deleted; unknown IDs are skipped.
	// Releases, deployments and approvals are never touched. Idempotent.
	// Errors: Unavailable.
	DeleteRuns(ctx context.Context, ids []string) (int, error)
}

// ReleaseStore persists releases with their aliases, trigger and artifacts.
type ReleaseStore interface {
	// CreateRelease saves r with the next release number of its
	// repository/project (1 for the first; no gaps and no duplicates under
	// concurrent creation), its numeric alias, the aliases in r.Aliases,
	// its trigger and its artifacts. Idempotent on the triplet: a release
	// that exists is returned with created=false and r is ignored. Aliases
	// are unique per kind within a project (release.AliasPrecedence): an
	// alias another release of the project has as the same kind is a
	// Conflict, the same text as another kind is not; an alias that
	// release.ValidateAlias refuses (digits only, say) is Validation.
	CreateRelease(ctx context.Context, r *release.Release) (got *release.Release, created bool, err error)
	// GetRelease returns a release by ID with its aliases, trigger and artifacts.
	GetRelease(ctx context.Context, id string) (*release.Release, error)
	// FindRelease returns a release finder for one repository/project, for
	// release.Resolve.
	FindRelease(repository, project string) release.Finder
	// ListReleases returns the releases of a project, newest number first,
	// with aliases and artifacts, and the total count.
	ListReleases(ctx context.Context, repository, project string, page Page) ([]release.Release, int, error)
	// AddAlias gives a release one more alias. Idempotent for the same
	// release and kind; Conflict when another release of the project has it
	// as the same kind, or this release has its text as another kind;
	// Validation when release.ValidateAlias refuses it or a numeric alias
	// is not the release's number.
	AddAlias(ctx context.Context, releaseID string, a release.Alias) error
	// SetReleaseImage records the manifest digest of a release's image,
	// once: a release is registered before its image exists (the image
	// carries the release's number), then its image is pushed and its
	// digest set. Setting the digest it has is harmless; setting another
	// is a Conflict, since a release never changes. Errors: NotFound,
	// Validation (not a sha256 digest), Conflict.
	SetReleaseImage(ctx context.Context, releaseID, digest string) (*release.Release, error)
	// RunReleases returns the releases a pipeline run created, by project
	// name, with their aliases, trigger and artifacts.
	RunReleases(ctx context.Context, runID string) ([]release.Release, error)
}

// DeploymentStore persists deployments.
type DeploymentStore interface {
	// CreateDeployment saves d. When d is active, the deployment active
	// before it in the same environment for the same repository/project
	// becomes superseded in the same transaction, so exactly one stays
	// active. An empty d.ID is filled with a new UUID. A RollbackOf that
	// names no deployment is NotFound.
	CreateDeployment(ctx context.Context, d *release.Deployment) (*release.Deployment, error)
	// GetDeployment returns a deployment by ID.
	GetDeployment(ctx context.Context, id string) (*release.Deployment, error)
	// CurrentDeployment returns the active deployment of repository/project
	// in environment, or NotFound.
	CurrentDeployment(ctx context.Context, environment, repository, project string) (*release.Deployment, error)
	// ListDeployments returns the deployments of repository/project in
	// environment, newest first, and the total count.
	ListDeployments(ctx context.Context, environment, repository, project string, page Page) ([]release.Deployment, int, error)
	// UpdateDeployment applies fn and saves the status, GitOps commit,
	// reason and approval. A deployment that becomes active supersedes the active one,
	// as in CreateDeployment. Transitions follow release.DeploymentTransition.
	UpdateDeployment(ctx context.Context, id string, fn func(*release.Deployment) error) (*release.Deployment, error)
	// PendingDeployments returns the deployments, of every environment
	// and project, that are pending and were deployed at or before
	// before, oldest first, up to limit (as a Page's): those whose outcome
	// the process that made them did not live to record. One indexed read.
	PendingDeployments(ctx context.Context, before time.Time, limit int) ([]release.Deployment, error)
}

// ApprovalStore persists approvals.
type ApprovalStore interface {
	// CreateApproval saves a. An empty a.ID is filled with a new UUID.
	CreateApproval(ctx context.Context, a *release.Approval) (*release.Approval, error)
	// GetApproval returns an approval by ID.
	GetApproval(ctx context.Context, id string) (*release.Approval, error)
	// LatestApproval returns the newest approval of a release for an
	// environment, whatever its status, or NotFound.
	LatestApproval(ctx context.Context, releaseID, environment string) (*release.Approval, error)
	// ActiveApproval returns an approval of the release for the environment
	// that is active and not expired at now, or NotFound.
	ActiveApproval(ctx context.Context, releaseID, environment string, now time.Time) (*release.Approval, error)
	// UpdateApproval applies fn and saves the status; transitions follow
	// release.ApprovalTransition.
	UpdateApproval(ctx context.Context, id string, fn func(*release.Approval) error) (*release.Approval, error)
	// ExpireApprovals marks every active approval whose expiry is at or
	// before now as expired, and returns how many changed.
	ExpireApprovals(ctx context.Context, now time.Time) (int, error)
}
