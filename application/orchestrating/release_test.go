package orchestrating_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/domain/artifact"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
)

// releaseOutput is output() with a release: api (two artifacts) and web
// (one) are release-triggered, docs (one artifact) is not.
func releaseOutput() (out discovery.Output) {
	out = output()
	out.ReleaseEnabled = true
	out.Repository.Publishers = map[string]config.Publisher{"docker": {Type: "docker", Settings: map[string]any{"registry": "r.test"}}}
	art := func(typ config.ArtifactType) config.Artifact {
		return config.Artifact{Type: typ, Producer: config.Producer{Script: &config.ScriptProducer{Run: "make"}}, Publishers: map[string]map[string]any{"docker": {}}}
	}
	out.Projects[0].ReleaseTriggered = true
	out.Projects[0].Artifacts = map[string]config.Artifact{"image": art(config.ArtifactContainer), "cli": art(config.ArtifactBinary)}
	out.Projects[1].ReleaseTriggered = true
	out.Projects[1].Artifacts = map[string]config.Artifact{"site": art(config.ArtifactArchive)}
	out.Projects = append(out.Projects, discovery.Project{Name: "docs", Path: "docs", Artifacts: map[string]config.Artifact{"book": art(config.ArtifactArchive)}})
	out.Commit = &discovery.Commit{SHA: strings.Repeat("a", 40), Time: time.Unix(1700000000, 0).UTC(), Author: "Ada <ada@acme.test>", Message: "ship it"}
	return out
}

// releases consumes release jobs: decide makes each outcome.
func (f *fixture) releases(t *testing.T, decide func(rj orchestrating.ReleaseJob) orchestrating.ReleaseResult) *[]orchestrating.ReleaseJob {
	var mu sync.Mutex
	var jobs []orchestrating.ReleaseJob
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		_ = f.queue.Consume(ctx, []job.Type{job.TypeRelease}, 8, func(_ context.Context, d *ports.Delivery) ([]byte, error) {
			var rj orchestrating.ReleaseJob
			if err := json.Unmarshal(d.Job.Payload, &rj); err != nil {
				return nil, err
			}
			mu.Lock()
			jobs = append(jobs, rj)
			mu.Unlock()
			return json.Marshal(decide(rj))
		})
	}()
	return &jobs
}

func released(rj orchestrating.ReleaseJob) orchestrating.ReleaseResult {
	return orchestrating.ReleaseResult{Project: rj.Project.Name, Number: 1, Aliases: []string{"1", "main-1"},
		Reference: "releases.test/acme/mono/" + rj.Project.Name + ":" + rj.CommitSHA, Digest: "sha256:" + strings.Repeat("d", 64), Created: true, Pushed: true}
}

// objects is a map-backed object store, enough for the outcomes the
// release stage keeps.
type objects struct {
	ports.ObjectStore
	mu   sync.Mutex
	data map[string][]byte
}

func (o *objects) Put(_ context.Context, key string, r io.Reader, _ ports.PutOptions) (ports.ObjectInfo, error) {
	b, err := io.ReadAll(r)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.data == nil {
		o.data = map[string][]byte{}
	}
	o.data[key] = b
	return ports.ObjectInfo{Key: key, Size: int64(len(b))}, err
}

func (o *objects) Get(_ context.Context, key string, _ int64) (io.ReadCloser, ports.ObjectInfo, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	b, ok := o.data[key]
	if !ok {
		return nil, ports.ObjectInfo{}, fault.New(fault.NotFound, "no object %s", key)
	}
	return io.NopCloser(bytes.NewReader(b)), ports.ObjectInfo{Key: key, Size: int64(len(b))}, nil
}

// artifacts consumes artifact jobs: build decides each outcome.
func (f *fixture) artifacts(t *testing.T, build func(aj orchestrating.ArtifactJob) artifact.Output) *[]orchestrating.ArtifactJob {
	var mu sync.Mutex
	var jobs []orchestrating.ArtifactJob
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		_ = f.queue.Consume(ctx, []job.Type{job.TypeArtifact}, 8, func(_ context.Context, d *ports.Delivery) ([]byte, error) {
			var aj orchestrating.ArtifactJob
			if err := json.Unmarshal(d.Job.Payload, &aj); err != nil {
				return nil, err
			}
			mu.Lock()
			jobs = append(jobs, aj)
			mu.Unlock()
			return json.Marshal(build(aj))
		})
	}()
	return &jobs
}

func published(aj orchestrating.ArtifactJob) artifact.Output {
	return artifact.Output{Name: aj.Name, Project: aj.Project, Type: string(aj.Artifact.Type), Producer: map[string]any{"digest": "sha256:x"},
		Publishers: map[string]artifact.Publication{"docker": {Type: "docker", Status: artifact.Published, Fields: map[string]any{"uri": "r.test/" + aj.Name}}}}
}

func TestReleaseStageBuildsEveryArtifactOfTriggeredProjects(t *testing.T) {
	f := newFixture(t)
	f.worker(t, discoveryOf(releaseOutput()), func(_ context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error) {
		return f.runSteps(tj, ""), nil
	})
	jobs := f.artifacts(t, published)
	rels := f.releases(t, released)
	if err := f.orch.Execute(context.Background(), f.run.ID); err != nil {
		t.Fatal(err)
	}
	run, _ := f.store.GetRun(context.Background(), f.run.ID)
	if run.Status != pipeline.StatusSuccess {
		t.Fatalf("run %s: %s", run.Status, run.Reason)
	}
	var projects []string
	for _, rj := range *rels {
		projects = append(projects, rj.Project.Name)
		want := map[string]int{"api": 2, "web": 1}[rj.Project.Name]
		if len(rj.Artifacts) != want || rj.Commit.Message != "ship it" || rj.CommitSHA != f.run.CommitSHA {
			t.Errorf("release job of %s: %d artifacts, commit %+v", rj.Project.Name, len(rj.Artifacts), rj.Commit)
		}
		for name, o := range rj.Artifacts {
			if o.Name != name || o.Project != rj.Project.Name || o.Publishers["docker"].Fields["uri"] != "r.test/"+name {
				t.Errorf("release job of %s carries artifact %s as %+v", rj.Project.Name, name, o)
			}
		}
	}
	slices.Sort(projects)
	if strings.Join(projects, " ") != "api web" {
		t.Errorf("release jobs of %v; want api and web", projects)
	}
	var built []string
	for _, aj := range *jobs {
		built = append(built, aj.Project+"/"+aj.Name)
		if aj.Publishers["docker"].Type != "docker" || aj.CommitSHA != f.run.CommitSHA || aj.Path == "" {
			t.Errorf("job %+v", aj)
		}
	}
	slices.Sort(built)
	if strings.Join(built, " ") != "api/cli api/image web/site" {
		t.Errorf("built %v; want the artifacts of api and web only", built)
	}
	if got := strings.Join(f.reports.points, "\n"); !strings.Contains(got, "phase: Releasing 2 project(s): building 3 artifact(s)") ||
		!strings.Contains(got, "phase: Released web: release 1 (1, main-1) at releases.test/acme/mono/web:") {
		t.Errorf("reports:\n%s", got)
	}
}

func TestReleaseStageFailureNamesTheArtifactAndPublisher(t *testing.T) {
	f := newFixture(t)
	f.worker(t, discoveryOf(releaseOutput()), func(_ context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error) {
		return f.runSteps(tj, ""), nil
	})
	jobs := f.artifacts(t, func(aj orchestrating.ArtifactJob) artifact.Output {
		out := published(aj)
		if aj.Name == "site" {
			out.Publishers["docker"] = artifact.Publication{Type: "docker", Status: artifact.Failed, Error: "the registry refused the credentials"}
		}
		return out
	})
	rels := f.releases(t, released)
	if err := f.orch.Execute(context.Background(), f.run.ID); err != nil {
		t.Fatal(err)
	}
	run, _ := f.store.GetRun(context.Background(), f.run.ID)
	if run.Status != pipeline.StatusFailed || run.Reason != "artifact site of web failed to publish (publisher docker: the registry refused the credentials)" {
		t.Errorf("run %s: %q", run.Status, run.Reason)
	}
	if len(*jobs) != 3 {
		t.Errorf("%d artifact jobs; one project's failure must not stop the others", len(*jobs))
	}
	if len(*rels) != 1 || (*rels)[0].Project.Name != "api" {
		t.Errorf("release jobs %v; want api's alone: web's artifact failed", *rels)
	}
}

func TestReleaseFailureOfOneProjectDoesNotStopAnother(t *testing.T) {
	f := newFixture(t)
	f.worker(t, discoveryOf(releaseOutput()), func(_ context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error) {
		return f.runSteps(tj, ""), nil
	})
	f.artifacts(t, published)
	rels := f.releases(t, func(rj orchestrating.ReleaseJob) orchestrating.ReleaseResult {
		if rj.Project.Name == "web" {
			return orchestrating.ReleaseResult{Project: "web", Error: `rendering web: @artifact("site.uri"): artifact site has no output uri`}
		}
		return released(rj)
	})
	if err := f.orch.Execute(context.Background(), f.run.ID); err != nil {
		t.Fatal(err)
	}
	run, _ := f.store.GetRun(context.Background(), f.run.ID)
	if run.Status != pipeline.StatusFailed || run.Reason != `release of web failed: rendering web: @artifact("site.uri"): artifact site has no output uri` {
		t.Errorf("run %s: %q", run.Status, run.Reason)
	}
	if len(*rels) != 2 {
		t.Errorf("%d release jobs; web's failure must not stop api's release", len(*rels))
	}
}

// A resumed release stage reuses what an earlier attempt kept: nothing
// that succeeded is built or released again.
func TestReleaseStageResumesFromKeptOutcomes(t *testing.T) {
	f := newFixture(t)
	f.orch.Objects = &objects{}
	arts := f.artifacts(t, published)
	rels := f.releases(t, released)
	ctx := context.Background()
	disc, _ := json.Marshal(releaseOutput())
	if _, err := f.store.UpdateRun(ctx, f.run.ID, func(r *pipeline.Run) error {
		r.Status, r.DiscoveryOutput = pipeline.StatusRunning, disc
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for attempt := range 2 {
		if ended, err := f.orch.Release(ctx, f.run.ID); err != nil || ended {
			t.Fatalf("attempt %d: ended %v, %v", attempt, ended, err)
		}
	}
	if len(*arts) != 3 || len(*rels) != 2 {
		t.Errorf("%d artifact and %d release jobs over two attempts; want 3 and 2: the kept outcomes must be reused", len(*arts), len(*rels))
	}
}

func TestNoReleaseWithoutTrigger(t *testing.T) {
	f := newFixture(t)
	out := releaseOutput()
	out.ReleaseEnabled = false
	for i := range out.Projects {
		out.Projects[i].ReleaseTriggered = false
	}
	f.worker(t, discoveryOf(out), func(_ context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error) {
		return f.runSteps(tj, ""), nil
	})
	jobs := f.artifacts(t, published)
	if err := f.orch.Execute(context.Background(), f.run.ID); err != nil {
		t.Fatal(err)
	}
	if run, _ := f.store.GetRun(context.Background(), f.run.ID); run.Status != pipeline.StatusSuccess || len(*jobs) != 0 {
		t.Errorf("run %s with %d artifact jobs", run.Status, len(*jobs))
	}
}

func TestCIJobsCarryTheRunsReportKey(t *testing.T) {
	f := newFixture(t)
	secret := []byte("orchestrator test secret........")
	f.orch.ReportSecret = secret
	f.worker(t, discoveryOf(output()), func(_ context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error) {
		return f.runSteps(tj, ""), nil
	})
	if err := f.orch.Execute(context.Background(), f.run.ID); err != nil {
		t.Fatal(err)
	}
	if len(f.tasks) == 0 {
		t.Fatal("no CI job ran")
	}
	for _, tj := range f.tasks {
		if !pipeline.ValidReportKey(secret, f.run.ID, tj.ReportKey) {
			t.Errorf("task %s carries report key %q, not its run's", tj.TaskID, tj.ReportKey)
		}
	}
}

// A run reopened after its release stage failed runs again only what
// failed: the failed artifact (its job carries the failed outcome, so
// the publishers that succeeded are not run again) and the releases that
// did not happen; its tasks and the artifacts and releases that
// succeeded keep their outcome.
func TestRetriedReleaseStageRerunsOnlyWhatFailed(t *testing.T) {
	f := newFixture(t)
	f.orch.Objects = &objects{}
	f.worker(t, discoveryOf(releaseOutput()), func(_ context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error) {
		return f.runSteps(tj, ""), nil
	})
	refusing := true // until the retry
	arts := f.artifacts(t, func(aj orchestrating.ArtifactJob) artifact.Output {
		out := published(aj)
		if aj.Name == "site" && refusing {
			out.Publishers["docker"] = artifact.Publication{Type: "docker", Status: artifact.Failed, Error: "the registry refused the credentials"}
		}
		return out
	})
	rels := f.releases(t, released)
	ctx := context.Background()
	if err := f.orch.Execute(ctx, f.run.ID); err != nil {
		t.Fatal(err)
	}
	if run, _ := f.store.GetRun(ctx, f.run.ID); run.Status != pipeline.StatusFailed {
		t.Fatalf("first attempt: run %s, want failed", run.Status)
	}
	tasks := len(f.tasks)
	refusing = false

	if _, err := f.store.ReopenRun(ctx, f.run.ID, f.orch.Clock.Now().Add(time.Second), func(*pipeline.Run) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := f.orch.Execute(ctx, f.run.ID); err != nil {
		t.Fatal(err)
	}
	run, _ := f.store.GetRun(ctx, f.run.ID)
	if run.Status != pipeline.StatusSuccess {
		t.Fatalf("retry: run %s (%q), want success", run.Status, run.Reason)
	}
	if len(f.tasks) != tasks {
		t.Errorf("the retry ran %d tasks again; its phases had succeeded", len(f.tasks)-tasks)
	}
	if len(*arts) != 4 {
		t.Fatalf("%d artifact jobs over both attempts, want 3 and then site alone", len(*arts))
	}
	again := (*arts)[3]
	if again.Name != "site" || again.Previous == nil || again.Previous.Publishers["docker"].Status != artifact.Failed {
		t.Errorf("retried artifact job = %s with previous outcome %+v; want site carrying its failed publication", again.Name, again.Previous)
	}
	var projects []string
	for _, rj := range *rels {
		projects = append(projects, rj.Project.Name)
	}
	if strings.Join(projects, " ") != "api web" {
		t.Errorf("release jobs %v; want api's (first attempt) and web's (the retry)", projects)
	}
}

// The release stage auto-deploys each release it made, through the hook,
// reports each deployment (a failed one too, without failing the run) and
// keeps them with the release's outcome.
func TestReleaseStageAutoDeploys(t *testing.T) {
	f := newFixture(t)
	objects := &objects{}
	f.orch.Objects = objects
	f.worker(t, discoveryOf(releaseOutput()), func(_ context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error) {
		return f.runSteps(tj, ""), nil
	})
	f.artifacts(t, published)
	f.releases(t, func(rj orchestrating.ReleaseJob) orchestrating.ReleaseResult {
		res := released(rj)
		res.ReleaseID = "rel-" + rj.Project.Name
		return res
	})
	var mu sync.Mutex
	var asked []string
	f.orch.AutoDeploy = func(_ context.Context, id string) ([]release.Deployment, error) {
		mu.Lock()
		asked = append(asked, id)
		mu.Unlock()
		if id == "rel-web" {
			return []release.Deployment{{Environment: "dev", ReleaseNumber: 1, Status: release.DeploymentFailed, Reason: "the remote refused the credentials"}}, nil
		}
		return []release.Deployment{{Environment: "dev", ReleaseNumber: 1, Status: release.DeploymentActive, GitOpsCommitSHA: "c0ffee"}}, nil
	}
	if err := f.orch.Execute(context.Background(), f.run.ID); err != nil {
		t.Fatal(err)
	}
	if run, _ := f.store.GetRun(context.Background(), f.run.ID); run.Status != pipeline.StatusSuccess {
		t.Fatalf("run %s: %s; a failed auto-deployment does not fail it", run.Status, run.Reason)
	}
	slices.Sort(asked)
	if strings.Join(asked, " ") != "rel-api rel-web" {
		t.Errorf("auto-deployed %v", asked)
	}
	got := strings.Join(f.reports.points, "\n")
	for _, want := range []string{"phase: Deployed api release 1 to dev: GitOps commit c0ffee", "phase: Deploying web release 1 to dev failed: the remote refused the credentials"} {
		if !strings.Contains(got, want) {
			t.Errorf("reports lack %q:\n%s", want, got)
		}
	}
	var kept orchestrating.ReleaseResult
	_ = json.Unmarshal(objects.data[orchestrating.ReleaseKey(f.run.ID, "api")], &kept)
	if len(kept.Deployments) != 1 || kept.Deployments[0].Commit != "c0ffee" {
		t.Errorf("kept outcome = %+v", kept)
	}
}
