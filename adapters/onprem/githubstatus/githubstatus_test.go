package githubstatus_test

// These tests run the reporter against an httptest server that speaks
// GitHub's REST API (statuses, issue comments, App installation tokens) as
// GitHub documents it: the protocol boundary, since github.com cannot be
// reached from here.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/onprem/githubstatus"
	"github.com/catalyst-forge/forge/adapters/onprem/githubstatus/githubtest"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newRun() *pipeline.Run {
	start := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	return &pipeline.Run{ID: "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b", Repository: "acme/mono", CommitSHA: strings.Repeat("c", 40),
		Status: pipeline.StatusRunning, StartedAt: start, ArgoWorkflowName: "forge-run-6f1c",
		GitHub: &pipeline.GitHubContext{PRNumber: 7, RunID: "5678901234"}}
}

func newReporter(t *testing.T, url string, creds githubstatus.Credentials) *githubstatus.Reporter {
	t.Helper()
	r, err := githubstatus.New(githubstatus.Options{API: url, Credentials: creds, TargetURL: "https://argo.example.com/workflows/forge/{workflow}",
		Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestStatusesAtEveryPointAndOneSummaryComment(t *testing.T) {
	fake := githubtest.New(t)
	rep := newReporter(t, fake.URL, githubstatus.Token("ghp_test"))
	ctx := context.Background()
	run := newRun()
	for _, p := range []struct {
		point ports.StatusPoint
		desc  string
	}{
		{ports.StatusCreated, "Pipeline started - discovering projects..."},
		{ports.StatusDiscoveryComplete, "Discovered 3 projects; running phase group 1 of 2"},
		{ports.StatusPhase, "Running phase group 2 of 2 (50% complete) " + strings.Repeat("x", 200)},
	} {
		if err := rep.Report(ctx, run, p.point, p.desc); err != nil {
			t.Fatal(err)
		}
	}
	end := run.StartedAt.Add(3*time.Minute + 12*time.Second)
	run.Status, run.CompletedAt, run.Reason = pipeline.StatusFailed, &end, "phase test failed: api"
	run.Phases = []pipeline.Phase{{Name: "test", Status: pipeline.StatusFailed, Tasks: []pipeline.Task{
		{ProjectName: "api", Status: pipeline.StatusFailed}, {ProjectName: "web", Status: pipeline.StatusSuccess}}}}
	if err := rep.Report(ctx, run, ports.StatusFinished, "Pipeline failed in 3m12s"); err != nil {
		t.Fatal(err)
	}
	var states, contexts []string
	for _, r := range fake.Requests() {
		if r.Auth != "Bearer ghp_test" || r.Version != "2022-11-28" {
			t.Errorf("%s %s was sent with Authorization %q, API version %q", r.Method, r.Path, r.Auth, r.Version)
		}
		if r.Method == http.MethodPost && r.Path == "/repos/acme/mono/statuses/"+run.CommitSHA {
			states = append(states, r.Body["state"].(string))
			contexts = append(contexts, r.Body["context"].(string))
			if r.Body["target_url"] != "https://argo.example.com/workflows/forge/forge-run-6f1c" {
				t.Errorf("target_url = %v", r.Body["target_url"])
			}
			if d := r.Body["description"].(string); len([]rune(d)) > 140 {
				t.Errorf("a description of %d characters (GitHub refuses over 140)", len([]rune(d)))
			}
		}
	}
	if strings.Join(states, ",") != "pending,pending,pending,failure" || contexts[0] != pipeline.DefaultStatusContext {
		t.Errorf("statuses %v with contexts %v", states, contexts)
	}
	if len(fake.Comments()) != 1 {
		t.Fatalf("%d comments on the pull request, want 1", len(fake.Comments()))
	}
	for _, body := range fake.Comments() {
		for _, want := range []string{"**Status:** failed", "**Duration:** 3m12s", "phase test failed: api", "| test | ❌ failed | ❌ api, ✅ web |"} {
			if !strings.Contains(body, want) {
				t.Errorf("the summary has no %q:\n%s", want, body)
			}
		}
	}

	// The run ends again (a retried release stage): the summary is
	// edited, not posted twice, even with other comments before it.
	var first int64
	for id := range fake.Comments() {
		first = id
	}
	fake.AddComment(1, "a reviewer's comment")
	run.Status, run.Reason = pipeline.StatusSuccess, ""
	if err := rep.Report(ctx, run, ports.StatusFinished, "Pipeline succeeded"); err != nil {
		t.Fatal(err)
	}
	if c := fake.Comments(); len(c) != 2 || !strings.Contains(c[first], "**Status:** success") {
		t.Errorf("after the run ended again: comments %v", c)
	}
	last := fake.Requests()[len(fake.Requests())-1]
	if last.Method != http.MethodPatch {
		t.Errorf("the last request was %s %s, want the PATCH of the summary", last.Method, last.Path)
	}
}

func TestGitHubFailuresAreRetriedThenReported(t *testing.T) {
	fake := githubtest.New(t)
	rep := newReporter(t, fake.URL, githubstatus.Token("ghp_test"))
	ctx := context.Background()
	run := newRun()
	run.GitHub = &pipeline.GitHubContext{Context: "ci/forge-staging"}

	fake.Fail(githubtest.Failure{Status: 502}, githubtest.Failure{Status: 429, Headers: map[string]string{"Retry-After": "0"}},
		githubtest.Failure{Status: 403, Headers: map[string]string{"X-RateLimit-Remaining": "0"}})
	if err := rep.Report(ctx, run, ports.StatusCreated, "started"); err != nil {
		t.Fatalf("after three retryable failures the fourth try should pass: %v", err)
	}
	reqs := fake.Requests()
	if len(reqs) != 4 || reqs[3].Body["context"] != "ci/forge-staging" {
		t.Errorf("%d requests; want 4, the last with the run's context", len(reqs))
	}

	fake.Fail(githubtest.Failure{Status: 500}, githubtest.Failure{Status: 500}, githubtest.Failure{Status: 500}, githubtest.Failure{Status: 500})
	err := rep.Report(ctx, run, ports.StatusPhase, "phase 1")
	if !fault.Is(err, fault.Unavailable) || !strings.Contains(err.Error(), "after 4 attempts") {
		t.Errorf("GitHub failing every time: %v; want Unavailable after 4 attempts", err)
	}

	fake.Fail(githubtest.Failure{Status: 422})
	before := len(fake.Requests())
	if err := rep.Report(ctx, run, ports.StatusPhase, "phase 2"); !fault.Is(err, fault.Validation) || len(fake.Requests()) != before+1 {
		t.Errorf("a 422 must not be retried: %v after %d requests", err, len(fake.Requests())-before)
	}

	fake.Close()
	if err := rep.Report(ctx, run, ports.StatusPhase, "phase 3"); !fault.Is(err, fault.Unavailable) {
		t.Errorf("GitHub unreachable: %v; want Unavailable", err)
	}
}

func TestAGitHubAppMintsAndKeepsInstallationTokens(t *testing.T) {
	fake := githubtest.New(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	fake.TrustApp(&key.PublicKey)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	parsed, err := githubstatus.ParseAppKey(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	app := &githubstatus.App{AppID: 4242, InstallationID: 99, Key: parsed, API: fake.URL, Now: func() time.Time { return now }}
	rep := newReporter(t, fake.URL, app)
	run := newRun()
	run.GitHub = nil
	for range 2 {
		if err := rep.Report(context.Background(), run, ports.StatusPhase, "x"); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(59*time.Minute + 30*time.Second) // the token expires within the minute
	if err := rep.Report(context.Background(), run, ports.StatusPhase, "y"); err != nil {
		t.Fatal(err)
	}
	var auths []string
	for _, r := range fake.Requests() {
		if strings.HasPrefix(r.Path, "/repos/") {
			auths = append(auths, r.Auth)
		}
	}
	if fake.Mints() != 2 || strings.Join(auths, ",") != "Bearer ghs_installation_1,Bearer ghs_installation_1,Bearer ghs_installation_2" {
		t.Errorf("%d tokens minted, statuses sent with %v", fake.Mints(), auths)
	}
	if _, err := githubstatus.ParseAppKey([]byte("not a key")); !fault.Is(err, fault.Validation) {
		t.Errorf("a key that is not PEM: %v", err)
	}
}

func TestQueuedSendsInOrderWithoutWaiting(t *testing.T) {
	fake := githubtest.New(t)
	q := githubstatus.NewQueued(newReporter(t, fake.URL, githubstatus.Token("ghp_test")), 16, quiet())
	run := newRun()
	run.GitHub = nil
	for i := range 5 {
		if err := q.Report(context.Background(), run, ports.StatusPhase, "phase "+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	q.Close(context.Background())
	var got []string
	for _, r := range fake.Requests() {
		got = append(got, r.Body["description"].(string))
	}
	if strings.Join(got, ",") != "phase 0,phase 1,phase 2,phase 3,phase 4" {
		t.Errorf("sent %v", got)
	}
	if err := q.Report(context.Background(), run, ports.StatusPhase, "late"); err != nil || len(fake.Requests()) != 5 {
		t.Errorf("a report after Close: %v, %d requests", err, len(fake.Requests()))
	}
}

// TestASummaryWhoseAnswerWasLostIsNotPostedTwice: GitHub made the comment
// but answered 502: the next round finds it by its marker and edits it
// instead of posting a second one.
func TestASummaryWhoseAnswerWasLostIsNotPostedTwice(t *testing.T) {
	fake := githubtest.New(t)
	rep := newReporter(t, fake.URL, githubstatus.Token("ghp_test"))
	run := newRun()
	end := run.StartedAt.Add(time.Minute)
	run.Status, run.CompletedAt = pipeline.StatusSuccess, &end
	// The status passes, the comment list is read, and the POST is done
	// with its answer lost.
	fake.Fail(githubtest.Pass, githubtest.Pass, githubtest.Failure{Status: 502, AfterDoing: true})
	if err := rep.Report(context.Background(), run, ports.StatusFinished, "Pipeline succeeded in 1m0s"); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Comments()); n != 1 {
		t.Errorf("%d comments on the pull request, want one", n)
	}
	last := fake.Requests()[len(fake.Requests())-1]
	if last.Method != "PATCH" {
		t.Errorf("the last request was %s %s, want the PATCH of the comment the lost answer made", last.Method, last.Path)
	}
}

// TestALongRateLimitIsNotRetriedEarly: GitHub asks to wait longer than the
// report may: the report gives up at once, saying so, rather than
// retrying inside the limit window.
func TestALongRateLimitIsNotRetriedEarly(t *testing.T) {
	fake := githubtest.New(t)
	rep, err := githubstatus.New(githubstatus.Options{API: fake.URL, Credentials: githubstatus.Token("ghp_test"), Log: quiet(),
		Backoff: time.Millisecond, ReportTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	reset := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	fake.Fail(githubtest.Failure{Status: 403, Headers: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}})
	run := newRun()
	run.GitHub = nil
	start := time.Now()
	err = rep.Report(context.Background(), run, ports.StatusPhase, "x")
	if !fault.Is(err, fault.Unavailable) || !strings.Contains(err.Error(), "more than this report has left") || time.Since(start) > time.Second {
		t.Errorf("after %s: %v", time.Since(start), err)
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("%d requests; want the one, not retried inside the window", n)
	}
}
