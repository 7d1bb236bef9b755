package gormstore

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
	"gorm.io/gorm"
)

func deploymentStatus(st release.DeploymentStatus) (release.DeploymentStatus, error) {
	switch st {
	case "":
		return release.DeploymentPending, nil
	case release.DeploymentPending, release.DeploymentActive, release.DeploymentSuperseded, release.DeploymentFailed:
		return st, nil
	}
	return "", &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "status"},
		Message: strconv.Quote(string(st)) + " is not a deployment status (pending, active, superseded, failed)"}
}

// lockEnvironment serialises, on PostgreSQL, the transactions that make a
// deployment of one project active in one environment, so the one that
// supersedes the others sees every deployment committed before it. It
// uses the two-key advisory lock space, apart from lockProject's.
func (s *Store) lockEnvironment(tx *gorm.DB, environment, repository, project string) error {
	if s.dialect != dialectPostgres {
		return nil
	}
	err := tx.Exec("SELECT pg_advisory_xact_lock(2, hashtext(? || '/' || ? || '/' || ?))", environment, repository, project).Error
	return dbErr(err, "locking the deployments of "+repository+"/"+project+" in "+environment)
}

// supersede marks every other active deployment of the project in the
// environment superseded.
func supersede(tx *gorm.DB, d deploymentRow) error {
	err := tx.Exec(`UPDATE deployments SET status = ? WHERE environment = ? AND repository = ? AND project = ?
		AND status = ? AND id <> ?`, string(release.DeploymentSuperseded), d.Environment, d.Repository, d.Project,
		string(release.DeploymentActive), d.ID).Error
	return dbErr(err, "superseding the active deployment of "+d.Repository+"/"+d.Project+" in "+d.Environment)
}

// CreateDeployment saves d; an active d supersedes the project's active
// deployment in the environment in the same transaction. Repository,
// project and release number are copied from the release.
func (s *Store) CreateDeployment(ctx context.Context, d *release.Deployment) (*release.Deployment, error) {
	if d == nil {
		return nil, fault.New(fault.Validation, "no deployment given")
	}
	if d.Environment == "" {
		return nil, &fault.Error{Kind: fault.Validation, Message: "environment must not be empty", Details: map[string]any{"field": "environment"}}
	}
	row := deploymentToRow(d)
	var err error
	if row.ID, err = newID(d.ID, "id"); err != nil {
		return nil, err
	}
	st, err := deploymentStatus(d.Status)
	if err != nil {
		return nil, err
	}
	row.Status = string(st)
	if d.ApprovalID != nil {
		if *d.ApprovalID == "" {
			row.ApprovalID = nil
		} else {
			v, err := newID(*d.ApprovalID, "approval_id")
			if err != nil {
				return nil, err
			}
			row.ApprovalID = &v
		}
	}
	releaseKey, ok := lookupID(d.ReleaseID)
	if !ok {
		return nil, fault.New(fault.NotFound, "release %q not found", d.ReleaseID)
	}
	row.ReleaseID = releaseKey
	if d.RollbackOf != nil {
		key, ok := lookupID(*d.RollbackOf)
		if !ok {
			return nil, fault.New(fault.NotFound, "deployment %q (rolled back from) not found", *d.RollbackOf)
		}
		row.RollbackOf = &key
	}
	row.DeployedAt = s.orNow(d.DeployedAt)
	what := "creating a deployment to " + d.Environment
	err = s.write(ctx, what, func(tx *gorm.DB) error {
		var rel releaseRow
		if err := tx.Where("id = ?", releaseKey).Take(&rel).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return fault.New(fault.NotFound, "release %s not found", d.ReleaseID)
		} else if err != nil {
			return dbErr(err, "reading release "+d.ReleaseID)
		}
		row.Repository, row.Project, row.ReleaseNumber = rel.Repository, rel.Project, rel.Number
		if row.Status == string(release.DeploymentActive) {
			if err := s.lockEnvironment(tx, row.Environment, row.Repository, row.Project); err != nil {
				return err
			}
			if err := supersede(tx, row); err != nil {
				return err
			}
		}
		if row.RollbackOf != nil {
			var n int64
			if err := tx.Model(&deploymentRow{}).Where("id = ?", *row.RollbackOf).Count(&n).Error; err != nil {
				return dbErr(err, "reading deployment "+*row.RollbackOf)
			} else if n == 0 {
				return fault.New(fault.NotFound, "deployment %s (rolled back from) not found", *row.RollbackOf)
			}
		}
		return dbErr(tx.Create(&row).Error, what)
	})
	if err != nil {
		return nil, err
	}
	got := row.domain()
	return &got, nil
}

// GetDeployment returns a deployment by ID.
func (s *Store) GetDeployment(ctx context.Context, id string) (*release.Deployment, error) {
	key, ok := lookupID(id)
	if !ok {
		return nil, fault.New(fault.NotFound, "deployment %q not found", id)
	}
	var row deploymentRow
	if err := s.read(ctx).Where("id = ?", key).Take(&row).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fault.New(fault.NotFound, "deployment %s not found", id)
	} else if err != nil {
		return nil, dbErr(err, "reading deployment "+id)
	}
	got := row.domain()
	return &got, nil
}

// CurrentDeployment returns the active deployment of repository/project in
// environment, or NotFound.
func (s *Store) CurrentDeployment(ctx context.Context, environment, repository, project string) (*release.Deployment, error) {
	var row deploymentRow
	err := s.read(ctx).Where("environment = ? AND repository = ? AND project = ? AND status = ?",
		environment, repository, project, string(release.DeploymentActive)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fault.New(fault.NotFound, "%s/%s has no active deployment in %s", repository, project, environment)
	}
	if err != nil {
		return nil, dbErr(err, "reading the current deployment of "+repository+"/"+project)
	}
	got := row.domain()
	return &got, nil
}

// ListDeployments returns the deployments of repository/project in
// environment, newest first, and the total count.
func (s *Store) ListDeployments(ctx context.Context, environment, repository, project string, page ports.Page) ([]release.Deployment, int, error) {
	page = page.Normalize()
	where := "environment = ? AND repository = ? AND project = ?"
	var total int64
	if err := s.read(ctx).Model(&deploymentRow{}).Where(where, environment, repository, project).Count(&total).Error; err != nil {
		return nil, 0, dbErr(err, "counting deployments")
	}
	var rows []deploymentRow
	if err := s.read(ctx).Where(where, environment, repository, project).Order("deployed_at DESC, seq DESC").
		Limit(page.Limit).Offset(page.Offset).Find(&rows).Error; err != nil {
		return nil, 0, dbErr(err, "listing deployments")
	}
	out := make([]release.Deployment, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, int(total), nil
}

// UpdateDeployment applies fn and saves the status, GitOps commit and
// approval; a deployment that becomes active supersedes the active one.
func (s *Store) UpdateDeployment(ctx context.Context, id string, fn func(*release.Deployment) error) (*release.Deployment, error) {
	key, ok := lookupID(id)
	if !ok {
		return nil, fault.New(fault.NotFound, "deployment %q not found", id)
	}
	var out *release.Deployment
	err := s.write(ctx, "updating deployment "+id, func(tx *gorm.DB) error {
		var row deploymentRow
		if err := tx.Where("id = ?", key).Take(&row).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return fault.New(fault.NotFound, "deployment %s not found", id)
		} else if err != nil {
			return dbErr(err, "reading deployment "+id)
		}
		// Environment lock first, then the row: the order every writer
		// of this project's deployments takes them in.
		if err := s.lockEnvironment(tx, row.Environment, row.Repository, row.Project); err != nil {
			return err
		}
		if err := s.forUpdate(tx).Where("id = ?", key).Take(&row).Error; err != nil {
			return dbErr(err, "reading deployment "+id)
		}
		cur := row.domain()
		next := cur
		next.ApprovalID = copyString(cur.ApprovalID)
		if err := fn(&next); err != nil {
			return err
		}
		if _, err := deploymentStatus(next.Status); err != nil || next.Status == "" {
			if err == nil {
				err = fault.New(fault.Validation, "a deployment's status must not be empty")
			}
			return err
		}
		if err := release.DeploymentTransition(cur.Status, next.Status); err != nil {
			return err
		}
		row.Status = string(next.Status)
		row.GitOpsCommitSHA = next.GitOpsCommitSHA
		row.Reason = next.Reason
		row.ApprovalID = nil
		if next.ApprovalID != nil && *next.ApprovalID != "" {
			v, err := newID(*next.ApprovalID, "approval_id")
			if err != nil {
				return err
			}
			row.ApprovalID = &v
		}
		if next.Status == release.DeploymentActive && cur.Status != release.DeploymentActive {
			if err := supersede(tx, row); err != nil {
				return err
			}
		}
		err := tx.Model(&deploymentRow{}).Where("id = ?", key).Updates(map[string]any{
			"status":            row.Status,
			"gitops_commit_sha": row.GitOpsCommitSHA,
			"approval_id":       row.ApprovalID,
			"reason":            row.Reason,
		}).Error
		if err != nil {
			return dbErr(err, "saving deployment "+id)
		}
		got := row.domain()
		out = &got
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PendingDeployments returns up to limit pending deployments deployed at
// or before before, oldest first, through the partial index on pending
// rows.
func (s *Store) PendingDeployments(ctx context.Context, before time.Time, limit int) ([]release.Deployment, error) {
	limit = ports.Page{Limit: limit}.Normalize().Limit
	var rows []deploymentRow
	if err := s.read(ctx).Where("status = ? AND deployed_at <= ?", string(release.DeploymentPending), dbTime(before)).
		Order("deployed_at, seq").Limit(limit).Find(&rows).Error; err != nil {
		return nil, dbErr(err, "listing pending deployments")
	}
	out := make([]release.Deployment, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

func approvalStatus(st release.ApprovalStatus) (release.ApprovalStatus, error) {
	switch st {
	case "":
		return release.ApprovalActive, nil
	case release.ApprovalActive, release.ApprovalExpired, release.ApprovalRevoked:
		return st, nil
	}
	return "", &fault.Error{Kind: fault.Validation, Details: map[string]any{"field": "status"},
		Message: strconv.Quote(string(st)) + " is not an approval status (active, expired, revoked)"}
}

// CreateApproval saves a; an empty ID is filled, an empty status is active.
func (s *Store) CreateApproval(ctx context.Context, a *release.Approval) (*release.Approval, error) {
	if a == nil {
		return nil, fault.New(fault.Validation, "no approval given")
	}
	if a.Environment == "" {
		return nil, &fault.Error{Kind: fault.Validation, Message: "environment must not be empty", Details: map[string]any{"field": "environment"}}
	}
	row := approvalToRow(a)
	var err error
	if row.ID, err = newID(a.ID, "approval_id"); err != nil {
		return nil, err
	}
	st, err := approvalStatus(a.Status)
	if err != nil {
		return nil, err
	}
	row.Status = string(st)
	key, ok := lookupID(a.ReleaseID)
	if !ok {
		return nil, fault.New(fault.NotFound, "release %q not found", a.ReleaseID)
	}
	row.ReleaseID = key
	row.ApprovedAt = s.orNow(a.ApprovedAt)
	what := "approving release " + a.ReleaseID + " for " + a.Environment
	err = s.write(ctx, what, func(tx *gorm.DB) error {
		err := tx.Create(&row).Error
		if violationOf(err) == foreignKeyViolation {
			return fault.New(fault.NotFound, "release %s not found", a.ReleaseID)
		}
		return dbErr(err, what)
	})
	if err != nil {
		return nil, err
	}
	got := row.domain()
	return &got, nil
}

// GetApproval returns an approval by ID.
func (s *Store) GetApproval(ctx context.Context, id string) (*release.Approval, error) {
	key, ok := lookupID(id)
	if !ok {
		return nil, fault.New(fault.NotFound, "approval %q not found", id)
	}
	return s.takeApproval(s.read(ctx).Where("id = ?", key), "approval "+id+" not found")
}

func (s *Store) takeApproval(q *gorm.DB, notFound string) (*release.Approval, error) {
	var row approvalRow
	if err := q.Take(&row).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fault.New(fault.NotFound, "%s", notFound)
	} else if err != nil {
		return nil, dbErr(err, "reading approvals")
	}
	got := row.domain()
	return &got, nil
}

// LatestApproval returns the newest approval of a release for an
// environment, whatever its status, or NotFound.
func (s *Store) LatestApproval(ctx context.Context, releaseID, environment string) (*release.Approval, error) {
	notFound := "release " + releaseID + " has no approval for " + environment
	key, ok := lookupID(releaseID)
	if !ok {
		return nil, fault.New(fault.NotFound, "%s", notFound)
	}
	return s.takeApproval(s.read(ctx).Where("release_id = ? AND environment = ?", key, environment).
		Order("approved_at DESC, seq DESC"), notFound)
}

// ActiveApproval returns an approval of the release for the environment
// that is active and not expired at now, or NotFound.
func (s *Store) ActiveApproval(ctx context.Context, releaseID, environment string, now time.Time) (*release.Approval, error) {
	notFound := "release " + releaseID + " has no active approval for " + environment
	key, ok := lookupID(releaseID)
	if !ok {
		return nil, fault.New(fault.NotFound, "%s", notFound)
	}
	return s.takeApproval(s.read(ctx).
		Where("release_id = ? AND environment = ? AND status = ? AND (expires_at IS NULL OR expires_at > ?)",
			key, environment, string(release.ApprovalActive), dbTime(now)).
		Order("approved_at DESC, seq DESC"), notFound)
}

// UpdateApproval applies fn and saves the status, following
// release.ApprovalTransition.
func (s *Store) UpdateApproval(ctx context.Context, id string, fn func(*release.Approval) error) (*release.Approval, error) {
	key, ok := lookupID(id)
	if !ok {
		return nil, fault.New(fault.NotFound, "approval %q not found", id)
	}
	var out *release.Approval
	err := s.write(ctx, "updating approval "+id, func(tx *gorm.DB) error {
		cur, err := s.takeApproval(s.forUpdate(tx).Where("id = ?", key), "approval "+id+" not found")
		if err != nil {
			return err
		}
		next := *cur
		next.ExpiresAt = utcPtr(cur.ExpiresAt)
		if err := fn(&next); err != nil {
			return err
		}
		if _, err := approvalStatus(next.Status); err != nil || next.Status == "" {
			if err == nil {
				err = fault.New(fault.Validation, "an approval's status must not be empty")
			}
			return err
		}
		if err := release.ApprovalTransition(cur.Status, next.Status); err != nil {
			return err
		}
		if err := tx.Model(&approvalRow{}).Where("id = ?", key).Update("status", string(next.Status)).Error; err != nil {
			return dbErr(err, "saving approval "+id)
		}
		cur.Status = next.Status
		out = cur
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ExpireApprovals marks every active approval whose expiry is at or before
// now as expired, and returns how many changed.
func (s *Store) ExpireApprovals(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, "expiring approvals", func(tx *gorm.DB) error {
		res := tx.Exec("UPDATE release_approvals SET status = ? WHERE status = ? AND expires_at IS NOT NULL AND expires_at <= ?",
			string(release.ApprovalExpired), string(release.ApprovalActive), dbTime(now))
		n = res.RowsAffected
		return dbErr(res.Error, "expiring approvals")
	})
	return int(n), err
}
