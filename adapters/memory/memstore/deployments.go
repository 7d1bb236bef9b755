package memstore

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
)

type deploymentRecord struct {
	d   release.Deployment
	seq uint64
}

// CreateDeployment implements ports.DeploymentStore.
func (v view) CreateDeployment(_ context.Context, d *release.Deployment) (got *release.Deployment, err error) {
	err = v.do(func(st *state) error {
		got, err = st.createDeployment(d)
		return err
	})
	return got, err
}

// GetDeployment implements ports.DeploymentStore.
func (v view) GetDeployment(_ context.Context, id string) (got *release.Deployment, err error) {
	err = v.do(func(st *state) error {
		rec, ok := st.deployments[id]
		if !ok {
			return notFound("deployment", id)
		}
		got = cloneDeployment(&rec.d)
		return nil
	})
	return got, err
}

// CurrentDeployment implements ports.DeploymentStore.
func (v view) CurrentDeployment(_ context.Context, environment, repository, project string) (got *release.Deployment, err error) {
	err = v.do(func(st *state) error {
		for _, rec := range st.deploymentsOf(environment, repository, project) {
			if rec.d.Status == release.DeploymentActive {
				got = cloneDeployment(&rec.d)
				return nil
			}
		}
		return fault.New(fault.NotFound, "nothing of %s/%s is deployed to %s", repository, project, environment)
	})
	return got, err
}

// ListDeployments implements ports.DeploymentStore.
func (v view) ListDeployments(_ context.Context, environment, repository, project string, p ports.Page) (out []release.Deployment, total int, err error) {
	err = v.do(func(st *state) error {
		all := st.deploymentsOf(environment, repository, project)
		total = len(all)
		out = []release.Deployment{}
		for _, rec := range paginate(all, p) {
			out = append(out, *cloneDeployment(&rec.d))
		}
		return nil
	})
	return out, total, err
}

// UpdateDeployment implements ports.DeploymentStore.
func (v view) UpdateDeployment(_ context.Context, id string, fn func(*release.Deployment) error) (got *release.Deployment, err error) {
	err = v.do(func(st *state) error {
		rec, ok := st.deployments[id]
		if !ok {
			return notFound("deployment", id)
		}
		cur := cloneDeployment(&rec.d)
		if err := fn(cur); err != nil {
			return err
		}
		if err := checkDeploymentStatus(cur.Status); err != nil {
			return err
		}
		if err := release.DeploymentTransition(rec.d.Status, cur.Status); err != nil {
			return &fault.Error{Kind: fault.KindOf(err), Message: "deployment " + id, Err: err}
		}
		if cur.Status == release.DeploymentActive && rec.d.Status != release.DeploymentActive {
			st.supersede(&rec.d)
		}
		rec.d.Status = cur.Status
		rec.d.GitOpsCommitSHA = cur.GitOpsCommitSHA
		rec.d.Reason = cur.Reason
		rec.d.ApprovalID = clonePtr(cur.ApprovalID)
		got = cloneDeployment(&rec.d)
		return nil
	})
	return got, err
}

// PendingDeployments implements ports.DeploymentStore.
func (v view) PendingDeployments(_ context.Context, before time.Time, limit int) (out []release.Deployment, err error) {
	limit = ports.Page{Limit: limit}.Normalize().Limit
	err = v.do(func(st *state) error {
		var recs []*deploymentRecord
		for _, rec := range st.deployments {
			if rec.d.Status == release.DeploymentPending && !rec.d.DeployedAt.After(before) {
				recs = append(recs, rec)
			}
		}
		byTime(recs, func(r *deploymentRecord) (time.Time, uint64) { return r.d.DeployedAt, r.seq }, false)
		out = []release.Deployment{}
		for _, rec := range recs[:min(limit, len(recs))] {
			out = append(out, *cloneDeployment(&rec.d))
		}
		return nil
	})
	return out, err
}

func (st *state) createDeployment(d *release.Deployment) (*release.Deployment, error) {
	if d == nil || d.ReleaseID == "" || d.Environment == "" || d.Repository == "" || d.Project == "" {
		return nil, fault.New(fault.Validation, "a deployment needs a release, a repository, a project and an environment")
	}
	if err := checkDeploymentStatus(d.Status); err != nil {
		return nil, err
	}
	in := cloneDeployment(d)
	if in.ID == "" {
		in.ID = uuid.NewString()
	} else if _, taken := st.deployments[in.ID]; taken {
		return nil, fault.New(fault.Conflict, "deployment ID %q is taken", in.ID)
	}
	if in.RollbackOf != nil {
		if _, ok := st.deployments[*in.RollbackOf]; !ok {
			return nil, notFound("deployment (rolled back from)", *in.RollbackOf)
		}
	}
	if in.Status == release.DeploymentActive {
		st.supersede(in)
	}
	st.deployments[in.ID] = &deploymentRecord{d: *in, seq: st.next()}
	return cloneDeployment(in), nil
}

// supersede marks superseded every active deployment in d's place but d.
func (st *state) supersede(d *release.Deployment) {
	for _, rec := range st.deploymentsOf(d.Environment, d.Repository, d.Project) {
		if rec.d.ID != d.ID && rec.d.Status == release.DeploymentActive {
			rec.d.Status = release.DeploymentSuperseded
		}
	}
}

// deploymentsOf returns the deployments in one place, newest first.
func (st *state) deploymentsOf(environment, repository, project string) []*deploymentRecord {
	var out []*deploymentRecord
	for _, rec := range st.deployments {
		if rec.d.Environment == environment && rec.d.Repository == repository && rec.d.Project == project {
			out = append(out, rec)
		}
	}
	byTime(out, func(r *deploymentRecord) (time.Time, uint64) { return r.d.DeployedAt, r.seq }, true)
	return out
}

func checkDeploymentStatus(s release.DeploymentStatus) error {
	switch s {
	case release.DeploymentPending, release.DeploymentActive, release.DeploymentSuperseded, release.DeploymentFailed:
		return nil
	}
	return &fault.Error{Kind: fault.Validation, Message: "\"" + string(s) + "\" is not a deployment status (pending, active, superseded, failed)",
		Details: map[string]any{"field": "status"}}
}
