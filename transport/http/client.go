package httptransport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

// Client calls the platform API. Errors are *fault.Error with the kind the
// server answered, so callers handle a remote failure like a local one.
type Client struct {
	// BaseURL is the API's address, e.g. http://127.0.0.1:8080.
	BaseURL string
	// Token is sent as a bearer token.
	Token string
	// TokenFile, when set, holds the bearer token instead: it is read
	// again whenever it changes, so a mounted token that is rotated (a
	// Kubernetes projected service account token) keeps working.
	TokenFile string
	// HTTP is the client to use; nil means one with a 30 s timeout.
	HTTP *http.Client

	tokenFile endpoints.TokenFile
}

var _ endpoints.API = (*Client)(nil)

// bearer returns the token to send: Token, or TokenFile's content.
func (c *Client) bearer() (string, error) {
	if c.TokenFile == "" {
		return c.Token, nil
	}
	return c.tokenFile.Read(c.TokenFile)
}

// maxResponseBytes bounds an answer read into memory.
const maxResponseBytes = 16 << 20

func (c *Client) do(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, fault.Wrap(fault.Internal, err, "encoding the request")
		}
		rd = bytes.NewReader(b)
	}
	base := strings.TrimSuffix(c.BaseURL, "/")
	if base == "" {
		return 0, fault.New(fault.Validation, "no server address: pass --server or set FORGE_SERVER")
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return 0, fault.Wrap(fault.Validation, err, "bad server address %q", c.BaseURL)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	token, err := c.bearer()
	if err != nil {
		return 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key := ports.ReportKeyFrom(ctx); key != "" {
		req.Header.Set(endpoints.ReportKeyHeader, key)
	}
	if tp := ports.Traceparent(ports.TraceIDFrom(ctx)); tp != "" {
		req.Header.Set(ports.TraceparentHeader, tp)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fault.Wrap(fault.Unavailable, err, "cannot reach the forge API at %s", base)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return resp.StatusCode, fault.Wrap(fault.Unavailable, err, "reading the answer of %s %s", method, path)
	}
	if resp.StatusCode >= 400 {
		return resp.StatusCode, decodeError(resp, data)
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fault.Wrap(fault.Internal, err, "the answer of %s %s is not the expected JSON", method, path)
		}
	}
	return resp.StatusCode, nil
}

func pageQuery(q url.Values, p ports.Page) url.Values {
	if q == nil {
		q = url.Values{}
	}
	// A negative value is sent, for the server to refuse with its reason.
	if p.Limit != 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.Offset != 0 {
		q.Set("offset", strconv.Itoa(p.Offset))
	}
	return q
}

func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// projectPath escapes owner/name/project for a URL path.
func projectPath(repository, project string) (string, error) {
	owner, name, ok := strings.Cut(repository, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", fault.New(fault.Validation, "repository must be owner/name, got %q", repository)
	}
	return url.PathEscape(owner) + "/" + url.PathEscape(name) + "/" + url.PathEscape(project), nil
}

// CreateRun creates the run of a commit; created is false when it existed.
func (c *Client) CreateRun(ctx context.Context, req endpoints.CreateRunRequest) (*pipeline.Run, bool, error) {
	var run pipeline.Run
	status, err := c.do(ctx, http.MethodPost, "/v1/runs", req, &run)
	if err != nil {
		return nil, false, err
	}
	return &run, status == http.StatusCreated, nil
}

// GetRun returns a run with its phases, tasks and steps, and the
// releases it created.
func (c *Client) GetRun(ctx context.Context, id string) (*endpoints.RunResponse, error) {
	var run endpoints.RunResponse
	_, err := c.do(ctx, http.MethodGet, "/v1/runs/"+url.PathEscape(id), nil, &run)
	return &run, err
}

// RunStatus reads a run's status alone (GET /v1/runs/{id}/status).
func (c *Client) RunStatus(ctx context.Context, id string) (pipeline.Status, error) {
	var st endpoints.RunStatusResponse
	_, err := c.do(ctx, http.MethodGet, "/v1/runs/"+url.PathEscape(id)+"/status", nil, &st)
	return st.Status, err
}

// ListRuns lists runs, newest first.
func (c *Client) ListRuns(ctx context.Context, f ports.RunFilter, p ports.Page) (*endpoints.RunList, error) {
	q := pageQuery(nil, p)
	for k, v := range map[string]string{"repository": f.Repository, "branch": f.Branch, "commit_sha": f.CommitSHA, "status": string(f.Status)} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var out endpoints.RunList
	_, err := c.do(ctx, http.MethodGet, withQuery("/v1/runs", q), nil, &out)
	return &out, err
}

// CancelRun cancels a run that has not finished.
func (c *Client) CancelRun(ctx context.Context, id string) error {
	_, err := c.do(ctx, http.MethodDelete, "/v1/runs/"+url.PathEscape(id), nil, nil)
	return err
}

// RetryRun reopens a run that failed in its release stage and re-runs
// what failed there (POST /v1/runs/{id}/retry); the run it returns is
// running again.
func (c *Client) RetryRun(ctx context.Context, id string) (*pipeline.Run, error) {
	var run pipeline.Run
	_, err := c.do(ctx, http.MethodPost, "/v1/runs/"+url.PathEscape(id)+"/retry", nil, &run)
	return &run, err
}

// UpdateTaskStatus reports a task's status (service accounts).
func (c *Client) UpdateTaskStatus(ctx context.Context, id string, req endpoints.TaskStatusRequest) (*pipeline.Task, error) {
	var t pipeline.Task
	_, err := c.do(ctx, http.MethodPut, "/v1/tasks/"+url.PathEscape(id)+"/status", req, &t)
	return &t, err
}

// UpdateStepStatus reports a step's status (service accounts).
func (c *Client) UpdateStepStatus(ctx context.Context, id string, req endpoints.StepStatusRequest) (*pipeline.Step, error) {
	var s pipeline.Step
	_, err := c.do(ctx, http.MethodPut, "/v1/steps/"+url.PathEscape(id)+"/status", req, &s)
	return &s, err
}

// CreateRelease registers a release; created is false when it existed.
func (c *Client) CreateRelease(ctx context.Context, req endpoints.CreateReleaseRequest) (*endpoints.ReleaseResponse, bool, error) {
	var r endpoints.ReleaseResponse
	status, err := c.do(ctx, http.MethodPost, "/v1/releases", req, &r)
	if err != nil {
		return nil, false, err
	}
	return &r, status == http.StatusCreated, nil
}

// SetReleaseImage records the digest of a release's pushed image (PUT
// /v1/releases/{id}/image); once set, only the same digest is accepted.
func (c *Client) SetReleaseImage(ctx context.Context, id, digest string) (*endpoints.ReleaseResponse, error) {
	var out endpoints.ReleaseResponse
	_, err := c.do(ctx, http.MethodPut, "/v1/releases/"+url.PathEscape(id)+"/image", endpoints.SetReleaseImageRequest{OCIDigest: digest}, &out)
	return &out, err
}

// GetRelease returns the release of a project named by an alias, a
// number or a commit prefix.
func (c *Client) GetRelease(ctx context.Context, repository, project, id string) (*endpoints.ReleaseResponse, error) {
	p, err := projectPath(repository, project)
	if err != nil {
		return nil, err
	}
	var r endpoints.ReleaseResponse
	_, err = c.do(ctx, http.MethodGet, "/v1/releases/"+p+"/"+url.PathEscape(id), nil, &r)
	return &r, err
}

// ListReleases lists a project's releases, newest first.
func (c *Client) ListReleases(ctx context.Context, repository, project string, page ports.Page) (*endpoints.ReleaseList, error) {
	p, err := projectPath(repository, project)
	if err != nil {
		return nil, err
	}
	var out endpoints.ReleaseList
	_, err = c.do(ctx, http.MethodGet, withQuery("/v1/releases/"+p, pageQuery(nil, page)), nil, &out)
	return &out, err
}

// Deploy deploys a release to an environment.
func (c *Client) Deploy(ctx context.Context, req endpoints.DeployRequest) (*endpoints.DeploymentResponse, error) {
	var d endpoints.DeploymentResponse
	_, err := c.do(ctx, http.MethodPost, "/v1/deployments", req, &d)
	return &d, err
}

// Rollback deploys again the release before the current one.
func (c *Client) Rollback(ctx context.Context, req endpoints.RollbackRequest) (*endpoints.DeploymentResponse, error) {
	var d endpoints.DeploymentResponse
	_, err := c.do(ctx, http.MethodPost, "/v1/rollbacks", req, &d)
	return &d, err
}

// CurrentDeployment returns what a project runs in an environment.
func (c *Client) CurrentDeployment(ctx context.Context, environment, repository, project string) (*endpoints.DeploymentResponse, error) {
	p, err := projectPath(repository, project)
	if err != nil {
		return nil, err
	}
	var d endpoints.DeploymentResponse
	_, err = c.do(ctx, http.MethodGet, "/v1/deployments/"+url.PathEscape(environment)+"/"+p, nil, &d)
	return &d, err
}

// Approve approves a release for an environment.
func (c *Client) Approve(ctx context.Context, req endpoints.ApproveRequest) (*release.Approval, error) {
	var a release.Approval
	_, err := c.do(ctx, http.MethodPost, "/v1/approvals", req, &a)
	return &a, err
}

// Environments lists the environments and their promotion policies.
func (c *Client) Environments(ctx context.Context) (*endpoints.EnvironmentList, error) {
	var out endpoints.EnvironmentList
	_, err := c.do(ctx, http.MethodGet, "/v1/environments", nil, &out)
	return &out, err
}

// GetApproval returns the newest approval of a release for an environment.
func (c *Client) GetApproval(ctx context.Context, releaseID, environment string) (*release.Approval, error) {
	var a release.Approval
	_, err := c.do(ctx, http.MethodGet, "/v1/approvals/"+url.PathEscape(releaseID)+"/"+url.PathEscape(environment), nil, &a)
	return &a, err
}

// RevokeApproval withdraws an approval.
func (c *Client) RevokeApproval(ctx context.Context, id string) (*release.Approval, error) {
	var a release.Approval
	_, err := c.do(ctx, http.MethodPost, "/v1/approvals/"+url.PathEscape(id)+"/revoke", nil, &a)
	return &a, err
}

// RegisterRepository registers a repository; created is false when it was.
func (c *Client) RegisterRepository(ctx context.Context, req endpoints.RegisterRepositoryRequest) (*repository.Repository, bool, error) {
	var r repository.Repository
	status, err := c.do(ctx, http.MethodPost, "/v1/repositories", req, &r)
	if err != nil {
		return nil, false, err
	}
	return &r, status == http.StatusCreated, nil
}

// ListRepositories lists registered repositories.
func (c *Client) ListRepositories(ctx context.Context, page ports.Page) (*endpoints.RepositoryList, error) {
	var out endpoints.RepositoryList
	_, err := c.do(ctx, http.MethodGet, withQuery("/v1/repositories", pageQuery(nil, page)), nil, &out)
	return &out, err
}

// Health checks /healthz.
func (c *Client) Health(ctx context.Context) error {
	_, err := c.do(ctx, http.MethodGet, "/healthz", nil, nil)
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	return nil
}

// StepLogs copies the log of a step to w from offset on; with follow it
// keeps copying as the log grows until the step has finished. It returns
// how many bytes it copied.
func (c *Client) StepLogs(ctx context.Context, stepID string, offset int64, follow bool, w io.Writer) (int64, error) {
	q := url.Values{}
	if offset > 0 {
		q.Set("offset", strconv.FormatInt(offset, 10))
	}
	if follow {
		q.Set("follow", "true")
	}
	base := strings.TrimSuffix(c.BaseURL, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+withQuery("/v1/steps/"+url.PathEscape(stepID)+"/logs", q), nil)
	if err != nil {
		return 0, fault.Wrap(fault.Validation, err, "bad server address %q", c.BaseURL)
	}
	token, err := c.bearer()
	if err != nil {
		return 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	hc := http.Client{Timeout: 30 * time.Second}
	if c.HTTP != nil {
		hc = *c.HTTP
	}
	if follow {
		hc.Timeout = 0 // a followed log stays open while the step runs; ctx bounds it
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fault.Wrap(fault.Unavailable, err, "cannot reach the forge API at %s", base)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
		return 0, decodeError(resp, data)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil && ctx.Err() == nil {
		return n, fault.Wrap(fault.Unavailable, err, "reading the log of step %s", stepID)
	}
	return n, nil
}
