package httptransport

import (
	"context"
	"net/http"

	"github.com/catalyst-forge/forge/transport/endpoints"
)

// routes maps each route of spec 06 to its endpoint, with the decoder that
// reads the endpoint's request from the path, the query and the body.
func routes(set endpoints.Set, handle handleFunc) {
	handle("POST /v1/runs", set.CreateRun, body[endpoints.CreateRunRequest])
	handle("GET /v1/runs/{id}", set.GetRun, pathID)
	handle("GET /v1/runs/{id}/status", set.RunStatus, pathID)
	handle("GET /v1/runs", set.ListRuns, func(_ context.Context, r *http.Request) (any, error) {
		limit, offset, err := pageOf(r)
		q := r.URL.Query()
		return endpoints.ListRunsRequest{Repository: q.Get("repository"), Branch: q.Get("branch"), CommitSHA: q.Get("commit_sha"),
			Status: q.Get("status"), Limit: limit, Offset: offset}, err
	})
	handle("DELETE /v1/runs/{id}", set.CancelRun, pathID)
	handle("POST /v1/runs/{id}/retry", set.RetryRun, pathID)
	handle("PUT /v1/tasks/{id}/status", set.UpdateTask, func(_ context.Context, r *http.Request) (any, error) {
		var b endpoints.TaskStatusRequest
		err := decodeJSON(r, &b)
		return endpoints.UpdateTaskRequest{ID: r.PathValue("id"), Status: b.Status, Error: b.Error}, err
	})
	handle("PUT /v1/steps/{id}/status", set.UpdateStep, func(_ context.Context, r *http.Request) (any, error) {
		var b endpoints.StepStatusRequest
		err := decodeJSON(r, &b)
		return endpoints.UpdateStepRequest{ID: r.PathValue("id"), Status: b.Status, ExitCode: b.ExitCode, LogsS3Key: b.LogsS3Key}, err
	})

	handle("POST /v1/releases", set.CreateRelease, body[endpoints.CreateReleaseRequest])
	handle("PUT /v1/releases/{id}/image", set.SetReleaseImage, func(_ context.Context, r *http.Request) (any, error) {
		var b endpoints.SetReleaseImageRequest
		err := decodeJSON(r, &b)
		return endpoints.SetImageRequest{ID: r.PathValue("id"), OCIDigest: b.OCIDigest}, err
	})
	handle("GET /v1/releases/{owner}/{name}/{project}/{id}", set.GetRelease, func(_ context.Context, r *http.Request) (any, error) {
		return endpoints.ReleaseRequest{Repository: pathRepository(r), Project: r.PathValue("project"), ID: r.PathValue("id")}, nil
	})
	handle("GET /v1/releases/{owner}/{name}/{project}", set.ListReleases, func(_ context.Context, r *http.Request) (any, error) {
		limit, offset, err := pageOf(r)
		return endpoints.ListReleasesRequest{Repository: pathRepository(r), Project: r.PathValue("project"), Limit: limit, Offset: offset}, err
	})

	handle("POST /v1/deployments", set.Deploy, body[endpoints.DeployRequest])
	handle("POST /v1/rollbacks", set.Rollback, body[endpoints.RollbackRequest])
	handle("GET /v1/deployments/{environment}/{owner}/{name}/{project}", set.CurrentDeployment, func(_ context.Context, r *http.Request) (any, error) {
		return endpoints.CurrentDeploymentRequest{Environment: r.PathValue("environment"), Repository: pathRepository(r), Project: r.PathValue("project")}, nil
	})
	handle("GET /v1/environments", set.Environments, func(context.Context, *http.Request) (any, error) { return endpoints.EmptyRequest{}, nil })
	handle("POST /v1/approvals", set.Approve, body[endpoints.ApproveRequest])
	handle("GET /v1/approvals/{release}/{environment}", set.GetApproval, func(_ context.Context, r *http.Request) (any, error) {
		return endpoints.ApprovalRequest{ReleaseID: r.PathValue("release"), Environment: r.PathValue("environment")}, nil
	})
	handle("POST /v1/approvals/{id}/revoke", set.Revoke, pathID)

	handle("POST /v1/repositories", set.RegisterRepository, body[endpoints.RegisterRepositoryRequest])
	handle("GET /v1/repositories", set.ListRepositories, func(_ context.Context, r *http.Request) (any, error) {
		limit, offset, err := pageOf(r)
		return endpoints.PageRequest{Limit: limit, Offset: offset}, err
	})
}

// body decodes a request that is the body alone.
func body[Req any](_ context.Context, r *http.Request) (any, error) {
	var req Req
	err := decodeJSON(r, &req)
	return req, err
}

// pathID reads a request that is the {id} of the path.
func pathID(_ context.Context, r *http.Request) (any, error) {
	return endpoints.IDRequest{ID: r.PathValue("id")}, nil
}

// pathRepository is the repository {owner}/{name} of the path.
func pathRepository(r *http.Request) string {
	return r.PathValue("owner") + "/" + r.PathValue("name")
}
