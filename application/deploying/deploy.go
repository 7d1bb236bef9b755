package deploying

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/catalyst-forge/forge/application/announcing"
	"github.com/catalyst-forge/forge/application/limiting"
	"github.com/catalyst-forge/forge/domain/event"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
)

// DefaultDeploymentsPerMinute is spec 06's limit per environment.
const DefaultDeploymentsPerMinute = 10

// Service deploys releases and manages approvals.
type Service struct {
	Store        ports.Store
	Clock        ports.Clock
	Events       *announcing.Announcer
	Environments release.Environments
	// ApprovalTTL is how long approvals last; zero is
	// release.DefaultApprovalTTL.
	ApprovalTTL time.Duration
	// Limiter enforces the per-environment deployment limit; nil disables it.
	Limiter *limiting.Limiter
	// DeploymentsPerMinute overrides DefaultDeploymentsPerMinute; negative
	// disables the limit.
	DeploymentsPerMinute int
	// Jobs, when set, carries each deployment to a worker that writes its
	// ReleasePointer to the GitOps repository (a deployment job): the
	// deployment is pending until the commit lands, then active with its
	// commit, or failed with the reason. Nil records deployments active at
	// once with no GitOps commit (a library without workers).
	Jobs ports.JobQueue
	// DeployTimeout bounds the wait for a deployment job; zero is
	// DefaultDeployTimeout.
	DeployTimeout time.Duration
}

// DefaultDeployTimeout is how long a deployment waits for its GitOps
// commit.
const DefaultDeployTimeout = 2 * time.Minute

// DeployRequest asks for a release to run in an environment.
type DeployRequest struct {
	ReleaseID   string
	Environment string
	// ApprovalID names the approval to use; empty picks the release's
	// active approval for the environment when the policy needs one.
	ApprovalID string
}

// Deploy makes a release the active deployment of its project in an
// environment, superseding the one before. The caller must hold a role
// the environment's policy allows, the release's trigger must satisfy the
// policy, and where the policy requires it an active, unexpired approval
// given by someone else must exist.
func (s *Service) Deploy(ctx context.Context, who *identity.Principal, req DeployRequest) (*release.Deployment, error) {
	if who == nil {
		return nil, fault.New(fault.Unauthenticated, "authentication required")
	}
	policy, err := s.policy(req.Environment)
	if err != nil {
		return nil, err
	}
	if err := policy.CheckDeployer(req.Environment, who); err != nil {
		return nil, err
	}
	r, err := s.Store.GetRelease(ctx, req.ReleaseID)
	if err != nil {
		return nil, err
	}
	return s.deploy(ctx, who, r, req.Environment, policy, req.ApprovalID, nil)
}

// deploy deploys r to env; from, for a rollback, is the deployment rolled
// back from.
func (s *Service) deploy(ctx context.Context, who *identity.Principal, r *release.Release, env string, policy release.Policy, approvalID string, from *release.Deployment) (*release.Deployment, error) {
	if err := policy.CheckRelease(env, r.Trigger); err != nil {
		return nil, err
	}
	if s.Jobs != nil && r.OCIDigest == "" {
		return nil, fault.New(fault.Conflict, "%s release %d has no image yet (its release job has not pushed it): it cannot be deployed", r.Project, r.Number)
	}
	now := s.Clock.Now()
	var approval *release.Approval
	if policy.RequiresApproval {
		a, err := s.usableApproval(ctx, who, r, env, approvalID, now)
		if err != nil {
			return nil, err
		}
		approval = a
	}
	if s.Limiter != nil {
		limit := s.DeploymentsPerMinute
		if limit == 0 {
			limit = DefaultDeploymentsPerMinute
		}
		if err := s.Limiter.Allow("deployments:"+env, limit, "deployments to "+env); err != nil {
			return nil, err
		}
	}
	d := &release.Deployment{
		ReleaseID: r.ID, Repository: r.Repository, Project: r.Project, ReleaseNumber: r.Number,
		Environment: env, Status: release.DeploymentActive, DeployedAt: now, DeployedBy: who.Subject,
	}
	if s.Jobs != nil {
		d.Status = release.DeploymentPending
	}
	if approval != nil {
		d.ApprovalID = &approval.ID
	}
	if from != nil {
		d.RollbackOf = &from.ID
	}
	d, err := s.Store.CreateDeployment(ctx, d)
	if err != nil {
		return nil, err
	}
	data := map[string]any{"deployment_id": d.ID, "release_id": d.ReleaseID, "environment": env, "deployed_by": d.DeployedBy}
	if from != nil {
		data["note"] = fmt.Sprintf("rollback of %s in %s from release %d to release %d", r.Project, env, from.ReleaseNumber, r.Number)
	}
	s.Events.Announce(ctx, event.DeploymentCreated, data)
	if s.Jobs == nil {
		return d, nil
	}
	return s.push(ctx, d, r, approval, from)
}

// push has a worker write the deployment's pointer to the GitOps
// repository and records the outcome: active with the commit, or failed
// with the reason. It goes on if the caller goes away (the request's
// context is not its), within DeployTimeout.
func (s *Service) push(ctx context.Context, d *release.Deployment, r *release.Release, approval *release.Approval, from *release.Deployment) (*release.Deployment, error) {
	p := release.NewPointer(r, d.Environment, d.DeployedBy, d.DeployedAt, approval)
	content, err := EncodePointer(p)
	if err != nil {
		return nil, err
	}
	msg := release.DeployMessage(p, r.Repository)
	if from != nil {
		var previous *release.Pointer
		if pr, err := s.Store.GetRelease(ctx, from.ReleaseID); err == nil {
			pp := release.NewPointer(pr, d.Environment, from.DeployedBy, from.DeployedAt, nil)
			previous = &pp
		}
		msg = release.RollbackMessage(p, r.Repository, previous)
	}
	payload, err := json.Marshal(DeploymentJob{DeploymentID: d.ID, Path: release.PointerPath(d.Environment, r.Repository, r.Project),
		Content: content, Message: msg, Author: d.DeployedBy, When: d.DeployedAt})
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "writing the deployment job")
	}
	timeout := s.timeout()
	jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout+dispatchGrace)
	defer cancel()
	res, err := s.Jobs.Dispatch(jctx, job.Job{ID: "deployment-" + d.ID, Type: job.TypeDeployment, Payload: payload, Timeout: timeout})
	var out DeploymentResult
	switch {
	case err != nil:
		return s.settle(jctx, d.ID, "", "no worker wrote the GitOps commit: "+err.Error())
	case res.Error != "":
		return s.settle(jctx, d.ID, "", res.Error)
	case json.Unmarshal(res.Payload, &out) != nil || out.Commit == "":
		return s.settle(jctx, d.ID, "", "the deployment worker's answer could not be read")
	}
	return s.settle(jctx, d.ID, out.Commit, "")
}

// dispatchGrace is how much longer than its job's timeout push waits
// for a deployment job's result.
const dispatchGrace = 10 * time.Second

func (s *Service) timeout() time.Duration {
	if s.DeployTimeout <= 0 {
		return DefaultDeployTimeout
	}
	return s.DeployTimeout
}

// settle records a deployment's outcome: active at commit, or failed
// with reason. When another process recorded an outcome first (a resumed
// deployment racing the one it resumed), that outcome stands and is
// returned.
func (s *Service) settle(ctx context.Context, id, commit, reason string) (*release.Deployment, error) {
	d, err := s.Store.UpdateDeployment(ctx, id, func(d *release.Deployment) error {
		if reason != "" {
			d.Status, d.Reason = release.DeploymentFailed, reason
			return nil
		}
		d.Status, d.GitOpsCommitSHA = release.DeploymentActive, commit
		return nil
	})
	if fault.Is(err, fault.Conflict) {
		if got, gerr := s.Store.GetDeployment(ctx, id); gerr == nil && got.Status != release.DeploymentPending {
			return got, nil
		}
	}
	return d, err
}

// usableApproval finds the approval a deployment relies on and checks it
// belongs to this release and environment, is active and unexpired, and
// was not given by the person deploying.
func (s *Service) usableApproval(ctx context.Context, who *identity.Principal, r *release.Release, env, id string, now time.Time) (*release.Approval, error) {
	var a *release.Approval
	var err error
	if id != "" {
		a, err = s.Store.GetApproval(ctx, id)
		if err == nil && (a.ReleaseID != r.ID || a.Environment != env) {
			return nil, &fault.Error{Kind: fault.PermissionDenied, Details: map[string]any{"rule": "requires_approval", "approval_id": id},
				Message: fmt.Sprintf("approval %s is for another release or environment", id)}
		}
		if err == nil && a.StatusAt(now) != release.ApprovalActive {
			return nil, &fault.Error{Kind: fault.PermissionDenied, Details: map[string]any{"rule": "requires_approval", "approval_id": id, "status": string(a.StatusAt(now))},
				Message: fmt.Sprintf("approval %s is %s", id, a.StatusAt(now))}
		}
	} else {
		a, err = s.Store.ActiveApproval(ctx, r.ID, env, now)
	}
	if fault.Is(err, fault.NotFound) {
		return nil, &fault.Error{Kind: fault.PermissionDenied, Details: map[string]any{"rule": "requires_approval"},
			Message: fmt.Sprintf("%s requires an active approval of %s release %d; an approver gives one with 'forge approve %s/%s/%d %s --justification ...'",
				env, r.Project, r.Number, r.Repository, r.Project, r.Number, env)}
	}
	if err != nil {
		return nil, err
	}
	if a.Approver == who.Subject {
		return nil, &fault.Error{Kind: fault.PermissionDenied, Details: map[string]any{"rule": "separation_of_duties"},
			Message: fmt.Sprintf("%s approved this release for %s and cannot also deploy it; someone else must deploy", who.Subject, env)}
	}
	return a, nil
}

// Rollback deploys again the release that ran before the current one in
// an environment, or the older release that to names (an alias, a
// number or a commit prefix, as release.Resolve reads it): a forward
// deployment under the same policy checks, committed with spec 05's
// rollback message. It returns the new deployment and the one rolled
// back from. Errors: NotFound (nothing active, no such release),
// Conflict (no other release ran there; to names the active release or
// a newer one, which 'forge deploy' deploys), and those of Deploy.
func (s *Service) Rollback(ctx context.Context, who *identity.Principal, env, repository, project, to string) (*release.Deployment, *release.Deployment, error) {
	if who == nil {
		return nil, nil, fault.New(fault.Unauthenticated, "authentication required")
	}
	policy, err := s.policy(env)
	if err != nil {
		return nil, nil, err
	}
	if err := policy.CheckDeployer(env, who); err != nil {
		return nil, nil, err
	}
	current, err := s.Store.CurrentDeployment(ctx, env, repository, project)
	if fault.Is(err, fault.NotFound) {
		return nil, nil, fault.New(fault.NotFound, "%s/%s has no active deployment in %s to roll back", repository, project, env)
	}
	if err != nil {
		return nil, nil, err
	}
	var r *release.Release
	if to != "" {
		r, err = s.olderRelease(ctx, env, repository, project, to, current)
	} else {
		r, err = s.previousRelease(ctx, env, repository, project, current)
	}
	if err != nil {
		return nil, nil, err
	}
	d, err := s.deploy(ctx, who, r, env, policy, "", current)
	return d, current, err
}

// olderRelease is the release to names, which must be older than the
// current one.
func (s *Service) olderRelease(ctx context.Context, env, repository, project, to string, current *release.Deployment) (*release.Release, error) {
	r, err := release.Resolve(ctx, s.Store.FindRelease(repository, project), to)
	if err != nil {
		return nil, err
	}
	switch {
	case r.ID == current.ReleaseID:
		return nil, fault.New(fault.Conflict, "%s release %d is the one active in %s: there is nothing to roll back", project, r.Number, env)
	case r.Number > current.ReleaseNumber:
		return nil, fault.New(fault.Conflict, "%s release %d is newer than release %d, active in %s: deploy it with 'forge deploy %s %s %s'",
			project, r.Number, current.ReleaseNumber, env, env, project, to)
	}
	return r, nil
}

// previousRelease walks the deployment history, newest first, for the
// first release other than the current one.
func (s *Service) previousRelease(ctx context.Context, env, repository, project string, current *release.Deployment) (*release.Release, error) {
	for offset := 0; ; offset += ports.MaxPageLimit {
		ds, total, err := s.Store.ListDeployments(ctx, env, repository, project, ports.Page{Limit: ports.MaxPageLimit, Offset: offset})
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if d.ReleaseID != current.ReleaseID {
				return s.Store.GetRelease(ctx, d.ReleaseID)
			}
		}
		if offset+len(ds) >= total || len(ds) == 0 {
			return nil, fault.New(fault.Conflict, "%s/%s has had no other release in %s to roll back to", repository, project, env)
		}
	}
}

// Current returns the active deployment of a project in an environment.
func (s *Service) Current(ctx context.Context, who *identity.Principal, env, repository, project string) (*release.Deployment, error) {
	if err := identity.Require(who, identity.PermRead); err != nil {
		return nil, err
	}
	if _, err := s.policy(env); err != nil {
		return nil, err
	}
	d, err := s.Store.CurrentDeployment(ctx, env, repository, project)
	if fault.Is(err, fault.NotFound) {
		return nil, fault.New(fault.NotFound, "%s/%s has no active deployment in %s", repository, project, env)
	}
	return d, err
}

// Policies returns the environments and their promotion policies.
func (s *Service) Policies(_ context.Context, who *identity.Principal) (release.Environments, error) {
	if err := identity.Require(who, identity.PermRead); err != nil {
		return nil, err
	}
	if s.Environments == nil {
		return release.DefaultEnvironments(), nil
	}
	return s.Environments, nil
}

func (s *Service) policy(env string) (release.Policy, error) {
	envs := s.Environments
	if envs == nil {
		envs = release.DefaultEnvironments()
	}
	p, err := envs.Policy(env)
	if err != nil {
		// An unknown environment is a mistake in the request.
		return p, &fault.Error{Kind: fault.Validation, Message: err.Error(), Details: map[string]any{"field": "environment"}}
	}
	return p, nil
}

// AutoDeployer is who auto-deployments are made by.
var AutoDeployer = &identity.Principal{Subject: "forge (auto-deploy)", Roles: []identity.Role{identity.RoleServiceAccount}}

// AutoDeploy deploys a new release to every environment whose policy has
// auto_deploy and admits the release's trigger (and branch), in name
// order, and returns the deployments it made: active, or failed with the
// reason. The policy's auto_deploy is the authorisation: its deploy roles
// are not asked. An environment where the release is already active, or
// that requires an approval, is left alone; one where an earlier attempt
// left the release's deployment pending (a retried release stage whose
// first process died) gets that deployment finished, not a second one.
// Errors: those of the store (a failed push is a failed deployment, not
// an error).
func (s *Service) AutoDeploy(ctx context.Context, releaseID string) ([]release.Deployment, error) {
	r, err := s.Store.GetRelease(ctx, releaseID)
	if err != nil {
		return nil, err
	}
	envs := s.Environments
	if envs == nil {
		envs = release.DefaultEnvironments()
	}
	var out []release.Deployment
	for _, env := range envs.Names() {
		policy := envs[env]
		if !policy.AutoDeploy || policy.RequiresApproval || policy.CheckRelease(env, r.Trigger) != nil {
			continue
		}
		if cur, err := s.Store.CurrentDeployment(ctx, env, r.Repository, r.Project); err == nil && cur.ReleaseID == r.ID {
			continue // deployed before (a resumed run)
		} else if err != nil && !fault.Is(err, fault.NotFound) {
			return out, err
		}
		newest, _, err := s.Store.ListDeployments(ctx, env, r.Repository, r.Project, ports.Page{Limit: 1})
		if err != nil {
			return out, err
		}
		var d *release.Deployment
		if len(newest) == 1 && newest[0].ReleaseID == r.ID && newest[0].Status == release.DeploymentPending && s.Jobs != nil {
			// An earlier attempt made this deployment and died before
			// its outcome: finish it rather than deploy again.
			d, err = s.resume(ctx, &newest[0])
		} else {
			d, err = s.deploy(ctx, AutoDeployer, r, env, policy, "", nil)
		}
		if err != nil {
			return out, err
		}
		out = append(out, *d)
	}
	return out, nil
}
