package prommetrics_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/glebarez/go-sqlite" // the "sqlite" database/sql driver, for a real pool's statistics

	"github.com/catalyst-forge/forge/adapters/onprem/prommetrics"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
)

// scrape reads the metrics as Prometheus would.
func scrape(t *testing.T, m *prommetrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics answered %d: %s", rec.Code, rec.Body)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// fed returns metrics that have seen one of everything they record.
func fed(t *testing.T) *prommetrics.Metrics {
	t.Helper()
	m := prommetrics.New()
	m.ObserveRequest("http", "GET /v1/runs/{id}", "200", 3*time.Millisecond)
	start := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	phaseStart, phaseEnd, end := start.Add(time.Second), start.Add(41*time.Second), start.Add(90*time.Second)
	run := &pipeline.Run{Status: pipeline.StatusFailed, StartedAt: start, CompletedAt: &end,
		Phases: []pipeline.Phase{{Name: "test", Status: pipeline.StatusFailed, StartedAt: &phaseStart, CompletedAt: &phaseEnd}, {Name: "never", Status: pipeline.StatusPending}}}
	var passed []ports.StatusPoint
	next := reporterFunc(func(_ context.Context, _ *pipeline.Run, p ports.StatusPoint, _ string) error {
		passed = append(passed, p)
		return nil
	})
	status := m.Status(next)
	for _, p := range []ports.StatusPoint{ports.StatusCreated, ports.StatusFinished} {
		if err := status.Report(context.Background(), run, p, "x"); err != nil {
			t.Fatal(err)
		}
	}
	if len(passed) != 2 {
		t.Errorf("the decorated reporter got %v; want every point", passed)
	}
	handle := m.Jobs(func(_ context.Context, d *ports.Delivery) ([]byte, error) {
		if d.Job.Type == job.TypeArtifact {
			return nil, errors.New("build failed")
		}
		return nil, nil
	})
	for _, d := range []*ports.Delivery{{Job: job.Job{Type: job.TypeCI}, Attempt: 1}, {Job: job.Job{Type: job.TypeCI}, Attempt: 2},
		{Job: job.Job{Type: job.TypeArtifact}, Attempt: 1}} {
		_, _ = handle(context.Background(), d)
	}
	m.QueueDepth(func(context.Context) (map[string]uint64, error) {
		return map[string]uint64{"pipeline-tasks": 7, "pipeline-discovery": 0}, nil
	})
	m.GitCache(func() prommetrics.GitCacheStats {
		return prommetrics.GitCacheStats{Hits: 5, Misses: 2, Evictions: 1, Bytes: 4096, Reuses: 9, ReuseFailures: 3}
	})
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "pool.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	m.Database(db)
	return m
}

type reporterFunc func(context.Context, *pipeline.Run, ports.StatusPoint, string) error

func (f reporterFunc) Report(ctx context.Context, r *pipeline.Run, p ports.StatusPoint, d string) error {
	return f(ctx, r, p, d)
}

func TestEveryNameIsExportedOnceFed(t *testing.T) {
	text := scrape(t, fed(t))
	for _, name := range prommetrics.Names() {
		if !strings.Contains(text, "\n"+name+"{") && !strings.Contains(text, "\n"+name+" ") {
			t.Errorf("%s is listed in Names but not exported", name)
		}
	}
}

func TestWhatEachHookRecords(t *testing.T) {
	text := scrape(t, fed(t))
	for _, want := range []string{
		`forge_api_request_duration_seconds_count{code="200",route="GET /v1/runs/{id}",transport="http"} 1`,
		`forge_run_duration_seconds_sum{status="failed"} 90`,
		`forge_phase_duration_seconds_sum{phase="test",status="failed"} 40`,
		`forge_job_duration_seconds_count{outcome="ok",type="ci"} 2`,
		`forge_job_duration_seconds_count{outcome="error",type="artifact"} 1`,
		`forge_queue_redeliveries_total{type="ci"} 1`,
		`forge_worker_jobs_in_flight{type="ci"} 0`,
		`forge_queue_jobs{stream="pipeline-tasks"} 7`,
		`forge_queue_depth_up 1`,
		`forge_gitcache_hits_total 5`,
		`forge_gitcache_misses_total 2`,
		`forge_gitcache_bytes 4096`,
		`forge_gitcache_reuses_total 9`,
		`forge_gitcache_reuse_failures_total 3`,
		`go_sql_open_connections{db_name="forge"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in the scrape", want)
		}
	}
	if strings.Contains(text, `phase="never"`) {
		t.Error("a phase that never ran was recorded")
	}
	m := prommetrics.New()
	m.QueueDepth(func(context.Context) (map[string]uint64, error) { return nil, errors.New("nats: connection closed") })
	if text := scrape(t, m); !strings.Contains(text, "forge_queue_depth_up 0") || strings.Contains(text, "forge_queue_jobs{") {
		t.Errorf("a failed depth read must export up 0 and no depth:\n%s", text)
	}
}
