// Package prommetrics holds the Prometheus metrics of the platform's
// processes (forge-api, forge-worker, forge-dispatcher) and serves them in
// the Prometheus text format. Each process makes one Metrics, feeds it
// through the hooks below (a request observer for the transports, a
// ports.StatusReporter decorator for run and phase outcomes, a
// ports.JobHandler decorator for jobs) and registers read-at-scrape
// sources (queue depth, git cache counters, the database pool). Every
// metric it can export is listed in Names, which the reference dashboard
// and alert rules are checked against.
package prommetrics

import (
	"context"
	"database/sql"
	"net/http"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
)

// The metrics' names.
const (
	RequestDuration       = "forge_api_request_duration_seconds"
	RunDuration           = "forge_run_duration_seconds"
	PhaseDuration         = "forge_phase_duration_seconds"
	JobDuration           = "forge_job_duration_seconds"
	JobsInFlight          = "forge_worker_jobs_in_flight"
	Redeliveries          = "forge_queue_redeliveries_total"
	QueueJobs             = "forge_queue_jobs"
	QueueUp               = "forge_queue_depth_up"
	GitCacheHits          = "forge_gitcache_hits_total"
	GitCacheMisses        = "forge_gitcache_misses_total"
	GitCacheEvicted       = "forge_gitcache_evictions_total"
	GitCacheBytes         = "forge_gitcache_bytes"
	GitCacheReuses        = "forge_gitcache_reuses_total"
	GitCacheReuseFailures = "forge_gitcache_reuse_failures_total"
)

// Metrics are one process's metrics. Its methods are safe for concurrent
// use.
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.HistogramVec
	runs         *prometheus.HistogramVec
	phases       *prometheus.HistogramVec
	jobs         *prometheus.HistogramVec
	inFlight     *prometheus.GaugeVec
	redeliveries *prometheus.CounterVec
}

// longBuckets suit runs and phases: a second to four hours.
var longBuckets = []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400}

// jobBuckets suit jobs: a tenth of a second to an hour.
var jobBuckets = []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}

// New returns the metrics of a process, with the Go runtime's and the
// process's own.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: RequestDuration,
			Help: "API requests by transport (http, nats), route (HTTP pattern or endpoint name) and code (HTTP status, or NATS outcome or error code)."},
			[]string{"transport", "route", "code"}),
		runs: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: RunDuration, Buckets: longBuckets,
			Help: "Pipeline runs that finished, by status (success, failed, cancelled), from start to end."}, []string{"status"}),
		phases: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: PhaseDuration, Buckets: longBuckets,
			Help: "Phases of finished runs, by phase name and status."}, []string{"phase", "status"}),
		jobs: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: JobDuration, Buckets: jobBuckets,
			Help: "Jobs a worker processed, by type and outcome (ok, error)."}, []string{"type", "outcome"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: JobsInFlight,
			Help: "Jobs this worker is processing now, by type."}, []string{"type"}),
		redeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: Redeliveries,
			Help: "Jobs this worker received again after an earlier delivery (a worker died, a lease lapsed), by type."}, []string{"type"}),
	}
	m.reg.MustRegister(m.requests, m.runs, m.phases, m.jobs, m.inFlight, m.redeliveries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveRequest records one API request.
func (m *Metrics) ObserveRequest(transport, route, code string, took time.Duration) {
	m.requests.WithLabelValues(transport, route, code).Observe(took.Seconds())
}

// Status returns a StatusReporter that records each finished run and its
// phases, then passes every report on to next (nil: none).
func (m *Metrics) Status(next ports.StatusReporter) ports.StatusReporter {
	return statusRecorder{m: m, next: next}
}

type statusRecorder struct {
	m    *Metrics
	next ports.StatusReporter
}

func (s statusRecorder) Report(ctx context.Context, run *pipeline.Run, point ports.StatusPoint, description string) error {
	if point == ports.StatusFinished && run.CompletedAt != nil {
		s.m.runs.WithLabelValues(string(run.Status)).Observe(run.CompletedAt.Sub(run.StartedAt).Seconds())
		for _, ph := range run.Phases {
			if ph.StartedAt != nil && ph.CompletedAt != nil {
				s.m.phases.WithLabelValues(ph.Name, string(ph.Status)).Observe(ph.CompletedAt.Sub(*ph.StartedAt).Seconds())
			}
		}
	}
	if s.next == nil {
		return nil
	}
	return s.next.Report(ctx, run, point, description)
}

// Jobs returns handle recording each job: in flight while it runs, its
// duration and outcome when it ends, and a redelivery when it is not the
// job's first delivery.
func (m *Metrics) Jobs(handle ports.JobHandler) ports.JobHandler {
	return func(ctx context.Context, d *ports.Delivery) ([]byte, error) {
		t := string(d.Job.Type)
		if d.Attempt > 1 {
			m.redeliveries.WithLabelValues(t).Inc()
		}
		g := m.inFlight.WithLabelValues(t)
		g.Inc()
		defer g.Dec()
		start := time.Now()
		out, err := handle(ctx, d)
		outcome := "ok"
		if err != nil {
			outcome = "error"
		}
		m.jobs.WithLabelValues(t, outcome).Observe(time.Since(start).Seconds())
		return out, err
	}
}

// QueueDepth exports, at each scrape, the jobs each stream holds (queued
// or being processed: the job streams keep a job until it is done), read
// by depth; forge_queue_depth_up is 0 when it failed.
func (m *Metrics) QueueDepth(depth func(ctx context.Context) (map[string]uint64, error)) {
	m.reg.MustRegister(&depthCollector{depth: depth,
		jobs: prometheus.NewDesc(QueueJobs, "Jobs a queue stream holds: queued or being processed.", []string{"stream"}, nil),
		up:   prometheus.NewDesc(QueueUp, "Whether the last read of the queue's depth succeeded.", nil, nil)})
}

type depthCollector struct {
	depth    func(ctx context.Context) (map[string]uint64, error)
	jobs, up *prometheus.Desc
}

func (c *depthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.jobs; ch <- c.up }

func (c *depthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := c.depth(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	streams := make([]string, 0, len(got))
	for s := range got {
		streams = append(streams, s)
	}
	sort.Strings(streams)
	for _, s := range streams {
		ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(got[s]), s)
	}
}

// GitCacheStats are the counters of a git cache.
type GitCacheStats struct {
	Hits, Misses, Evictions uint64
	Bytes                   int64
	Reuses, ReuseFailures   uint64
}

// GitCache exports a git cache's counters, read by stats at each scrape.
func (m *Metrics) GitCache(stats func() GitCacheStats) {
	read := func(f func(GitCacheStats) float64) func() float64 { return func() float64 { return f(stats()) } }
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: GitCacheHits, Help: "Checkouts whose commit was in the git cache."},
			read(func(s GitCacheStats) float64 { return float64(s.Hits) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: GitCacheMisses, Help: "Checkouts that fetched their commit."},
			read(func(s GitCacheStats) float64 { return float64(s.Misses) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: GitCacheEvicted, Help: "Repositories evicted from the git cache to keep it within its budget."},
			read(func(s GitCacheStats) float64 { return float64(s.Evictions) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: GitCacheBytes, Help: "Bytes the git cache's repositories take."},
			read(func(s GitCacheStats) float64 { return float64(s.Bytes) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: GitCacheReuses, Help: "Checkouts made from a kept workspace."},
			read(func(s GitCacheStats) float64 { return float64(s.Reuses) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: GitCacheReuseFailures, Help: "Kept workspaces that could not be reused and were made afresh."},
			read(func(s GitCacheStats) float64 { return float64(s.ReuseFailures) })),
	)
}

// Database exports the statistics of a connection pool (go_sql_*, with
// db_name "forge": connections open, in use, idle, waits).
func (m *Metrics) Database(db *sql.DB) {
	if db != nil {
		m.reg.MustRegister(collectors.NewDBStatsCollector(db, "forge"))
	}
}

// Names lists every metric a process can export through Metrics, for the
// checks of dashboards and alert rules (histograms as their _bucket, _sum
// and _count series).
func Names() []string {
	var out []string
	for _, h := range []string{RequestDuration, RunDuration, PhaseDuration, JobDuration} {
		out = append(out, h+"_bucket", h+"_sum", h+"_count")
	}
	out = append(out, JobsInFlight, Redeliveries, QueueJobs, QueueUp, GitCacheHits, GitCacheMisses, GitCacheEvicted, GitCacheBytes,
		"go_sql_open_connections", "go_sql_in_use_connections", "go_sql_idle_connections", "go_sql_max_open_connections",
		"go_sql_wait_count_total", "go_sql_wait_duration_seconds_total",
		"go_goroutines", "process_resident_memory_bytes", "process_cpu_seconds_total")
	sort.Strings(out)
	return out
}
