package httptransport

import (
	"context"
	"net/http"

	"github.com/catalyst-forge/forge/application/registering"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/ports"
)

func repositoryRoutes(svc *registering.Service, handle handleFunc) {
	handle("POST /v1/repositories", call(func(ctx context.Context, who *identity.Principal, req RegisterRepositoryRequest) (response, error) {
		var limits repository.Limits
		if req.Limits != nil {
			limits = *req.Limits
		}
		r, created, err := svc.Register(ctx, who, req.Repository, limits)
		if err != nil {
			return response{}, err
		}
		if created {
			return response{http.StatusCreated, r}, nil
		}
		return response{http.StatusOK, r}, nil
	}), func(_ context.Context, r *http.Request) (any, error) {
		var req RegisterRepositoryRequest
		err := decodeJSON(r, &req)
		req.Repository = repository.Canonical(req.Repository)
		return req, err
	})

	handle("GET /v1/repositories", call(func(ctx context.Context, who *identity.Principal, req ports.Page) (response, error) {
		rs, total, err := svc.List(ctx, who, req)
		if err != nil {
			return response{}, err
		}
		if rs == nil {
			rs = []repository.Repository{}
		}
		p := req.Normalize()
		return response{http.StatusOK, RepositoryList{Repositories: rs, Total: total, Limit: p.Limit, Offset: p.Offset}}, nil
	}), func(_ context.Context, r *http.Request) (any, error) {
		limit, offset, err := pageOf(r)
		return ports.Page{Limit: limit, Offset: offset}, err
	})
}
