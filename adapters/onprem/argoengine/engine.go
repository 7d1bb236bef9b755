package argoengine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
)

var _ ports.WorkflowEngine = (*Engine)(nil)

// secretName is a DNS subdomain, the form of a Kubernetes Secret's name.
// (Without counted repeats, which made its compilation cost milliseconds
// at every start; the length is checked beside it.)
var secretName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

// maxErrorBody bounds how much of an error answer is read for its message.
const maxErrorBody = 64 << 10

// Config is what an Engine needs to reach the Argo Server and to render
// the dispatcher pods of a workflow.
type Config struct {
	// ServerURL is the Argo Server's base URL, such as
	// https://argo.example.com:2746. Required.
	ServerURL string
	// Namespace is where the workflows are created. Required.
	Namespace string
	// Token is the bearer token sent to the Argo Server (for example a
	// service account token). It is never logged nor put in an error.
	Token string
	// DispatcherImage is the image of the dispatcher's pods, such as
	// forge.io/platform/dispatcher:v1.0.0. Required.
	DispatcherImage string
	// ServiceAccount is the Kubernetes service account the workflow's pods
	// run as; empty means the namespace's default.
	ServiceAccount string
	// Env is passed to every dispatcher container as plain values: it is
	// part of the workflow spec, so no credentials here (see
	// EnvFromSecret). FORGE_RUN_ID is always set to the run's ID and wins
	// over a value given here.
	Env map[string]string
	// EnvFromSecret, when set, names a Kubernetes Secret in Namespace
	// whose keys become environment variables of every dispatcher
	// container (envFrom), such as FORGE_DATABASE and FORGE_NATS_URL, so
	// credentials never appear in the workflow. A name in Env wins over
	// the same key of the Secret.
	EnvFromSecret string
	// WorkflowTemplate, when set, names the WorkflowTemplate in Namespace
	// (made by the function WorkflowTemplate) that each run's workflow
	// references, with the run's ID as its run-id parameter: the
	// dispatcher's image, service account, environment and Secret are
	// then the template's, so DispatcherImage, ServiceAccount, Env and
	// EnvFromSecret must be empty. Argo can then be told to run only
	// workflows that reference templates (templateReferencing: Strict).
	WorkflowTemplate string
	// HTTPClient makes the requests; nil means a client with a 30-second
	// timeout.
	HTTPClient *http.Client
}

// Engine runs pipeline runs as Argo Workflows through the Argo Server's
// REST API. Safe for concurrent use.
type Engine struct {
	cfg    Config
	server *url.URL
	client *http.Client
}

// New returns an Engine for cfg. Errors: Validation (no ServerURL, a
// ServerURL that is not an http(s) URL, no Namespace, no DispatcherImage
// nor WorkflowTemplate, a WorkflowTemplate with dispatcher settings, an
// EnvFromSecret or WorkflowTemplate that is not a Kubernetes name).
func New(cfg Config) (*Engine, error) {
	if cfg.ServerURL == "" {
		return nil, fault.New(fault.Validation, "argoengine: ServerURL is required")
	}
	u, err := url.Parse(strings.TrimRight(cfg.ServerURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fault.New(fault.Validation, "argoengine: ServerURL must be an http or https URL with a host")
	}
	if cfg.Namespace == "" {
		return nil, fault.New(fault.Validation, "argoengine: Namespace is required")
	}
	switch {
	case cfg.WorkflowTemplate != "":
		if len(cfg.WorkflowTemplate) > 253 || !secretName.MatchString(cfg.WorkflowTemplate) {
			return nil, fault.New(fault.Validation,
				"argoengine: WorkflowTemplate %q is not a Kubernetes name (lower-case letters, digits, '-' and '.', at most 253)", cfg.WorkflowTemplate)
		}
		if cfg.DispatcherImage != "" || cfg.ServiceAccount != "" || len(cfg.Env) > 0 || cfg.EnvFromSecret != "" {
			return nil, fault.New(fault.Validation,
				"argoengine: with WorkflowTemplate %q the dispatcher's image, service account, environment and Secret are the template's: leave DispatcherImage, ServiceAccount, Env and EnvFromSecret empty", cfg.WorkflowTemplate)
		}
	case cfg.DispatcherImage == "":
		return nil, fault.New(fault.Validation, "argoengine: DispatcherImage (or WorkflowTemplate) is required")
	}
	if err := checkSecret(cfg.EnvFromSecret); err != nil {
		return nil, err
	}
	env := make(map[string]string, len(cfg.Env))
	for k, v := range cfg.Env {
		env[k] = v
	}
	cfg.Env = env
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return &Engine{cfg: cfg, server: u, client: client}, nil
}

// checkSecret refuses an EnvFromSecret that is not a Secret name.
func checkSecret(name string) error {
	if name != "" && (len(name) > 253 || !secretName.MatchString(name)) {
		return fault.New(fault.Validation,
			"argoengine: EnvFromSecret %q is not a Kubernetes Secret name (lower-case letters, digits, '-' and '.', at most 253)", name)
	}
	return nil
}

// Start creates the run's workflow and returns its name. Starting a run
// whose workflow exists (Argo answers 409 AlreadyExists) returns the same
// name. Errors: Validation (a run that cannot be rendered, or a workflow
// the server rejects), Unavailable (server unreachable, failing, or
// refusing the token).
func (e *Engine) Start(ctx context.Context, run *pipeline.Run) (string, error) {
	if run == nil {
		return "", fault.New(fault.Validation, "argoengine: no run to render")
	}
	return e.create(ctx, run, WorkflowName(run.ID))
}

// Retry creates the workflow of a run reopened for a retry, named by
// RetryWorkflowName: the failed workflow stays as it was, for its logs.
// Creating it again returns the same name, as Start does.
func (e *Engine) Retry(ctx context.Context, run *pipeline.Run) (string, error) {
	if run == nil {
		return "", fault.New(fault.Validation, "argoengine: no run to render")
	}
	return e.create(ctx, run, RetryWorkflowName(run))
}

// create submits the run's workflow under name.
func (e *Engine) create(ctx context.Context, run *pipeline.Run, name string) (string, error) {
	manifest, err := e.render(run, name)
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(struct {
		Workflow json.RawMessage `json:"workflow"`
	}{manifest})
	if err != nil {
		return "", fault.Wrap(fault.Internal, err, "argoengine: encode create request")
	}
	resp, err := e.do(ctx, http.MethodPost, e.endpoint(), body)
	if err != nil {
		return "", e.unreachable("create workflow "+name, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusConflict:
		return name, nil
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		var created struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&created); err != nil || created.Metadata.Name == "" {
			return name, nil // created under the name we chose
		}
		return created.Metadata.Name, nil
	default:
		return "", e.statusError("create workflow "+name, resp)
	}
}

// Cancel terminates the run's workflow (the one recorded on the run, or
// else the one Start would have made). An unknown workflow (404) or one
// that has already finished is not an error. Errors: Unavailable; a
// request the server rejects as malformed is Validation.
//
// It uses Argo's terminate, not stop: terminate kills the running pods
// and skips everything that has not started, exit handlers included,
// while stop lets exit handlers run. The workflow has no exit handlers,
// and a cancelled run must stop dispatching at once; the dispatchers'
// jobs already queued are cancelled by the platform, not by Argo.
func (e *Engine) Cancel(ctx context.Context, run *pipeline.Run) error {
	if run == nil || (run.ID == "" && run.ArgoWorkflowName == "") {
		return fault.New(fault.Validation, "argoengine: no run to cancel")
	}
	name := run.ArgoWorkflowName
	if name == "" {
		name = WorkflowName(run.ID)
	}
	body, err := json.Marshal(struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	}{name, e.cfg.Namespace})
	if err != nil {
		return fault.Wrap(fault.Internal, err, "argoengine: encode terminate request")
	}
	resp, err := e.do(ctx, http.MethodPut, e.endpoint(name, "terminate"), body)
	if err != nil {
		return e.unreachable("terminate workflow "+name, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	}
	code, msg := e.readError(resp)
	// Argo refuses to shut down a finished workflow with this message
	// (util.AlreadyShutdownError), as a 500; for the port it is no error.
	if strings.Contains(msg, "cannot shutdown a completed workflow") {
		return nil
	}
	return e.classify("terminate workflow "+name, code, msg)
}

// endpoint returns the URL of /api/v1/workflows/{namespace}[/elem...].
// Active reports whether the run's workflow is still pending or running
// (GET /api/v1/workflows/{namespace}/{name}); a finished, failed or
// deleted workflow is not. Errors: Validation, Unavailable.
func (e *Engine) Active(ctx context.Context, run *pipeline.Run) (bool, error) {
	if run == nil || (run.ID == "" && run.ArgoWorkflowName == "") {
		return false, fault.New(fault.Validation, "argoengine: no run to look up")
	}
	name := run.ArgoWorkflowName
	if name == "" {
		name = WorkflowName(run.ID)
	}
	resp, err := e.do(ctx, http.MethodGet, e.endpoint(name), nil)
	if err != nil {
		return false, e.unreachable("get workflow "+name, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return false, nil
	case resp.StatusCode < 200 || resp.StatusCode >= 300:
		return false, e.statusError("get workflow "+name, resp)
	}
	var wf struct {
		Status struct {
			Phase string `json:"phase"`
		} `json:"status"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&wf); err != nil {
		return false, fault.Wrap(fault.Unavailable, err, "argoengine: reading workflow %s", name)
	}
	switch wf.Status.Phase {
	case "", "Pending", "Running":
		return true, nil
	}
	return false, nil
}

func (e *Engine) endpoint(elem ...string) string {
	p := "/api/v1/workflows/" + url.PathEscape(e.cfg.Namespace)
	for _, s := range elem {
		p += "/" + url.PathEscape(s)
	}
	return e.server.String() + p
}

func (e *Engine) do(ctx context.Context, method, target string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if e.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+e.cfg.Token)
	}
	return e.client.Do(req)
}

// serverName names the server in messages, without any credentials of
// the URL.
func (e *Engine) serverName() string { return e.server.Redacted() }

func (e *Engine) unreachable(op string, err error) error {
	return fault.Wrap(fault.Unavailable, errors.New(e.redact(err.Error())),
		"argoengine: %s: argo server %s unreachable", op, e.serverName())
}

func (e *Engine) statusError(op string, resp *http.Response) error {
	code, msg := e.readError(resp)
	return e.classify(op, code, msg)
}

// readError returns the status and the message of an error answer: Argo's
// {"code": N, "message": "..."}, or else the start of the body, or else
// the status text.
func (e *Engine) readError(resp *http.Response) (int, string) {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var argoErr struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	msg := ""
	if json.Unmarshal(raw, &argoErr) == nil && argoErr.Message != "" {
		msg = argoErr.Message
	} else if text := strings.TrimSpace(string(raw)); text != "" {
		if len(text) > 512 {
			text = text[:512] + "..."
		}
		msg = text
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return resp.StatusCode, e.redact(msg)
}

// classify maps an error status of the Argo Server to a fault kind.
func (e *Engine) classify(op string, code int, msg string) error {
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		// The server's message is left out: the token was refused, and
		// that is all the caller needs.
		return fault.New(fault.Unavailable,
			"argoengine: %s: argo server %s refused the token (HTTP %d)", op, e.serverName(), code)
	case code == http.StatusTooManyRequests:
		return fault.New(fault.Unavailable,
			"argoengine: %s: argo server %s is busy (HTTP %d): %s", op, e.serverName(), code, msg)
	case code >= 400 && code < 500:
		return fault.New(fault.Validation,
			"argoengine: %s: argo server %s rejected the request (HTTP %d): %s", op, e.serverName(), code, msg)
	default:
		return fault.New(fault.Unavailable,
			"argoengine: %s: argo server %s failed (HTTP %d): %s", op, e.serverName(), code, msg)
	}
}

// redact removes the token from text that came from elsewhere (a server's
// message, a transport error), should it ever appear there.
func (e *Engine) redact(text string) string {
	if e.cfg.Token == "" {
		return text
	}
	return strings.ReplaceAll(text, e.cfg.Token, "[redacted]")
}

// String describes the engine without its token, for logs.
func (e *Engine) String() string {
	return fmt.Sprintf("argoengine(%s, namespace %s)", e.serverName(), e.cfg.Namespace)
}
