package natstransport

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

// Client calls the API over NATS. Errors are *fault.Error with the kind
// the server answered, as with the HTTP client.
type Client struct {
	// Conn is the connection to the NATS server the API serves on.
	Conn *nats.Conn
	// Token is sent as a bearer token.
	Token string
	// TokenFile, when set, holds the bearer token instead, read again
	// whenever it changes (see endpoints.TokenFile).
	TokenFile string
	// Timeout bounds a call whose context has no deadline (default 30 s).
	Timeout time.Duration
	// Prefix replaces SubjectPrefix; it must be the server's.
	Prefix string

	tokenFile endpoints.TokenFile
}

var _ endpoints.API = (*Client)(nil)

// invoke sends req to the endpoint named name and reads the answer into
// out (unless nil or no content).
func (c *Client) invoke(ctx context.Context, name string, req, out any) (endpoints.Outcome, error) {
	if c.Conn == nil {
		return 0, fault.New(fault.Validation, "no NATS connection for the API client")
	}
	data, err := json.Marshal(req)
	if err != nil {
		return 0, fault.Wrap(fault.Internal, err, "encoding the request")
	}
	if len(data) > endpoints.MaxBodyBytes {
		return 0, endpoints.TooLarge()
	}
	if _, ok := ctx.Deadline(); !ok {
		timeout := c.Timeout
		if timeout <= 0 {
			timeout = 30 * time.Second
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	subject := SubjectPrefix + name
	if c.Prefix != "" {
		subject = c.Prefix + name
	}
	msg := nats.NewMsg(subject)
	msg.Data = data
	token := c.Token
	if c.TokenFile != "" {
		if token, err = c.tokenFile.Read(c.TokenFile); err != nil {
			return 0, err
		}
	}
	if token != "" {
		msg.Header.Set(endpoints.AuthorizationHeader, "Bearer "+token)
	}
	if key := ports.ReportKeyFrom(ctx); key != "" {
		msg.Header.Set(endpoints.ReportKeyHeader, key)
	}
	if tp := ports.Traceparent(ports.TraceIDFrom(ctx)); tp != "" {
		msg.Header.Set(ports.TraceparentHeader, tp)
	}
	if deadline, ok := ctx.Deadline(); ok {
		msg.Header.Set(TimeoutHeader, strconv.FormatInt(max(time.Until(deadline).Milliseconds(), 1), 10))
	}
	resp, err := c.Conn.RequestMsgWithContext(ctx, msg)
	switch {
	case errors.Is(err, context.Canceled):
		return 0, err // the caller gave up: its own error, not the server's
	case errors.Is(err, nats.ErrNoResponders):
		return 0, fault.Wrap(fault.Unavailable, err, "no forge-api answers on NATS subject %s (is it running with --serve-nats?)", subject)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return 0, fault.Wrap(fault.Unavailable, err, "no answer from the forge API on NATS subject %s in time", subject)
	case err != nil:
		return 0, fault.Wrap(fault.Unavailable, err, "calling the forge API on NATS subject %s", subject)
	}
	if code := resp.Header.Get(ErrorHeader); code != "" {
		return 0, decodeError(code, resp.Data)
	}
	outcome, ok := endpoints.ParseOutcome(resp.Header.Get(OutcomeHeader))
	if !ok {
		return 0, fault.New(fault.Internal, "the answer on %s has no %s header: is a forge API serving that subject?", subject, OutcomeHeader)
	}
	if out != nil && outcome != endpoints.NoContent {
		if err := json.Unmarshal(resp.Data, out); err != nil {
			return outcome, fault.Wrap(fault.Internal, err, "the answer on %s is not the expected JSON", subject)
		}
	}
	return outcome, nil
}

// decodeError turns an error answer into a *fault.Error with the kind of
// its code.
func decodeError(code string, data []byte) error {
	kind := fault.Kind(code)
	if !endpoints.Known(kind) {
		kind = fault.Internal
	}
	var eb endpoints.ErrorBody
	if err := json.Unmarshal(data, &eb); err != nil || eb.Error.Message == "" {
		return &fault.Error{Kind: kind, Message: "the server answered " + code}
	}
	return &fault.Error{Kind: kind, Message: eb.Error.Message, Details: eb.Error.Details}
}

// CreateRun creates the run of a commit; created is false when it existed.
func (c *Client) CreateRun(ctx context.Context, req endpoints.CreateRunRequest) (*pipeline.Run, bool, error) {
	var run pipeline.Run
	o, err := c.invoke(ctx, "runs.create", req, &run)
	if err != nil {
		return nil, false, err
	}
	return &run, o == endpoints.Created, nil
}

// GetRun returns a run with its phases, tasks and steps, and its releases.
func (c *Client) GetRun(ctx context.Context, id string) (*endpoints.RunResponse, error) {
	var out endpoints.RunResponse
	_, err := c.invoke(ctx, "runs.get", endpoints.IDRequest{ID: id}, &out)
	return &out, err
}

// RunStatus reads a run's status alone.
func (c *Client) RunStatus(ctx context.Context, id string) (pipeline.Status, error) {
	var out endpoints.RunStatusResponse
	_, err := c.invoke(ctx, "runs.status", endpoints.IDRequest{ID: id}, &out)
	return out.Status, err
}

// ListRuns lists runs, newest first.
func (c *Client) ListRuns(ctx context.Context, f ports.RunFilter, p ports.Page) (*endpoints.RunList, error) {
	var out endpoints.RunList
	_, err := c.invoke(ctx, "runs.list", endpoints.ListRunsRequest{Repository: f.Repository, Branch: f.Branch, CommitSHA: f.CommitSHA,
		Status: string(f.Status), Limit: p.Limit, Offset: p.Offset}, &out)
	return &out, err
}

// CancelRun cancels a run that has not finished.
func (c *Client) CancelRun(ctx context.Context, id string) error {
	_, err := c.invoke(ctx, "runs.cancel", endpoints.IDRequest{ID: id}, nil)
	return err
}

// RetryRun reopens a run that failed in its release stage.
func (c *Client) RetryRun(ctx context.Context, id string) (*pipeline.Run, error) {
	var run pipeline.Run
	_, err := c.invoke(ctx, "runs.retry", endpoints.IDRequest{ID: id}, &run)
	return &run, err
}

// UpdateTaskStatus reports a task's status (service accounts).
func (c *Client) UpdateTaskStatus(ctx context.Context, id string, req endpoints.TaskStatusRequest) (*pipeline.Task, error) {
	var t pipeline.Task
	_, err := c.invoke(ctx, "tasks.update_status", endpoints.UpdateTaskRequest{ID: id, Status: req.Status, Error: req.Error}, &t)
	return &t, err
}

// UpdateStepStatus reports a step's status (service accounts).
func (c *Client) UpdateStepStatus(ctx context.Context, id string, req endpoints.StepStatusRequest) (*pipeline.Step, error) {
	var s pipeline.Step
	_, err := c.invoke(ctx, "steps.update_status", endpoints.UpdateStepRequest{ID: id, Status: req.Status, ExitCode: req.ExitCode, LogsS3Key: req.LogsS3Key}, &s)
	return &s, err
}

// CreateRelease registers a release; created is false when it existed.
func (c *Client) CreateRelease(ctx context.Context, req endpoints.CreateReleaseRequest) (*endpoints.ReleaseResponse, bool, error) {
	var r endpoints.ReleaseResponse
	o, err := c.invoke(ctx, "releases.create", req, &r)
	if err != nil {
		return nil, false, err
	}
	return &r, o == endpoints.Created, nil
}

// SetReleaseImage records the digest of a release's pushed image.
func (c *Client) SetReleaseImage(ctx context.Context, id, digest string) (*endpoints.ReleaseResponse, error) {
	var r endpoints.ReleaseResponse
	_, err := c.invoke(ctx, "releases.set_image", endpoints.SetImageRequest{ID: id, OCIDigest: digest}, &r)
	return &r, err
}

// GetRelease returns a release named by an alias, a number or a commit
// prefix.
func (c *Client) GetRelease(ctx context.Context, repository, project, id string) (*endpoints.ReleaseResponse, error) {
	var r endpoints.ReleaseResponse
	_, err := c.invoke(ctx, "releases.get", endpoints.ReleaseRequest{Repository: repository, Project: project, ID: id}, &r)
	return &r, err
}

// ListReleases lists a project's releases, newest first.
func (c *Client) ListReleases(ctx context.Context, repository, project string, page ports.Page) (*endpoints.ReleaseList, error) {
	var out endpoints.ReleaseList
	_, err := c.invoke(ctx, "releases.list", endpoints.ListReleasesRequest{Repository: repository, Project: project, Limit: page.Limit, Offset: page.Offset}, &out)
	return &out, err
}

// Deploy deploys a release to an environment.
func (c *Client) Deploy(ctx context.Context, req endpoints.DeployRequest) (*endpoints.DeploymentResponse, error) {
	var d endpoints.DeploymentResponse
	_, err := c.invoke(ctx, "deployments.create", req, &d)
	return &d, err
}

// Rollback deploys an earlier release again.
func (c *Client) Rollback(ctx context.Context, req endpoints.RollbackRequest) (*endpoints.DeploymentResponse, error) {
	var d endpoints.DeploymentResponse
	_, err := c.invoke(ctx, "rollbacks.create", req, &d)
	return &d, err
}

// CurrentDeployment returns what a project runs in an environment.
func (c *Client) CurrentDeployment(ctx context.Context, environment, repository, project string) (*endpoints.DeploymentResponse, error) {
	var d endpoints.DeploymentResponse
	_, err := c.invoke(ctx, "deployments.current", endpoints.CurrentDeploymentRequest{Environment: environment, Repository: repository, Project: project}, &d)
	return &d, err
}

// Approve approves a release for an environment.
func (c *Client) Approve(ctx context.Context, req endpoints.ApproveRequest) (*release.Approval, error) {
	var a release.Approval
	_, err := c.invoke(ctx, "approvals.create", req, &a)
	return &a, err
}

// Environments lists the environments and their promotion policies.
func (c *Client) Environments(ctx context.Context) (*endpoints.EnvironmentList, error) {
	var out endpoints.EnvironmentList
	_, err := c.invoke(ctx, "environments.list", endpoints.EmptyRequest{}, &out)
	return &out, err
}

// GetApproval returns the newest approval of a release for an environment.
func (c *Client) GetApproval(ctx context.Context, releaseID, environment string) (*release.Approval, error) {
	var a release.Approval
	_, err := c.invoke(ctx, "approvals.get", endpoints.ApprovalRequest{ReleaseID: releaseID, Environment: environment}, &a)
	return &a, err
}

// RevokeApproval withdraws an approval.
func (c *Client) RevokeApproval(ctx context.Context, id string) (*release.Approval, error) {
	var a release.Approval
	_, err := c.invoke(ctx, "approvals.revoke", endpoints.IDRequest{ID: id}, &a)
	return &a, err
}

// RegisterRepository registers a repository; created is false when it was.
func (c *Client) RegisterRepository(ctx context.Context, req endpoints.RegisterRepositoryRequest) (*repository.Repository, bool, error) {
	var r repository.Repository
	o, err := c.invoke(ctx, "repositories.register", req, &r)
	if err != nil {
		return nil, false, err
	}
	return &r, o == endpoints.Created, nil
}

// ListRepositories lists registered repositories.
func (c *Client) ListRepositories(ctx context.Context, page ports.Page) (*endpoints.RepositoryList, error) {
	var out endpoints.RepositoryList
	_, err := c.invoke(ctx, "repositories.list", endpoints.PageRequest{Limit: page.Limit, Offset: page.Offset}, &out)
	return &out, err
}
