package memstore

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/release"
)

type approvalRecord struct {
	a   release.Approval
	seq uint64
}

// CreateApproval implements ports.ApprovalStore.
func (v view) CreateApproval(_ context.Context, a *release.Approval) (got *release.Approval, err error) {
	err = v.do(func(st *state) error {
		if a == nil || a.ReleaseID == "" || a.Environment == "" {
			return fault.New(fault.Validation, "an approval needs a release and an environment")
		}
		if err := checkApprovalStatus(a.Status); err != nil {
			return err
		}
		in := cloneApproval(a)
		if in.ID == "" {
			in.ID = uuid.NewString()
		} else if _, taken := st.approvals[in.ID]; taken {
			return fault.New(fault.Conflict, "approval ID %q is taken", in.ID)
		}
		st.approvals[in.ID] = &approvalRecord{a: *in, seq: st.next()}
		got = cloneApproval(in)
		return nil
	})
	return got, err
}

// GetApproval implements ports.ApprovalStore.
func (v view) GetApproval(_ context.Context, id string) (got *release.Approval, err error) {
	err = v.do(func(st *state) error {
		rec, ok := st.approvals[id]
		if !ok {
			return notFound("approval", id)
		}
		got = cloneApproval(&rec.a)
		return nil
	})
	return got, err
}

// LatestApproval implements ports.ApprovalStore.
func (v view) LatestApproval(_ context.Context, releaseID, environment string) (got *release.Approval, err error) {
	err = v.do(func(st *state) error {
		rec := st.newestApproval(releaseID, environment, func(*release.Approval) bool { return true })
		if rec == nil {
			return fault.New(fault.NotFound, "release %q has no approval for %s", releaseID, environment)
		}
		got = cloneApproval(&rec.a)
		return nil
	})
	return got, err
}

// ActiveApproval implements ports.ApprovalStore.
func (v view) ActiveApproval(_ context.Context, releaseID, environment string, now time.Time) (got *release.Approval, err error) {
	err = v.do(func(st *state) error {
		rec := st.newestApproval(releaseID, environment, func(a *release.Approval) bool {
			return a.StatusAt(now) == release.ApprovalActive
		})
		if rec == nil {
			return fault.New(fault.NotFound, "release %q has no active approval for %s", releaseID, environment)
		}
		got = cloneApproval(&rec.a)
		return nil
	})
	return got, err
}

// UpdateApproval implements ports.ApprovalStore.
func (v view) UpdateApproval(_ context.Context, id string, fn func(*release.Approval) error) (got *release.Approval, err error) {
	err = v.do(func(st *state) error {
		rec, ok := st.approvals[id]
		if !ok {
			return notFound("approval", id)
		}
		cur := cloneApproval(&rec.a)
		if err := fn(cur); err != nil {
			return err
		}
		if err := checkApprovalStatus(cur.Status); err != nil {
			return err
		}
		if err := release.ApprovalTransition(rec.a.Status, cur.Status); err != nil {
			return &fault.Error{Kind: fault.KindOf(err), Message: "approval " + id, Err: err}
		}
		rec.a.Status = cur.Status
		got = cloneApproval(&rec.a)
		return nil
	})
	return got, err
}

// ExpireApprovals implements ports.ApprovalStore.
func (v view) ExpireApprovals(_ context.Context, now time.Time) (n int, err error) {
	err = v.do(func(st *state) error {
		for _, rec := range st.approvals {
			if rec.a.Status == release.ApprovalActive && rec.a.StatusAt(now) == release.ApprovalExpired {
				rec.a.Status = release.ApprovalExpired
				n++
			}
		}
		return nil
	})
	return n, err
}

// newestApproval returns the approval of the release for the environment
// that ok accepts with the latest approval time, or nil.
func (st *state) newestApproval(releaseID, environment string, ok func(*release.Approval) bool) *approvalRecord {
	var best *approvalRecord
	for _, rec := range st.approvals {
		if rec.a.ReleaseID != releaseID || rec.a.Environment != environment || !ok(&rec.a) {
			continue
		}
		if best == nil || rec.a.ApprovedAt.After(best.a.ApprovedAt) ||
			(rec.a.ApprovedAt.Equal(best.a.ApprovedAt) && rec.seq > best.seq) {
			best = rec
		}
	}
	return best
}

func checkApprovalStatus(s release.ApprovalStatus) error {
	switch s {
	case release.ApprovalActive, release.ApprovalExpired, release.ApprovalRevoked:
		return nil
	}
	return &fault.Error{Kind: fault.Validation, Message: "\"" + string(s) + "\" is not an approval status (active, expired, revoked)",
		Details: map[string]any{"field": "status"}}
}
