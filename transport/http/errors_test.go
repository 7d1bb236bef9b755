package httptransport_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/memory/memstore"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

// TestBodyDecodingErrors: every way a request body can be wrong is a 422
// validation_error with the spec's body, naming the field where there is one.
func TestBodyDecodingErrors(t *testing.T) {
	e := newEnv(t)
	e.registerRepo("acme/mono")
	huge := `{"repository":"` + strings.Repeat("a", endpoints.MaxBodyBytes) + `"}`
	cases := []struct {
		name, path, contentType, body string
		field, message                string
	}{
		{"unknown field", "/v1/runs", "", `{"repository":"acme/mono","commit_sha":"` + sha("1") + `","colour":"red"}`, "colour", `unknown field "colour"`},
		{"wrong type", "/v1/runs", "", `{"repository":"acme/mono","commit_sha":5}`, "commit_sha", "field commit_sha must be a string, not number"},
		{"wrong type, bool", "/v1/runs", "", `{"branch":true}`, "branch", "field branch must be a string, not bool"},
		{"wrong type, nested", "/v1/repositories", "", `{"repository":"acme/x","limits":{"runs_per_minute":"many"}}`, "limits.runs_per_minute", "must be an integer, not string"},
		{"wrong type, list", "/v1/releases", "", `{"artifacts":{"name":"x"}}`, "artifacts", "field artifacts must be a list, not object"},
		{"wrong type, object", "/v1/releases", "", `{"trigger":"tag"}`, "trigger", "field trigger must be an object, not string"},
		{"unknown nested field", "/v1/releases", "", `{"trigger":{"type":"tag","ref":"v1"}}`, "", `unknown field "ref"`},
		{"empty body", "/v1/runs", "", ``, "", "the body is empty; a JSON object is required"},
		{"whitespace body", "/v1/runs", "", "  \n", "", "the body is empty; a JSON object is required"},
		{"not an object", "/v1/runs", "", `[]`, "", "the body must be a JSON object, not array"},
		{"a string", "/v1/deployments", "", `"dev"`, "", "the body must be a JSON object, not string"},
		{"trailing garbage", "/v1/runs", "", `{"repository":"acme/mono"} garbage`, "", "the body must hold exactly one JSON object"},
		{"two objects", "/v1/approvals", "", `{}{}`, "", "the body must hold exactly one JSON object"},
		{"cut short", "/v1/runs", "", `{"repository":"acme/mono",`, "", "the body ends in the middle of its JSON"},
		{"syntax error", "/v1/runs", "", `{"repository" "acme/mono"}`, "", "the body is not valid JSON (at byte"},
		{"over 1 MiB", "/v1/runs", "", huge, "", "the body is larger than 1048576 bytes"},
		{"text/plain", "/v1/runs", "text/plain", `{"repository":"acme/mono"}`, "", "Content-Type must be application/json, got \"text/plain\""},
		{"form", "/v1/deployments", "application/x-www-form-urlencoded", `release_id=x`, "", "Content-Type must be application/json"},
		{"status body", "/v1/tasks/x/status", "", `{"status":1}`, "status", "field status must be a string"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := e.request(http.MethodPost, c.path, e.as(ci), c.body)
			if strings.HasPrefix(c.path, "/v1/tasks") {
				req.Method = http.MethodPut
			}
			if c.path == "/v1/repositories" {
				req.Header.Set("Authorization", "Bearer "+e.as(carol))
			}
			if c.contentType != "" {
				req.Header.Set("Content-Type", c.contentType)
			}
			a := e.send(req).wantError(t, http.StatusUnprocessableEntity, fault.Validation)
			a.wantMessage(t, c.message)
			if c.field != "" {
				a.wantField(t, c.field)
			}
			if len(a.Message) > 300 {
				t.Errorf("message of %d bytes echoes the body", len(a.Message))
			}
		})
	}
	// application/json with parameters, and no Content-Type at all, are fine.
	for _, ct := range []string{"application/json; charset=utf-8", ""} {
		req := e.request(http.MethodPost, "/v1/runs", e.as(ci), endpoints.CreateRunRequest{Repository: "acme/mono", CommitSHA: sha("ab")})
		req.Header.Del("Content-Type")
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if r := e.send(req); r.status != http.StatusCreated && r.status != http.StatusOK {
			t.Errorf("Content-Type %q: %s", ct, r)
		}
	}
}

// TestPermissionDenied checks the 403 body of the permission matrix's
// refusals: the permission and the roles that would do.
func TestPermissionDenied(t *testing.T) {
	e := newEnv(t)
	e.registerRepo("acme/mono")
	tag := e.tagRelease("api", sha("7e"), "v1")
	cases := []struct {
		name, who, method, path string
		body                    any
		permission              string
		roles                   []any
	}{
		{"developer creates a run", alice, http.MethodPost, "/v1/runs", endpoints.CreateRunRequest{Repository: "acme/mono", CommitSHA: sha("7f")},
			"create-run", []any{"service-account"}},
		{"operator creates a release", carol, http.MethodPost, "/v1/releases", endpoints.CreateReleaseRequest{Repository: "acme/mono", Project: "api", CommitSHA: sha("7f")},
			"create-release", []any{"service-account"}},
		{"developer approves", alice, http.MethodPost, "/v1/approvals", endpoints.ApproveRequest{ReleaseID: tag.ID, Environment: "production", Justification: "x"},
			"approve", []any{"approver"}},
		{"service account registers", ci, http.MethodPost, "/v1/repositories", endpoints.RegisterRepositoryRequest{Repository: "acme/z"},
			"register-repository", []any{"operator"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := e.do(c.method, c.path, c.who, c.body).wantError(t, http.StatusForbidden, fault.PermissionDenied)
			a.wantMessage(t, c.permission+" needs one of the roles")
			if a.Details["permission"] != c.permission || len(a.Details["roles"].([]any)) != len(c.roles) || a.Details["roles"].([]any)[0] != c.roles[0] {
				t.Errorf("details = %v", a.Details)
			}
		})
	}
	t.Run("approver deploys to production", func(t *testing.T) {
		a := e.deploy(bob, tag.ID, "production").wantError(t, http.StatusForbidden, fault.PermissionDenied)
		a.wantMessage(t, "deploying to production needs one of the roles developer, operator")
	})
}

func TestRunRateLimits(t *testing.T) {
	e := newEnv(t)
	e.do(http.MethodPost, "/v1/repositories", carol, endpoints.RegisterRepositoryRequest{Repository: "acme/mono",
		Limits: &repository.Limits{RunsPerMinute: 2, MaxConcurrentRuns: 3}}).want(t, http.StatusCreated)
	e.createRun("acme/mono", sha("1"), "main")
	e.createRun("acme/mono", sha("2"), "main")
	r := e.do(http.MethodPost, "/v1/runs", ci, endpoints.CreateRunRequest{Repository: "acme/mono", CommitSHA: sha("3")})
	a := r.wantError(t, http.StatusTooManyRequests, fault.RateLimited)
	a.wantMessage(t, "rate limit of 2 runs of acme/mono per minute reached")
	if r.header.Get("Retry-After") != "30" {
		t.Errorf("Retry-After = %q, want 30", r.header.Get("Retry-After"))
	}
	// An existing run is still returned.
	e.do(http.MethodPost, "/v1/runs", ci, endpoints.CreateRunRequest{Repository: "acme/mono", CommitSHA: sha("1")}).want(t, http.StatusOK)

	// Runs in progress: three is the limit.
	e.clock.Advance(time.Minute)
	e.createRun("acme/mono", sha("3"), "main")
	e.clock.Advance(time.Minute)
	r = e.do(http.MethodPost, "/v1/runs", ci, endpoints.CreateRunRequest{Repository: "acme/mono", CommitSHA: sha("4")})
	r.wantError(t, http.StatusTooManyRequests, fault.RateLimited).wantMessage(t, "acme/mono already has 3 runs in progress, its limit")
	if r.header.Get("Retry-After") != "30" {
		t.Errorf("Retry-After = %q, want 30", r.header.Get("Retry-After"))
	}
}

// secret is what the failing store's errors hold; no answer may show it.
const secret = "password=hunter2 host=db-primary.internal"

// brokenStore is a Store whose listing of repositories and lookup of runs
// fail with a plain error, as a database driver's would.
type brokenStore struct{ *memstore.Store }

func (brokenStore) ListRepositories(context.Context, ports.Page) ([]repository.Repository, int, error) {
	return nil, 0, errors.New("pq: connection refused (" + secret + ")")
}

func TestInternalErrorsHideTheirCause(t *testing.T) {
	e := newEnv(t, func(o *options) {
		o.wrapStore = func(s *memstore.Store) ports.Store { return brokenStore{s} }
	})
	r := e.do(http.MethodGet, "/v1/repositories", alice, nil)
	a := r.wantError(t, http.StatusInternalServerError, fault.Internal)
	if a.Message != "internal error; the server log has the details" || a.Details != nil {
		t.Errorf("internal error body = %s", r.body)
	}
	if strings.Contains(string(r.body), "hunter2") || strings.Contains(string(r.body), "db-primary") || strings.Contains(string(r.body), "pq:") {
		t.Errorf("the answer leaks the cause: %s", r.body)
	}
	// The cause goes to the log, with the caller.
	logs := e.logs.String()
	if !strings.Contains(logs, "pq: connection refused") || !strings.Contains(logs, `"subject":"alice"`) {
		t.Errorf("the log does not hold the cause and the subject:\n%s", logs)
	}
	// Other routes still work.
	e.do(http.MethodGet, "/v1/runs", alice, nil).want(t, http.StatusOK)
}

func TestNotFoundAndConflictBodies(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/v1/runs/nope", "/v1/releases/acme/mono/api/nope", "/v1/deployments/dev/acme/mono/api", "/v1/approvals/nope/production"} {
		a := e.do(http.MethodGet, p, alice, nil).wantError(t, http.StatusNotFound, fault.NotFound)
		if strings.Contains(a.Message, "internal") {
			t.Errorf("%s: %q", p, a.Message)
		}
	}
	e.registerRepo("acme/mono")
	id := e.createRun("acme/mono", sha("cc"), "main")["id"].(string)
	e.do(http.MethodDelete, "/v1/runs/"+id, alice, nil).want(t, http.StatusNoContent)
	e.do(http.MethodDelete, "/v1/runs/"+id, alice, nil).wantError(t, http.StatusConflict, fault.Conflict)
}
