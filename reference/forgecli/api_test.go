package forgecli

// Tests of the commands that talk to the platform API: the real API
// handler over the in-memory store and the development issuer, in an
// httptest server, driven through Main with FORGE_SERVER and FORGE_TOKEN.

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/catalyst-forge/forge/adapters/memory/memstore"
	"github.com/catalyst-forge/forge/adapters/onprem/fsblob"
	"github.com/catalyst-forge/forge/adapters/onprem/oidcauth"
	"github.com/catalyst-forge/forge/application/announcing"
	"github.com/catalyst-forge/forge/application/deploying"
	"github.com/catalyst-forge/forge/application/limiting"
	"github.com/catalyst-forge/forge/application/registering"
	"github.com/catalyst-forge/forge/application/releasing"
	"github.com/catalyst-forge/forge/application/running"
	"github.com/catalyst-forge/forge/domain/event"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/transport/endpoints"
	httptransport "github.com/catalyst-forge/forge/transport/http"
)

// apiStart is where the API server's clock begins.
var apiStart = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

type apiClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *apiClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

type dropEvents struct{}

func (dropEvents) Publish(context.Context, event.Event) error { return nil }

// apiServer is an API server for the CLI to talk to.
type apiServer struct {
	url     string
	keyFile string
	issuer  *oidcauth.DevIssuer
	store   *memstore.Store
	objects *fsblob.Store
}

// startAPI starts the API over a fresh memstore with a development key in
// a temporary directory, and points the forge command at it: FORGE_SERVER
// is its address, FORGE_DEV_KEY its key, and FORGE_TOKEN,
// FORGE_TOKEN_FILE and FORGE_REPOSITORY are cleared.
func startAPI(t *testing.T) *apiServer {
	t.Helper()
	s := &apiServer{keyFile: filepath.Join(t.TempDir(), "dev-key.pem"), store: memstore.New()}
	objects, err := fsblob.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { objects.Close() })
	s.objects = objects
	issuer, err := oidcauth.LoadOrCreateDevKey(s.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	s.issuer = issuer
	clock := &apiClock{now: apiStart}
	now := ports.Clock(clock.Now)
	events := &announcing.Announcer{Publisher: dropEvents{}, Clock: now}
	limiter := limiting.New(clock.Now)
	services := httptransport.Services{Services: endpoints.Services{
		Runs:     &running.Service{Store: s.store, Clock: now, Events: events, Limiter: limiter, Objects: s.objects},
		Releases: &releasing.Service{Store: s.store, Clock: now, Events: events, Limiter: limiter},
		Deployments: &deploying.Service{Store: s.store, Clock: now, Events: events, Limiter: limiter,
			Environments: release.DefaultEnvironments(), ApprovalTTL: release.DefaultApprovalTTL},
		Repositories: &registering.Service{Store: s.store, Clock: now},
	}}
	log := logrus.New()
	log.SetOutput(io.Discard)
	srv := httptest.NewServer(httptransport.NewServer(services, issuer.Verifier(), log))
	t.Cleanup(srv.Close)
	s.url = srv.URL
	t.Setenv("FORGE_SERVER", s.url)
	t.Setenv("FORGE_DEV_KEY", s.keyFile)
	t.Setenv("FORGE_TOKEN", "")
	t.Setenv("FORGE_TOKEN_FILE", "")
	t.Setenv("FORGE_REPOSITORY", "")
	return s
}

// token mints a token of subject with roles.
func (s *apiServer) token(t *testing.T, subject string, roles ...identity.Role) string {
	t.Helper()
	tok, err := s.issuer.Token(subject, roles, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// as makes the forge command act as subject with roles (FORGE_TOKEN).
func (s *apiServer) as(t *testing.T, subject string, roles ...identity.Role) {
	t.Helper()
	t.Setenv("FORGE_TOKEN", s.token(t, subject, roles...))
}

// client returns an API client acting as subject with roles.
func (s *apiServer) client(t *testing.T, subject string, roles ...identity.Role) *httptransport.Client {
	return &httptransport.Client{BaseURL: s.url, Token: s.token(t, subject, roles...)}
}

// setup registers acme/mono and creates two releases of api: 1 from a
// push to main (alias main-1) and 2 from the tag api/v1.2.3.
func (s *apiServer) setup(t *testing.T) (main1, tag2 *endpoints.ReleaseResponse) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := s.client(t, "carol", identity.RoleOperator).RegisterRepository(ctx, endpoints.RegisterRepositoryRequest{Repository: "acme/mono"}); err != nil {
		t.Fatal(err)
	}
	ci := s.client(t, "ci-bot", identity.RoleServiceAccount)
	main1, _, err := ci.CreateRelease(ctx, endpoints.CreateReleaseRequest{Repository: "acme/mono", Project: "api", CommitSHA: apiSHA("1111111"),
		Trigger: &endpoints.ReleaseTriggerRequest{Type: "branch_push", Branch: "main"}})
	if err != nil {
		t.Fatal(err)
	}
	tag2, _, err = ci.CreateRelease(ctx, endpoints.CreateReleaseRequest{Repository: "acme/mono", Project: "api", CommitSHA: apiSHA("2222222"),
		Trigger:   &endpoints.ReleaseTriggerRequest{Type: "tag", Tag: "api/v1.2.3"},
		Artifacts: []endpoints.ReleaseArtifactRequest{{Name: "api-server", Type: "container", TrackingOCIURI: "t/api", PrimaryPublishedURI: "ecr.aws/acme/api:v1.2.3"}}})
	if err != nil {
		t.Fatal(err)
	}
	return main1, tag2
}

// apiSHA returns a full commit SHA starting with prefix.
func apiSHA(prefix string) string { return prefix + strings.Repeat("0", 40-len(prefix)) }

// wantStderr fails the test unless stderr holds every part.
func (r result) wantStderr(t *testing.T, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(r.stderr, p) {
			t.Errorf("stderr does not contain %q:\n%s", p, r.stderr)
		}
	}
}

// wantLine fails the test unless stdout has the line (blanks squeezed).
func (r result) wantLine(t *testing.T, line string) {
	t.Helper()
	if !containsLine(r.stdout, line) {
		t.Errorf("stdout has no line %q:\n%s", line, r.stdout)
	}
}

func decodeOut[T any](t *testing.T, r result) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("stdout is not %T JSON: %v\n%s", v, err, r.stdout)
	}
	return v
}

func TestAPIRepoRegisterAndList(t *testing.T) {
	s := startAPI(t)
	s.as(t, "carol", identity.RoleOperator)

	r := forge(t, "repo", "register", "acme/mono")
	r.wantCode(t, ExitOK)
	r.wantLine(t, "acme/mono registered (max 1000 concurrent runs, 100 runs per minute)")
	r = forge(t, "repo", "register", "acme/mono", "--runs-per-minute", "7")
	r.wantCode(t, ExitOK)
	r.wantLine(t, "acme/mono already registered (max 1000 concurrent runs, 100 runs per minute)")

	r = forge(t, "repo", "register", "acme/tools", "--runs-per-minute", "5", "--output", "json")
	r.wantCode(t, ExitOK)
	repo := decodeOut[repository.Repository](t, r)
	if repo.Name != "acme/tools" || repo.Limits != (repository.Limits{MaxConcurrentRuns: 1000, RunsPerMinute: 5}) || repo.CreatedBy != "carol" {
		t.Errorf("registered = %+v", repo)
	}

	s.as(t, "alice", identity.RoleDeveloper)
	r = forge(t, "repo", "list")
	r.wantCode(t, ExitOK)
	equalLines(t, "repo list", squeezeAll(lines(r.stdout)), []string{
		"REPOSITORY MAX RUNS RUNS/MIN REGISTERED BY",
		"acme/mono 1000 100 carol",
		"acme/tools 1000 5 carol",
		"(2 of 2)",
	})
	r = forge(t, "repo", "list", "--output", "json", "--limit", "1")
	r.wantCode(t, ExitOK)
	list := decodeOut[endpoints.RepositoryList](t, r)
	if list.Total != 2 || list.Limit != 1 || len(list.Repositories) != 1 || list.Repositories[0].Name != "acme/mono" {
		t.Errorf("repo list -o json = %+v", list)
	}

	r = forge(t, "repo", "register", "acme/other")
	r.wantCode(t, ExitFailure)
	r.wantStderr(t, "register-repository needs one of the roles operator (permission_denied)")
	r = forge(t, "repo", "list", "-o", "yaml")
	r.wantCode(t, ExitUsage)
	r.wantStderr(t, `--output "yaml" is not supported (use table or json)`)
}

func squeezeAll(ls []string) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = squeeze(l)
	}
	return out
}

func TestAPIRuns(t *testing.T) {
	s := startAPI(t)
	s.setup(t)
	commit := apiSHA("abc1234def")
	s.as(t, "ci-bot", identity.RoleServiceAccount)

	r := forge(t, "run", "create", "-r", "acme/mono", "--commit", commit, "--branch", "main")
	r.wantCode(t, ExitOK)
	fields := strings.Fields(r.stdout)
	if len(fields) != 4 || fields[0] != "run" || fields[2] != "created" || fields[3] != "pending" {
		t.Fatalf("run create printed %q", r.stdout)
	}
	id := fields[1]
	r = forge(t, "run", "create", "-r", "acme/mono", "--commit", commit, "--branch", "main")
	r.wantCode(t, ExitOK)
	r.wantLine(t, "run "+id+" exists pending")
	r = forge(t, "run", "create", "--repository", "acme/mono", "--commit", commit, "-o", "json")
	r.wantCode(t, ExitOK)
	if run := decodeOut[pipeline.Run](t, r); run.ID != id || run.CommitSHA != commit || run.Branch != "main" || run.TriggerType != pipeline.TriggerManual {
		t.Errorf("run create -o json = %+v", run)
	}
	r = forge(t, "run", "create", "-r", "acme/other", "--commit", commit)
	r.wantCode(t, ExitFailure)
	r.wantStderr(t, "repository acme/other is not registered", "(validation_error)")

	if _, err := s.store.AddPhases(context.Background(), id, []pipeline.Phase{{Name: "test", GroupNumber: 1, Status: pipeline.StatusPending,
		Tasks: []pipeline.Task{{ProjectName: "api", ProjectPath: "services/api", Status: pipeline.StatusPending,
			Steps: []pipeline.Step{{Name: "unit", Action: "earthly", Target: "+test", Status: pipeline.StatusPending}}}}}}); err != nil {
		t.Fatal(err)
	}

	// The run made a release whose image is not pushed yet.
	if _, _, err := s.store.CreateRelease(context.Background(), &release.Release{Repository: "acme/mono", Project: "web", CommitSHA: commit,
		PipelineRunID: &id, OCIURI: "localhost:5000/acme/mono/web:" + commit, CreatedAt: apiStart, CreatedBy: "ci-bot",
		Aliases: []release.Alias{release.BranchAlias("main", 1)}}); err != nil {
		t.Fatal(err)
	}

	s.as(t, "alice", identity.RoleDeveloper)
	r = forge(t, "run", "get", id)
	r.wantCode(t, ExitOK)
	for _, l := range []string{
		"PROJECT RELEASE ALIASES IMAGE",
		"web 1 main-1 localhost:5000/acme/mono/web:" + commit + " (not pushed)",
		"Run " + id,
		"Repository acme/mono @ " + commit + " (main)",
		"Status pending",
		"Started " + apiStart.Format(time.RFC3339),
		"GROUP PHASE PROJECT STEP STATUS EXIT",
		"1 test pending",
		"api pending",
		"unit pending -",
	} {
		r.wantLine(t, l)
	}
	r = forge(t, "run", "get", id, "-o", "json")
	r.wantCode(t, ExitOK)
	if run := decodeOut[endpoints.RunResponse](t, r); run.ID != id || len(run.Phases) != 1 || run.Phases[0].Tasks[0].Steps[0].Name != "unit" ||
		len(run.Releases) != 1 || run.Releases[0].Number != 1 {
		t.Errorf("run get -o json = %+v", run)
	}
	r = forge(t, "run", "get", "no-such-run")
	r.wantCode(t, ExitFailure)
	r.wantStderr(t, `"no-such-run" not found (not_found)`)

	r = forge(t, "run", "list", "-r", "acme/mono")
	r.wantCode(t, ExitOK)
	equalLines(t, "run list", squeezeAll(lines(r.stdout)), []string{
		"ID REPOSITORY BRANCH COMMIT STATUS STARTED",
		id + " acme/mono main " + commit[:12] + " pending " + apiStart.Format(time.RFC3339),
		"(1 of 1)",
	})
	r = forge(t, "run", "list", "--status", "cancelled", "-o", "json")
	r.wantCode(t, ExitOK)
	if l := decodeOut[endpoints.RunList](t, r); l.Total != 0 || len(l.Runs) != 0 {
		t.Errorf("cancelled runs before cancelling = %+v", l)
	}
	r = forge(t, "run", "list", "--status", "bogus")
	r.wantCode(t, ExitFailure)
	r.wantStderr(t, "status must be pending, running, success, failed or cancelled", "(validation_error)")

	r = forge(t, "run", "cancel", id)
	r.wantCode(t, ExitOK)
	r.wantLine(t, "run "+id+" cancelled")
	r = forge(t, "run", "list", "--status", "cancelled", "-o", "json")
	r.wantCode(t, ExitOK)
	if l := decodeOut[endpoints.RunList](t, r); l.Total != 1 || l.Runs[0].ID != id || l.Runs[0].Status != pipeline.StatusCancelled {
		t.Errorf("cancelled runs = %+v", l)
	}
	r = forge(t, "run", "cancel", id)
	r.wantCode(t, ExitFailure)
	r.wantStderr(t, "has already finished (cancelled) and cannot be cancelled (conflict)")

	// Creating runs is the service account's.
	r = forge(t, "run", "create", "-r", "acme/mono", "--commit", apiSHA("fff"))
	r.wantCode(t, ExitFailure)
	r.wantStderr(t, "create-run needs one of the roles service-account (permission_denied)")
}

func TestAPIReleases(t *testing.T) {
	s := startAPI(t)
	main1, tag2 := s.setup(t)
	s.as(t, "alice", identity.RoleDeveloper)

	r := forge(t, "release", "get", "api", "v1.2.3", "-r", "acme/mono")
	r.wantCode(t, ExitOK)
	for _, l := range []string{
		"Release api 2 (" + tag2.ID + ")",
		"Canonical acme/mono/api/" + apiSHA("2222222"),
		"OCI localhost:5000/acme/mono/api:" + apiSHA("2222222"),
		"Created " + apiStart.Format(time.RFC3339) + " by ci-bot",
		"Trigger tag api/v1.2.3",
		"Aliases 2, v1.2.3",
		"Artifact api-server (container) ecr.aws/acme/api:v1.2.3",
	} {
		r.wantLine(t, l)
	}
	for _, id := range []string{"1", "main-1", "1111111"} {
		r = forge(t, "release", "get", "api", id, "--repository", "acme/mono", "--output", "json")
		r.wantCode(t, ExitOK)
		if got := decodeOut[endpoints.ReleaseResponse](t, r); got.ID != main1.ID || got.CanonicalID != "acme/mono/api/"+apiSHA("1111111") {
			t.Errorf("release get api %s = %+v", id, got)
		}
	}
	t.Setenv("FORGE_REPOSITORY", "acme/mono")
	r = forge(t, "release", "get", "api", "v9")
	r.wantCode(t, ExitFailure)
	r.wantStderr(t, `no release matches "v9"`, "(not_found)")

	r = forge(t, "release", "list", "api")
	r.wantCode(t, ExitOK)
	created := apiStart.Format(time.RFC3339)
	equalLines(t, "release list", squeezeAll(lines(r.stdout)), []string{
		"NUMBER COMMIT ALIASES CREATED ID",
		"2 " + apiSHA("2222222")[:12] + " v1.2.3 " + created + " " + tag2.ID,
		"1 " + apiSHA("1111111")[:12] + " main-1 " + created + " " + main1.ID,
		"(2 of 2)",
	})
	r = forge(t, "release", "list", "api", "--limit", "1", "--offset", "1", "-o", "json")
	r.wantCode(t, ExitOK)
	if l := decodeOut[endpoints.ReleaseList](t, r); l.Total != 2 || len(l.Releases) != 1 || l.Releases[0].ID != main1.ID || l.Limit != 1 || l.Offset != 1 {
		t.Errorf("release list page = %+v", l)
	}

	// An ambiguous commit prefix lists the candidates.
	ci := s.client(t, "ci-bot", identity.RoleServiceAccount)
	for _, c := range []string{"abcdef1aaa", "abcdef1bbb"} {
		if _, _, err := ci.CreateRelease(context.Background(), endpoints.CreateReleaseRequest{Repository: "acme/mono", Project: "api", CommitSHA: apiSHA(c)}); err != nil {
			t.Fatal(err)
		}
	}
	r = forge(t, "release", "get", "api", "abcdef1")
	r.wantCode(t, ExitFailure)
	r.wantStderr(t, `commit prefix "abcdef1" matches 2 releases`, "candidate: "+apiSHA("abcdef1aaa"), "candidate: "+apiSHA("abcdef1bbb"), "(conflict)")
}

func TestAPIDeployApproveRollback(t *testing.T) {
	s := startAPI(t)
	main1, tag2 := s.setup(t)
	s.as(t, "alice", identity.RoleDeveloper)

	r := forge(t, "deploy", "dev", "api", "main-1", "-r", "acme/mono")
	r.wantCode(t, ExitOK)
	fields := strings.Fields(r.stdout)
	if !strings.HasPrefix(r.stdout, "deployed api release 1 to dev (deployment ") || len(fields) != 9 || fields[8] != "active)" {
		t.Errorf("deploy printed %q", r.stdout)
	}

	// Production needs an approval: the API's refusal, exit 1.
	r = forge(t, "deploy", "production", "api", "v1.2.3", "-r", "acme/mono")
	r.wantCode(t, ExitFailure)
	r.wantStderr(t, "production requires an active approval of api release 2", "forge approve acme/mono/api/2 production", "(permission_denied)")
	if r.stdout != "" {
		t.Errorf("a refused deploy printed %q", r.stdout)
	}
	// A branch push never goes to production.
	r = forge(t, "deploy", "production", "api", "main-1", "-r", "acme/mono")
	r.wantCode(t, ExitFailure)
	r.wantStderr(t, "environment production does not accept releases triggered by branch_push (allowed_triggers: tag, manual) (permission_denied)")

	// A developer cannot approve; an approver can.
	r = forge(t, "approve", "api/v1.2.3", "production", "-r", "acme/mono", "--justification", "CHG-1234 reviewed")
	r.wantCode(t, ExitFailure)
	r.wantStderr(t, "approve needs one of the roles approver (permission_denied)")
	r = forge(t, "approve", "api/v1.2.3", "production", "-r", "acme/mono")
	r.wantCode(t, ExitUsage)
	r.wantStderr(t, "--justification is required")

	s.as(t, "bob", identity.RoleApprover)
	r = forge(t, "approve", "acme/mono/api/v1.2.3", "production", "--justification", "CHG-1234 reviewed", "-o", "json")
	r.wantCode(t, ExitOK)
	ap := decodeOut[release.Approval](t, r)
	if ap.ReleaseID != tag2.ID || ap.Approver != "bob" || ap.Environment != "production" || ap.ExpiresAt == nil || !ap.ExpiresAt.Equal(apiStart.Add(24*time.Hour)) {
		t.Errorf("approval = %+v", ap)
	}
	r = forge(t, "approve", "api/2", "production", "-r", "acme/mono", "--justification", "again")
	r.wantCode(t, ExitOK)
	if !strings.HasPrefix(r.stdout, "approved api release 2 for production until "+apiStart.Add(24*time.Hour).Format(time.RFC3339)+" (approval ") {
		t.Errorf("approve printed %q", r.stdout)
	}
	// The approver may not deploy to production at all.
	r = forge(t, "deploy", "production", "api", "v1.2.3", "-r", "acme/mono")
	r.wantCode(t, ExitFailure)
	r.wantStderr(t, "deploying to production needs one of the roles developer, operator (permission_denied)")

	s.as(t, "alice", identity.RoleDeveloper)
	r = forge(t, "deploy", "production", "api", "v1.2.3", "-r", "acme/mono", "-o", "json")
	r.wantCode(t, ExitOK)
	d := decodeOut[endpoints.DeploymentResponse](t, r)
	if d.ReleaseID != tag2.ID || d.Environment != "production" || d.DeployedBy != "alice" || d.ApprovalID == nil {
		t.Errorf("production deployment = %+v", d)
	}

	// Rollback: dev runs release 2 after release 1; rolling back goes to 1.
	r = forge(t, "deploy", "dev", "api", "2", "-r", "acme/mono")
	r.wantCode(t, ExitOK)
	r = forge(t, "rollback", "dev", "api", "-r", "acme/mono")
	r.wantCode(t, ExitOK)
	if !strings.HasPrefix(r.stdout, "rolled api back in dev from release 2 to release 1 (deployment ") {
		t.Errorf("rollback printed %q", r.stdout)
	}
	cur, err := s.client(t, "alice", identity.RoleDeveloper).CurrentDeployment(context.Background(), "dev", "acme/mono", "api")
	if err != nil || cur.ReleaseID != main1.ID {
		t.Errorf("current dev deployment = %+v, %v", cur, err)
	}
	r = forge(t, "rollback", "staging", "api", "-r", "acme/mono")
	r.wantCode(t, ExitFailure)
	r.wantStderr(t, "acme/mono/api has no active deployment in staging to roll back (not_found)")
}

func TestAPIDevToken(t *testing.T) {
	s := startAPI(t)
	r := forge(t, "dev", "token", "--dev-key", s.keyFile, "--role", "operator", "--subject", "dana")
	r.wantCode(t, ExitOK)
	tok := strings.TrimSpace(r.stdout)
	if strings.Count(tok, ".") != 2 || strings.Contains(tok, "\n") {
		t.Fatalf("dev token printed %q", r.stdout)
	}
	// The server accepts it, with its subject and role.
	t.Setenv("FORGE_TOKEN", tok)
	r = forge(t, "repo", "register", "acme/mono", "-o", "json")
	r.wantCode(t, ExitOK)
	if repo := decodeOut[repository.Repository](t, r); repo.CreatedBy != "dana" {
		t.Errorf("registered by %q, want dana", repo.CreatedBy)
	}

	// FORGE_DEV_KEY is the default key; several roles may be given.
	r = forge(t, "dev", "token", "--role", "developer,approver", "--subject", "erin", "--ttl", "5m")
	r.wantCode(t, ExitOK)
	t.Setenv("FORGE_TOKEN", strings.TrimSpace(r.stdout))
	forge(t, "repo", "list").wantCode(t, ExitOK)

	// A token of another key is refused by the server.
	r = forge(t, "dev", "token", "--dev-key", filepath.Join(t.TempDir(), "other.pem"), "--role", "operator")
	r.wantCode(t, ExitOK)
	t.Setenv("FORGE_TOKEN", strings.TrimSpace(r.stdout))
	r = forge(t, "repo", "list")
	r.wantCode(t, ExitFailure)
	r.wantStderr(t, "is not in the issuer's key set", "(authentication_required)")

	r = forge(t, "dev", "token", "--role", "admin")
	r.wantCode(t, ExitUsage)
	r.wantStderr(t, `unknown role "admin"`)
}

func TestAPIMissingToken(t *testing.T) {
	s := startAPI(t)
	for _, args := range [][]string{
		{"repo", "list"},
		{"run", "list"},
		{"run", "get", "x"},
		{"release", "list", "api", "-r", "acme/mono"},
		{"deploy", "dev", "api", "1", "-r", "acme/mono"},
	} {
		r := forge(t, args...)
		r.wantCode(t, ExitFailure)
		r.wantStderr(t, "no token: set FORGE_TOKEN or pass --token-file (for a local server: forge dev token --role developer)")
	}

	// --token-file and FORGE_TOKEN_FILE read the token from a file.
	file := filepath.Join(t.TempDir(), "token")
	writeFile(t, filepath.Dir(file), "token", s.token(t, "alice", identity.RoleDeveloper)+"\n")
	forge(t, "repo", "list", "--token-file", file).wantCode(t, ExitOK)
	t.Setenv("FORGE_TOKEN_FILE", file)
	forge(t, "repo", "list").wantCode(t, ExitOK)
	r := forge(t, "repo", "list", "--token-file", file+".missing")
	r.wantCode(t, ExitFailure)
	r.wantStderr(t, "reading the token file")
}

func TestAPIMissingRepository(t *testing.T) {
	s := startAPI(t)
	s.as(t, "alice", identity.RoleDeveloper)
	for _, args := range [][]string{
		{"run", "create", "--commit", apiSHA("1")},
		{"release", "get", "api", "1"},
		{"release", "list", "api"},
		{"deploy", "dev", "api", "1"},
		{"rollback", "dev", "api"},
		{"approve", "api/1", "production", "--justification", "x"},
	} {
		r := forge(t, args...)
		r.wantCode(t, ExitUsage)
		r.wantStderr(t, "which repository? pass --repository owner/name or set FORGE_REPOSITORY")
	}
	// FORGE_REPOSITORY fills it in.
	s.setup(t)
	t.Setenv("FORGE_REPOSITORY", "acme/mono")
	forge(t, "release", "list", "api").wantCode(t, ExitOK)
}

func TestAPIServerUnreachable(t *testing.T) {
	s := startAPI(t)
	s.as(t, "alice", identity.RoleDeveloper)
	gone := httptest.NewServer(nil)
	addr := gone.URL
	gone.Close()

	r := forge(t, "repo", "list", "--server", addr)
	r.wantCode(t, ExitFailure)
	r.wantStderr(t, "cannot reach the forge API at "+addr, "(unavailable)")

	t.Setenv("FORGE_SERVER", addr)
	r = forge(t, "run", "get", "x")
	r.wantCode(t, ExitFailure)
	r.wantStderr(t, "cannot reach the forge API at "+addr)
}

func TestAPIRunLogs(t *testing.T) {
	s := startAPI(t)
	ctx := context.Background()
	ops := s.client(t, "ops", identity.RoleOperator)
	if _, _, err := ops.RegisterRepository(ctx, endpoints.RegisterRepositoryRequest{Repository: "acme/mono"}); err != nil {
		t.Fatal(err)
	}
	ci := s.client(t, "ci", identity.RoleServiceAccount)
	run, _, err := ci.CreateRun(ctx, endpoints.CreateRunRequest{Repository: "acme/mono", CommitSHA: strings.Repeat("ab", 20)})
	if err != nil {
		t.Fatal(err)
	}
	s.as(t, "alice", identity.RoleDeveloper)
	r := forge(t, "run", "logs", run.ID)
	r.wantCode(t, ExitOK)
	if !strings.Contains(r.stderr, "has no step logs yet") {
		t.Errorf("stderr = %q", r.stderr)
	}
	// A worker has started the step (it reports running first).
	phases, err := s.store.AddPhases(ctx, run.ID, []pipeline.Phase{{Name: "test", GroupNumber: 1, Status: pipeline.StatusRunning,
		Tasks: []pipeline.Task{{ProjectName: "api", ProjectPath: "api", Status: pipeline.StatusRunning,
			Steps: []pipeline.Step{{Name: "unit", Action: "script", Status: pipeline.StatusRunning}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	key := "pipeline-runs/" + run.ID + "/logs/test/api/unit.log"
	if _, err := s.objects.Put(ctx, key, strings.NewReader("ok 42 tests\n"), ports.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	zero := 0
	if _, err := ci.UpdateStepStatus(ctx, phases[0].Tasks[0].Steps[0].ID, endpoints.StepStatusRequest{Status: "success", ExitCode: &zero, LogsS3Key: key}); err != nil {
		t.Fatal(err)
	}
	r = forge(t, "run", "logs", run.ID, "--follow")
	r.wantCode(t, ExitOK)
	if r.stdout != "==> test / api / unit (success)\nok 42 tests\n" {
		t.Errorf("stdout = %q", r.stdout)
	}
}
