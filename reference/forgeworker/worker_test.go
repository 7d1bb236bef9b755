package forgeworker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/catalyst-forge/forge/reference/internal/logtest"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/catalyst-forge/forge/adapters/onprem/gormstore"
	"github.com/catalyst-forge/forge/adapters/onprem/natsembed"
	"github.com/catalyst-forge/forge/adapters/onprem/natsqueue"
	"github.com/catalyst-forge/forge/adapters/onprem/oidcauth"
	"github.com/catalyst-forge/forge/application/deploying"
	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/reference/forgeapi"
	"github.com/catalyst-forge/forge/reference/forgeworker"
	"github.com/catalyst-forge/forge/reference/internal/discoverchild"
	"github.com/catalyst-forge/forge/reference/internal/gittest"
	"github.com/catalyst-forge/forge/reference/internal/ocitest"
	"github.com/catalyst-forge/forge/reference/internal/proctest"
	"github.com/catalyst-forge/forge/reference/objstore"
	"github.com/catalyst-forge/forge/reference/publishflags"
	"github.com/catalyst-forge/forge/transport/endpoints"
	httptransport "github.com/catalyst-forge/forge/transport/http"
)

// childEnv carries a worker's options to a child process of this test
// binary: the tests kill real worker processes.
const childEnv = "FORGE_WORKER_TEST_CHILD"

func TestMain(m *testing.M) {
	discoverchild.Serve() // the worker discovers in a child: this binary
	if cfg := os.Getenv(childEnv); cfg != "" {
		var o forgeworker.Options
		if err := json.Unmarshal([]byte(cfg), &o); err != nil {
			os.Exit(3)
		}
		o.Log = os.Stderr
		ctx, stop := signalContext()
		defer stop()
		if err := forgeworker.Run(ctx, o); err != nil {
			os.Stderr.WriteString("worker: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func signalContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() { <-ch; cancel() }()
	return ctx, cancel
}

// platform is an API, a NATS server, a store and an orchestrator, with
// worker processes started on demand.
type platform struct {
	root, data string
	store      *gormstore.Store
	nats       *natsembed.Server
	orch       *orchestrating.Orchestrator
	queue      *natsqueue.Queue
	api        string
	key        string
	commit     string
	registry   string
}

func newPlatform(t *testing.T, stepRun string) *platform {
	t.Helper()
	ctx := context.Background()
	p := &platform{root: t.TempDir(), data: t.TempDir()}
	repo := filepath.Join(p.root, "acme", "mono")
	if err := os.CopyFS(repo, os.DirFS("../examples/monorepo")); err != nil {
		t.Fatal(err)
	}
	cue := filepath.Join(repo, "libs/greeting/.forge/project.cue")
	b, _ := os.ReadFile(cue)
	if err := os.WriteFile(cue, []byte(strings.Replace(string(b), `run:    "sh -n greeting.sh"`, `run:    "`+stepRun+`"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	p.commit = gittest.CommitAll(t, repo)

	var err error
	if p.store, err = gormstore.Open(ctx, "sqlite://"+filepath.Join(p.data, "forge.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.store.Close() })
	if _, err := p.store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if p.nats, err = natsembed.Start(ctx, natsembed.Config{Dir: filepath.Join(p.data, "nats")}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.nats.Shutdown)
	nc, err := nats.Connect(p.nats.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	queue, err := natsqueue.New(ctx, nc)
	if err != nil {
		t.Fatal(err)
	}
	// Statuses are keyed: the worker process must send each CI job's key
	// through the API client, or its reports are refused.
	reportSecret := []byte("worker test report secret 32 b..")
	p.queue = queue
	p.orch = &orchestrating.Orchestrator{Store: p.store, Jobs: queue, ReportSecret: reportSecret}

	// The example's release-triggered project builds artifacts: they go to
	// a registry served by the test.
	p.registry = ocitest.Registry(t)

	p.key = filepath.Join(p.data, "dev-key.pem")
	p.api = p.startAPI(t, forgeapi.Options{ObjectsDir: filepath.Join(p.data, "objects"), ReportSecret: reportSecret, Registry: p.registry})
	return p
}

// startAPI serves forge-api on the platform's store and dev key, with o's
// other options, until the test ends, and returns its URL.
func (p *platform) startAPI(t *testing.T, o forgeapi.Options) string {
	t.Helper()
	o.Addr, o.Auth, o.DevKey, o.Store = "127.0.0.1:0", "dev", p.key, p.store
	if o.Log == nil {
		o.Log = discard{}
	}
	app, err := forgeapi.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	actx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- app.Run(actx) }()
	t.Cleanup(func() { stop(); <-served; app.Close() })
	return "http://" + app.Addr()
}

// bareGitOps makes an empty GitOps repository and returns its directory.
func bareGitOps(t *testing.T) string {
	t.Helper()
	bare := filepath.Join(t.TempDir(), "gitops.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", "-b", "main", bare).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return bare
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

func (p *platform) token(t *testing.T, role identity.Role) string {
	t.Helper()
	issuer, err := oidcauth.LoadOrCreateDevKey(p.key)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := issuer.Token("worker-test", []identity.Role{role}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// worker starts a forge-worker process (this binary as a child).
// edit, when given, changes its options.
func (p *platform) worker(t *testing.T, name string, edit ...func(*forgeworker.Options)) *exec.Cmd {
	t.Helper()
	o := forgeworker.Options{
		Types: []string{"discovery", "ci", "artifact", "release"}, Concurrency: 4, NATSURL: p.nats.URL(), Server: p.api,
		Publish: publishflags.Options{Tracking: p.registry + "/tracking", Override: p.registry, DocsDir: filepath.Join(p.data, "docs")},
		Token:   p.token(t, identity.RoleServiceAccount), CacheDir: filepath.Join(p.data, "cache"),
		Objects: objstore.Options{Dir: filepath.Join(p.data, "objects")}, Remote: "file://" + p.root + "/{repository}",
		AckWait: 2 * time.Second, ShutdownGrace: 5 * time.Second,
	}
	for _, e := range edit {
		e(&o)
	}
	cfg, _ := json.Marshal(o)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(cfg))
	logFile, err := os.Create(filepath.Join(p.data, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		logFile.Close()
		if t.Failed() || os.Getenv("DEBUGLOG") != "" {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("%s log:\n%s", name, b)
		}
	})
	return cmd
}

// createRun registers the repository and creates the run over the API.
func (p *platform) createRun(t *testing.T) *pipeline.Run {
	t.Helper()
	ctx := context.Background()
	op := &httptransport.Client{BaseURL: p.api, Token: p.token(t, identity.RoleOperator)}
	if _, _, err := op.RegisterRepository(ctx, endpoints.RegisterRepositoryRequest{Repository: "acme/mono"}); err != nil {
		t.Fatal(err)
	}
	ci := &httptransport.Client{BaseURL: p.api, Token: p.token(t, identity.RoleServiceAccount)}
	run, _, err := ci.CreateRun(ctx, endpoints.CreateRunRequest{Repository: "acme/mono", Branch: "main", CommitSHA: p.commit})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func (p *platform) waitStep(t *testing.T, runID, name string, st pipeline.Status) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if run, err := p.store.GetRun(context.Background(), runID); err == nil && stepOf(run, name).Status == st {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("step %s never became %s", name, st)
}

func stepOf(run *pipeline.Run, name string) pipeline.Step {
	for _, ph := range run.Phases {
		for _, t := range ph.Tasks {
			for _, s := range t.Steps {
				if ph.Name+"/"+t.ProjectName+"/"+s.Name == name {
					return s
				}
			}
		}
	}
	return pipeline.Step{}
}

// TestAWorkerKilledMidStep kills a worker process (SIGKILL: no goodbye)
// while a step runs. The job's lease lapses, the server offers it again
// after the AckWait, a second worker runs the step again from the start,
// and the run ends successful with every step recorded once.
func TestAWorkerKilledMidStep(t *testing.T) {
	attempts := filepath.Join(t.TempDir(), "attempts")
	// The background sleep is what the parent-death signal does not
	// reach: the first attempt's is orphaned by the kill, and the second
	// worker's sweep stops it (the second attempt's ends with its step).
	p := newPlatform(t, "echo attempt >> "+attempts+"; sleep 71.93 & sleep 3")
	run := p.createRun(t)
	first := p.worker(t, "first")
	done := make(chan error, 1)
	go func() { done <- p.orch.Execute(context.Background(), run.ID) }()

	p.waitStep(t, run.ID, "check/greeting/syntax", pipeline.StatusRunning)
	// The status is reported just before the step's process starts: kill
	// the worker once the step has written its first line.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if b, _ := os.ReadFile(attempts); strings.Contains(string(b), "attempt") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the step never started")
		}
	}
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// The replacement starts once the killed worker is gone, as a
	// restarted container's does: its sweep takes the records of dead
	// workers only, and a SIGKILL is delivered on the kernel's time.
	_, _ = first.Process.Wait()
	killed := time.Now()
	p.worker(t, "second")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the run did not end after its worker was killed")
	}
	final, _ := p.store.GetRun(context.Background(), run.ID)
	if final.Status != pipeline.StatusSuccess {
		t.Fatalf("run = %s (%q)", final.Status, final.Reason)
	}
	s := stepOf(final, "check/greeting/syntax")
	if s.ExitCode == nil || *s.ExitCode != 0 || s.CompletedAt == nil || s.CompletedAt.Before(killed) {
		t.Errorf("the interrupted step = %+v; want it run again to success after the kill", s)
	}
	if b, _ := os.ReadFile(attempts); strings.Count(string(b), "attempt") != 2 {
		t.Errorf("the step started %d times, want 2 (killed, then again)", strings.Count(string(b), "attempt"))
	}
	for _, name := range []string{"build/hello-api/compile", "test/hello-web/links", "test/greeting/unit"} {
		if st := stepOf(final, name); st.Status != pipeline.StatusSuccess {
			t.Errorf("%s = %s", name, st.Status)
		}
	}
	if pids := proctest.Running(t, "sleep 71.93"); len(pids) != 0 {
		t.Errorf("the killed worker's step left %v running", pids)
	}
	// The worker made the release of each release-triggered project
	// through the API: GET /v1/runs/{id} lists them, images pushed.
	ci := &httptransport.Client{BaseURL: p.api, Token: p.token(t, identity.RoleDeveloper)}
	got, err := ci.GetRun(context.Background(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Releases) != 2 {
		t.Fatalf("the run lists releases %+v; want hello-api's and hello-web's", got.Releases)
	}
	for _, r := range got.Releases {
		if r.Number != 1 || r.OCIDigest == "" || r.OCIURI != p.registry+"/acme/mono/"+r.Project+":"+p.commit {
			t.Errorf("release %+v", r.Release)
		}
	}
}

func TestBadOptionsAreRefusedBeforeAnythingStarts(t *testing.T) {
	base := forgeworker.Options{NATSURL: "nats://127.0.0.1:1", Server: "http://127.0.0.1:1", Token: "t", CacheDir: t.TempDir(), Objects: objstore.Options{Dir: t.TempDir()}}
	for name, edit := range map[string]func(*forgeworker.Options){
		"an unknown job type":                   func(o *forgeworker.Options) { o.Types = []string{"ci", "deploy"} },
		"no token":                              func(o *forgeworker.Options) { o.Token = "" },
		"no NATS":                               func(o *forgeworker.Options) { o.NATSURL = "" },
		"nowhere to report":                     func(o *forgeworker.Options) { o.Server = "" },
		"a report URL of another scheme":        func(o *forgeworker.Options) { o.Report = "grpc://forge-api:9090" },
		"a server that is no URL":               func(o *forgeworker.Options) { o.Server = "forge-api:8080" },
		"a remote without a name":               func(o *forgeworker.Options) { o.Remote = "https://git.example.com/mono.git" },
		"no log store":                          func(o *forgeworker.Options) { o.Objects.Dir = "" },
		"two log stores":                        func(o *forgeworker.Options) { o.Objects.S3.Bucket = "logs" },
		"artifacts without a tracking registry": func(o *forgeworker.Options) { o.Types = []string{"artifact"} },
		"a signing key reference that is not JSON": func(o *forgeworker.Options) {
			o.Types, o.Publish.Tracking, o.Publish.SigningKeyRef = []string{"artifact"}, "127.0.0.1:1/tracking", "cosign.key"
		},
		"deployments without a GitOps repository": func(o *forgeworker.Options) { o.Types = []string{"deployment"} },
		"a GitOps credential reference that is not JSON": func(o *forgeworker.Options) {
			o.Types, o.GitOps.URL, o.GitOps.CredentialRef = []string{"deployment"}, "https://git.example.com/gitops.git", "token"
		},
		"a signing key that is not one": func(o *forgeworker.Options) {
			o.Types, o.Publish.Tracking, o.Publish.SigningKey = []string{"artifact"}, "127.0.0.1:1/tracking", "/dev/null"
		},
	} {
		o := base
		edit(&o)
		err := forgeworker.Run(context.Background(), o)
		if !fault.Is(err, fault.Validation) {
			t.Errorf("%s: err = %v, want a validation error", name, err)
		}
	}
	o := base
	o.Types, o.Publish.Tracking, o.Publish.SigningKeyRef = []string{"artifact"}, "127.0.0.1:1/tracking", `{"provider":"env","name":"FORGE_TEST_NO_SUCH_KEY"}`
	if err := forgeworker.Run(context.Background(), o); !fault.Is(err, fault.NotFound) || !strings.Contains(err.Error(), "--signing-key-ref: env secret: FORGE_TEST_NO_SUCH_KEY is not set") {
		t.Errorf("a signing key reference to nothing: err = %v", err)
	}
	o = base
	if err := forgeworker.Run(context.Background(), o); !fault.Is(err, fault.Unavailable) || !strings.Contains(err.Error(), "connecting to NATS") {
		t.Errorf("an unreachable NATS: err = %v", err)
	}
}

// restartNATS stops the server and starts it again on the same port and
// directory, as a restarted NATS pod with its volume would be.
func (p *platform) restartNATS(t *testing.T) {
	t.Helper()
	u, err := url.Parse(p.nats.URL())
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	p.nats.Shutdown()
	time.Sleep(500 * time.Millisecond) // an outage, not a blip
	if p.nats, err = natsembed.Start(context.Background(), natsembed.Config{Dir: filepath.Join(p.data, "nats"), Port: port}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.nats.Shutdown)
}

// TestNATSRestartMidRun stops the NATS server (JetStream on file storage)
// while a step runs and starts it again: the dispatcher and the worker
// reconnect, the step's result reaches the orchestrator (from the stored
// copy if its live reply was lost) and the run ends successful.
func TestNATSRestartMidRun(t *testing.T) {
	p := newPlatform(t, "sleep 2")
	run := p.createRun(t)
	w := p.worker(t, "worker")
	done := make(chan error, 1)
	go func() { done <- p.orch.Execute(context.Background(), run.ID) }()
	p.waitStep(t, run.ID, "check/greeting/syntax", pipeline.StatusRunning)
	p.restartNATS(t)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(90 * time.Second):
		t.Fatal("the run did not end after the NATS restart")
	}
	// Stop the worker while NATS is up: a worker stopped while NATS is
	// down keeps trying to store its last results for a minute.
	_ = w.Process.Signal(syscall.SIGTERM)
	_ = w.Wait()
	final, _ := p.store.GetRun(context.Background(), run.ID)
	if final.Status != pipeline.StatusSuccess {
		t.Fatalf("run = %s (%q)", final.Status, final.Reason)
	}
	for _, ph := range final.Phases {
		for _, task := range ph.Tasks {
			for _, s := range task.Steps {
				if s.Status != pipeline.StatusSuccess {
					t.Errorf("%s/%s/%s = %s", ph.Name, task.ProjectName, s.Name, s.Status)
				}
			}
		}
	}
}

// TestWorkerCommitsDeployments: a forge-worker process taking deployment
// jobs commits each pointer to its GitOps repository, once however often
// the job comes.
func TestWorkerCommitsDeployments(t *testing.T) {
	p := newPlatform(t, "true")
	bare := bareGitOps(t)
	p.worker(t, "deployer", func(o *forgeworker.Options) {
		o.Types, o.GitOps.URL = []string{"deployment"}, "file://"+bare
	})
	payload, _ := json.Marshal(deploying.DeploymentJob{DeploymentID: "d1", Path: "environments/dev/acme/mono/api/release.yaml",
		Content: []byte("kind: ReleasePointer\n"), Message: "Deploy api to dev: release 1 (main-1)", Author: "alice", When: time.Now()})
	var commits []string
	for range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		res, err := p.queue.Dispatch(ctx, job.Job{ID: "deployment-d1-" + fmt.Sprint(len(commits)), Type: job.TypeDeployment, Payload: payload, Timeout: 30 * time.Second})
		cancel()
		if err != nil || res.Error != "" {
			t.Fatalf("deployment job: %v %q", err, res.Error)
		}
		var out deploying.DeploymentResult
		if err := json.Unmarshal(res.Payload, &out); err != nil {
			t.Fatal(err)
		}
		commits = append(commits, out.Commit)
		if want := len(commits) == 1; out.Changed != want {
			t.Errorf("job %d changed = %v, want %v", len(commits), out.Changed, want)
		}
	}
	if commits[0] != commits[1] {
		t.Errorf("a job delivered again made another commit: %v", commits)
	}
	log, err := exec.Command("git", "--git-dir", bare, "log", "--format=%H %s", "main").Output()
	if err != nil || strings.TrimSpace(string(log)) != commits[0]+" Deploy api to dev: release 1 (main-1)" {
		t.Errorf("GitOps history = %q, %v", log, err)
	}
}

// TestAPIDeploysThroughWorkers: forge-api with --deployment-jobs sends a
// deployment to a forge-worker process over NATS; the API answers once
// the pointer is committed, the deployment active with that commit.
func TestAPIDeploysThroughWorkers(t *testing.T) {
	p := newPlatform(t, "true")
	ctx := context.Background()
	bare := bareGitOps(t)
	api := p.startAPI(t, forgeapi.Options{NATSURL: p.nats.URL(), DeploymentJobs: true})
	p.worker(t, "deployer", func(o *forgeworker.Options) { o.Types, o.GitOps.URL = []string{"deployment"}, "file://"+bare })

	op := &httptransport.Client{BaseURL: api, Token: p.token(t, identity.RoleOperator)}
	if _, _, err := op.RegisterRepository(ctx, endpoints.RegisterRepositoryRequest{Repository: "acme/mono"}); err != nil {
		t.Fatal(err)
	}
	ci := &httptransport.Client{BaseURL: api, Token: p.token(t, identity.RoleServiceAccount)}
	rel, _, err := ci.CreateRelease(ctx, endpoints.CreateReleaseRequest{Repository: "acme/mono", Project: "api", CommitSHA: p.commit,
		Artifacts: []endpoints.ReleaseArtifactRequest{}, Trigger: &endpoints.ReleaseTriggerRequest{Type: "branch_push", Branch: "main"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ci.SetReleaseImage(ctx, rel.ID, "sha256:"+strings.Repeat("e", 64)); err != nil {
		t.Fatal(err)
	}
	dev := &httptransport.Client{BaseURL: api, Token: p.token(t, identity.RoleDeveloper)}
	d, err := dev.Deploy(ctx, endpoints.DeployRequest{ReleaseID: rel.ID, Environment: "dev"})
	if err != nil || d.Status != "active" || len(d.GitOpsCommitSHA) != 40 {
		t.Fatalf("deploy = %+v, %v", d, err)
	}
	out, err := exec.Command("git", "--git-dir", bare, "show", "main:environments/dev/acme/mono/api/release.yaml").Output()
	if err != nil || !strings.Contains(string(out), "release: "+p.commit) {
		t.Errorf("the pointer at %s: %s (%v)", d.GitOpsCommitSHA, out, err)
	}
}

// TestAPIFinishesDeploymentsADeadProcessLeft: two deployments an API
// process left pending when it died, one whose job a worker had already
// committed and one whose job it never sent. forge-api with
// --deployment-jobs finishes both through a forge-worker process: the
// first with the commit its job made (the GitOps repository gains no
// second commit for it), the second with a new commit of its pointer.
func TestAPIFinishesDeploymentsADeadProcessLeft(t *testing.T) {
	p := newPlatform(t, "true")
	ctx := context.Background()
	bare := bareGitOps(t)
	p.worker(t, "deployer", func(o *forgeworker.Options) { o.Types, o.GitOps.URL = []string{"deployment"}, "file://"+bare })
	long := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	var left []string
	for _, project := range []string{"api", "web"} {
		r, _, err := p.store.CreateRelease(ctx, &release.Release{Repository: "acme/mono", Project: project, CommitSHA: p.commit, CreatedAt: long, CreatedBy: "ci",
			Trigger: &release.Trigger{Type: release.TriggerBranchPush, Branch: "main", TriggeredAt: long, TriggeredBy: "ci"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.store.SetReleaseImage(ctx, r.ID, "sha256:"+strings.Repeat("e", 64)); err != nil {
			t.Fatal(err)
		}
		d, err := p.store.CreateDeployment(ctx, &release.Deployment{ReleaseID: r.ID, Environment: "dev", Status: release.DeploymentPending,
			DeployedAt: long, DeployedBy: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		left = append(left, d.ID)
	}
	// The dead process had sent the first deployment's job, and a worker
	// had committed it.
	payload, _ := json.Marshal(deploying.DeploymentJob{DeploymentID: left[0], Path: "environments/dev/acme/mono/api/release.yaml",
		Content: []byte("kind: ReleasePointer\n"), Message: "Deploy api to dev: release 1 (1)", Author: "alice", When: long})
	jctx, cancel := context.WithTimeout(ctx, time.Minute)
	res, err := p.queue.Dispatch(jctx, job.Job{ID: "deployment-" + left[0], Type: job.TypeDeployment, Payload: payload, Timeout: 30 * time.Second})
	cancel()
	var first deploying.DeploymentResult
	if err != nil || res.Error != "" || json.Unmarshal(res.Payload, &first) != nil {
		t.Fatalf("the first attempt's job: %v %q", err, res.Error)
	}

	p.startAPI(t, forgeapi.Options{NATSURL: p.nats.URL(), DeploymentJobs: true, ResumeDeploymentsEvery: 50 * time.Millisecond})
	deadline := time.Now().Add(time.Minute)
	for {
		a, aerr := p.store.GetDeployment(ctx, left[0])
		w, werr := p.store.GetDeployment(ctx, left[1])
		if aerr == nil && werr == nil && a.Status != release.DeploymentPending && w.Status != release.DeploymentPending {
			if a.Status != release.DeploymentActive || a.GitOpsCommitSHA != first.Commit {
				t.Errorf("the deployment whose job had run = %+v; want active at %s", a, first.Commit)
			}
			if w.Status != release.DeploymentActive || len(w.GitOpsCommitSHA) != 40 {
				t.Errorf("the deployment whose job was never sent = %+v", w)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still pending: %+v (%v), %+v (%v)", a, aerr, w, werr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, err := exec.Command("git", "--git-dir", bare, "log", "--format=%s", "main").Output()
	if err != nil || strings.TrimSpace(string(log)) != "Deploy web to dev: release 1 (1)\nDeploy api to dev: release 1 (1)" {
		t.Errorf("GitOps history = %q, %v; want one commit per deployment", log, err)
	}
	out, err := exec.Command("git", "--git-dir", bare, "show", "main:environments/dev/acme/mono/web/release.yaml").Output()
	if err != nil || !strings.Contains(string(out), "release: "+p.commit) || !strings.Contains(string(out), "deployedBy: alice") {
		t.Errorf("the resumed pointer: %s (%v)", out, err)
	}
}

// TestAWorkerReportsOverNATS runs a whole run with a worker that has no
// route to the API's HTTP address: it reports every status and registers
// the releases over NATS (--report nats://...) to two forge-api replicas
// serving the endpoints there (--serve-nats) in one queue group.
func TestAWorkerReportsOverNATS(t *testing.T) {
	p := newPlatform(t, "sh -n greeting.sh")
	reportSecret := []byte("worker test report secret 32 b..")
	apiLog := &logtest.Buffer{}
	for range 2 {
		p.startAPI(t, forgeapi.Options{NATSURL: p.nats.URL(), ServeNATS: true, ReportSecret: reportSecret, Registry: p.registry, Log: apiLog})
	}
	run := p.createRun(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	p.worker(t, "over-nats", func(o *forgeworker.Options) { o.Server, o.Report, o.MetricsAddr = "", p.nats.URL(), metricsAddr })
	if err := p.orch.Execute(context.Background(), run.ID); err != nil {
		t.Fatal(err)
	}
	final, err := p.store.GetRun(context.Background(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if final.Status != pipeline.StatusSuccess {
		t.Fatalf("run = %s (%q)", final.Status, final.Reason)
	}
	for _, name := range []string{"check/greeting/syntax", "build/hello-api/compile", "test/hello-web/links"} {
		if st := stepOf(final, name); st.Status != pipeline.StatusSuccess || st.ExitCode == nil {
			t.Errorf("%s = %+v", name, st)
		}
	}
	rels, _, err := p.store.ListReleases(context.Background(), "acme/mono", "hello-api", ports.Page{})
	if err != nil || len(rels) != 1 || rels[0].OCIDigest == "" {
		t.Errorf("hello-api's releases = %+v, %v; want one, with its image", rels, err)
	}
	// The worker's --metrics-addr: its jobs, the git cache and the
	// queue's depth; ready while NATS is.
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + metricsAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, text := get("/metrics")
	for _, want := range []string{`forge_job_duration_seconds_count{outcome="ok",type="ci"}`, `forge_job_duration_seconds_count{outcome="ok",type="release"} 2`,
		`forge_worker_jobs_in_flight{type="ci"} 0`, "forge_gitcache_misses_total 1", `forge_queue_jobs{stream="pipeline-tasks"} 0`, "forge_queue_depth_up 1"} {
		if code != http.StatusOK || !strings.Contains(text, want) {
			t.Errorf("the worker's /metrics (%d) has no %s", code, want)
		}
	}
	if code, text := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d %s", code, text)
	}

	// One trace ID crosses the queue, the worker and the API: the run's.
	trace := ports.RunTraceID(run.ID)
	b, err := os.ReadFile(filepath.Join(p.data, "over-nats.log"))
	if err != nil {
		t.Fatal(err)
	}
	jobs, reports := 0, 0
	for _, line := range logtest.JSONLines(string(b)) {
		if line["msg"] == "job started" {
			jobs++
			if line["trace_id"] != trace || line["run_id"] != run.ID {
				t.Errorf("a worker's job line has trace %v, run %v; want %s, %s", line["trace_id"], line["run_id"], trace, run.ID)
			}
			if line["job_type"] == "ci" && line["project"] == nil {
				t.Errorf("a CI job's line names no project: %v", line)
			}
		}
	}
	for _, line := range logtest.JSONLines(apiLog.String()) {
		if line["msg"] == "request" && line["subject"] == "forge.api.v1.tasks.update_status" {
			reports++
			if line["trace_id"] != trace || line["task_id"] == nil {
				t.Errorf("the API's line of a task report has trace %v, task %v; want %s and the task", line["trace_id"], line["task_id"], trace)
			}
		}
	}
	if jobs == 0 || reports == 0 {
		t.Errorf("%d job lines in the worker's log, %d task reports in the API's", jobs, reports)
	}
}
