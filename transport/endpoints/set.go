package endpoints

import (
	"context"
	"fmt"

	"github.com/go-kit/kit/endpoint"

	"github.com/catalyst-forge/forge/application/deploying"
	"github.com/catalyst-forge/forge/application/registering"
	"github.com/catalyst-forge/forge/application/releasing"
	"github.com/catalyst-forge/forge/application/running"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/ports"
)

// Services are the use cases the API exposes.
type Services struct {
	Runs         *running.Service
	Releases     *releasing.Service
	Deployments  *deploying.Service
	Repositories *registering.Service
}

// Outcome is how an endpoint succeeded, beyond its value: each transport
// maps it to its own code (HTTP 200, 201, 202, 204; a NATS header).
type Outcome int

// The outcomes of a successful call.
const (
	OK        Outcome = iota // the value is the answer
	Created                  // the value was made by this call (not found existing)
	Accepted                 // the work the value describes goes on after the answer
	NoContent                // there is no value
)

var outcomeNames = [...]string{OK: "ok", Created: "created", Accepted: "accepted", NoContent: "no_content"}

// String is the outcome's name on the wire ("ok", "created", ...).
func (o Outcome) String() string {
	if o < 0 || int(o) >= len(outcomeNames) {
		return fmt.Sprintf("outcome(%d)", int(o))
	}
	return outcomeNames[o]
}

// ParseOutcome reads an outcome's name back; ok is false for an unknown
// one.
func ParseOutcome(s string) (o Outcome, ok bool) {
	for i, name := range outcomeNames {
		if name == s {
			return Outcome(i), true
		}
	}
	return OK, false
}

// Reply is what every endpoint answers: its outcome and its value (nil
// for NoContent).
type Reply struct {
	Outcome Outcome
	Value   any
}

// Endpoint is one use case of the API.
type Endpoint struct {
	// Name is the use case's name, "<resource>.<action>" (runs.create):
	// the tail of its NATS subject.
	Name string
	// Request returns a pointer to a new zero request, to decode into;
	// Serve takes the request the pointer points to (a value).
	Request func() any
	// Serve is the go-kit endpoint; its response is a Reply.
	Serve endpoint.Endpoint
}

// Set is the API: one endpoint per use case.
type Set struct {
	CreateRun, GetRun, RunStatus, ListRuns, CancelRun, RetryRun, UpdateTask, UpdateStep Endpoint
	CreateRelease, SetReleaseImage, GetRelease, ListReleases                            Endpoint
	Deploy, Rollback, CurrentDeployment, Environments, Approve, GetApproval, Revoke     Endpoint
	RegisterRepository, ListRepositories                                                Endpoint
}

// All returns every endpoint of the set, for transports that serve each by
// its name.
func (s Set) All() []Endpoint {
	return []Endpoint{s.CreateRun, s.GetRun, s.RunStatus, s.ListRuns, s.CancelRun, s.RetryRun, s.UpdateTask, s.UpdateStep,
		s.CreateRelease, s.SetReleaseImage, s.GetRelease, s.ListReleases,
		s.Deploy, s.Rollback, s.CurrentDeployment, s.Environments, s.Approve, s.GetApproval, s.Revoke,
		s.RegisterRepository, s.ListRepositories}
}

// With returns the set with every endpoint wrapped by mw, the first
// outermost: for behaviour that belongs to every use case whatever the
// transport (the transports themselves log, time and trace requests, since
// they see what the endpoints do not: routes, codes, headers).
func (s Set) With(mw ...endpoint.Middleware) Set {
	if len(mw) == 0 {
		return s
	}
	chain := endpoint.Chain(mw[0], mw[1:]...)
	for _, e := range []*Endpoint{&s.CreateRun, &s.GetRun, &s.RunStatus, &s.ListRuns, &s.CancelRun, &s.RetryRun, &s.UpdateTask, &s.UpdateStep,
		&s.CreateRelease, &s.SetReleaseImage, &s.GetRelease, &s.ListReleases,
		&s.Deploy, &s.Rollback, &s.CurrentDeployment, &s.Environments, &s.Approve, &s.GetApproval, &s.Revoke,
		&s.RegisterRepository, &s.ListRepositories} {
		e.Serve = chain(e.Serve)
	}
	return s
}

// use makes an endpoint of a use case: the caller comes from the context,
// the request is a Req (or a *Req, as decoded).
func use[Req any](name string, f func(ctx context.Context, who *identity.Principal, req Req) (Reply, error)) Endpoint {
	return Endpoint{Name: name, Request: func() any { return new(Req) }, Serve: func(ctx context.Context, request any) (any, error) {
		req, ok := request.(Req)
		if !ok {
			p, isPtr := request.(*Req)
			if !isPtr || p == nil {
				return nil, fault.New(fault.Internal, "endpoint %s got a request of type %T", name, request)
			}
			req = *p
		}
		r, err := f(ctx, PrincipalFrom(ctx), req)
		if err != nil {
			return nil, err
		}
		return r, nil
	}}
}

// created is the outcome of a create that may have found the entity.
func created(made bool) Outcome {
	if made {
		return Created
	}
	return OK
}

// checkPage refuses a negative limit or offset.
func checkPage(limit, offset int) (ports.Page, error) {
	for name, n := range map[string]int{"limit": limit, "offset": offset} {
		if n < 0 {
			return ports.Page{}, &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": name},
				Message: fmt.Sprintf("%s must be a non-negative integer, got %d", name, n)}
		}
	}
	return ports.Page{Limit: limit, Offset: offset}, nil
}

// checkProject canonicalises a repository name and refuses a repository
// or project name no project can have, naming it (rather than a 404 that
// reads as "no such release").
func checkProject(repo, project string) (string, error) {
	repo = repository.Canonical(repo)
	if err := repository.ValidateName(repo); err != nil {
		return repo, err
	}
	if msg := config.CheckProjectName(project); msg != "" {
		return repo, &fault.Error{Kind: fault.Validation, Message: msg, Details: map[string]any{"field": "project"}}
	}
	return repo, nil
}

func releaseResponse(r *release.Release) ReleaseResponse {
	return ReleaseResponse{Release: *r, CanonicalID: r.Triplet().String()}
}

// New builds the endpoint set over the services.
func New(s Services) Set {
	return Set{
		CreateRun: use("runs.create", func(ctx context.Context, who *identity.Principal, req CreateRunRequest) (Reply, error) {
			repo := repository.Canonical(req.Repository)
			Annotate(ctx, "repository", repo)
			run, made, err := s.Runs.Create(ctx, who, running.CreateRequest{
				Repository: repo, Branch: req.Branch, CommitSHA: req.CommitSHA,
				TriggeredBy: req.TriggeredBy, TriggerType: pipeline.TriggerType(req.TriggerType), GitHub: req.GitHubContext,
			})
			if run != nil {
				Annotate(ctx, "run_id", run.ID)
			}
			return Reply{created(made), run}, err
		}),
		GetRun: use("runs.get", func(ctx context.Context, who *identity.Principal, req IDRequest) (Reply, error) {
			Annotate(ctx, "run_id", req.ID)
			run, err := s.Runs.Get(ctx, who, req.ID)
			if err != nil {
				return Reply{}, err
			}
			rels, err := s.Releases.RunReleases(ctx, who, run.ID)
			if err != nil {
				return Reply{}, err
			}
			out := RunResponse{Run: *run, Releases: []ReleaseResponse{}}
			for i := range rels {
				out.Releases = append(out.Releases, releaseResponse(&rels[i]))
			}
			return Reply{OK, out}, nil
		}),
		RunStatus: use("runs.status", func(ctx context.Context, who *identity.Principal, req IDRequest) (Reply, error) {
			Annotate(ctx, "run_id", req.ID)
			st, err := s.Runs.Status(ctx, who, req.ID)
			return Reply{OK, RunStatusResponse{ID: req.ID, Status: st}}, err
		}),
		ListRuns: use("runs.list", func(ctx context.Context, who *identity.Principal, req ListRunsRequest) (Reply, error) {
			page, err := checkPage(req.Limit, req.Offset)
			if err != nil {
				return Reply{}, err
			}
			f := ports.RunFilter{Repository: repository.Canonical(req.Repository), Branch: req.Branch, CommitSHA: req.CommitSHA, Status: pipeline.Status(req.Status)}
			// Filters match exactly: a malformed one would match nothing, silently.
			if f.Repository != "" {
				if err := repository.ValidateName(f.Repository); err != nil {
					return Reply{}, err
				}
			}
			if f.CommitSHA != "" {
				if err := release.ValidateCommitSHA("commit_sha", f.CommitSHA); err != nil {
					return Reply{}, err
				}
			}
			runs, total, err := s.Runs.List(ctx, who, f, page)
			if runs == nil {
				runs = []pipeline.Run{}
			}
			p := page.Normalize()
			return Reply{OK, RunList{Runs: runs, Total: total, Limit: p.Limit, Offset: p.Offset}}, err
		}),
		CancelRun: use("runs.cancel", func(ctx context.Context, who *identity.Principal, req IDRequest) (Reply, error) {
			Annotate(ctx, "run_id", req.ID)
			return Reply{Outcome: NoContent}, s.Runs.Cancel(ctx, who, req.ID)
		}),
		RetryRun: use("runs.retry", func(ctx context.Context, who *identity.Principal, req IDRequest) (Reply, error) {
			Annotate(ctx, "run_id", req.ID)
			run, err := s.Runs.Retry(ctx, who, req.ID)
			return Reply{Accepted, run}, err
		}),
		UpdateTask: use("tasks.update_status", func(ctx context.Context, who *identity.Principal, req UpdateTaskRequest) (Reply, error) {
			Annotate(ctx, "task_id", req.ID)
			t, err := s.Runs.UpdateTask(ctx, who, req.ID, running.TaskStatus{Status: pipeline.Status(req.Status), Error: req.Error, Key: ports.ReportKeyFrom(ctx)})
			return Reply{OK, t}, err
		}),
		UpdateStep: use("steps.update_status", func(ctx context.Context, who *identity.Principal, req UpdateStepRequest) (Reply, error) {
			Annotate(ctx, "step_id", req.ID)
			st, err := s.Runs.UpdateStep(ctx, who, req.ID, running.StepStatus{Status: pipeline.Status(req.Status), ExitCode: req.ExitCode,
				LogsKey: req.LogsS3Key, Key: ports.ReportKeyFrom(ctx)})
			return Reply{OK, st}, err
		}),

		CreateRelease: use("releases.create", func(ctx context.Context, who *identity.Principal, req CreateReleaseRequest) (Reply, error) {
			in := releasing.CreateRequest{PipelineRunID: req.PipelineRunID, Repository: repository.Canonical(req.Repository), Project: req.Project,
				CommitSHA: req.CommitSHA, OCIDigest: req.OCIDigest}
			for _, a := range req.Artifacts {
				in.Artifacts = append(in.Artifacts, releasing.ArtifactInput{Name: a.Name, Type: release.ArtifactType(a.Type),
					TrackingOCIURI: a.TrackingOCIURI, TrackingOCIDigest: a.TrackingOCIDigest, PrimaryPublishedURI: a.PrimaryPublishedURI})
			}
			if t := req.Trigger; t != nil {
				in.Trigger = &releasing.TriggerInput{Type: release.TriggerType(t.Type), Branch: t.Branch, Tag: t.Tag}
			}
			Annotate(ctx, "repository", in.Repository, "project", in.Project, "run_id", in.PipelineRunID)
			r, made, err := s.Releases.Create(ctx, who, in)
			if err != nil {
				return Reply{}, err
			}
			return Reply{created(made), releaseResponse(r)}, nil
		}),
		SetReleaseImage: use("releases.set_image", func(ctx context.Context, who *identity.Principal, req SetImageRequest) (Reply, error) {
			Annotate(ctx, "release_id", req.ID)
			r, err := s.Releases.SetImage(ctx, who, req.ID, req.OCIDigest)
			if err != nil {
				return Reply{}, err
			}
			return Reply{OK, releaseResponse(r)}, nil
		}),
		GetRelease: use("releases.get", func(ctx context.Context, who *identity.Principal, req ReleaseRequest) (Reply, error) {
			repo, err := checkProject(req.Repository, req.Project)
			if err != nil {
				return Reply{}, err
			}
			Annotate(ctx, "repository", repo, "project", req.Project)
			r, err := s.Releases.Get(ctx, who, repo, req.Project, req.ID)
			if err != nil {
				return Reply{}, err
			}
			return Reply{OK, releaseResponse(r)}, nil
		}),
		ListReleases: use("releases.list", func(ctx context.Context, who *identity.Principal, req ListReleasesRequest) (Reply, error) {
			page, err := checkPage(req.Limit, req.Offset)
			if err != nil {
				return Reply{}, err
			}
			repo, err := checkProject(req.Repository, req.Project)
			if err != nil {
				return Reply{}, err
			}
			Annotate(ctx, "repository", repo, "project", req.Project)
			rs, total, err := s.Releases.List(ctx, who, repo, req.Project, page)
			if err != nil {
				return Reply{}, err
			}
			p := page.Normalize()
			out := ReleaseList{Releases: []ReleaseResponse{}, Total: total, Limit: p.Limit, Offset: p.Offset}
			for i := range rs {
				out.Releases = append(out.Releases, releaseResponse(&rs[i]))
			}
			return Reply{OK, out}, nil
		}),

		Deploy: use("deployments.create", func(ctx context.Context, who *identity.Principal, req DeployRequest) (Reply, error) {
			Annotate(ctx, "release_id", req.ReleaseID, "environment", req.Environment)
			d, err := s.Deployments.Deploy(ctx, who, deploying.DeployRequest{ReleaseID: req.ReleaseID, Environment: req.Environment, ApprovalID: req.ApprovalID})
			if err != nil {
				return Reply{}, err
			}
			Annotate(ctx, "repository", d.Repository, "project", d.Project)
			return Reply{Created, deploymentResponse(d)}, nil
		}),
		Rollback: use("rollbacks.create", func(ctx context.Context, who *identity.Principal, req RollbackRequest) (Reply, error) {
			repo := repository.Canonical(req.Repository)
			Annotate(ctx, "environment", req.Environment, "repository", repo, "project", req.Project)
			d, prev, err := s.Deployments.Rollback(ctx, who, req.Environment, repo, req.Project, req.To)
			if err != nil {
				return Reply{}, err
			}
			out := deploymentResponse(d)
			out.Previous = &Previous{DeploymentID: prev.ID, ReleaseID: prev.ReleaseID, ReleaseNumber: prev.ReleaseNumber}
			return Reply{Created, out}, nil
		}),
		CurrentDeployment: use("deployments.current", func(ctx context.Context, who *identity.Principal, req CurrentDeploymentRequest) (Reply, error) {
			repo, err := checkProject(req.Repository, req.Project)
			if err != nil {
				return Reply{}, err
			}
			Annotate(ctx, "environment", req.Environment, "repository", repo, "project", req.Project)
			d, err := s.Deployments.Current(ctx, who, req.Environment, repo, req.Project)
			if err != nil {
				return Reply{}, err
			}
			return Reply{OK, deploymentResponse(d)}, nil
		}),
		Environments: use("environments.list", func(ctx context.Context, who *identity.Principal, _ EmptyRequest) (Reply, error) {
			envs, err := s.Deployments.Policies(ctx, who)
			if err != nil {
				return Reply{}, err
			}
			out := EnvironmentList{Environments: []Environment{}}
			for _, name := range envs.Names() {
				out.Environments = append(out.Environments, Environment{Name: name, Policy: envs[name]})
			}
			return Reply{OK, out}, nil
		}),
		Approve: use("approvals.create", func(ctx context.Context, who *identity.Principal, req ApproveRequest) (Reply, error) {
			Annotate(ctx, "release_id", req.ReleaseID, "environment", req.Environment)
			a, err := s.Deployments.Approve(ctx, who, deploying.ApproveRequest{ReleaseID: req.ReleaseID, Environment: req.Environment, Justification: req.Justification})
			return Reply{Created, a}, err
		}),
		GetApproval: use("approvals.get", func(ctx context.Context, who *identity.Principal, req ApprovalRequest) (Reply, error) {
			Annotate(ctx, "release_id", req.ReleaseID, "environment", req.Environment)
			a, err := s.Deployments.Approval(ctx, who, req.ReleaseID, req.Environment)
			return Reply{OK, a}, err
		}),
		Revoke: use("approvals.revoke", func(ctx context.Context, who *identity.Principal, req IDRequest) (Reply, error) {
			a, err := s.Deployments.Revoke(ctx, who, req.ID)
			return Reply{OK, a}, err
		}),

		RegisterRepository: use("repositories.register", func(ctx context.Context, who *identity.Principal, req RegisterRepositoryRequest) (Reply, error) {
			var limits repository.Limits
			if req.Limits != nil {
				limits = *req.Limits
			}
			repo := repository.Canonical(req.Repository)
			Annotate(ctx, "repository", repo)
			r, made, err := s.Repositories.Register(ctx, who, repo, limits)
			return Reply{created(made), r}, err
		}),
		ListRepositories: use("repositories.list", func(ctx context.Context, who *identity.Principal, req PageRequest) (Reply, error) {
			page, err := checkPage(req.Limit, req.Offset)
			if err != nil {
				return Reply{}, err
			}
			rs, total, err := s.Repositories.List(ctx, who, page)
			if err != nil {
				return Reply{}, err
			}
			if rs == nil {
				rs = []repository.Repository{}
			}
			p := page.Normalize()
			return Reply{OK, RepositoryList{Repositories: rs, Total: total, Limit: p.Limit, Offset: p.Offset}}, nil
		}),
	}
}
