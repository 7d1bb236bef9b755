package orchestrating_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/domain/artifact"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/domain/pipeline"
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
	return out
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
	if err := f.orch.Execute(context.Background(), f.run.ID); err != nil {
		t.Fatal(err)
	}
	run, _ := f.store.GetRun(context.Background(), f.run.ID)
	if run.Status != pipeline.StatusSuccess {
		t.Fatalf("run %s: %s", run.Status, run.Reason)
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
	if got := strings.Join(f.reports.points, "\n"); !strings.Contains(got, "phase: Building 3 artifacts") {
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
