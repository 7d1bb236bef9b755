package httptransport

import (
	"context"
	"net/http"

	"github.com/catalyst-forge/forge/application/releasing"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/ports"
)

// projectRequest addresses a project: {owner}/{name} is the repository,
// in its canonical (lower-case) form.
type projectRequest struct {
	repository, project, id string
	page                    ports.Page
}

// decodeProject reads the project a route addresses; a repository or
// project name that no project can have is a validation error naming it
// (not a 404 that reads as "no such release").
func decodeProject(_ context.Context, r *http.Request) (any, error) {
	limit, offset, err := pageOf(r)
	req := projectRequest{
		repository: repository.Canonical(r.PathValue("owner") + "/" + r.PathValue("name")),
		project:    r.PathValue("project"),
		id:         r.PathValue("id"),
		page:       ports.Page{Limit: limit, Offset: offset},
	}
	if err == nil {
		err = repository.ValidateName(req.repository)
	}
	if msg := config.CheckProjectName(req.project); err == nil && msg != "" {
		err = &fault.Error{Kind: fault.Validation, Message: msg, Details: map[string]any{"field": "project"}}
	}
	return req, err
}

// setImageRequest addresses a release by ID with the digest of its image.
type setImageRequest struct {
	id   string
	body SetReleaseImageRequest
}

func releaseResponse(r *release.Release) ReleaseResponse {
	return ReleaseResponse{Release: *r, CanonicalID: r.Triplet().String()}
}

func releaseRoutes(svc *releasing.Service, handle handleFunc) {
	handle("POST /v1/releases", call(func(ctx context.Context, who *identity.Principal, req CreateReleaseRequest) (response, error) {
		in := releasing.CreateRequest{PipelineRunID: req.PipelineRunID, Repository: req.Repository, Project: req.Project,
			CommitSHA: req.CommitSHA, OCIDigest: req.OCIDigest}
		for _, a := range req.Artifacts {
			in.Artifacts = append(in.Artifacts, releasing.ArtifactInput{Name: a.Name, Type: release.ArtifactType(a.Type),
				TrackingOCIURI: a.TrackingOCIURI, TrackingOCIDigest: a.TrackingOCIDigest, PrimaryPublishedURI: a.PrimaryPublishedURI})
		}
		if t := req.Trigger; t != nil {
			in.Trigger = &releasing.TriggerInput{Type: release.TriggerType(t.Type), Branch: t.Branch, Tag: t.Tag}
		}
		r, created, err := svc.Create(ctx, who, in)
		if err != nil {
			return response{}, err
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		return response{status, releaseResponse(r)}, nil
	}), func(_ context.Context, r *http.Request) (any, error) {
		var req CreateReleaseRequest
		err := decodeJSON(r, &req)
		req.Repository = repository.Canonical(req.Repository)
		return req, err
	})

	handle("PUT /v1/releases/{id}/image", call(func(ctx context.Context, who *identity.Principal, req setImageRequest) (response, error) {
		r, err := svc.SetImage(ctx, who, req.id, req.body.OCIDigest)
		if err != nil {
			return response{}, err
		}
		return response{http.StatusOK, releaseResponse(r)}, nil
	}), func(_ context.Context, r *http.Request) (any, error) {
		req := setImageRequest{id: r.PathValue("id")}
		return req, decodeJSON(r, &req.body)
	})

	handle("GET /v1/releases/{owner}/{name}/{project}/{id}", call(func(ctx context.Context, who *identity.Principal, req projectRequest) (response, error) {
		r, err := svc.Get(ctx, who, req.repository, req.project, req.id)
		if err != nil {
			return response{}, err
		}
		return response{http.StatusOK, releaseResponse(r)}, nil
	}), decodeProject)

	handle("GET /v1/releases/{owner}/{name}/{project}", call(func(ctx context.Context, who *identity.Principal, req projectRequest) (response, error) {
		rs, total, err := svc.List(ctx, who, req.repository, req.project, req.page)
		if err != nil {
			return response{}, err
		}
		p := req.page.Normalize()
		out := ReleaseList{Releases: []ReleaseResponse{}, Total: total, Limit: p.Limit, Offset: p.Offset}
		for i := range rs {
			out.Releases = append(out.Releases, releaseResponse(&rs[i]))
		}
		return response{http.StatusOK, out}, nil
	}), decodeProject)
}
