package forgedev

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/onprem/gormstore"
	"github.com/catalyst-forge/forge/adapters/onprem/oidcauth"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/reference/internal/gittest"
	"github.com/catalyst-forge/forge/reference/internal/proctest"
	"github.com/catalyst-forge/forge/transport/endpoints"
	httptransport "github.com/catalyst-forge/forge/transport/http"
)

// devUp runs Up in the background until stop is called (or the test
// ends) and returns the API's address.
type devUp struct {
	addr     string
	progress *lineWatcher
	stop     func()
}

func startUp(t *testing.T, o UpOptions) *devUp {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	u := &devUp{progress: watchFor("")}
	o.Addr, o.Progress, o.Ready = "127.0.0.1:0", u.progress, func(a string) { ready <- a }
	go func() { done <- Up(ctx, o) }()
	select {
	case u.addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("Up: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("Up did not start")
	}
	stopped := false
	u.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Up: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Up did not stop")
		}
	}
	t.Cleanup(u.stop)
	return u
}

func (u *devUp) client(t *testing.T, keyFile string, role identity.Role) *httptransport.Client {
	t.Helper()
	issuer, err := oidcauth.LoadOrCreateDevKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := issuer.Token("tester", []identity.Role{role}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &httptransport.Client{BaseURL: "http://" + u.addr, Token: tok}
}

// waitRun polls the run until ok says it is as wanted.
func waitRun(t *testing.T, c *httptransport.Client, id string, within time.Duration, what string, ok func(*pipeline.Run) bool) *pipeline.Run {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got, err := c.GetRun(context.Background(), id)
		run := &got.Run
		if err == nil && ok(run) {
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s (err %v); statuses:\n%s", what, within, err, describe(run))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// describe lists a run's status and its steps'.
func describe(run *pipeline.Run) string {
	if run == nil {
		return "no run"
	}
	lines := []string{"run " + string(run.Status) + " " + run.Reason}
	for name, s := range steps(run) {
		lines = append(lines, "  "+name+" "+string(s.Status))
	}
	return strings.Join(lines, "\n")
}

func stepStatus(name string, st pipeline.Status) func(*pipeline.Run) bool {
	return func(r *pipeline.Run) bool { s, ok := steps(r)[name]; return ok && s.Status == st }
}

// upRepository makes a git repository of the example under root/acme/mono,
// with greeting's check step replaced by run, and returns its commit.
func upRepository(t *testing.T, root, run string) string {
	t.Helper()
	dir := filepath.Join(root, "acme", "mono")
	if err := os.CopyFS(dir, os.DirFS("../examples/monorepo")); err != nil {
		t.Fatal(err)
	}
	edit(t, filepath.Join(dir, "libs/greeting/.forge/project.cue"), `run:    "sh -n greeting.sh"`, `run:    "`+run+`"`)
	return gittest.CommitAll(t, dir)
}

// TestDevUpRunsAndCancels drives the platform as its users do, over the
// API: register a repository, create a run, read a step's log, cancel the
// run while a step runs. The cancelled step's processes are gone within
// seconds and everything the run holds ends in a recorded state.
func TestDevUpRunsAndCancels(t *testing.T) {
	root, data := t.TempDir(), t.TempDir()
	commit := upRepository(t, root, "echo checking greeting; sleep 43.9")
	key := filepath.Join(data, "dev-key.pem")
	u := startUp(t, UpOptions{Data: data, DevKey: key, Remote: "file://" + root + "/{repository}"})
	ctx := context.Background()
	op := u.client(t, key, identity.RoleOperator)
	if _, _, err := op.RegisterRepository(ctx, endpoints.RegisterRepositoryRequest{Repository: "acme/mono"}); err != nil {
		t.Fatal(err)
	}
	ci := u.client(t, key, identity.RoleServiceAccount)
	run, created, err := ci.CreateRun(ctx, endpoints.CreateRunRequest{Repository: "acme/mono", Branch: "main", CommitSHA: commit})
	if err != nil || !created {
		t.Fatalf("create = %v, %v", created, err)
	}
	dev := u.client(t, key, identity.RoleDeveloper)
	running := waitRun(t, dev, run.ID, 30*time.Second, "the slow step runs", stepStatus("check/greeting/syntax", pipeline.StatusRunning))
	slow := steps(running)["check/greeting/syntax"]

	// The step's log is served while it runs (uploaded every second).
	deadline := time.Now().Add(10 * time.Second)
	for {
		var log bytes.Buffer
		if _, err := dev.StepLogs(ctx, slow.ID, 0, false, &log); err == nil && strings.Contains(log.String(), "checking greeting") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the running step's log never showed its output")
		}
		time.Sleep(100 * time.Millisecond)
	}

	if err := dev.CancelRun(ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	cancelled := time.Now()
	final := waitRun(t, dev, run.ID, 10*time.Second, "every step ends", func(r *pipeline.Run) bool {
		for _, s := range steps(r) {
			if !s.Status.Terminal() {
				return false
			}
		}
		return r.Status == pipeline.StatusCancelled
	})
	if took := time.Since(cancelled); took > 5*time.Second {
		t.Errorf("the cancelled run's steps took %s to stop", took)
	}
	proctest.Gone(t, "sleep 43.9")
	if s := steps(final)["check/greeting/syntax"]; s.Status != pipeline.StatusFailed || s.ExitCode == nil || *s.ExitCode != -1 {
		t.Errorf("the stopped step = %s exit %v", s.Status, s.ExitCode)
	}
	for name, s := range steps(final) {
		if strings.HasPrefix(name, "test/") && s.Status != pipeline.StatusSkipped {
			t.Errorf("%s is %s; group 2 must never start", name, s.Status)
		}
	}
	var log bytes.Buffer
	if _, err := dev.StepLogs(ctx, slow.ID, 0, false, &log); err != nil || !strings.Contains(log.String(), "stopped: the run is cancelled") {
		t.Errorf("log of the stopped step = %q, %v", log.String(), err)
	}
}

// TestDevUpResumesRunsAfterARestart stops the platform while a step runs
// (longer than the shutdown grace): the step's job goes back to the queue
// and the run stays running; the next start resumes the run, runs the
// step again and finishes the pipeline without repeating finished work.
func TestDevUpResumesRunsAfterARestart(t *testing.T) {
	root, data := t.TempDir(), t.TempDir()
	commit := upRepository(t, root, "echo attempt >> "+filepath.Join(root, "attempts")+"; sleep 4.6")
	key := filepath.Join(data, "dev-key.pem")
	opts := UpOptions{Data: data, DevKey: key, Remote: "file://" + root + "/{repository}"}
	u := startUp(t, opts)
	ctx := context.Background()
	op := u.client(t, key, identity.RoleOperator)
	if _, _, err := op.RegisterRepository(ctx, endpoints.RegisterRepositoryRequest{Repository: "acme/mono"}); err != nil {
		t.Fatal(err)
	}
	run, _, err := u.client(t, key, identity.RoleServiceAccount).CreateRun(ctx, endpoints.CreateRunRequest{Repository: "acme/mono", Branch: "main", CommitSHA: commit})
	if err != nil {
		t.Fatal(err)
	}
	waitRun(t, op, run.ID, 30*time.Second, "the slow step runs", stepStatus("check/greeting/syntax", pipeline.StatusRunning))
	u.stop()

	u = startUp(t, opts)
	second := u.progress
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(root, "attempts"))
			t.Logf("second start:\n%s\nattempts:\n%s", second.String(), b)
		}
	})
	op = u.client(t, key, identity.RoleOperator)
	final := waitRun(t, op, run.ID, 60*time.Second, "the resumed run ends", func(r *pipeline.Run) bool { return r.Status.Terminal() })
	if final.Status != pipeline.StatusSuccess {
		t.Fatalf("resumed run = %s (%q)\n%s", final.Status, final.Reason, u.progress.String())
	}
	for name, s := range steps(final) {
		if s.Status != pipeline.StatusSuccess {
			t.Errorf("%s = %s", name, s.Status)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(root, "attempts")); strings.Count(string(b), "attempt") != 2 {
		t.Errorf("the interrupted step ran %d times, want 2 (stopped once, then again)", strings.Count(string(b), "attempt"))
	}
	if !strings.Contains(u.progress.String(), "resuming 1 run(s) left in progress") {
		t.Errorf("progress of the second start:\n%s", u.progress.String())
	}
}

// TestKilledDevUpLeavesNoStepBehind kills 'forge dev up' (SIGKILL, in a
// child process) while a step that started processes of its own runs
// silently. The next start on the same data directory takes the lock the
// kernel released, stops what the killed process left of the step before
// the resumed run starts it again, and finishes the run.
func TestKilledDevUpLeavesNoStepBehind(t *testing.T) {
	root, data := t.TempDir(), t.TempDir()
	flag := filepath.Join(root, "attempted")
	// The durations are in variables so that the shell's own command line
	// does not hold "sleep 58.31": the check below must see the sleeps
	// themselves, not the shell that is about to start them.
	commit := upRepository(t, root, "if [ -e "+flag+" ]; then exit 0; fi; touch "+flag+"; a=58.31; b=57.23; sleep $a & sleep $b; wait")
	remote := "file://" + root + "/{repository}"
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childUpDataEnv+"="+data, childUpRemoteEnv+"="+remote)
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var childLog bytes.Buffer
	child.Stderr = &childLog
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "addr "); ok {
				addr <- a
			}
		}
	}()
	u := &devUp{}
	select {
	case u.addr = <-addr:
	case <-time.After(60 * time.Second):
		t.Fatal("the child 'forge dev up' did not start")
	}
	key := filepath.Join(data, "dev-key.pem")
	ctx := context.Background()
	op := u.client(t, key, identity.RoleOperator)
	if _, _, err := op.RegisterRepository(ctx, endpoints.RegisterRepositoryRequest{Repository: "acme/mono"}); err != nil {
		t.Fatal(err)
	}
	run, _, err := u.client(t, key, identity.RoleServiceAccount).CreateRun(ctx, endpoints.CreateRunRequest{Repository: "acme/mono", Branch: "main", CommitSHA: commit})
	if err != nil {
		t.Fatal(err)
	}
	waitRun(t, op, run.ID, 30*time.Second, "the silent step runs", stepStatus("check/greeting/syntax", pipeline.StatusRunning))
	deadline := time.Now().Add(10 * time.Second)
	for len(proctest.Running(t, "sleep 58.31")) == 0 || len(proctest.Running(t, "sleep 57.23")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the step's processes are not to be seen")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()

	u = startUp(t, UpOptions{Data: data, DevKey: key, Remote: remote})
	proctest.Gone(t, "sleep 58.31")
	proctest.Gone(t, "sleep 57.23")
	op = u.client(t, key, identity.RoleOperator)
	final := waitRun(t, op, run.ID, 60*time.Second, "the resumed run ends", func(r *pipeline.Run) bool { return r.Status.Terminal() })
	if final.Status != pipeline.StatusSuccess {
		t.Fatalf("resumed run = %s (%q)\n%s", final.Status, final.Reason, u.progress.String())
	}
	if !strings.Contains(u.progress.String(), "stopped 2 process(es) of steps a previous run left running") {
		t.Errorf("progress of the second start:\n%s\nfirst start:\n%s", u.progress.String(), childLog.String())
	}
}

// TestDevUpFinishesDeploymentsLeftPending: a deployment a killed process
// recorded but never committed is committed by the next 'forge dev up'
// on the data directory before it serves, and is then the project's
// active deployment with the GitOps commit of its pointer.
func TestDevUpFinishesDeploymentsLeftPending(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	store, err := gormstore.Open(ctx, "sqlite://"+filepath.Join(data, "forge.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	long := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	r, _, err := store.CreateRelease(ctx, &release.Release{Repository: "acme/mono", Project: "api", CommitSHA: strings.Repeat("c", 40), CreatedAt: long, CreatedBy: "ci",
		Trigger: &release.Trigger{Type: release.TriggerBranchPush, Branch: "main", TriggeredAt: long, TriggeredBy: "ci"}})
	if err == nil {
		_, err = store.SetReleaseImage(ctx, r.ID, "sha256:"+strings.Repeat("e", 64))
	}
	var left *release.Deployment
	if err == nil {
		left, err = store.CreateDeployment(ctx, &release.Deployment{ReleaseID: r.ID, Environment: "dev", Status: release.DeploymentPending, DeployedAt: long, DeployedBy: "alice"})
	}
	store.Close()
	if err != nil {
		t.Fatal(err)
	}

	key := filepath.Join(data, "dev-key.pem")
	u := startUp(t, UpOptions{Data: data, DevKey: key, Remote: "file://" + t.TempDir() + "/{repository}"})
	cur, err := u.client(t, key, identity.RoleDeveloper).CurrentDeployment(ctx, "dev", "acme/mono", "api")
	if err != nil || cur.ID != left.ID || cur.Status != "active" || len(cur.GitOpsCommitSHA) != 40 {
		t.Fatalf("current deployment = %+v, %v; want the one left pending, active", cur, err)
	}
	if !strings.Contains(u.progress.String(), "finished a deployment a previous process left pending: api release 1 in dev, active at GitOps commit "+cur.GitOpsCommitSHA) {
		t.Errorf("progress:\n%s", u.progress.String())
	}
	out, err := exec.Command("git", "--git-dir", filepath.Join(data, "gitops.git"), "show", cur.GitOpsCommitSHA+":environments/dev/acme/mono/api/release.yaml").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "release: "+strings.Repeat("c", 40)) || !strings.Contains(string(out), "deployedBy: alice") {
		t.Errorf("the pointer at the deployment's commit: %s (%v)", out, err)
	}
}
