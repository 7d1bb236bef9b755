package natstransport_test

// One table of API calls, run over HTTP (transport/http) and over NATS
// (this package) against the same services with the same expectations:
// the endpoint set is one, so the answers must be too. NATS runs against
// an embedded server and, when FORGE_TEST_NATS_URL names one (CI sets it),
// the machine's NATS server.

import (
	"context"
	"io"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/sirupsen/logrus"

	"github.com/catalyst-forge/forge/adapters/memory/memstore"
	"github.com/catalyst-forge/forge/adapters/onprem/natsembed"
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
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/transport/endpoints"
	httptransport "github.com/catalyst-forge/forge/transport/http"
	natstransport "github.com/catalyst-forge/forge/transport/nats"
)

// reportSecret keys the status reports of the table's run.
var reportSecret = []byte("a report secret of 32 bytes.....")

var start = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// The callers of the table, by role.
const (
	alice  = "alice"  // developer
	bob    = "bob"    // approver
	carol  = "carol"  // operator
	ci     = "ci-bot" // service-account
	nobody = ""       // no token at all
)

var roles = map[string]identity.Role{alice: identity.RoleDeveloper, bob: identity.RoleApprover,
	carol: identity.RoleOperator, ci: identity.RoleServiceAccount}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

type dropEvents struct{}

func (dropEvents) Publish(context.Context, event.Event) error { return nil }

// world is one API (fresh services over a memstore) and a way to call it
// as each caller over one transport.
type world struct {
	mem    *memstore.Store
	clock  *clock
	issuer *oidcauth.DevIssuer
	// as returns a client of the transport under test calling as who.
	as func(who string) endpoints.API
	// seen, over NATS, lists the endpoints called so far.
	seen func() map[string]bool
	// state the steps of the table pass on.
	runID, taskID, stepID, rel1, rel2, approvalID string
}

// services builds the API's services the way reference/forgeapi does.
func services(t testing.TB) (endpoints.Services, *memstore.Store, *clock, *oidcauth.DevIssuer) {
	t.Helper()
	issuer, err := oidcauth.LoadOrCreateDevKey(filepath.Join(t.TempDir(), "dev-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	mem, clk := memstore.New(), &clock{now: start}
	now := ports.Clock(clk.Now)
	events := &announcing.Announcer{Publisher: dropEvents{}, Clock: now}
	limiter := limiting.New(clk.Now)
	return endpoints.Services{
		Runs:     &running.Service{Store: mem, Clock: now, Events: events, Limiter: limiter, ReportSecret: reportSecret},
		Releases: &releasing.Service{Store: mem, Clock: now, Events: events, Limiter: limiter},
		Deployments: &deploying.Service{Store: mem, Clock: now, Events: events, Limiter: limiter,
			Environments: release.DefaultEnvironments(), ApprovalTTL: release.DefaultApprovalTTL},
		Repositories: &registering.Service{Store: mem, Clock: now},
	}, mem, clk, issuer
}

func quietLog() *logrus.Logger {
	log := logrus.New()
	log.SetOutput(io.Discard)
	return log
}

// tokens mints each caller's token once.
func tokens(t testing.TB, issuer *oidcauth.DevIssuer) func(who string) string {
	minted := map[string]string{}
	var mu sync.Mutex
	return func(who string) string {
		if who == nobody {
			return ""
		}
		mu.Lock()
		defer mu.Unlock()
		if tok, ok := minted[who]; ok {
			return tok
		}
		tok, err := issuer.Token(who, []identity.Role{roles[who]}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		minted[who] = tok
		return tok
	}
}

// overHTTP serves the services with transport/http.
func overHTTP(t testing.TB) *world {
	s, mem, clk, issuer := services(t)
	srv := httptest.NewServer(httptransport.NewServer(httptransport.Services{Services: s}, issuer.Verifier(), quietLog()))
	t.Cleanup(srv.Close)
	token := tokens(t, issuer)
	return &world{mem: mem, clock: clk, issuer: issuer, as: func(who string) endpoints.API {
		return &httptransport.Client{BaseURL: srv.URL, Token: token(who)}
	}}
}

// embedded starts a NATS server in the test's process.
func embedded(t testing.TB) string {
	t.Helper()
	srv, err := natsembed.Start(context.Background(), natsembed.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return srv.URL()
}

// machineNATS is the machine's NATS server, or a skip that names the
// variable that enables it.
func machineNATS(t testing.TB) string {
	t.Helper()
	url := os.Getenv("FORGE_TEST_NATS_URL")
	if url == "" {
		t.Skip("set FORGE_TEST_NATS_URL (e.g. nats://127.0.0.1:4222) to run over the machine's NATS server")
	}
	return url
}

// overNATS serves the services with this package on the NATS server at
// url, under a subject prefix of the test's own, and calls them over a
// second connection, as a remote worker would.
func overNATS(t testing.TB, url string) (*world, string) {
	s, mem, clk, issuer := services(t)
	serverConn, clientConn := connect(t, url), connect(t, url)
	prefix := "test." + strings.ReplaceAll(uuid.NewString(), "-", "") + ".forge.api.v1."
	srv, err := natstransport.Serve(serverConn, endpoints.New(s), issuer.Verifier(), quietLog(), natstransport.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	// A plain subscription beside the queue group sees every request.
	var mu sync.Mutex
	seen := map[string]bool{}
	if _, err := serverConn.Subscribe(prefix+">", func(m *nats.Msg) {
		mu.Lock()
		defer mu.Unlock()
		seen[strings.TrimPrefix(m.Subject, prefix)] = true
	}); err != nil {
		t.Fatal(err)
	}
	must(t, serverConn.Flush())
	token := tokens(t, issuer)
	return &world{mem: mem, clock: clk, issuer: issuer, as: func(who string) endpoints.API {
		return &natstransport.Client{Conn: clientConn, Token: token(who), Prefix: prefix}
	}, seen: func() map[string]bool {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(seen)
	}}, prefix
}

func connect(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("connecting to NATS at %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// transports are the ways the table runs.
var transports = []struct {
	name string
	make func(t *testing.T) *world
}{
	{"http", func(t *testing.T) *world { return overHTTP(t) }},
	{"nats-embedded", func(t *testing.T) *world { w, _ := overNATS(t, embedded(t)); return w }},
	{"nats-machine", func(t *testing.T) *world { w, _ := overNATS(t, machineNATS(t)); return w }},
}

func sha(prefix string) string { return prefix + strings.Repeat("0", 40-len(prefix)) }

// wantError fails unless err is a *fault.Error of kind whose message holds
// msg.
func wantError(t *testing.T, err error, kind fault.Kind, msg string) {
	t.Helper()
	fe, ok := err.(*fault.Error)
	if !ok {
		t.Fatalf("error = %v (%T), want %s", err, err, kind)
	}
	if fe.Kind != kind || !strings.Contains(fe.Message, msg) {
		t.Fatalf("error = %s: %q, want %s with %q", fe.Kind, fe.Message, kind, msg)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var ctx = context.Background()

// table is the API's use cases in an order where each builds on the
// last; every endpoint of the set is called, and every transport must give
// the same answers.
var table = []struct {
	name string
	run  func(t *testing.T, w *world)
}{
	{"no token is refused with what to send", func(t *testing.T, w *world) {
		_, err := w.as(nobody).ListRepositories(ctx, ports.Page{})
		wantError(t, err, fault.Unauthenticated, "missing Authorization header: send 'Authorization: Bearer <token>'")
	}},
	{"a token of another issuer is refused", func(t *testing.T, w *world) {
		other, err := oidcauth.LoadOrCreateDevKey(filepath.Join(t.TempDir(), "other.pem"))
		must(t, err)
		forged, err := other.Token(carol, []identity.Role{identity.RoleOperator}, time.Hour)
		must(t, err)
		c := w.as(carol)
		switch c := c.(type) {
		case *httptransport.Client:
			c.Token = forged
		case *natstransport.Client:
			c.Token = forged
		}
		_, err = c.ListRepositories(ctx, ports.Page{})
		wantError(t, err, fault.Unauthenticated, "")
	}},
	{"repositories.register", func(t *testing.T, w *world) {
		r, created, err := w.as(carol).RegisterRepository(ctx, endpoints.RegisterRepositoryRequest{Repository: "Acme/Mono"})
		must(t, err)
		if !created || r.Name != "acme/mono" {
			t.Errorf("registered %+v, created %v; want acme/mono, created", r, created)
		}
		if _, created, err = w.as(carol).RegisterRepository(ctx, endpoints.RegisterRepositoryRequest{Repository: "acme/mono"}); err != nil || created {
			t.Errorf("registering again: created %v, %v; want the existing one", created, err)
		}
		_, _, err = w.as(alice).RegisterRepository(ctx, endpoints.RegisterRepositoryRequest{Repository: "acme/other"})
		wantError(t, err, fault.PermissionDenied, "")
	}},
	{"repositories.list", func(t *testing.T, w *world) {
		l, err := w.as(alice).ListRepositories(ctx, ports.Page{Limit: 10})
		must(t, err)
		if l.Total != 1 || len(l.Repositories) != 1 || l.Limit != 10 {
			t.Errorf("list = %+v", l)
		}
		_, err = w.as(alice).ListRepositories(ctx, ports.Page{Offset: -1})
		wantError(t, err, fault.Validation, "offset must be a non-negative integer")
	}},
	{"runs.create", func(t *testing.T, w *world) {
		run, created, err := w.as(ci).CreateRun(ctx, endpoints.CreateRunRequest{Repository: "acme/mono", Branch: "main", CommitSHA: sha("a1")})
		must(t, err)
		if !created || run.Status != pipeline.StatusPending {
			t.Errorf("run %+v, created %v", run, created)
		}
		w.runID = run.ID
		again, created, err := w.as(ci).CreateRun(ctx, endpoints.CreateRunRequest{Repository: "acme/mono", Branch: "main", CommitSHA: sha("a1")})
		if err != nil || created || again.ID != run.ID {
			t.Errorf("the same commit again: %+v, created %v, %v; want the same run", again, created, err)
		}
		_, _, err = w.as(ci).CreateRun(ctx, endpoints.CreateRunRequest{Repository: "acme/mono", Branch: "main", CommitSHA: "xyz"})
		wantError(t, err, fault.Validation, "commit_sha")
	}},
	{"runs.get and runs.status", func(t *testing.T, w *world) {
		run, err := w.as(alice).GetRun(ctx, w.runID)
		must(t, err)
		if run.ID != w.runID || run.Releases == nil {
			t.Errorf("run = %+v", run)
		}
		st, err := w.as(ci).RunStatus(ctx, w.runID)
		if err != nil || st != pipeline.StatusPending {
			t.Errorf("status = %s, %v", st, err)
		}
		_, err = w.as(alice).GetRun(ctx, "00000000-0000-4000-8000-000000000000")
		wantError(t, err, fault.NotFound, "")
	}},
	{"runs.list", func(t *testing.T, w *world) {
		l, err := w.as(alice).ListRuns(ctx, ports.RunFilter{Repository: "ACME/mono"}, ports.Page{})
		must(t, err)
		if l.Total != 1 || len(l.Runs) != 1 || l.Runs[0].ID != w.runID {
			t.Errorf("list = %+v", l)
		}
		_, err = w.as(alice).ListRuns(ctx, ports.RunFilter{CommitSHA: "not-a-sha"}, ports.Page{})
		wantError(t, err, fault.Validation, "commit_sha")
	}},
	{"tasks.update_status and steps.update_status with the run's report key", func(t *testing.T, w *world) {
		phases, err := w.mem.AddPhases(ctx, w.runID, []pipeline.Phase{{Name: "test", GroupNumber: 1, Status: pipeline.StatusRunning,
			Tasks: []pipeline.Task{{ProjectName: "api", ProjectPath: "services/api", Status: pipeline.StatusPending,
				Steps: []pipeline.Step{{Name: "unit", Action: "script", Target: "test.sh", Status: pipeline.StatusPending}}}}}})
		must(t, err)
		_, err = w.mem.UpdateRun(ctx, w.runID, func(r *pipeline.Run) error { r.Status = pipeline.StatusRunning; return nil })
		must(t, err)
		w.taskID, w.stepID = phases[0].Tasks[0].ID, phases[0].Tasks[0].Steps[0].ID

		_, err = w.as(ci).UpdateTaskStatus(ctx, w.taskID, endpoints.TaskStatusRequest{Status: "running"})
		wantError(t, err, fault.PermissionDenied, "with the report key of their job")
		keyed := ports.WithReportKey(ctx, pipeline.ReportKey(reportSecret, w.runID))
		task, err := w.as(ci).UpdateTaskStatus(keyed, w.taskID, endpoints.TaskStatusRequest{Status: "running"})
		if err != nil || task.Status != pipeline.StatusRunning {
			t.Fatalf("task = %+v, %v", task, err)
		}
		_, err = w.as(ci).UpdateStepStatus(keyed, w.stepID, endpoints.StepStatusRequest{Status: "success"})
		wantError(t, err, fault.Conflict, "it is reported running first")
		_, err = w.as(ci).UpdateStepStatus(keyed, w.stepID, endpoints.StepStatusRequest{Status: "running"})
		must(t, err)
		code := 0
		step, err := w.as(ci).UpdateStepStatus(keyed, w.stepID, endpoints.StepStatusRequest{Status: "success", ExitCode: &code})
		if err != nil || step.Status != pipeline.StatusSuccess || step.ExitCode == nil || *step.ExitCode != 0 {
			t.Fatalf("step = %+v, %v", step, err)
		}
		_, err = w.as(alice).UpdateStepStatus(keyed, w.stepID, endpoints.StepStatusRequest{Status: "failed"})
		wantError(t, err, fault.PermissionDenied, "")
	}},
	{"runs.cancel and runs.retry", func(t *testing.T, w *world) {
		must(t, w.as(alice).CancelRun(ctx, w.runID))
		if st, err := w.as(ci).RunStatus(ctx, w.runID); err != nil || st != pipeline.StatusCancelled {
			t.Errorf("status after cancel = %s, %v", st, err)
		}
		_, err := w.as(alice).RetryRun(ctx, w.runID)
		wantError(t, err, fault.Conflict, "only a failed run can be retried")
	}},
	{"releases.create and releases.set_image", func(t *testing.T, w *world) {
		req := endpoints.CreateReleaseRequest{Repository: "acme/mono", Project: "api", CommitSHA: sha("b1"),
			Trigger: &endpoints.ReleaseTriggerRequest{Type: "branch_push", Branch: "main"}}
		r, created, err := w.as(ci).CreateRelease(ctx, req)
		must(t, err)
		if !created || r.Number != 1 || r.CanonicalID != "acme/mono/api/"+sha("b1") {
			t.Errorf("release %+v, created %v", r, created)
		}
		w.rel1 = r.ID
		if _, created, err = w.as(ci).CreateRelease(ctx, req); err != nil || created {
			t.Errorf("the same release again: created %v, %v", created, err)
		}
		digest := "sha256:" + strings.Repeat("ab", 32)
		img, err := w.as(ci).SetReleaseImage(ctx, r.ID, digest)
		if err != nil || img.OCIDigest != digest {
			t.Errorf("image = %+v, %v", img, err)
		}
		_, err = w.as(ci).SetReleaseImage(ctx, r.ID, "sha256:"+strings.Repeat("cd", 32))
		wantError(t, err, fault.Conflict, "")
		w.clock.Advance(time.Minute)
		r2, _, err := w.as(ci).CreateRelease(ctx, endpoints.CreateReleaseRequest{Repository: "acme/mono", Project: "api", CommitSHA: sha("b2"),
			Trigger: &endpoints.ReleaseTriggerRequest{Type: "branch_push", Branch: "main"}})
		must(t, err)
		w.rel2 = r2.ID
	}},
	{"releases.get and releases.list", func(t *testing.T, w *world) {
		r, err := w.as(alice).GetRelease(ctx, "acme/mono", "api", "1")
		if err != nil || r.ID != w.rel1 {
			t.Errorf("release 1 = %+v, %v", r, err)
		}
		_, err = w.as(alice).GetRelease(ctx, "acme/mono", "api", "99")
		wantError(t, err, fault.NotFound, "")
		_, err = w.as(alice).GetRelease(ctx, "acme/mono", "Bad_Name!", "1")
		wantError(t, err, fault.Validation, "")
		l, err := w.as(alice).ListReleases(ctx, "acme/mono", "api", ports.Page{Limit: 1})
		if err != nil || l.Total != 2 || len(l.Releases) != 1 || l.Releases[0].ID != w.rel2 {
			t.Errorf("list = %+v, %v", l, err)
		}
	}},
	{"environments.list", func(t *testing.T, w *world) {
		l, err := w.as(alice).Environments(ctx)
		must(t, err)
		var names []string
		for _, e := range l.Environments {
			names = append(names, e.Name)
		}
		if strings.Join(names, ",") != "dev,production,staging" {
			t.Errorf("environments = %v", names)
		}
	}},
	{"deployments.create, deployments.current and rollbacks.create", func(t *testing.T, w *world) {
		_, err := w.as(alice).CurrentDeployment(ctx, "dev", "acme/mono", "api")
		wantError(t, err, fault.NotFound, "acme/mono/api has no active deployment in dev")
		d1, err := w.as(alice).Deploy(ctx, endpoints.DeployRequest{ReleaseID: w.rel1, Environment: "dev"})
		must(t, err)
		w.clock.Advance(time.Minute)
		d2, err := w.as(alice).Deploy(ctx, endpoints.DeployRequest{ReleaseID: w.rel2, Environment: "dev"})
		must(t, err)
		cur, err := w.as(bob).CurrentDeployment(ctx, "dev", "acme/mono", "api")
		if err != nil || cur.ID != d2.ID || cur.ReleaseNumber != 2 {
			t.Errorf("current = %+v, %v", cur, err)
		}
		w.clock.Advance(time.Minute)
		back, err := w.as(alice).Rollback(ctx, endpoints.RollbackRequest{Environment: "dev", Repository: "acme/mono", Project: "api"})
		must(t, err)
		if back.ReleaseID != w.rel1 || back.Previous == nil || back.Previous.DeploymentID != d2.ID || back.RollbackOf == nil || *back.RollbackOf != d2.ID {
			t.Errorf("rollback = %+v (first deployment %s)", back, d1.ID)
		}
		_, err = w.as(alice).Deploy(ctx, endpoints.DeployRequest{ReleaseID: w.rel1, Environment: "qa"})
		wantError(t, err, fault.Validation, `unknown environment "qa" (environments: dev, production, staging)`)
	}},
	{"approvals.create, approvals.get and approvals.revoke", func(t *testing.T, w *world) {
		_, err := w.as(alice).Approve(ctx, endpoints.ApproveRequest{ReleaseID: w.rel2, Environment: "production", Justification: "CHG-1"})
		wantError(t, err, fault.PermissionDenied, "")
		a, err := w.as(bob).Approve(ctx, endpoints.ApproveRequest{ReleaseID: w.rel2, Environment: "production", Justification: "CHG-1 reviewed"})
		must(t, err)
		got, err := w.as(alice).GetApproval(ctx, w.rel2, "production")
		if err != nil || got.ID != a.ID {
			t.Errorf("approval = %+v, %v", got, err)
		}
		revoked, err := w.as(bob).RevokeApproval(ctx, a.ID)
		if err != nil || revoked.ID != a.ID || revoked.Status != release.ApprovalRevoked {
			t.Errorf("revoked = %+v, %v", revoked, err)
		}
	}},
}

// TestOneTableOverEveryTransport runs the table over HTTP and NATS.
func TestOneTableOverEveryTransport(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			w := tr.make(t)
			for _, c := range table {
				if !t.Run(c.name, func(t *testing.T) { c.run(t, w) }) {
					t.FailNow() // the next cases build on this one
				}
			}
			if w.seen == nil {
				return
			}
			// The watching subscription gets its copies on its own time.
			s, _, _, _ := services(t)
			all := endpoints.New(s).All()
			missing := func() []string {
				seen := w.seen()
				var out []string
				for _, ep := range all {
					if !seen[ep.Name] {
						out = append(out, ep.Name)
					}
				}
				return out
			}
			deadline := time.Now().Add(5 * time.Second)
			for len(missing()) > 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if m := missing(); len(m) > 0 {
				t.Errorf("the table never calls %v", m)
			}
		})
	}
}
