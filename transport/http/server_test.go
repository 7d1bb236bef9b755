package httptransport_test

// The tests of this package run the real API handler (NewServer) over the
// in-memory store and the development token issuer, through real HTTP
// requests to an httptest server. This file holds the harness they share
// and the tests of the unauthenticated routes.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/catalyst-forge/forge/adapters/memory/memstore"
	"github.com/catalyst-forge/forge/adapters/onprem/oidcauth"
	"github.com/catalyst-forge/forge/application/announcing"
	"github.com/catalyst-forge/forge/application/deploying"
	"github.com/catalyst-forge/forge/application/limiting"
	"github.com/catalyst-forge/forge/application/registering"
	"github.com/catalyst-forge/forge/application/releasing"
	"github.com/catalyst-forge/forge/application/running"
	"github.com/catalyst-forge/forge/domain/event"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/transport/endpoints"
	httptransport "github.com/catalyst-forge/forge/transport/http"
)

// start is where every test's service clock begins.
var start = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// The people and robots of the tests, by role.
const (
	alice = "alice"  // developer
	bob   = "bob"    // approver
	carol = "carol"  // operator
	ci    = "ci-bot" // service-account
)

// testClock is the services' clock; tests move it between requests while
// the server's goroutines read it.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// syncBuffer collects the server log; the server writes it from its own
// goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// discardPublisher drops events: the tests look at the API, not the events.
type discardPublisher struct{}

func (discardPublisher) Publish(context.Context, event.Event) error { return nil }

// options change how newEnv builds the server.
type options struct {
	wrapStore    func(*memstore.Store) ports.Store
	store        ports.Store // replaces the memstore (which then goes unused)
	ready        func(context.Context) error
	verifierOpts []oidcauth.Option
	objects      ports.ObjectStore
	reportSecret []byte
}

// env is one API server with its store, clock, token issuer and log.
type env struct {
	t       testing.TB
	URL     string
	handler http.Handler
	mem     *memstore.Store
	clock   *testClock
	issuer  *oidcauth.DevIssuer
	keyFile string
	logs    *syncBuffer
	tokens  map[string]string
}

// newEnv wires the services as reference/forgeapi does, over a fresh
// memstore, with a controllable clock and a development issuer whose key
// lives in a temporary directory, and starts an httptest server.
func newEnv(t testing.TB, opts ...func(*options)) *env {
	t.Helper()
	var o options
	for _, f := range opts {
		f(&o)
	}
	e := &env{t: t, logs: &syncBuffer{}, tokens: map[string]string{}}
	e.keyFile = filepath.Join(t.TempDir(), "dev-key.pem")
	issuer, err := oidcauth.LoadOrCreateDevKey(e.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	e.issuer = issuer
	e.handler, e.mem, e.clock = buildHandler(issuer, o, e.logs)
	srv := httptest.NewServer(e.handler)
	t.Cleanup(srv.Close)
	e.URL = srv.URL
	return e
}

// buildHandler returns the API handler over a new memstore and a clock
// starting at start, trusting issuer's tokens and logging (JSON) to log.
func buildHandler(issuer *oidcauth.DevIssuer, o options, log io.Writer) (http.Handler, *memstore.Store, *testClock) {
	mem, clk := memstore.New(), &testClock{now: start}
	var store ports.Store = mem
	if o.wrapStore != nil {
		store = o.wrapStore(mem)
	}
	if o.store != nil {
		store = o.store
	}
	clock := ports.Clock(clk.Now)
	events := &announcing.Announcer{Publisher: discardPublisher{}, Clock: clock}
	limiter := limiting.New(clk.Now)
	services := httptransport.Services{Services: endpoints.Services{
		Runs:     &running.Service{Store: store, Clock: clock, Events: events, Limiter: limiter, Objects: o.objects, ReportSecret: o.reportSecret},
		Releases: &releasing.Service{Store: store, Clock: clock, Events: events, Limiter: limiter},
		Deployments: &deploying.Service{Store: store, Clock: clock, Events: events, Limiter: limiter,
			Environments: release.DefaultEnvironments(), ApprovalTTL: release.DefaultApprovalTTL},
		Repositories: &registering.Service{Store: store, Clock: clock},
	}, Ready: o.ready,
	}
	logger := logrus.New()
	logger.SetFormatter(&logrus.JSONFormatter{})
	logger.SetOutput(log)
	return httptransport.NewServer(services, issuer.Verifier(o.verifierOpts...), logger), mem, clk
}

// token returns a bearer token of subject with roles, valid for an hour.
func (e *env) token(subject string, roles ...identity.Role) string {
	e.t.Helper()
	tok, err := e.issuer.Token(subject, roles, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// as returns the token of one of the test's people (alice, bob, carol,
// ci), minted once.
func (e *env) as(who string) string {
	e.t.Helper()
	if tok, ok := e.tokens[who]; ok {
		return tok
	}
	roles := map[string]identity.Role{alice: identity.RoleDeveloper, bob: identity.RoleApprover,
		carol: identity.RoleOperator, ci: identity.RoleServiceAccount}
	role, ok := roles[who]
	if !ok {
		e.t.Fatalf("no role for %q", who)
	}
	e.tokens[who] = e.token(who, role)
	return e.tokens[who]
}

// client returns an API client authenticated as who.
func (e *env) client(who string) *httptransport.Client {
	return &httptransport.Client{BaseURL: e.URL, Token: e.as(who)}
}

// reply is an HTTP answer, read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// send sends req and reads the answer.
func (e *env) send(req *http.Request) reply {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading the answer: %v", req.Method, req.URL.Path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: body}
}

// request builds a request to path with an optional bearer token and body:
// a string or []byte is sent as is, anything else as JSON. A body is sent
// with Content-Type application/json.
func (e *env) request(method, path, token string, body any) *http.Request {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// do sends one request as who ("" for none).
func (e *env) do(method, path, who string, body any) reply {
	e.t.Helper()
	tok := ""
	if who != "" {
		tok = e.as(who)
	}
	return e.send(e.request(method, path, tok, body))
}

func (r reply) String() string {
	return http.StatusText(r.status) + " " + string(r.body)
}

// want fails the test unless the answer has status; a body is then JSON.
func (r reply) want(t testing.TB, status int) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	if status != http.StatusNoContent {
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type %q, want application/json", ct)
		}
	}
	return r
}

// decode reads the answer's JSON into a new T.
func decode[T any](t testing.TB, r reply) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decoding %T from %s: %v", v, r.body, err)
	}
	return v
}

// object reads the answer's JSON as a generic object.
func object(t testing.TB, r reply) map[string]any {
	t.Helper()
	return decode[map[string]any](t, r)
}

// apiError is the spec's error body, read strictly.
type apiError struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details"`
}

// wantError fails the test unless the answer is status with the spec's
// error body {"error":{"code","message","details"}} carrying code; it
// returns the inside of the body.
func (r reply) wantError(t testing.TB, status int, code fault.Kind) apiError {
	t.Helper()
	r.want(t, status)
	var top map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &top); err != nil {
		t.Fatalf("error body is not a JSON object: %s", r.body)
	}
	if len(top) != 1 || top["error"] == nil {
		t.Fatalf("error body must be {\"error\":{...}} alone, got %s", r.body)
	}
	dec := json.NewDecoder(bytes.NewReader(top["error"]))
	dec.DisallowUnknownFields()
	var e apiError
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %s: %v", r.body, err)
	}
	if e.Code != string(code) {
		t.Errorf("error code %q, want %q (message %q)", e.Code, code, e.Message)
	}
	if e.Message == "" {
		t.Errorf("error body has no message: %s", r.body)
	}
	return e
}

// wantMessage fails the test unless the error message holds every part.
func (a apiError) wantMessage(t testing.TB, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(a.Message, p) {
			t.Errorf("message %q does not contain %q", a.Message, p)
		}
	}
}

// wantField fails the test unless details.field is field.
func (a apiError) wantField(t testing.TB, field string) {
	t.Helper()
	if got := a.Details["field"]; got != field {
		t.Errorf("details.field = %v, want %q (message %q)", got, field, a.Message)
	}
}

// sha returns a full commit SHA starting with the hex digits of prefix.
func sha(prefix string) string {
	return prefix + strings.Repeat("0", 40-len(prefix))
}

// registerRepo registers acme/mono (or name) as the operator.
func (e *env) registerRepo(name string) {
	e.t.Helper()
	r := e.do(http.MethodPost, "/v1/repositories", carol, endpoints.RegisterRepositoryRequest{Repository: name})
	if r.status != http.StatusCreated && r.status != http.StatusOK {
		e.t.Fatalf("registering %s: %s", name, r)
	}
}

// createRun creates the run of a commit as the CI service account.
func (e *env) createRun(repo, commit, branch string) map[string]any {
	e.t.Helper()
	r := e.do(http.MethodPost, "/v1/runs", ci, endpoints.CreateRunRequest{Repository: repo, CommitSHA: commit, Branch: branch})
	return object(e.t, r.want(e.t, http.StatusCreated))
}

// createRelease creates a release as the CI service account, registering
// its repository first (releases need a registered repository).
func (e *env) createRelease(req endpoints.CreateReleaseRequest) endpoints.ReleaseResponse {
	e.t.Helper()
	e.registerRepo(req.Repository)
	r := e.do(http.MethodPost, "/v1/releases", ci, req)
	return decode[endpoints.ReleaseResponse](e.t, r.want(e.t, http.StatusCreated))
}

// tagRelease creates a release of acme/mono project made from a tag.
func (e *env) tagRelease(project, commit, tag string) endpoints.ReleaseResponse {
	e.t.Helper()
	return e.createRelease(endpoints.CreateReleaseRequest{Repository: "acme/mono", Project: project, CommitSHA: commit,
		Trigger: &endpoints.ReleaseTriggerRequest{Type: "tag", Tag: tag}})
}

// branchRelease creates a release of acme/mono project from a branch push.
func (e *env) branchRelease(project, commit, branch string) endpoints.ReleaseResponse {
	e.t.Helper()
	return e.createRelease(endpoints.CreateReleaseRequest{Repository: "acme/mono", Project: project, CommitSHA: commit,
		Trigger: &endpoints.ReleaseTriggerRequest{Type: "branch_push", Branch: branch}})
}

// at formats a time as the API does.
func at(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func TestHealthz(t *testing.T) {
	e := newEnv(t)
	r := e.do(http.MethodGet, "/healthz", "", nil).want(t, http.StatusOK)
	if got := object(t, r); !reflect.DeepEqual(got, map[string]any{"status": "ok"}) {
		t.Errorf("healthz = %v", got)
	}
	// A token is not needed, and a bad one does not matter.
	req := e.request(http.MethodGet, "/healthz", "garbage", nil)
	e.send(req).want(t, http.StatusOK)
}

func TestReadyz(t *testing.T) {
	t.Run("ready", func(t *testing.T) {
		var calls atomic.Int32
		e := newEnv(t, func(o *options) {
			o.ready = func(context.Context) error { calls.Add(1); return nil }
		})
		r := e.do(http.MethodGet, "/readyz", "", nil).want(t, http.StatusOK)
		if got := object(t, r); !reflect.DeepEqual(got, map[string]any{"status": "ready"}) {
			t.Errorf("readyz = %v", got)
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("Ready called %d times, want 1", n)
		}
	})
	t.Run("no ready check", func(t *testing.T) {
		e := newEnv(t)
		e.do(http.MethodGet, "/readyz", "", nil).want(t, http.StatusOK)
	})
	t.Run("unavailable", func(t *testing.T) {
		e := newEnv(t, func(o *options) {
			o.ready = func(context.Context) error {
				return &fault.Error{Kind: fault.Unavailable, Message: "the database schema is out of date (pending: 0003_approvals)",
					Details: map[string]any{"pending": []string{"0003_approvals"}}}
			}
		})
		a := e.do(http.MethodGet, "/readyz", "", nil).wantError(t, http.StatusServiceUnavailable, fault.Unavailable)
		a.wantMessage(t, "the database schema is out of date (pending: 0003_approvals)")
		if !reflect.DeepEqual(a.Details["pending"], []any{"0003_approvals"}) {
			t.Errorf("details = %v", a.Details)
		}
	})
}

// TestRequestLogNeverHoldsTokens checks the one log line per request and
// that neither a valid nor a refused token reaches the log.
func TestRequestLogNeverHoldsTokens(t *testing.T) {
	e := newEnv(t)
	good := e.as(alice)
	e.do(http.MethodGet, "/v1/runs", alice, nil).want(t, http.StatusOK)
	bad := e.token("mallory", identity.RoleDeveloper) + "x"
	e.send(e.request(http.MethodGet, "/v1/runs", bad, nil)).wantError(t, http.StatusUnauthorized, fault.Unauthenticated)
	logs := e.logs.String()
	for _, tok := range []string{good, bad, strings.Split(good, ".")[2]} {
		if strings.Contains(logs, tok) {
			t.Fatalf("the server log holds a token:\n%s", logs)
		}
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 2 || lines[0]["path"] != "/v1/runs" || lines[0]["status"] != float64(200) || lines[1]["status"] != float64(401) {
		t.Errorf("request log lines = %v", lines)
	}
}
