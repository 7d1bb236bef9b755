package forgedispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/catalyst-forge/forge/adapters/onprem/githubstatus/githubtest"
	"github.com/catalyst-forge/forge/reference/githubflags"
	"github.com/catalyst-forge/forge/reference/internal/logtest"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/onprem/fsblob"
	"github.com/catalyst-forge/forge/adapters/onprem/gormstore"
	"github.com/catalyst-forge/forge/adapters/onprem/natsembed"
	"github.com/catalyst-forge/forge/adapters/onprem/natsqueue"
	"github.com/catalyst-forge/forge/application/deploying"
	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/domain/artifact"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/reference/objstore"
)

// waitLimit bounds every wait of these tests for something to happen.
const waitLimit = 30 * time.Second

// output is a discovery with two groups: build (api), then test (api, web).
func output(release bool) discovery.Output {
	step := func(name string) config.Step {
		return config.Step{Name: name, Action: config.ActionScript, Run: "echo " + name, Args: []string{}, Secrets: []config.SecretRef{}}
	}
	out := discovery.Output{
		Repository: discovery.Repository{ForgeVersion: "v1.0.0", Phases: map[string]config.Phase{
			"build": {Group: 1}, "test": {Group: 2}}},
		Projects: []discovery.Project{
			{Name: "api", Path: "services/api", Phases: map[string][]config.Step{"build": {step("compile")}, "test": {step("unit")}}},
			{Name: "web", Path: "services/web", Phases: map[string][]config.Step{"test": {step("unit")}}},
		},
		PhaseGroups:    []discovery.PhaseGroup{{Group: 1, Phases: []string{"build"}}, {Group: 2, Phases: []string{"test"}}},
		ReleaseEnabled: release,
	}
	if release {
		out.ReleaseProjects = []string{"api"}
		out.Projects[0].ReleaseTriggered = true
		out.Projects[0].Artifacts = map[string]config.Artifact{"image": {Type: config.ArtifactContainer,
			Producer: config.Producer{Script: &config.ScriptProducer{Run: "make image"}}}}
		out.Commit = &discovery.Commit{SHA: strings.Repeat("a", 40), Time: time.Unix(1700000000, 0).UTC(), Message: "release"}
	}
	return out
}

// ciFunc decides a CI job's result, as a worker running its steps would.
type ciFunc func(ctx context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error)

func succeed(context.Context, orchestrating.TaskJob) (orchestrating.TaskResult, error) {
	return orchestrating.TaskResult{Status: pipeline.StatusSuccess}, nil
}

// env is one platform for the dispatcher: SQLite in a temp dir, an
// embedded NATS server with a listener, a pending run and a fake worker
// on its own connection that answers discovery with disc and CI jobs
// with ci, counting every execution of a handler by job ID.
type env struct {
	t     *testing.T
	dsn   string
	url   string
	out   string
	objs  string // the workers' object store, for large results
	store *gormstore.Store
	run   *pipeline.Run
	logs  logtest.Buffer

	mu    sync.Mutex
	execs map[string]int
	// pointers are the paths deployment jobs wrote, in order.
	pointers []string
}

func newEnv(t *testing.T, disc discovery.Output, ci ciFunc) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	e := &env{t: t, dsn: "sqlite://" + filepath.Join(dir, "forge.db"), out: filepath.Join(dir, "out"),
		objs: filepath.Join(dir, "objects"), execs: map[string]int{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dispatcher logs:\n%s", e.logs.String())
		}
	})

	srv, err := natsembed.Start(ctx, natsembed.Config{Dir: filepath.Join(dir, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	e.url = srv.URL()

	if e.store, err = gormstore.Open(ctx, e.dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.store.Close() })
	if _, err := e.store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if e.run, _, err = e.store.CreateRun(ctx, &pipeline.Run{Repository: "acme/mono", Branch: "main",
		CommitSHA: strings.Repeat("a", 40), Status: pipeline.StatusPending, CreatedAt: now, StartedAt: now,
		GitHub: &pipeline.GitHubContext{PRNumber: 7}}); err != nil {
		t.Fatal(err)
	}

	nc, err := srv.Connect()
	if err != nil {
		t.Fatal(err)
	}
	objects, err := fsblob.New(e.objs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = objects.Close() })
	queue, err := natsqueue.New(ctx, nc, natsqueue.WithShutdownGrace(time.Second), natsqueue.WithObjectStore(objects))
	if err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	t.Cleanup(func() { stop(); <-done; nc.Close() })
	go func() {
		defer close(done)
		err := queue.Consume(wctx, []job.Type{job.TypeDiscovery, job.TypeCI, job.TypeArtifact, job.TypeRelease, job.TypeDeployment}, 4, func(ctx context.Context, d *ports.Delivery) ([]byte, error) {
			e.mu.Lock()
			e.execs[d.Job.ID]++
			e.mu.Unlock()
			switch d.Job.Type {
			case job.TypeDiscovery:
				return json.Marshal(disc)
			case job.TypeArtifact:
				var aj orchestrating.ArtifactJob
				if err := json.Unmarshal(d.Job.Payload, &aj); err != nil {
					return nil, err
				}
				return json.Marshal(artifact.Output{Name: aj.Name, Project: aj.Project, Type: string(aj.Artifact.Type),
					Producer: map[string]any{"digest": "sha256:" + strings.Repeat("b", 64)}, Publishers: map[string]artifact.Publication{}})
			case job.TypeRelease:
				var rj orchestrating.ReleaseJob
				if err := json.Unmarshal(d.Job.Payload, &rj); err != nil {
					return nil, err
				}
				// The release worker registers the release and pushes
				// its image, as working.Worker does.
				runID, digest := rj.RunID, "sha256:"+strings.Repeat("c", 64)
				r, _, err := e.store.CreateRelease(ctx, &release.Release{Repository: rj.Repository, Project: rj.Project.Name, CommitSHA: rj.CommitSHA,
					PipelineRunID: &runID, OCIURI: "releases.test/acme/mono/" + rj.Project.Name + ":" + rj.CommitSHA, OCIDigest: digest,
					CreatedAt: time.Now().UTC(), CreatedBy: "forge", Trigger: &release.Trigger{Type: release.TriggerBranchPush, Branch: "main", TriggeredBy: "forge", TriggeredAt: time.Now().UTC()}})
				if err != nil {
					return nil, err
				}
				return json.Marshal(orchestrating.ReleaseResult{Project: rj.Project.Name, ReleaseID: r.ID, Number: r.Number, Aliases: []string{"1", "main-1"},
					Reference: r.OCIURI, Digest: digest})
			case job.TypeDeployment:
				// The deployment worker commits the pointer (here: says
				// it did, with a commit only this test makes).
				var dj deploying.DeploymentJob
				if err := json.Unmarshal(d.Job.Payload, &dj); err != nil {
					return nil, err
				}
				e.mu.Lock()
				e.pointers = append(e.pointers, dj.Path)
				e.mu.Unlock()
				return json.Marshal(deploying.DeploymentResult{Commit: strings.Repeat("d", 40)})
			}
			var tj orchestrating.TaskJob
			if err := json.Unmarshal(d.Job.Payload, &tj); err != nil {
				return nil, err
			}
			res, err := ci(ctx, tj)
			if err != nil {
				return nil, err
			}
			return json.Marshal(res)
		})
		if err != nil {
			t.Errorf("worker: %v", err)
		}
	}()
	return e
}

// written returns the pointer paths deployment jobs wrote.
func (e *env) written() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.pointers)
}

func (e *env) options(stage, group string) Options {
	return Options{Stage: stage, RunID: e.run.ID, Group: group, Database: e.dsn, NATSURL: e.url, OutDir: e.out, Log: &e.logs,
		Objects: objstore.Options{Dir: e.objs}}
}

// stage runs a stage to its end and fails the test on an error.
func (e *env) stage(stage, group string) {
	e.t.Helper()
	if err := Run(context.Background(), e.options(stage, group)); err != nil {
		e.t.Fatalf("%s %s: %v (exit code %d)", stage, group, err, ExitCode(err))
	}
}

func (e *env) getRun() *pipeline.Run {
	e.t.Helper()
	run, err := e.store.GetRun(context.Background(), e.run.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return run
}

// executions returns how often each job's handler ran.
func (e *env) executions() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int, len(e.execs))
	for k, v := range e.execs {
		out[k] = v
	}
	return out
}

// readPlan reads the discovery files as Argo does.
func (e *env) readPlan() (groups []int, release string) {
	e.t.Helper()
	raw, err := os.ReadFile(filepath.Join(e.out, PhaseGroupsFile))
	if err != nil {
		e.t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &groups); err != nil {
		e.t.Fatalf("%s is not a JSON list of numbers: %q", PhaseGroupsFile, raw)
	}
	rel, err := os.ReadFile(filepath.Join(e.out, ReleaseEnabledFile))
	if err != nil {
		e.t.Fatal(err)
	}
	return groups, string(rel)
}

// taskStatuses returns "phase/project" -> status.
func taskStatuses(run *pipeline.Run) map[string]pipeline.Status {
	out := map[string]pipeline.Status{}
	for _, ph := range run.Phases {
		for _, t := range ph.Tasks {
			out[ph.Name+"/"+t.ProjectName] = t.Status
		}
	}
	return out
}

func taskIDs(run *pipeline.Run) []string {
	var ids []string
	for _, ph := range run.Phases {
		for _, t := range ph.Tasks {
			ids = append(ids, t.ID)
		}
	}
	return ids
}

func TestDiscoveryWritesPlanFilesAndDiscoversOnce(t *testing.T) {
	for _, release := range []bool{false, true} {
		e := newEnv(t, output(release), succeed)
		e.stage(StageDiscovery, "")
		groups, rel := e.readPlan()
		if len(groups) != 2 || groups[0] != 1 || groups[1] != 2 {
			t.Errorf("release %v: phase groups = %v, want [1 2]", release, groups)
		}
		if want := map[bool]string{false: "false", true: "true"}[release]; rel != want {
			t.Errorf("release-enabled = %q, want %q", rel, want)
		}
		if run := e.getRun(); run.Status != pipeline.StatusRunning || len(run.Phases) != 2 {
			t.Errorf("after discovery the run is %s with %d phases, want running with 2", run.Status, len(run.Phases))
		}

		// A retried discovery step reuses the stored output.
		e.stage(StageDiscovery, "")
		if again, rel2 := e.readPlan(); len(again) != 2 || rel2 != rel {
			t.Errorf("second discovery wrote %v, %q", again, rel2)
		}
		if n := e.executions()[e.run.ID+".discovery"]; n != 1 {
			t.Errorf("the discovery job ran %d times, want once", n)
		}
		entries, _ := os.ReadDir(e.out)
		if len(entries) != 2 {
			t.Errorf("the output directory holds %d entries, want the 2 files (no temporary files left)", len(entries))
		}
	}
}

func TestDiscoveryWithNothingToRunCompletesTheRun(t *testing.T) {
	empty := discovery.Output{Repository: discovery.Repository{ForgeVersion: "v1.0.0"}}
	e := newEnv(t, empty, succeed)
	e.stage(StageDiscovery, "")
	if groups, rel := e.readPlan(); len(groups) != 0 || rel != "false" {
		t.Errorf("plan = %v, %q; want [], false", groups, rel)
	}
	if raw, _ := os.ReadFile(filepath.Join(e.out, PhaseGroupsFile)); string(raw) != "[]" {
		t.Errorf("%s = %q, want [] (Argo's withParam needs a list)", PhaseGroupsFile, raw)
	}
	if run := e.getRun(); run.Status != pipeline.StatusSuccess {
		t.Errorf("run = %s: no later step would complete it", run.Status)
	}
}

func TestStagesInTurnEndTheRunSuccessful(t *testing.T) {
	for _, release := range []bool{false, true} {
		e := newEnv(t, output(release), succeed)
		e.stage(StageDiscovery, "")
		groups, rel := e.readPlan()
		for i, n := range groups {
			e.stage(StagePhaseGroup, strconv.Itoa(n))
			if run := e.getRun(); i < len(groups)-1 || release {
				if run.Status != pipeline.StatusRunning {
					t.Fatalf("release %v: after group %d the run is %s, want running", release, n, run.Status)
				}
			}
		}
		if rel == "true" {
			e.stage(StageRelease, "")
			if !strings.Contains(e.logs.String(), "artifacts built and published, releases made: the run is complete") {
				t.Error("the release stage does not say that it completed the run")
			}
			if kept := e.object(orchestrating.ArtifactKey(e.run.ID, "api", "image")); !strings.Contains(kept, `"name":"image"`) {
				t.Errorf("the artifact's outcome is not kept: %q", kept)
			}
			if kept := e.object(orchestrating.ReleaseKey(e.run.ID, "api")); !strings.Contains(kept, `"release_number":1`) ||
				!strings.Contains(kept, `"environment":"dev"`) {
				t.Errorf("the release's outcome and its deployment to dev are not kept: %q", kept)
			}
			// The default policies auto-deploy to dev only: one
			// deployment job wrote dev's pointer, and the deployment is
			// active at its commit.
			d, err := e.store.CurrentDeployment(context.Background(), "dev", "acme/mono", "api")
			if err != nil || d.GitOpsCommitSHA != strings.Repeat("d", 40) || d.DeployedBy != deploying.AutoDeployer.Subject || d.ReleaseNumber != 1 {
				t.Errorf("dev's deployment = %+v, %v; want release 1 active at the worker's commit, by %s", d, err, deploying.AutoDeployer.Subject)
			}
			if want := []string{"environments/dev/acme/mono/api/release.yaml"}; !slices.Equal(e.written(), want) {
				t.Errorf("pointers written %v, want %v", e.written(), want)
			}
		}
		run := e.getRun()
		if run.Status != pipeline.StatusSuccess || run.CompletedAt == nil {
			t.Fatalf("release %v: run = %s (completed %v), want success", release, run.Status, run.CompletedAt)
		}
		want := map[string]pipeline.Status{"build/api": "success", "test/api": "success", "test/web": "success"}
		if got := taskStatuses(run); !equalStatuses(got, want) {
			t.Errorf("tasks = %v, want %v", got, want)
		}
		for _, id := range taskIDs(run) {
			if n := e.executions()[id]; n != 1 {
				t.Errorf("task %s ran %d times, want once", id, n)
			}
		}
		artifactJobs, releaseJobs := 0, 0
		for id, n := range e.executions() {
			if strings.Contains(id, "-artifact-") {
				artifactJobs += n
			}
			if strings.Contains(id, "-release-") {
				releaseJobs += n
			}
		}
		if want := map[bool]int{false: 0, true: 1}[release]; artifactJobs != want || releaseJobs != want {
			t.Errorf("release %v: %d artifact and %d release jobs ran, want %d of each", release, artifactJobs, releaseJobs, want)
		}
		// A retried last step of a finished run has nothing to do (and
		// deploys nothing again).
		if release {
			e.stage(StageRelease, "")
			if w := e.written(); len(w) != 1 {
				t.Errorf("the retried release stage deployed again: %v", w)
			}
		} else {
			e.stage(StagePhaseGroup, "2")
		}
	}
}

func TestFailingTaskStopsTheWorkflowAndSkipsLaterGroups(t *testing.T) {
	e := newEnv(t, output(false), func(_ context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error) {
		if tj.Phase == "build" {
			return orchestrating.TaskResult{Status: pipeline.StatusFailed, FailedStep: "compile"}, nil
		}
		return orchestrating.TaskResult{Status: pipeline.StatusSuccess}, nil
	})
	e.stage(StageDiscovery, "")
	err := Run(context.Background(), e.options(StagePhaseGroup, "1"))
	var ended *EndedError
	if !errors.As(err, &ended) || ended.Status != pipeline.StatusFailed || ExitCode(err) != ExitFailure {
		t.Fatalf("phase-group 1 = %v (exit code %d), want an EndedError of a failed run, exit 1", err, ExitCode(err))
	}
	run := e.getRun()
	if run.Status != pipeline.StatusFailed || !strings.Contains(run.Reason, "step compile of api failed in phase build") {
		t.Errorf("run = %s (%q)", run.Status, run.Reason)
	}
	want := map[string]pipeline.Status{"build/api": "failed", "test/api": "skipped", "test/web": "skipped"}
	if got := taskStatuses(run); !equalStatuses(got, want) {
		t.Errorf("tasks = %v, want %v", got, want)
	}
	if execs := e.executions(); len(execs) != 2 { // discovery and build/api
		t.Errorf("jobs run: %v; group 2 must never be dispatched", execs)
	}
}

func TestCancelledRunStopsTheNextStageWithoutDispatching(t *testing.T) {
	e := newEnv(t, output(true), succeed)
	e.stage(StageDiscovery, "")
	now := time.Now().UTC()
	if _, err := e.store.UpdateRun(context.Background(), e.run.ID, func(r *pipeline.Run) error {
		r.Status, r.Reason, r.CompletedAt = pipeline.StatusCancelled, "cancelled by alice", &now
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []struct{ stage, group string }{{StagePhaseGroup, "1"}, {StageRelease, ""}} {
		err := Run(context.Background(), e.options(st.stage, st.group))
		var ended *EndedError
		if !errors.As(err, &ended) || ended.Status != pipeline.StatusCancelled || ExitCode(err) != ExitFailure {
			t.Errorf("%s on a cancelled run = %v (exit code %d), want an EndedError, exit 1", st.stage, err, ExitCode(err))
		}
	}
	if execs := e.executions(); len(execs) != 1 {
		t.Errorf("jobs run: %v; only discovery ran before the cancel", execs)
	}
	run := e.getRun()
	if run.Status != pipeline.StatusCancelled || run.Reason != "cancelled by alice" {
		t.Errorf("run = %s (%q), want it cancelled by alice", run.Status, run.Reason)
	}
	for key, status := range taskStatuses(run) {
		if status != pipeline.StatusSkipped {
			t.Errorf("task %s is %s, want skipped", key, status)
		}
	}
}

// TestRetriedPhaseGroupAfterDroppedReplyRunsEachTaskOnce kills a
// phase-group stage after the worker took its CI job and before the
// reply reached the dispatcher (the handler returns only once the killed
// dispatcher has gone, so its reply finds no one), then runs the stage
// again as Argo's retry would: the retry gets the first execution's
// result instead of running the task again, and the run ends successful
// with every task's handler run exactly once.
func TestRetriedPhaseGroupAfterDroppedReplyRunsEachTaskOnce(t *testing.T) {
	received := make(chan struct{}, 4)
	dispatcherGone := make(chan struct{})
	e := newEnv(t, output(false), func(_ context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error) {
		if tj.Phase == "build" {
			received <- struct{}{}
			<-dispatcherGone
		}
		return orchestrating.TaskResult{Status: pipeline.StatusSuccess}, nil
	})
	e.stage(StageDiscovery, "")

	ctx, kill := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, e.options(StagePhaseGroup, "1")) }()
	select {
	case <-received:
	case err := <-errc:
		t.Fatalf("the stage returned before the worker took its job: %v", err)
	case <-time.After(waitLimit):
		t.Fatal("the worker never received the CI job of group 1")
	}
	kill() // SIGTERM of the pod
	var err error
	select {
	case err = <-errc:
	case <-time.After(waitLimit):
		t.Fatal("the killed stage did not return")
	}
	var ended *EndedError
	if err == nil || errors.As(err, &ended) || ExitCode(err) != ExitFailure {
		t.Fatalf("killed stage = %v (exit code %d), want an interruption error, exit 1", err, ExitCode(err))
	}
	if run := e.getRun(); run.Status != pipeline.StatusRunning || taskStatuses(run)["build/api"].Terminal() {
		t.Fatalf("after the kill the run is %s with build/api %s; want both unfinished", run.Status, taskStatuses(run)["build/api"])
	}
	close(dispatcherGone) // the handler returns; its reply goes to a dead inbox

	e.stage(StagePhaseGroup, "1") // Argo's retry
	e.stage(StagePhaseGroup, "2")

	run := e.getRun()
	if run.Status != pipeline.StatusSuccess {
		t.Fatalf("run = %s (%q), want success", run.Status, run.Reason)
	}
	want := map[string]pipeline.Status{"build/api": "success", "test/api": "success", "test/web": "success"}
	if got := taskStatuses(run); !equalStatuses(got, want) {
		t.Errorf("tasks = %v, want %v", got, want)
	}
	execs := e.executions()
	for _, id := range taskIDs(run) {
		if execs[id] != 1 {
			t.Errorf("task %s ran %d times, want exactly once", id, execs[id])
		}
	}
	if len(execs) != 4 { // discovery and the three tasks
		t.Errorf("jobs run: %v", execs)
	}
}

func TestUsageErrorsExitTwoBeforeConnecting(t *testing.T) {
	// Nothing listens on these: a usage error must come before any dial.
	base := Options{Stage: StagePhaseGroup, RunID: "run-1", Group: "1", Database: "postgres://forge@127.0.0.1:1/forge", NATSURL: "nats://127.0.0.1:1"}
	tests := map[string]struct {
		change func(*Options)
		want   string
	}{
		"no stage":        {func(o *Options) { o.Stage = "" }, "which stage"},
		"unknown stage":   {func(o *Options) { o.Stage = "deploy" }, `unknown stage "deploy"`},
		"no run id":       {func(o *Options) { o.RunID = "" }, "FORGE_RUN_ID"},
		"no group":        {func(o *Options) { o.Group = "" }, "--group N"},
		"group zero":      {func(o *Options) { o.Group = "0" }, "positive group number"},
		"negative group":  {func(o *Options) { o.Group = "-1" }, "positive group number"},
		"group not a num": {func(o *Options) { o.Group = "two" }, `got "two"`},
		"no database":     {func(o *Options) { o.Database = "" }, "FORGE_DATABASE"},
		"no nats":         {func(o *Options) { o.NATSURL = "" }, "FORGE_NATS_URL"},
	}
	for name, tt := range tests {
		o := base
		tt.change(&o)
		err := Run(context.Background(), o)
		var usage *UsageError
		if !errors.As(err, &usage) || ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v (exit code %d), want a usage error mentioning %q, exit 2", name, err, ExitCode(err), tt.want)
		}
	}
}

func TestUnreachableDependenciesNameWhatFailedWithoutSecrets(t *testing.T) {
	closed := closedAddr(t)
	dir := t.TempDir()
	migrated := "sqlite://" + filepath.Join(dir, "forge.db")
	s, err := gormstore.Open(context.Background(), migrated)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	tests := map[string]struct {
		database, nats string
		want           []string
		secret         string
	}{
		"database down": {"postgres://forge:hunter2@" + closed + "/forge?sslmode=disable", "nats://" + closed,
			[]string{"database", closed}, "hunter2"},
		"schema not migrated": {"sqlite://" + filepath.Join(dir, "empty.db"), "nats://" + closed,
			[]string{"forge-api migrate"}, ""},
		"nats down": {migrated, "nats://alice:s3cr3t@" + closed,
			[]string{"NATS", closed}, "s3cr3t"},
	}
	for name, tt := range tests {
		var logs bytes.Buffer
		err := Run(context.Background(), Options{Stage: StageDiscovery, RunID: "run-1", Database: tt.database, NATSURL: tt.nats, OutDir: dir, Log: &logs})
		if err == nil || ExitCode(err) != ExitFailure {
			t.Errorf("%s: %v (exit code %d), want exit 1", name, err, ExitCode(err))
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not name %q", name, err, w)
			}
		}
		if tt.secret != "" && (strings.Contains(err.Error(), tt.secret) || strings.Contains(logs.String(), tt.secret)) {
			t.Errorf("%s: the password appears in the error or the log: %q", name, err)
		}
	}
}

// closedAddr returns a loopback address that nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func equalStatuses(a, b map[string]pipeline.Status) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestLargeDiscoveryOutputThroughTheObjectStore: a discovery output too
// large for a NATS message reaches the dispatcher through the object store
// it shares with the workers; without one the stage fails naming what is
// missing, and the stage run again with it picks up the stored result.
func TestLargeDiscoveryOutputThroughTheObjectStore(t *testing.T) {
	big := output(false)
	big.Projects[0].Phases["build"][0].Run = "echo " + strings.Repeat("x", 1200<<10)
	e := newEnv(t, big, succeed)
	o := e.options(StageDiscovery, "")
	o.Objects = objstore.Options{}
	if err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "this queue has no object store") {
		t.Fatalf("discovery without the object store = %v, want one naming the missing object store", err)
	}
	o.Objects = objstore.Options{Dir: e.objs}
	if err := Run(context.Background(), o); err != nil {
		t.Fatalf("discovery with the object store: %v", err)
	}
	if got := e.getRun(); len(got.DiscoveryOutput) < 1200<<10 || len(got.Phases) != 2 {
		t.Errorf("stored output = %d bytes, %d phases", len(got.DiscoveryOutput), len(got.Phases))
	}
}

// object reads an object of the workers' store, "" when it is missing.
func (e *env) object(key string) string {
	store, err := fsblob.New(e.objs)
	if err != nil {
		e.t.Fatal(err)
	}
	defer store.Close()
	rc, _, err := store.Get(context.Background(), key, 0)
	if err != nil {
		return ""
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return string(b)
}

// TestMetricsWhileAStageRuns: with --metrics-addr, a stage serves
// /readyz and /metrics while it waits for its jobs: the jobs the queue
// holds and the database pool.
func TestMetricsWhileAStageRuns(t *testing.T) {
	release := make(chan struct{})
	e := newEnv(t, output(false), func(ctx context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error) {
		<-release
		return orchestrating.TaskResult{Status: pipeline.StatusSuccess}, nil
	})
	e.stage(StageDiscovery, "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	o := e.options(StagePhaseGroup, "1")
	o.MetricsAddr = addr
	done := make(chan error, 1)
	go func() { done <- Run(context.Background(), o) }()
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	var text string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var code int
		if code, text = get("/metrics"); code == http.StatusOK && strings.Contains(text, `forge_queue_jobs{stream="pipeline-tasks"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			close(release)
			t.Fatalf("the stage's /metrics never showed its task in the queue:\n%s", text)
		}
	}
	if !strings.Contains(text, `go_sql_open_connections{db_name="forge"}`) || !strings.Contains(text, "forge_queue_depth_up 1") {
		t.Errorf("no database pool or depth state in:\n%s", text)
	}
	if code, body := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d %s", code, body)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if code, _ := get("/metrics"); code != 0 {
		t.Errorf("the ops server still answers (%d) after the stage ended", code)
	}
}

// TestGitHubHearsEveryStatusPointAndTheSummary: with GitHub options, the
// stages set the run's commit status at every point, and the last posts
// the summary on the pull request (GitHub is a stand-in speaking its REST
// API).
func TestGitHubHearsEveryStatusPointAndTheSummary(t *testing.T) {
	gh := githubtest.New(t)
	t.Setenv("FORGE_TEST_GITHUB_TOKEN", "ghp_dispatcher")
	e := newEnv(t, output(false), succeed)
	stage := func(name, group string) {
		t.Helper()
		o := e.options(name, group)
		o.GitHub = githubflags.Options{API: gh.URL, TokenRef: `{"provider":"env","name":"FORGE_TEST_GITHUB_TOKEN"}`,
			TargetURL: "https://argo.example.com/workflows/forge/{workflow}"}
		if err := Run(context.Background(), o); err != nil {
			t.Fatalf("%s %s: %v", name, group, err)
		}
	}
	stage(StageDiscovery, "")
	groups, _ := e.readPlan()
	for _, n := range groups {
		stage(StagePhaseGroup, strconv.Itoa(n))
	}
	var got []string
	for _, st := range gh.Statuses() {
		got = append(got, st["state"].(string)+": "+st["description"].(string))
		if st["context"] != "ci/catalyst-forge" {
			t.Errorf("context %v", st["context"])
		}
	}
	want := []string{
		"pending: Discovered 2 projects; running phase group 1 of 2",
		"pending: Running phase group 1 of 2 (0% complete)",
		"pending: Running phase group 2 of 2 (50% complete)",
	}
	if len(got) != 4 || strings.Join(got[:3], "\n") != strings.Join(want, "\n") || !strings.HasPrefix(got[3], "success: Pipeline succeeded in ") {
		t.Errorf("statuses:\n%s", strings.Join(got, "\n"))
	}
	comments := gh.Comments()
	if len(comments) != 1 {
		t.Fatalf("%d comments on the pull request, want the summary", len(comments))
	}
	for _, body := range comments {
		if !strings.Contains(body, "**Status:** success") || !strings.Contains(body, "| build | ✅ success | ✅ api |") {
			t.Errorf("summary:\n%s", body)
		}
	}
}
