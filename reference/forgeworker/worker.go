// Package forgeworker is the reference worker process (forge-worker): it
// pulls discovery and CI jobs from NATS JetStream, checks the commit out
// through the git cache, runs the steps, streams their logs to the object
// store and reports statuses through the API, as spec 03 describes. It
// wires application/working to the on-premises and AWS adapters.
package forgeworker

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/nats-io/nats.go"
	"github.com/sirupsen/logrus"

	"github.com/catalyst-forge/forge/adapters/onprem/gitcache"
	"github.com/catalyst-forge/forge/adapters/onprem/gitops"
	"github.com/catalyst-forge/forge/adapters/onprem/natsqueue"
	"github.com/catalyst-forge/forge/adapters/onprem/prommetrics"
	"github.com/catalyst-forge/forge/adapters/onprem/stepexec"
	"github.com/catalyst-forge/forge/application/discovering"
	"github.com/catalyst-forge/forge/application/publishing"
	"github.com/catalyst-forge/forge/application/working"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/reference/internal/discoverchild"
	"github.com/catalyst-forge/forge/reference/internal/opsserver"
	"github.com/catalyst-forge/forge/reference/objstore"
	"github.com/catalyst-forge/forge/reference/publishflags"
	"github.com/catalyst-forge/forge/reference/redact"
	"github.com/catalyst-forge/forge/reference/secretflags"
	"github.com/catalyst-forge/forge/transport/endpoints"
	httptransport "github.com/catalyst-forge/forge/transport/http"
	natstransport "github.com/catalyst-forge/forge/transport/nats"
)

// Options configure a worker. Every field has a flag and a FORGE_*
// environment variable in reference/cmd/forge-worker.
type Options struct {
	// Types are the job types to take: discovery, ci or both.
	Types []string
	// Concurrency is how many jobs run at once (default 2).
	Concurrency int
	// NATSURL is the JetStream server (required).
	NATSURL string
	// Server is the API the worker reports to, with a service-account
	// token: Token, or TokenFile read again when it changes.
	Server, Token, TokenFile string
	// Report, when set, is where statuses and releases go instead of
	// Server: an http(s):// API address, or a nats:// server on which
	// forge-api serves its endpoints (forge-api --serve-nats), so that a
	// cluster's workers need no route to the API's ingress. One of Server
	// and Report is required.
	Report string
	// CacheDir holds the git cache and the workspaces (required);
	// CacheBudget bounds the cache's size in bytes (0: the default).
	CacheDir    string
	CacheBudget int64
	// Remote maps a repository to the URL it is fetched from (see
	// working.RemoteTemplate; default working.DefaultRemote).
	Remote string
	// Objects is where logs (and results too large for a message) go.
	Objects objstore.Options
	// Publish says where artifact jobs publish and how tracking images
	// are signed (needed with the artifact type).
	Publish publishflags.Options
	// Secrets says which environment variables and files steps may read
	// as secrets; the cache, the object directory and the token file
	// never are.
	Secrets secretflags.Options
	// GitOps is the repository deployment jobs commit pointers to (needed
	// with the deployment type).
	GitOps GitOpsOptions
	// ShutdownGrace is how long running jobs get to finish when the
	// worker stops before they go back to the queue (default 25 s);
	// AckWait how soon a job of a dead worker is offered again (default
	// natsqueue's).
	ShutdownGrace time.Duration
	AckWait       time.Duration
	// Discovery bounds each discovery, which runs in a child of this
	// binary (it must call discoverchild.Serve first); zero fields take
	// discovering's defaults.
	Discovery discovering.Limits
	// MetricsAddr, when set, is where /metrics (Prometheus), /healthz and
	// /readyz (NATS connected) are served.
	MetricsAddr string
	// Log receives JSON log lines (default stderr).
	Log io.Writer
}

// GitOpsOptions say where deployments are committed and with what
// credential.
type GitOpsOptions struct {
	// URL of the GitOps repository (https://, ssh://, git@host:path,
	// file://); Branch its branch (default main).
	URL, Branch string
	// CredentialRef is a secret reference in JSON: an HTTPS token for an
	// http(s) URL, an SSH private key (PEM) for an SSH one; empty for
	// none. Builds never read it.
	CredentialRef string
}

// Defaults of a worker.
const (
	DefaultConcurrency   = 2
	DefaultShutdownGrace = 25 * time.Second
)

// Run consumes jobs until ctx ends, then lets running jobs finish within
// the shutdown grace and hands the others back. It returns an error when
// the worker cannot start (bad options, an unreachable dependency) or its
// queue fails for good.
func Run(ctx context.Context, o Options) error {
	log := logrus.New()
	log.SetFormatter(&logrus.JSONFormatter{})
	if o.Log != nil {
		log.SetOutput(o.Log)
	}
	types, err := parseTypes(o.Types)
	if err != nil {
		return err
	}
	if o.NATSURL == "" || (o.Server == "" && o.Report == "") || o.CacheDir == "" {
		return fault.New(fault.Validation, "a worker needs --nats, --cache-dir, and --server or --report")
	}
	if o.Token == "" && o.TokenFile == "" {
		return fault.New(fault.Validation, "a worker needs a service-account token: set FORGE_TOKEN or pass --token-file")
	}
	report, err := reportURL(o)
	if err != nil {
		return err
	}
	if o.Remote == "" {
		o.Remote = working.DefaultRemote
	}
	remote, err := working.RemoteTemplate(o.Remote)
	if err != nil {
		return err
	}
	concurrency := o.Concurrency
	if concurrency == 0 {
		concurrency = DefaultConcurrency
	}
	grace := o.ShutdownGrace
	if grace == 0 {
		grace = DefaultShutdownGrace
	}

	secretOpts, deny := o.Secrets, []string{o.CacheDir, o.Objects.Dir, o.TokenFile, o.Publish.SigningKey}
	if o.Publish.SigningKeyRef != "" {
		if secretOpts, deny, err = publishflags.OwnSigningKey(ctx, &o.Publish, o.Secrets, deny); err != nil {
			return err
		}
	}
	var repo ports.GitOps
	if slices.Contains(types, job.TypeDeployment) {
		if repo, secretOpts, deny, err = openGitOps(ctx, o.GitOps, secretOpts, deny); err != nil {
			return err
		}
	}
	secrets, err := secretflags.Registry(ctx, secretOpts, deny...)
	if err != nil {
		return err
	}
	// Steps die with this worker (the parent-death signal); what a killed
	// worker on this cache left of its steps is stopped now.
	steps := stepexec.New(stepexec.WithStateDir(filepath.Join(o.CacheDir, "steps")))
	if n, err := steps.Sweep(); err != nil {
		return err
	} else if n > 0 {
		log.WithField("processes", n).Warn("stopped the processes of steps a killed worker left running")
	}
	var artifacts *publishing.Service
	if slices.Contains(types, job.TypeArtifact) {
		if artifacts, err = publishflags.Service(o.Publish, steps, secrets); err != nil {
			return err
		}
	}
	objects, closeObjects, err := objstore.Open(ctx, o.Objects)
	if err != nil {
		return err
	}
	defer closeObjects()
	var cacheOpts []gitcache.Option
	if o.CacheBudget > 0 {
		cacheOpts = append(cacheOpts, gitcache.WithBudget(o.CacheBudget))
	}
	cache, err := gitcache.New(o.CacheDir, cacheOpts...)
	if err != nil {
		return err
	}
	nc, err := nats.Connect(o.NATSURL, nats.Name("forge-worker"), nats.MaxReconnects(-1))
	if err != nil {
		return fault.New(fault.Unavailable, "connecting to NATS at %s: %s", redact.URLs(o.NATSURL), redact.Scrub(err.Error(), o.NATSURL))
	}
	defer nc.Close()
	qopts := []natsqueue.Option{natsqueue.WithObjectStore(objects), natsqueue.WithShutdownGrace(grace)}
	if o.AckWait > 0 {
		for _, t := range types {
			qopts = append(qopts, natsqueue.WithAckWait(t, o.AckWait))
		}
	}
	queue, err := natsqueue.New(ctx, nc, qopts...)
	if err != nil {
		return err
	}
	client, closeClient, err := apiClient(o, report, nc)
	if err != nil {
		return err
	}
	defer closeClient()
	var releaser *working.Releaser
	if slices.Contains(types, job.TypeRelease) {
		if releaser, err = publishflags.Releaser(o.Publish, endpoints.Releases{Client: client}); err != nil {
			return err
		}
	}
	// A child waits for the next discovery, started ahead so that a run's
	// discovery does not wait for the binary's start.
	discover := discoverchild.New(o.Discovery)
	if slices.Contains(types, job.TypeDiscovery) {
		discover.KeepWarm = true
		discover.Warm()
		defer discover.Close()
	}
	w := &working.Worker{
		Artifacts: artifacts,
		Releaser:  releaser,
		GitOps:    repo,
		Discover:  discover.Discover,
		Sources:   cache,
		Steps:     steps,
		Objects:   objects,
		Reporter:  endpoints.Reporter{Client: client},
		Remote:    remote,
		Secrets:   secrets.Resolve,
		// Causes of the failures whose reasons say only what failed.
		Log: slog.New(slog.NewJSONHandler(log.Out, nil)),
	}
	metrics := prommetrics.New()
	metrics.QueueDepth(queue.Depth)
	metrics.GitCache(func() prommetrics.GitCacheStats {
		st := cache.Stats()
		return prommetrics.GitCacheStats{Hits: uint64(st.Hits), Misses: uint64(st.Misses), Evictions: uint64(st.Evictions), Bytes: st.Bytes,
			Reuses: uint64(st.Reuses), ReuseFailures: uint64(st.ReuseFailures)}
	})
	if o.MetricsAddr != "" {
		ops, err := opsserver.Start(o.MetricsAddr, metrics.Handler(), func(context.Context) error { return opsserver.NATSReady(nc) })
		if err != nil {
			return err
		}
		defer ops.Close()
	}
	log.WithFields(logrus.Fields{"types": o.Types, "concurrency": concurrency, "nats": redact.URLs(o.NATSURL), "server": redact.URLs(o.Server), "report": redact.URLs(o.Report), "remote": redact.URLs(o.Remote)}).Info("forge-worker consuming")
	err = queue.Consume(ctx, types, concurrency, logged(log, metrics.Jobs(w.Handle)))
	log.Info("forge-worker stopped")
	return err
}

// reportURL is where statuses and releases go: Report, or else Server,
// an http(s):// or nats:// URL.
func reportURL(o Options) (*url.URL, error) {
	target := o.Report
	if target == "" {
		target = o.Server
	}
	u, err := url.Parse(target)
	if err != nil || u.Host == "" || !slices.Contains([]string{"http", "https", "nats", "tls"}, u.Scheme) {
		return nil, fault.New(fault.Validation, "--report and --server must be http(s):// or nats:// URLs, got %q", redact.URLs(target))
	}
	return u, nil
}

// apiClient is the client statuses and releases are reported through:
// over NATS for a nats:// URL (on the queue's connection when it is the
// same server), over HTTP otherwise.
func apiClient(o Options, report *url.URL, queueConn *nats.Conn) (endpoints.API, func(), error) {
	target := report.String()
	if report.Scheme == "http" || report.Scheme == "https" {
		return &httptransport.Client{BaseURL: target, Token: o.Token, TokenFile: o.TokenFile}, func() {}, nil
	}
	if sameServer(report, o.NATSURL) {
		return &natstransport.Client{Conn: queueConn, Token: o.Token, TokenFile: o.TokenFile}, func() {}, nil
	}
	nc, err := nats.Connect(target, nats.Name("forge-worker-report"), nats.MaxReconnects(-1))
	if err != nil {
		return nil, nil, fault.New(fault.Unavailable, "connecting to NATS at %s to report: %s", redact.URLs(target), redact.Scrub(err.Error(), target))
	}
	return &natstransport.Client{Conn: nc, Token: o.Token, TokenFile: o.TokenFile}, nc.Close, nil
}

// sameServer reports whether a nats:// URL names the server of another
// URL: the same host and port, whatever the spelling of the rest.
func sameServer(u *url.URL, other string) bool {
	o, err := url.Parse(other)
	return err == nil && strings.EqualFold(u.Host, o.Host)
}

// logged logs each job's start and end, with its run, its project (for
// the job types whose payload names one) and its trace ID, the one the
// dispatcher's and the API's lines of the run carry.
func logged(log *logrus.Logger, handle ports.JobHandler) ports.JobHandler {
	return func(ctx context.Context, d *ports.Delivery) ([]byte, error) {
		fields := logrus.Fields{"job_id": d.Job.ID, "job_type": d.Job.Type, "run_id": d.Job.RunID, "attempt": d.Attempt,
			"trace_id": ports.TraceIDFrom(ctx)}
		if p := projectOf(d.Job.Payload); p != "" {
			fields["project"] = p
		}
		entry := log.WithFields(fields)
		entry.Info("job started")
		start := time.Now()
		out, err := handle(ctx, d)
		entry = entry.WithField("duration_ms", time.Since(start).Milliseconds())
		if err != nil {
			entry.WithError(err).Warn("job failed")
		} else {
			entry.Info("job done")
		}
		return out, err
	}
}

// projectOf reads the project a job's payload names: a string "project"
// (CI and artifact jobs) or an object's "name" (release jobs); "" when
// none.
func projectOf(payload []byte) string {
	var p struct {
		Project json.RawMessage `json:"project"`
	}
	if json.Unmarshal(payload, &p) != nil || len(p.Project) == 0 {
		return ""
	}
	var name string
	if json.Unmarshal(p.Project, &name) == nil {
		return name
	}
	var obj struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(p.Project, &obj)
	return obj.Name
}

func parseTypes(names []string) ([]job.Type, error) {
	if len(names) == 0 {
		return []job.Type{job.TypeDiscovery, job.TypeCI}, nil
	}
	var types []job.Type
	for _, n := range names {
		switch t := job.Type(strings.TrimSpace(n)); t {
		case job.TypeDiscovery, job.TypeCI, job.TypeArtifact, job.TypeRelease, job.TypeDeployment:
			types = append(types, t)
		default:
			return nil, fault.New(fault.Validation, "--types: this worker takes discovery, ci, artifact, release and deployment jobs, not %q", n)
		}
	}
	return types, nil
}

// openGitOps opens the GitOps repository deployment jobs commit to, with
// its credential resolved from its secret reference and kept out of the
// builds' reach: it returns the secret options and denied paths builds
// get.
func openGitOps(ctx context.Context, o GitOpsOptions, secrets secretflags.Options, deny []string) (ports.GitOps, secretflags.Options, []string, error) {
	if o.URL == "" {
		return nil, secrets, deny, fault.New(fault.Validation, "deployment jobs need --gitops URL (the GitOps repository)")
	}
	var auth transport.AuthMethod
	if o.CredentialRef != "" {
		value, builds, buildDeny, err := secretflags.ReadOwn(ctx, secrets, "--gitops-credential-ref", o.CredentialRef, deny)
		if err != nil {
			return nil, secrets, deny, err
		}
		secrets, deny = builds, buildDeny
		if strings.HasPrefix(o.URL, "http://") || strings.HasPrefix(o.URL, "https://") {
			auth = gitops.TokenAuth(strings.TrimSpace(value))
		} else if auth, err = gitops.SSHKeyAuth("", []byte(value)); err != nil {
			return nil, secrets, deny, fmt.Errorf("--gitops-credential-ref: %w", err)
		}
	}
	repo, err := gitops.New(gitops.Options{URL: o.URL, Branch: o.Branch, Auth: auth})
	return repo, secrets, deny, err
}
