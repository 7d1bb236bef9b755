package httptransport

import (
	"context"
	"net/http"

	"github.com/catalyst-forge/forge/application/deploying"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/repository"
)

type approvalRequest struct{ releaseID, environment string }

func deploymentRoutes(svc *deploying.Service, handle handleFunc) {
	handle("POST /v1/deployments", call(func(ctx context.Context, who *identity.Principal, req DeployRequest) (response, error) {
		d, err := svc.Deploy(ctx, who, deploying.DeployRequest{ReleaseID: req.ReleaseID, Environment: req.Environment, ApprovalID: req.ApprovalID})
		if err != nil {
			return response{}, err
		}
		return response{http.StatusCreated, deploymentResponse(d)}, nil
	}), func(_ context.Context, r *http.Request) (any, error) {
		var req DeployRequest
		return req, decodeJSON(r, &req)
	})

	handle("POST /v1/rollbacks", call(func(ctx context.Context, who *identity.Principal, req RollbackRequest) (response, error) {
		d, prev, err := svc.Rollback(ctx, who, req.Environment, req.Repository, req.Project, req.To)
		if err != nil {
			return response{}, err
		}
		out := deploymentResponse(d)
		out.Previous = &Previous{DeploymentID: prev.ID, ReleaseID: prev.ReleaseID, ReleaseNumber: prev.ReleaseNumber}
		return response{http.StatusCreated, out}, nil
	}), func(_ context.Context, r *http.Request) (any, error) {
		var req RollbackRequest
		err := decodeJSON(r, &req)
		req.Repository = repository.Canonical(req.Repository)
		return req, err
	})

	handle("GET /v1/deployments/{environment}/{owner}/{name}/{project}", call(func(ctx context.Context, who *identity.Principal, req projectRequest) (response, error) {
		d, err := svc.Current(ctx, who, req.id, req.repository, req.project)
		if err != nil {
			return response{}, err
		}
		return response{http.StatusOK, deploymentResponse(d)}, nil
	}), func(ctx context.Context, r *http.Request) (any, error) {
		req, err := decodeProject(ctx, r)
		pr := req.(projectRequest)
		pr.id = r.PathValue("environment")
		return pr, err
	})

	handle("GET /v1/environments", call(func(ctx context.Context, who *identity.Principal, _ struct{}) (response, error) {
		envs, err := svc.Policies(ctx, who)
		if err != nil {
			return response{}, err
		}
		out := EnvironmentList{Environments: []Environment{}}
		for _, name := range envs.Names() {
			out.Environments = append(out.Environments, Environment{Name: name, Policy: envs[name]})
		}
		return response{http.StatusOK, out}, nil
	}), func(context.Context, *http.Request) (any, error) { return struct{}{}, nil })

	handle("POST /v1/approvals", call(func(ctx context.Context, who *identity.Principal, req ApproveRequest) (response, error) {
		a, err := svc.Approve(ctx, who, deploying.ApproveRequest{ReleaseID: req.ReleaseID, Environment: req.Environment, Justification: req.Justification})
		return response{http.StatusCreated, a}, err
	}), func(_ context.Context, r *http.Request) (any, error) {
		var req ApproveRequest
		return req, decodeJSON(r, &req)
	})

	handle("GET /v1/approvals/{release}/{environment}", call(func(ctx context.Context, who *identity.Principal, req approvalRequest) (response, error) {
		a, err := svc.Approval(ctx, who, req.releaseID, req.environment)
		return response{http.StatusOK, a}, err
	}), func(_ context.Context, r *http.Request) (any, error) {
		return approvalRequest{releaseID: r.PathValue("release"), environment: r.PathValue("environment")}, nil
	})

	handle("POST /v1/approvals/{id}/revoke", call(func(ctx context.Context, who *identity.Principal, req idRequest) (response, error) {
		a, err := svc.Revoke(ctx, who, req.id)
		return response{http.StatusOK, a}, err
	}), decodeID)
}
