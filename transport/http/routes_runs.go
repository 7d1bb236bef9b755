package httptransport

import (
	"context"
	"net/http"

	"github.com/catalyst-forge/forge/application/releasing"
	"github.com/catalyst-forge/forge/application/running"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/ports"
)

type idRequest struct{ id string }

type listRunsRequest struct {
	filter ports.RunFilter
	page   ports.Page
}

// ReportKeyHeader carries a run's report key with a task or step status
// (see pipeline.ReportKey).
const ReportKeyHeader = "X-Forge-Report-Key"

type taskStatus struct {
	id, key string
	body    TaskStatusRequest
}

type stepStatus struct {
	id, key string
	body    StepStatusRequest
}

func decodeID(_ context.Context, r *http.Request) (any, error) {
	return idRequest{id: r.PathValue("id")}, nil
}

func runRoutes(svc *running.Service, releases *releasing.Service, handle handleFunc) {
	handle("POST /v1/runs", call(func(ctx context.Context, who *identity.Principal, req CreateRunRequest) (response, error) {
		run, created, err := svc.Create(ctx, who, running.CreateRequest{
			Repository: req.Repository, Branch: req.Branch, CommitSHA: req.CommitSHA,
			TriggeredBy: req.TriggeredBy, TriggerType: pipeline.TriggerType(req.TriggerType),
		})
		if err != nil {
			return response{}, err
		}
		if created {
			return response{http.StatusCreated, run}, nil
		}
		return response{http.StatusOK, run}, nil
	}), func(_ context.Context, r *http.Request) (any, error) {
		var req CreateRunRequest
		err := decodeJSON(r, &req)
		req.Repository = repository.Canonical(req.Repository)
		return req, err
	})

	handle("GET /v1/runs/{id}", call(func(ctx context.Context, who *identity.Principal, req idRequest) (response, error) {
		run, err := svc.Get(ctx, who, req.id)
		if err != nil {
			return response{}, err
		}
		rels, err := releases.RunReleases(ctx, who, run.ID)
		if err != nil {
			return response{}, err
		}
		out := RunResponse{Run: *run, Releases: []ReleaseResponse{}}
		for i := range rels {
			out.Releases = append(out.Releases, releaseResponse(&rels[i]))
		}
		return response{http.StatusOK, out}, nil
	}), decodeID)

	handle("GET /v1/runs/{id}/status", call(func(ctx context.Context, who *identity.Principal, req idRequest) (response, error) {
		st, err := svc.Status(ctx, who, req.id)
		return response{http.StatusOK, RunStatusResponse{ID: req.id, Status: st}}, err
	}), decodeID)

	handle("GET /v1/runs", call(func(ctx context.Context, who *identity.Principal, req listRunsRequest) (response, error) {
		runs, total, err := svc.List(ctx, who, req.filter, req.page)
		if runs == nil {
			runs = []pipeline.Run{}
		}
		p := req.page.Normalize()
		return response{http.StatusOK, RunList{Runs: runs, Total: total, Limit: p.Limit, Offset: p.Offset}}, err
	}), func(_ context.Context, r *http.Request) (any, error) {
		limit, offset, err := pageOf(r)
		q := r.URL.Query()
		req := listRunsRequest{
			filter: ports.RunFilter{Repository: repository.Canonical(q.Get("repository")), Branch: q.Get("branch"), CommitSHA: q.Get("commit_sha"), Status: pipeline.Status(q.Get("status"))},
			page:   ports.Page{Limit: limit, Offset: offset},
		}
		// Filters match exactly: a malformed one would match nothing, silently.
		if err == nil && req.filter.Repository != "" {
			err = repository.ValidateName(req.filter.Repository)
		}
		if err == nil && req.filter.CommitSHA != "" {
			err = release.ValidateCommitSHA("commit_sha", req.filter.CommitSHA)
		}
		return req, err
	})

	handle("DELETE /v1/runs/{id}", call(func(ctx context.Context, who *identity.Principal, req idRequest) (response, error) {
		return response{http.StatusNoContent, nil}, svc.Cancel(ctx, who, req.id)
	}), decodeID)

	handle("POST /v1/runs/{id}/retry", call(func(ctx context.Context, who *identity.Principal, req idRequest) (response, error) {
		run, err := svc.Retry(ctx, who, req.id)
		return response{http.StatusAccepted, run}, err
	}), decodeID)

	handle("PUT /v1/tasks/{id}/status", call(func(ctx context.Context, who *identity.Principal, req taskStatus) (response, error) {
		t, err := svc.UpdateTask(ctx, who, req.id, running.TaskStatus{Status: pipeline.Status(req.body.Status), Error: req.body.Error, Key: req.key})
		return response{http.StatusOK, t}, err
	}), func(_ context.Context, r *http.Request) (any, error) {
		req := taskStatus{id: r.PathValue("id"), key: r.Header.Get(ReportKeyHeader)}
		return req, decodeJSON(r, &req.body)
	})

	handle("PUT /v1/steps/{id}/status", call(func(ctx context.Context, who *identity.Principal, req stepStatus) (response, error) {
		st, err := svc.UpdateStep(ctx, who, req.id, running.StepStatus{Status: pipeline.Status(req.body.Status), ExitCode: req.body.ExitCode, LogsKey: req.body.LogsS3Key, Key: req.key})
		return response{http.StatusOK, st}, err
	}), func(_ context.Context, r *http.Request) (any, error) {
		req := stepStatus{id: r.PathValue("id"), key: r.Header.Get(ReportKeyHeader)}
		return req, decodeJSON(r, &req.body)
	})
}
