package orchestrating_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/memory/memqueue"
	"github.com/catalyst-forge/forge/adapters/memory/memstore"
	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/pipeline"
)

// BenchmarkOrchestration drives a run of 10 projects × 3 phases (one per
// group) of no-op steps through the orchestrator, the in-memory queue and
// store, and workers that report each step: the orchestration's own cost.
func BenchmarkOrchestration(b *testing.B) {
	out := discovery.Output{Repository: discovery.Repository{Phases: map[string]config.Phase{}}}
	for g, phase := range []string{"check", "build", "test"} {
		out.Repository.Phases[phase] = config.Phase{Group: g + 1}
		out.PhaseGroups = append(out.PhaseGroups, discovery.PhaseGroup{Group: g + 1, Phases: []string{phase}})
	}
	for p := range 10 {
		proj := discovery.Project{Name: fmt.Sprintf("p%02d", p), Path: fmt.Sprintf("p%02d", p), Phases: map[string][]config.Step{}}
		for phase := range out.Repository.Phases {
			proj.Phases[phase] = []config.Step{{Name: "noop", Action: config.ActionScript, Run: "true", Args: []string{}, Secrets: []config.SecretRef{}}}
		}
		out.Projects = append(out.Projects, proj)
	}
	for i := 0; b.Loop(); i++ {
		f := &fixture{store: memstore.New(), queue: memqueue.New(), reports: &reports{}}
		f.orch = &orchestrating.Orchestrator{Store: f.store, Jobs: f.queue, Status: f.reports}
		now := time.Now().UTC()
		run, _, _ := f.store.CreateRun(context.Background(), &pipeline.Run{Repository: "acme/mono", CommitSHA: strings.Repeat("b", 40),
			Status: pipeline.StatusPending, CreatedAt: now, StartedAt: now})
		stop := f.worker(b, discoveryOf(out), func(_ context.Context, tj orchestrating.TaskJob) (orchestrating.TaskResult, error) {
			return f.runSteps(tj, ""), nil
		})
		if err := f.orch.Execute(context.Background(), run.ID); err != nil {
			b.Fatal(err)
		}
		if got, _ := f.store.GetRun(context.Background(), run.ID); got.Status != pipeline.StatusSuccess {
			b.Fatalf("run ended %s", got.Status)
		}
		stop()
		f.queue.Close()
	}
}
