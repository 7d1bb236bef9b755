package working_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/memory/memqueue"
	"github.com/catalyst-forge/forge/adapters/memory/memstore"
	"github.com/catalyst-forge/forge/application/discovering"
	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/domain/pipeline"
)

// childEnv makes this test binary the child of a discovering.Isolated.
const childEnv = "FORGE_DISCOVERY_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(discovering.ServeChild(os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

// TestDiscoveryPastItsLimitFailsTheRun runs a pipeline whose repository
// holds a configuration that evaluates for minutes. With the worker's
// discovery bounded, the discovery job fails at the limit and the
// orchestrator fails the run with a reason naming the file; unbounded,
// the run stayed running while the worker evaluated.
func TestDiscoveryPastItsLimitFailsTheRun(t *testing.T) {
	e := newEnv(map[string]string{
		".forge/repo.cue": "package repo\nforgeVersion: \"v1.0.0\"\ntagging: strategy: \"monorepo\"\nphases: test: {group: 1}\n",
		"api/.forge/project.cue": "package project\n\nimport \"list\"\n\nname: \"api\"\nci: phases: test: unit: {action: \"script\", run: \"true\"}\n" +
			"_n: 100000\ndeployment: resources: [{apiVersion: \"v1\", kind: \"K\", metadata: name: \"n\", spec: [for i in list.Range(0, _n, 1) for j in list.Range(0, _n, 1) {i+j}]}]\n",
	})
	bounded := &discovering.Isolated{Path: os.Args[0], Env: []string{childEnv + "=1"}, Limits: discovering.Limits{FileTime: time.Second}}
	e.w.Discover = bounded.Discover

	store, queue := memstore.New(), memqueue.New()
	t.Cleanup(queue.Close)
	ctx, cancel := context.WithCancel(context.Background())
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		_ = queue.Consume(ctx, []job.Type{job.TypeDiscovery}, 1, e.w.Handle)
	}()
	t.Cleanup(func() { cancel(); <-consumed })

	now := time.Now().UTC()
	run, _, err := store.CreateRun(context.Background(), &pipeline.Run{Repository: "acme/mono", Branch: "main",
		CommitSHA: strings.Repeat("a", 40), Status: pipeline.StatusPending, CreatedAt: now, StartedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	orch := &orchestrating.Orchestrator{Store: store, Jobs: queue, DiscoveryTimeout: 2 * time.Minute}
	// Bounds the test should the discovery's bound not hold.
	runCtx, stop := context.WithTimeout(context.Background(), time.Minute)
	defer stop()
	if err := orch.Execute(runCtx, run.ID); err != nil {
		t.Fatalf("Execute: %v", err)
	}
	got, err := store.GetRun(context.Background(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := "discovery failed: discovery stopped at its limits: api/.forge/project.cue: the evaluation took longer than 1s, the limit for one configuration"
	if got.Status != pipeline.StatusFailed || !strings.HasPrefix(got.Reason, want) {
		t.Fatalf("run = %s (%q)\nwant failed (%q…)", got.Status, got.Reason, want)
	}
}
