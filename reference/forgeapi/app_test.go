package forgeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/catalyst-forge/forge/adapters/aws/s3blob"
	"github.com/catalyst-forge/forge/adapters/onprem/githubstatus/githubtest"
	"github.com/catalyst-forge/forge/reference/githubflags"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/onprem/fsblob"
	"github.com/catalyst-forge/forge/adapters/onprem/oidcauth"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/transport/endpoints"
	httptransport "github.com/catalyst-forge/forge/transport/http"
)

// TestAppEndToEnd boots the real server on a loopback port over SQLite:
// it refuses an unmigrated database, serves after 'migrate', and answers
// an authenticated client.
func TestAppEndToEnd(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite://" + filepath.Join(dir, "forge.db")
	key := filepath.Join(dir, "dev-key.pem")
	opts := Options{Addr: "127.0.0.1:0", Database: dsn, Auth: "dev", DevKey: key, Log: io.Discard}
	ctx := context.Background()

	if _, err := New(ctx, opts); !fault.Is(err, fault.Unavailable) || !strings.Contains(err.Error(), "run: forge-api migrate --database "+dsn) {
		t.Fatalf("New on an unmigrated database = %v", err)
	}
	var out bytes.Buffer
	if err := Migrate(ctx, dsn, &out); err != nil || !strings.Contains(out.String(), "applied 0001_initial") {
		t.Fatalf("Migrate = %v, %q", err, out.String())
	}
	out.Reset()
	if err := Migrate(ctx, dsn, &out); err != nil || !strings.Contains(out.String(), "up to date") {
		t.Fatalf("second Migrate = %v, %q", err, out.String())
	}

	policies := filepath.Join(dir, "policies.yaml")
	if err := os.WriteFile(policies, []byte("environments:\n  qa:\n    promotion_policy:\n      allowed_triggers: [manual]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts.Policies = policies
	opts.ObjectsDir = filepath.Join(dir, "objects")
	app, err := New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- app.Run(runCtx) }()

	issuer, err := oidcauth.LoadOrCreateDevKey(key)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := issuer.Token("ops", []identity.Role{identity.RoleOperator}, time.Minute)
	c := &httptransport.Client{BaseURL: "http://" + app.Addr(), Token: tok}
	if err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	r, created, err := c.RegisterRepository(ctx, endpoints.RegisterRepositoryRequest{Repository: "acme/mono"})
	if err != nil || !created || r.Name != "acme/mono" {
		t.Fatalf("register = %+v, %v, %v", r, created, err)
	}
	// The policy file replaced the default environments.
	if _, err := c.CurrentDeployment(ctx, "dev", "acme/mono", "api"); !fault.Is(err, fault.Validation) || !strings.Contains(err.Error(), "environments: qa") {
		t.Errorf("deployment in dev with only qa configured = %v", err)
	}
	// A link signed by the local object store is served without a token.
	objects, err := fsblob.New(opts.ObjectsDir, fsblob.WithSigning(nil, "http://"+app.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer objects.Close()
	if _, err := objects.Put(ctx, "pipeline-runs/r1/logs/test/api/unit.log", strings.NewReader("ok\n"), ports.PutOptions{ContentType: "text/plain"}); err != nil {
		t.Fatal(err)
	}
	link, err := objects.PresignGet(ctx, "pipeline-runs/r1/logs/test/api/unit.log", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "ok\n" {
		t.Errorf("signed link = %d %q", resp.StatusCode, body)
	}
	if resp, err := http.Get(strings.Replace(link, "sig=", "sig=0", 1)); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("tampered link = %v, %v", resp, err)
	}
	// /metrics, without a token, counts those requests by route and code,
	// and shows the database pool.
	resp, err = http.Get("http://" + app.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`forge_api_request_duration_seconds_count{code="201",route="POST /v1/repositories",transport="http"} 1`,
		`forge_api_request_duration_seconds_count{code="200",route="GET /healthz",transport="http"} 1`,
		`forge_api_request_duration_seconds_count{code="403",route="GET /v1/objects/",transport="http"} 1`,
		`go_sql_max_open_connections{db_name="forge"}`,
	} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("/metrics (%d) has no %s", resp.StatusCode, want)
		}
	}

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestOptionsErrors(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	for name, o := range map[string]Options{
		"no database":             {Auth: "dev", DevKey: filepath.Join(dir, "k.pem")},
		"unknown auth":            {Auth: "basic", Database: "sqlite://" + filepath.Join(dir, "x.db")},
		"dev without key":         {Auth: "dev", Database: "sqlite://" + filepath.Join(dir, "x.db")},
		"oidc without host":       {Auth: "oidc", Database: "sqlite://" + filepath.Join(dir, "x.db")},
		"two log stores":          {Auth: "dev", DevKey: filepath.Join(dir, "k.pem"), Database: "sqlite://" + filepath.Join(dir, "x.db"), ObjectsDir: dir, S3: s3blob.Config{Bucket: "logs"}},
		"serve-nats without nats": {Auth: "dev", DevKey: filepath.Join(dir, "k.pem"), Database: "sqlite://" + filepath.Join(dir, "x.db"), ServeNATS: true},
		"bad policies":            {Auth: "dev", DevKey: filepath.Join(dir, "k.pem"), Database: "sqlite://" + filepath.Join(dir, "x.db"), Policies: filepath.Join(dir, "missing.yaml")},
	} {
		if _, err := New(ctx, o); !fault.Is(err, fault.Validation) {
			t.Errorf("%s: %v, want a validation error", name, err)
		}
	}
}

// goneEngine is a workflow engine whose workflows have all ended.
type goneEngine struct{}

func (goneEngine) Start(context.Context, *pipeline.Run) (string, error) { return "forge-run-x", nil }
func (goneEngine) Retry(context.Context, *pipeline.Run) (string, error) {
	return "forge-run-x-retry", nil
}

func (goneEngine) Cancel(context.Context, *pipeline.Run) error         { return nil }
func (goneEngine) Active(context.Context, *pipeline.Run) (bool, error) { return false, nil }

// TestServerReconcilesAbandonedRuns: with an engine, the server ends runs
// whose workflow ended before them, so none stays running forever.
// serve starts forge-api with o on a fresh, migrated SQLite database and a
// development key, until the test ends, and returns it with its URL and
// a function minting tokens of a subject with a role. setup, when given,
// sees the app before it starts serving (and its background loops).
func serve(t *testing.T, o Options, setup ...func(*App)) (app *App, base string, token func(subject string, role identity.Role) string) {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	o.Addr, o.Database, o.Auth, o.DevKey, o.Log = "127.0.0.1:0", "sqlite://"+filepath.Join(dir, "forge.db"), "dev", filepath.Join(dir, "k.pem"), io.Discard
	if err := Migrate(ctx, o.Database, io.Discard); err != nil {
		t.Fatal(err)
	}
	app, err := New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range setup {
		f(app)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- app.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done; app.Close() })
	issuer, err := oidcauth.LoadOrCreateDevKey(o.DevKey)
	if err != nil {
		t.Fatal(err)
	}
	return app, "http://" + app.Addr(), func(subject string, role identity.Role) string {
		tok, err := issuer.Token(subject, []identity.Role{role}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
}

func TestServerReconcilesAbandonedRuns(t *testing.T) {
	ctx := context.Background()
	app, _, _ := serve(t, Options{Engine: goneEngine{}, ReconcileEvery: 20 * time.Millisecond})
	now := time.Now().UTC()
	run, _, err := app.store.CreateRun(ctx, &pipeline.Run{Repository: "acme/mono", CommitSHA: strings.Repeat("d", 40),
		Status: pipeline.StatusRunning, CreatedAt: now, StartedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := app.store.GetRun(ctx, run.ID)
		if err == nil && got.Status == pipeline.StatusFailed && strings.Contains(got.Reason, "its workflow ended before the run did") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the abandoned run is still %s (%v)", got.Status, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServerPrunesRunsPastTheirRetention: forge-api deletes the ended runs
// older than --retention with their logs, and keeps a run a release names,
// a recent run, and the release.
func TestServerPrunesRunsPastTheirRetention(t *testing.T) {
	ctx := context.Background()
	objectsDir := t.TempDir()
	objects, err := fsblob.New(objectsDir)
	if err != nil {
		t.Fatal(err)
	}
	defer objects.Close()
	logKey := func(r *pipeline.Run) string { return "pipeline-runs/" + r.ID + "/logs/test/api/unit.log" }
	var expired []*pipeline.Run
	var released, recent *pipeline.Run
	var rel *release.Release
	app, _, _ := serve(t, Options{ObjectsDir: objectsDir, Retention: 90 * 24 * time.Hour, PruneEvery: 20 * time.Millisecond, PruneBatch: 2}, func(app *App) {
		now := time.Now().UTC()
		made := func(commit string, age time.Duration) *pipeline.Run {
			t.Helper()
			at := now.Add(-age)
			r, _, err := app.store.CreateRun(ctx, &pipeline.Run{Repository: "acme/mono", CommitSHA: strings.Repeat(commit, 40),
				Status: pipeline.StatusFailed, CreatedAt: at, StartedAt: at, CompletedAt: &at})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := objects.Put(ctx, logKey(r), strings.NewReader("FAIL\n"), ports.PutOptions{ContentType: "text/plain"}); err != nil {
				t.Fatal(err)
			}
			return r
		}
		for _, c := range []string{"a", "b", "c"} {
			expired = append(expired, made(c, 100*24*time.Hour))
		}
		released, recent = made("e", 120*24*time.Hour), made("f", 24*time.Hour)
		var err error
		rel, _, err = app.store.CreateRelease(ctx, &release.Release{Repository: "acme/mono", Project: "api", CommitSHA: released.CommitSHA,
			PipelineRunID: &released.ID, OCIURI: "r.test/acme/mono/api:" + released.CommitSHA, CreatedAt: now, CreatedBy: "ci"})
		if err != nil {
			t.Fatal(err)
		}
	})
	gone := func(r *pipeline.Run) bool {
		_, err := app.store.GetRun(ctx, r.ID)
		return fault.Is(err, fault.NotFound)
	}
	for deadline := time.Now().Add(10 * time.Second); !gone(expired[0]) || !gone(expired[1]) || !gone(expired[2]); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the runs past their retention are still there")
		}
	}
	for _, r := range expired {
		if _, err := objects.Stat(ctx, logKey(r)); !fault.Is(err, fault.NotFound) {
			t.Errorf("the log of pruned run %s is still there (%v)", r.ID, err)
		}
	}
	for _, r := range []*pipeline.Run{released, recent} {
		if gone(r) {
			t.Errorf("run %s was pruned", r.ID)
		}
		if _, err := objects.Stat(ctx, logKey(r)); err != nil {
			t.Errorf("the log of kept run %s: %v", r.ID, err)
		}
	}
	if got, err := app.store.GetRelease(ctx, rel.ID); err != nil || got.PipelineRunID == nil || *got.PipelineRunID != released.ID {
		t.Errorf("the release = %+v, %v; want it untouched", got, err)
	}
}

// TestNewRunsGetAPendingCommitStatus: with --github-token-ref, a run
// created with a github_context gets its pending commit status on GitHub
// (a stand-in speaking GitHub's REST API), and keeps the context.
func TestNewRunsGetAPendingCommitStatus(t *testing.T) {
	gh := githubtest.New(t)
	t.Setenv("FORGE_TEST_GITHUB_TOKEN", "ghp_from_the_secret")
	ctx := context.Background()
	_, base, token := serve(t, Options{GitHub: githubflags.Options{API: gh.URL, TokenRef: `{"provider":"env","name":"FORGE_TEST_GITHUB_TOKEN"}`,
		TargetURL: "https://forge.example.com/runs/{run_id}"}})
	if _, _, err := (&httptransport.Client{BaseURL: base, Token: token("ops", identity.RoleOperator)}).RegisterRepository(ctx, endpoints.RegisterRepositoryRequest{Repository: "acme/mono"}); err != nil {
		t.Fatal(err)
	}
	ci := token("ci", identity.RoleServiceAccount)
	c := &httptransport.Client{BaseURL: base, Token: ci}
	gctx := &pipeline.GitHubContext{PRNumber: 7, RunID: "5678901234", Context: "ci/forge"}
	run, _, err := c.CreateRun(ctx, endpoints.CreateRunRequest{Repository: "acme/mono", Branch: "feature", CommitSHA: strings.Repeat("c", 40),
		TriggerType: "pull_request", GitHubContext: gctx})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetRun(ctx, run.ID); err != nil || got.GitHub == nil || *got.GitHub != *gctx {
		t.Errorf("the run's github_context = %+v, %v", got.GitHub, err)
	}
	for deadline := time.Now().Add(5 * time.Second); len(gh.Statuses()) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no commit status reached GitHub")
		}
	}
	st := gh.Statuses()[0]
	if st["state"] != "pending" || st["context"] != "ci/forge" || st["description"] != "Pipeline started - discovering projects..." ||
		st["target_url"] != "https://forge.example.com/runs/"+run.ID {
		t.Errorf("status = %v", st)
	}
	if auth := gh.Requests()[0].Auth; auth != "Bearer ghp_from_the_secret" {
		t.Errorf("sent with %q", auth)
	}
	if _, _, err := c.CreateRun(ctx, endpoints.CreateRunRequest{Repository: "acme/mono", CommitSHA: strings.Repeat("d", 40),
		GitHubContext: &pipeline.GitHubContext{PRNumber: -1}}); !fault.Is(err, fault.Validation) || !strings.Contains(err.Error(), "github_context.pr_number") {
		t.Errorf("a negative pull request number: %v", err)
	}
}

// TestEventsGoToEventBridge: with --eventbridge-bus, a new run's event is
// put on the bus (an httptest stand-in speaking EventBridge's PutEvents,
// reached through the SDK's AWS_ENDPOINT_URL_EVENTBRIDGE).
func TestEventsGoToEventBridge(t *testing.T) {
	var mu sync.Mutex
	var detailTypes []string
	bus := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Entries []struct{ DetailType, EventBusName string }
		}
		if r.Header.Get("X-Amz-Target") != "AWSEvents.PutEvents" || json.NewDecoder(r.Body).Decode(&in) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, e := range in.Entries {
			detailTypes = append(detailTypes, e.EventBusName+" "+e.DetailType)
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(`{"FailedEntryCount":0,"Entries":[{"EventId":"e1"}]}`))
	}))
	defer bus.Close()
	t.Setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", bus.URL)
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "x")
	ctx := context.Background()
	_, base, token := serve(t, Options{EventBridgeBus: "forge-events"})
	ops, ci := token("ops", identity.RoleOperator), token("ci", identity.RoleServiceAccount)
	if _, _, err := (&httptransport.Client{BaseURL: base, Token: ops}).RegisterRepository(ctx, endpoints.RegisterRepositoryRequest{Repository: "acme/mono"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := (&httptransport.Client{BaseURL: base, Token: ci}).CreateRun(ctx, endpoints.CreateRunRequest{Repository: "acme/mono", CommitSHA: strings.Repeat("e", 40)}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(detailTypes, ",") != "forge-events pipeline.run.created" {
		t.Errorf("the bus got %v", detailTypes)
	}
}

// TestStepLogsAndRetentionOnS3: with --s3-bucket, forge-api serves step
// logs the workers wrote to the bucket and deletes those of the runs past
// their retention (against the S3-compatible server CI runs).
func TestStepLogsAndRetentionOnS3(t *testing.T) {
	endpoint := os.Getenv("FORGE_TEST_S3_ENDPOINT")
	if endpoint == "" {
		t.Skip("set FORGE_TEST_S3_ENDPOINT (and FORGE_TEST_S3_ACCESS_KEY, FORGE_TEST_S3_SECRET_KEY) to run against an S3-compatible server")
	}
	ctx := context.Background()
	cfg := s3blob.Config{Bucket: "forge-api-test-" + strings.ToLower(strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")),
		Region: "us-east-1", Endpoint: endpoint, PathStyle: true,
		AccessKeyID: os.Getenv("FORGE_TEST_S3_ACCESS_KEY"), SecretAccessKey: os.Getenv("FORGE_TEST_S3_SECRET_KEY")}
	create := cfg
	create.CreateBucket = true
	bucket, err := s3blob.New(ctx, create)
	if err != nil {
		t.Fatal(err)
	}
	logKey := func(r *pipeline.Run) string { return "pipeline-runs/" + r.ID + "/logs/test/api/unit.log" }
	var old, recent *pipeline.Run
	var recentStep string
	_, base, token := serve(t, Options{S3: cfg, Retention: 90 * 24 * time.Hour, PruneEvery: 20 * time.Millisecond}, func(app *App) {
		now := time.Now().UTC()
		made := func(commit string, age time.Duration) (*pipeline.Run, string) {
			at := now.Add(-age)
			r, _, err := app.store.CreateRun(ctx, &pipeline.Run{Repository: "acme/mono", CommitSHA: strings.Repeat(commit, 40),
				Status: pipeline.StatusRunning, CreatedAt: at, StartedAt: at})
			if err != nil {
				t.Fatal(err)
			}
			phases, err := app.store.AddPhases(ctx, r.ID, []pipeline.Phase{{Name: "test", GroupNumber: 1, Status: pipeline.StatusRunning,
				Tasks: []pipeline.Task{{ProjectName: "api", Status: pipeline.StatusRunning, Steps: []pipeline.Step{{Name: "unit", Action: "script",
					Target: "t.sh", Status: pipeline.StatusFailed, LogsKey: logKey(r)}}}}}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := app.store.UpdateRun(ctx, r.ID, func(run *pipeline.Run) error {
				run.Status, run.CompletedAt = pipeline.StatusFailed, &at
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if _, err := bucket.Put(ctx, logKey(r), strings.NewReader("FAIL: "+commit+"\n"), ports.PutOptions{ContentType: "text/plain"}); err != nil {
				t.Fatal(err)
			}
			return r, phases[0].Tasks[0].Steps[0].ID
		}
		old, _ = made("a", 100*24*time.Hour)
		recent, recentStep = made("b", time.Hour)
	})
	var out bytes.Buffer
	c := &httptransport.Client{BaseURL: base, Token: token("alice", identity.RoleDeveloper)}
	if _, err := c.StepLogs(ctx, recentStep, 0, false, &out); err != nil || out.String() != "FAIL: b\n" {
		t.Errorf("the step's log from S3 = %q, %v", out.String(), err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := bucket.Stat(ctx, logKey(old)); fault.Is(err, fault.NotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the log of the run past its retention is still in the bucket")
		}
	}
	if _, err := bucket.Stat(ctx, logKey(recent)); err != nil {
		t.Errorf("the recent run's log: %v", err)
	}
}
