package deploying

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/release"
)

// maxJustification bounds an approval's justification.
const maxJustification = 2000

// ApproveRequest asks to approve a release for an environment.
type ApproveRequest struct {
	ReleaseID     string
	Environment   string
	Justification string
}

// Approve records that the caller (an approver) allows a release to be
// deployed to an environment until the approval expires.
func (s *Service) Approve(ctx context.Context, who *identity.Principal, req ApproveRequest) (*release.Approval, error) {
	if err := identity.Require(who, identity.PermApprove); err != nil {
		return nil, err
	}
	if _, err := s.policy(req.Environment); err != nil {
		return nil, err
	}
	j := strings.TrimSpace(req.Justification)
	switch {
	case j == "":
		return nil, &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "justification"}, Message: "an approval needs a justification"}
	case utf8.RuneCountInString(j) > maxJustification:
		return nil, &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "justification"}, Message: "justification is longer than 2000 characters"}
	}
	r, err := s.Store.GetRelease(ctx, req.ReleaseID)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	ttl := s.ApprovalTTL
	if ttl <= 0 {
		ttl = release.DefaultApprovalTTL
	}
	expires := now.Add(ttl)
	return s.Store.CreateApproval(ctx, &release.Approval{
		ReleaseID: r.ID, Environment: req.Environment, Approver: who.Subject,
		ApprovedAt: now, ExpiresAt: &expires, Justification: j, Status: release.ApprovalActive,
	})
}

// Approval returns the newest approval of a release for an environment
// with its status as of now (an active approval past its expiry reads as
// expired).
func (s *Service) Approval(ctx context.Context, who *identity.Principal, releaseID, env string) (*release.Approval, error) {
	if err := identity.Require(who, identity.PermRead); err != nil {
		return nil, err
	}
	a, err := s.Store.LatestApproval(ctx, releaseID, env)
	if fault.Is(err, fault.NotFound) {
		return nil, fault.New(fault.NotFound, "release %s has no approval for %s", releaseID, env)
	}
	if err != nil {
		return nil, err
	}
	a.Status = a.StatusAt(s.Clock.Now())
	return a, nil
}

// Revoke withdraws an active approval. Approvers and operators only.
func (s *Service) Revoke(ctx context.Context, who *identity.Principal, approvalID string) (*release.Approval, error) {
	if !who.HasAny(identity.RoleApprover, identity.RoleOperator) {
		return nil, &fault.Error{Kind: fault.PermissionDenied, Message: "revoking an approval needs the approver or operator role"}
	}
	now := s.Clock.Now()
	return s.Store.UpdateApproval(ctx, approvalID, func(a *release.Approval) error {
		if st := a.StatusAt(now); st != release.ApprovalActive {
			return fault.New(fault.Conflict, "approval %s is already %s", a.ID, st)
		}
		a.Status = release.ApprovalRevoked
		return nil
	})
}
