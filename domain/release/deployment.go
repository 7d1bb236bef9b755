package release

import (
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
)

// DeploymentStatus is the state of a deployment.
type DeploymentStatus string

// Deployment statuses: pending until the GitOps commit lands, active while
// it is what the environment runs, superseded once another replaced it,
// failed when its commit could not be pushed (its reason says why).
const (
	DeploymentPending    DeploymentStatus = "pending"
	DeploymentActive     DeploymentStatus = "active"
	DeploymentSuperseded DeploymentStatus = "superseded"
	DeploymentFailed     DeploymentStatus = "failed"
)

// Deployment is a release deployed to an environment. Only one deployment
// per (environment, repository/project) is active at a time.
type Deployment struct {
	ID              string           `json:"id"`
	ReleaseID       string           `json:"release_id"`
	Repository      string           `json:"repository"`
	Project         string           `json:"project"`
	ReleaseNumber   int              `json:"release_number"`
	Environment     string           `json:"environment"`
	Status          DeploymentStatus `json:"status"`
	DeployedAt      time.Time        `json:"deployed_at"`
	DeployedBy      string           `json:"deployed_by"`
	GitOpsCommitSHA string           `json:"gitops_commit_sha"`
	ApprovalID      *string          `json:"approval_id,omitempty"`
	// Reason says why a failed deployment failed.
	Reason string `json:"reason,omitempty"`
	// RollbackOf names the deployment a rollback rolled back from: its
	// GitOps commit says so, and a deployment resumed after a crash
	// keeps that message.
	RollbackOf *string `json:"rollback_of,omitempty"`
}

// DeploymentTransition checks a deployment status change: pending may
// become active, superseded or failed, active may become superseded;
// superseded and failed never change.
func DeploymentTransition(from, to DeploymentStatus) error {
	if from == to {
		return nil
	}
	switch {
	case from == DeploymentPending && (to == DeploymentActive || to == DeploymentSuperseded || to == DeploymentFailed):
		return nil
	case from == DeploymentActive && to == DeploymentSuperseded:
		return nil
	}
	return fault.New(fault.Conflict, "deployment is %s and cannot become %s", from, to)
}

// ApprovalStatus is the state of an approval.
type ApprovalStatus string

// Approval statuses.
const (
	ApprovalActive  ApprovalStatus = "active"
	ApprovalExpired ApprovalStatus = "expired"
	ApprovalRevoked ApprovalStatus = "revoked"
)

// DefaultApprovalTTL is how long an approval stays valid unless configured.
const DefaultApprovalTTL = 24 * time.Hour

// Approval allows one release to be deployed to one environment.
type Approval struct {
	ID            string         `json:"approval_id"`
	ReleaseID     string         `json:"release_id"`
	Environment   string         `json:"environment"`
	Approver      string         `json:"approver"`
	ApprovedAt    time.Time      `json:"approved_at"`
	ExpiresAt     *time.Time     `json:"expires_at"`
	Justification string         `json:"justification"`
	Status        ApprovalStatus `json:"status"`
}

// StatusAt returns the approval's effective status at now: an active
// approval past its expiry is expired.
func (a *Approval) StatusAt(now time.Time) ApprovalStatus {
	if a.Status == ApprovalActive && a.ExpiresAt != nil && !now.Before(*a.ExpiresAt) {
		return ApprovalExpired
	}
	return a.Status
}

// ApprovalTransition checks an approval status change: only an active
// approval can be revoked or expire.
func ApprovalTransition(from, to ApprovalStatus) error {
	if from == to {
		return nil
	}
	if from == ApprovalActive && (to == ApprovalExpired || to == ApprovalRevoked) {
		return nil
	}
	return fault.New(fault.Conflict, "approval is %s and cannot become %s", from, to)
}
