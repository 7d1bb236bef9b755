package deploying

import (
	"context"
	"fmt"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
)

// abandonMargin is added to the longest wait of push before a pending
// deployment is taken for abandoned, for the clocks of API replicas.
const abandonMargin = 30 * time.Second

// AbandonedAfter is how long a deployment may stay pending before Resume
// takes it for abandoned: longer than the process that made it waits for
// its deployment job, so that a live process is never second-guessed.
func (s *Service) AbandonedAfter() time.Duration {
	return s.timeout() + dispatchGrace + abandonMargin
}

// Resume finishes the deployments left pending at or before before by a
// process that died between recording them and recording their outcome
// (an API replica or a dispatcher killed mid-deployment), oldest first,
// and returns them as they end: active or failed. A deployment of a
// project and environment that has a later deployment fails as
// superseded; any other is dispatched again under its own job ID, so a
// job still queued or done is not run twice, and the GitOps commit it
// makes is the one the first attempt would have made (same pointer, same
// message, a rollback's included). The approval it was made with is not
// checked again: the decision to deploy was taken. Without Jobs there is
// nothing to resume. Errors: the store's.
func (s *Service) Resume(ctx context.Context, before time.Time) ([]release.Deployment, error) {
	var out []release.Deployment
	if s.Jobs == nil {
		return out, nil
	}
	seen := map[string]bool{}
	for {
		pending, err := s.Store.PendingDeployments(ctx, before, ports.MaxPageLimit)
		if err != nil {
			return out, err
		}
		progressed := false
		for i := range pending {
			d := &pending[i]
			if seen[d.ID] {
				continue // another process holds it pending still
			}
			seen[d.ID], progressed = true, true
			got, err := s.finish(ctx, d)
			if err != nil {
				return out, err
			}
			out = append(out, *got)
		}
		if !progressed || len(pending) < ports.MaxPageLimit {
			return out, nil
		}
	}
}

// finish settles an abandoned pending deployment: failed when a later
// deployment of its project and environment exists, else pushed again.
func (s *Service) finish(ctx context.Context, d *release.Deployment) (*release.Deployment, error) {
	newest, _, err := s.Store.ListDeployments(ctx, d.Environment, d.Repository, d.Project, ports.Page{Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(newest) == 1 && newest[0].ID != d.ID {
		n := newest[0]
		return s.settle(ctx, d.ID, "", fmt.Sprintf("superseded before its outcome was recorded: deployment %s of release %d (%s) came after it", n.ID, n.ReleaseNumber, n.Status))
	}
	return s.resume(ctx, d)
}

// resume dispatches a pending deployment's job again, rebuilt from what
// the store holds, and records the outcome.
func (s *Service) resume(ctx context.Context, d *release.Deployment) (*release.Deployment, error) {
	r, err := s.Store.GetRelease(ctx, d.ReleaseID)
	if err != nil {
		return nil, err
	}
	var approval *release.Approval
	if d.ApprovalID != nil {
		if approval, err = s.Store.GetApproval(ctx, *d.ApprovalID); err != nil && !fault.Is(err, fault.NotFound) {
			return nil, err
		}
	}
	var from *release.Deployment
	if d.RollbackOf != nil {
		if from, err = s.Store.GetDeployment(ctx, *d.RollbackOf); err != nil && !fault.Is(err, fault.NotFound) {
			return nil, err
		}
	}
	return s.push(ctx, d, r, approval, from)
}
