package forgeapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/sirupsen/logrus"

	"github.com/catalyst-forge/forge/adapters/aws/ebevents"
	"github.com/catalyst-forge/forge/adapters/aws/s3blob"
	"github.com/catalyst-forge/forge/adapters/onprem/fsblob"
	"github.com/catalyst-forge/forge/adapters/onprem/githubstatus"
	"github.com/catalyst-forge/forge/adapters/onprem/gormstore"
	"github.com/catalyst-forge/forge/adapters/onprem/logevents"
	"github.com/catalyst-forge/forge/adapters/onprem/logstatus"
	"github.com/catalyst-forge/forge/adapters/onprem/natsevents"
	"github.com/catalyst-forge/forge/adapters/onprem/natsqueue"
	"github.com/catalyst-forge/forge/adapters/onprem/oidcauth"
	"github.com/catalyst-forge/forge/adapters/onprem/prommetrics"
	"github.com/catalyst-forge/forge/application/announcing"
	"github.com/catalyst-forge/forge/application/deploying"
	"github.com/catalyst-forge/forge/application/limiting"
	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/application/registering"
	"github.com/catalyst-forge/forge/application/releasing"
	"github.com/catalyst-forge/forge/application/running"
	"github.com/catalyst-forge/forge/domain/event"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/reference/githubflags"
	"github.com/catalyst-forge/forge/reference/internal/opsserver"
	"github.com/catalyst-forge/forge/reference/objstore"
	"github.com/catalyst-forge/forge/reference/secretflags"
	"github.com/catalyst-forge/forge/transport/endpoints"
	httptransport "github.com/catalyst-forge/forge/transport/http"
	natstransport "github.com/catalyst-forge/forge/transport/nats"
)

// Options configure the API server. Every field has a flag and a FORGE_*
// environment variable in reference/cmd/forge-api.
type Options struct {
	Addr     string // listen address, e.g. :8080 (port 0 picks one)
	Database string // sqlite:///path/forge.db or postgres://...

	Auth         string // "dev" or "oidc"
	DevKey       string // dev: the signing key file (created if missing)
	OIDCIssuer   string // oidc: the issuer URL (Keycloak realm)
	OIDCAudience string // oidc: the audience tokens must carry
	OIDCClientID string // oidc: the client whose roles count (default: audience)

	Policies string // environment policy file (YAML); empty: the spec's defaults
	Registry string // prefix of Release OCI URIs
	NATSURL  string // publish events to NATS when set; otherwise log them
	// EventBridgeBus, when set, is the Amazon EventBridge bus events go to
	// instead (the AWS profile).
	EventBridgeBus string
	// ObjectsDir, when set, is the filesystem object store of the local
	// profile; its presigned links are served under /v1/objects/ and
	// signed for PublicURL (default http://<Addr>).
	ObjectsDir string
	PublicURL  string
	// S3, when its Bucket is set (and ObjectsDir is not), is the object
	// store the workers write step logs to: forge-api reads the logs it
	// serves from there, and retention deletes them there.
	S3 s3blob.Config

	// LookupsPerMinute and DeploymentsPerMinute override spec 06's rate
	// limits (0 keeps them, a negative value turns them off).
	LookupsPerMinute     int
	DeploymentsPerMinute int

	Log io.Writer // where JSON logs go (default stderr)
	Now ports.Clock

	// ReportSecretFile holds the secret workers' status reports are keyed
	// with (shared with forge-dispatcher); empty reads FORGE_REPORT_SECRET,
	// and without either any service account may report any run's
	// statuses. ReportSecret, when set, is used instead.
	ReportSecretFile string
	ReportSecret     []byte

	// Store, when set, is an open store used instead of opening Database
	// (the caller closes it): one process that also runs workers shares
	// its database connection.
	Store *gormstore.Store
	// Engine starts the pipelines of new runs and stops cancelled ones;
	// nil leaves new runs pending.
	Engine ports.WorkflowEngine
	// Jobs, when set, is the queue deployment jobs go to: workers with a
	// GitOps repository commit each deployment's pointer. Nil records
	// deployments without GitOps, unless DeploymentJobs.
	Jobs ports.JobQueue
	// DeploymentJobs sends deployment jobs over the NATS JetStream server
	// at NATSURL, to forge-worker --types deployment.
	DeploymentJobs bool
	// ServeNATS serves the API's endpoints over the NATS server at
	// NATSURL too (transport/nats), in the queue group every replica
	// shares, for workers that report with --report nats://.
	ServeNATS bool
	// ResumeDeploymentsEvery, with deployment jobs, is how often the
	// deployments a dead process left pending for longer than the
	// deployment timeout are finished (deploying.Service.Resume; 0:
	// never).
	ResumeDeploymentsEvery time.Duration
	// ReconcileEvery, with an Engine, is how often runs whose workflow is
	// no longer active are ended as failed (0: never); runs younger than
	// ReconcileGrace are left alone.
	ReconcileEvery time.Duration
	ReconcileGrace time.Duration
	// Retention is how long a pipeline run, with its phases, tasks, steps
	// and logs, is kept (0: for ever; the flag's default is 90 days); every
	// PruneEvery (0: never) the ended runs older than that which no
	// release names are deleted (running.Service.Prune), in batches of
	// PruneBatch (0: running.DefaultPruneBatch).
	Retention  time.Duration
	PruneEvery time.Duration
	PruneBatch int
	// GitHub, when it names credentials, is where new runs' pending
	// commit statuses go (and the reconciler's ends), sent from a queue
	// so that creating a run never waits for GitHub.
	GitHub githubflags.Options
}

// App is a running API server.
type App struct {
	opts     Options
	log      *logrus.Logger
	store    *gormstore.Store
	objects  *fsblob.Store
	nc       *nats.Conn
	natsAPI  *natstransport.Server // the endpoints over NATS; nil: off
	listener net.Listener
	server   *http.Server
	orch     *orchestrating.Orchestrator // reconciles runs; nil: off
	resumer  *deploying.Service          // resumes deployments; nil: off
	pruner   *running.Service            // prunes expired runs; nil: off
	github   *githubstatus.Queued        // statuses on their way to GitHub; nil: off
	// checkSchema says whether the database is reachable and current.
	checkSchema func(context.Context) error
}

// ready answers /readyz: the database is reachable with a current schema,
// and the NATS connection, when there is one, is up (not reconnecting).
func (a *App) ready(ctx context.Context) error {
	if err := a.checkSchema(ctx); err != nil {
		return err
	}
	if a.nc != nil {
		return opsserver.NATSReady(a.nc)
	}
	return nil
}

// New opens everything the server needs and checks the schema is current.
// It does not listen yet: Run does.
func New(ctx context.Context, o Options) (*App, error) {
	log := logrus.New()
	log.SetFormatter(&logrus.JSONFormatter{})
	if o.Log != nil {
		log.SetOutput(o.Log)
	}
	a := &App{opts: o, log: log}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()

	if err := (objstore.Options{Dir: o.ObjectsDir, S3: o.S3}).Check(); err != nil {
		return nil, err
	}
	if o.ServeNATS && o.NATSURL == "" {
		return nil, fault.New(fault.Validation, "--serve-nats serves the API over NATS: give --nats too")
	}
	verifier, err := a.verifier(ctx)
	if err != nil {
		return nil, err
	}
	reportSecret := o.ReportSecret
	if reportSecret == nil {
		if reportSecret, err = secretflags.ReportSecret(o.ReportSecretFile); err != nil {
			return nil, err
		}
	}
	if reportSecret == nil {
		log.Warn("no report secret (--report-secret-file, FORGE_REPORT_SECRET): any service account may report any run's task and step statuses")
	}
	pf, err := deploying.LoadPolicies(o.Policies)
	if err != nil {
		return nil, fmt.Errorf("--policies: %w", err)
	}
	envs, ttl := pf.Environments, pf.ApprovalTTL
	store := o.Store
	if store == nil {
		if o.Database == "" {
			return nil, fault.New(fault.Validation, "no database: pass --database (sqlite:///path/forge.db or postgres://...) or set FORGE_DATABASE")
		}
		if a.store, err = gormstore.Open(ctx, o.Database); err != nil {
			return nil, err
		}
		store = a.store
	}
	if err := store.CheckSchema(ctx); err != nil {
		return nil, err
	}
	a.checkSchema = store.CheckSchema

	var publisher ports.EventPublisher = logevents.New(log)
	if o.NATSURL != "" {
		a.nc, err = nats.Connect(o.NATSURL, nats.Name("forge-api"), nats.MaxReconnects(-1))
		if err != nil {
			return nil, fault.Wrap(fault.Unavailable, err, "connecting to NATS at %s", o.NATSURL)
		}
		publisher = natsevents.New(a.nc, "")
	}
	if o.EventBridgeBus != "" {
		if publisher, err = ebevents.New(ctx, ebevents.Config{Bus: o.EventBridgeBus}); err != nil {
			return nil, err
		}
	}
	metrics := prommetrics.New()
	metrics.Database(store.SQL())
	jobs := o.Jobs
	if o.DeploymentJobs && jobs == nil {
		if a.nc == nil {
			return nil, fault.New(fault.Validation, "deployment jobs go over NATS: give --nats too")
		}
		queue, err := natsqueue.New(ctx, a.nc)
		if err != nil {
			return nil, err
		}
		metrics.QueueDepth(queue.Depth)
		jobs = queue
	}
	events := &announcing.Announcer{Publisher: publisher, Clock: o.Now, OnError: func(e event.Event, err error) {
		log.WithError(err).WithField("event_type", e.Type).Error("event not published")
	}}
	limiter := limiting.New(time.Now)
	if o.Now != nil {
		limiter = limiting.New(o.Now.Now)
	}
	services := httptransport.Services{Services: endpoints.Services{
		Runs: &running.Service{Store: store, Clock: o.Now, Events: events, Limiter: limiter, Engine: o.Engine, ReportSecret: reportSecret},
		Releases: &releasing.Service{Store: store, Clock: o.Now, Events: events, Registry: o.Registry,
			Limiter: limiter, LookupsPerMinute: o.LookupsPerMinute},
		Deployments: &deploying.Service{Store: store, Clock: o.Now, Events: events, Environments: envs, ApprovalTTL: ttl,
			Limiter: limiter, DeploymentsPerMinute: o.DeploymentsPerMinute, Jobs: jobs},
		Repositories: &registering.Service{Store: store, Clock: o.Now},
	}, Ready: a.ready,
		Metrics: metrics.Handler(),
		Observe: func(route, code string, took time.Duration) { metrics.ObserveRequest("http", route, code, took) },
	}
	statuses := ports.StatusReporter(logstatus.New(log))
	slogger := slog.New(slog.NewJSONHandler(log.Out, nil))
	gh, err := githubflags.Reporter(ctx, o.GitHub, slogger)
	if err != nil {
		return nil, err
	}
	if gh != nil {
		a.github = githubstatus.NewQueued(gh, 1000, slogger)
		services.Runs.StatusReporter = a.github
		statuses = githubflags.Alongside(statuses, a.github)
	}
	if o.ObjectsDir != "" {
		public := o.PublicURL
		if public == "" {
			public = "http://" + addrOr(o.Addr)
		}
		a.objects, err = fsblob.New(o.ObjectsDir, fsblob.WithSigning(nil, public))
		if err != nil {
			return nil, err
		}
		services.Objects = a.objects.SignedHandler()
		services.Runs.Objects = a.objects
	} else if o.S3.Bucket != "" {
		logs, _, err := objstore.Open(ctx, objstore.Options{S3: o.S3})
		if err != nil {
			return nil, err
		}
		services.Runs.Objects = logs
	}
	if o.Retention > 0 && o.PruneEvery > 0 {
		a.pruner = services.Runs
	}
	if jobs != nil && o.ResumeDeploymentsEvery > 0 {
		a.resumer = services.Deployments
	}
	if o.Engine != nil && o.ReconcileEvery > 0 {
		a.orch = &orchestrating.Orchestrator{Store: store, Events: events, Clock: o.Now, Status: metrics.Status(statuses),
			Log: slogger}
	}
	if o.ServeNATS {
		observe := func(route, code string, took time.Duration) { metrics.ObserveRequest("nats", route, code, took) }
		if a.natsAPI, err = natstransport.Serve(a.nc, endpoints.New(services.Services), verifier, log, natstransport.Options{Observe: observe}); err != nil {
			return nil, err
		}
	}
	a.server = &http.Server{
		Handler:           httptransport.NewServer(services, verifier, log),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	addr := addrOr(o.Addr)
	a.listener, err = net.Listen("tcp", addr)
	if err != nil {
		return nil, fault.Wrap(fault.Unavailable, err, "listening on %s", addr)
	}
	ok = true
	return a, nil
}

func addrOr(addr string) string {
	if addr == "" {
		return "127.0.0.1:8080"
	}
	return addr
}

func (a *App) verifier(ctx context.Context) (ports.TokenVerifier, error) {
	switch a.opts.Auth {
	case "dev":
		if a.opts.DevKey == "" {
			return nil, fault.New(fault.Validation, "--auth dev needs --dev-key FILE (created if missing)")
		}
		issuer, err := oidcauth.LoadOrCreateDevKey(a.opts.DevKey)
		if err != nil {
			return nil, err
		}
		a.log.WithField("dev_key", a.opts.DevKey).Warn("trusting the development issuer: for one machine only")
		return issuer.Verifier(), nil
	case "oidc":
		if a.opts.OIDCIssuer == "" || a.opts.OIDCAudience == "" {
			return nil, fault.New(fault.Validation, "--auth oidc needs --oidc-issuer and --oidc-audience")
		}
		return oidcauth.NewVerifier(ctx, oidcauth.Config{Issuer: a.opts.OIDCIssuer, Audience: a.opts.OIDCAudience, ClientID: a.opts.OIDCClientID})
	}
	return nil, fault.New(fault.Validation, "--auth must be dev or oidc, got %q", a.opts.Auth)
}

// Addr returns the address the server listens on.
func (a *App) Addr() string { return a.listener.Addr().String() }

// Run serves until ctx ends, then shuts down gracefully (requests in
// flight get 10 seconds).
func (a *App) Run(ctx context.Context) error {
	a.log.WithFields(logrus.Fields{"addr": a.Addr(), "database": gormstore.RedactDSN(a.opts.Database), "auth": a.opts.Auth, "serve_nats": a.natsAPI != nil}).Info("forge-api serving")
	errc := make(chan error, 1)
	go func() { errc <- a.server.Serve(a.listener) }()
	var loops []func()
	if a.orch != nil {
		loops = append(loops, a.every(ctx, a.opts.ReconcileEvery, a.reconcile))
	}
	if a.resumer != nil {
		loops = append(loops, a.every(ctx, a.opts.ResumeDeploymentsEvery, a.resumeDeployments))
	}
	if a.pruner != nil {
		loops = append(loops, a.every(ctx, a.opts.PruneEvery, a.prune))
	}
	// On the way out: the loops stop first (what they report still goes
	// to GitHub), then NATS and HTTP drain together within ten seconds,
	// then the statuses still queued for GitHub are sent in what is left.
	defer func() {
		for _, stop := range loops {
			stop()
		}
	}()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	for _, stop := range loops {
		stop()
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	drained := make(chan struct{})
	go func() {
		if a.natsAPI != nil {
			a.natsAPI.Close(shutdown)
		}
		close(drained)
	}()
	err := a.server.Shutdown(shutdown)
	<-drained
	if a.github != nil {
		a.github.Close(shutdown)
	}
	return err
}

// every runs fn at once and then every d in the background until ctx
// ends or the returned stop is called; stop waits for fn to return.
func (a *App) every(ctx context.Context, d time.Duration, fn func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			fn(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

// reconcile ends abandoned runs (every ReconcileEvery).
func (a *App) reconcile(ctx context.Context) {
	n, err := a.orch.Reconcile(ctx, a.opts.Engine, a.opts.ReconcileGrace)
	switch {
	case err != nil && ctx.Err() == nil:
		a.log.WithError(err).Warn("reconciling runs with their workflows")
	case n > 0:
		a.log.WithField("runs", n).Warn("ended runs whose workflow had ended before them")
	}
}

// resumeDeployments finishes the deployments a dead process left pending
// (every ResumeDeploymentsEvery).
func (a *App) resumeDeployments(ctx context.Context) {
	ds, err := a.resumer.Resume(ctx, a.opts.Now.Now().Add(-a.resumer.AbandonedAfter()))
	for _, d := range ds {
		a.log.WithFields(logrus.Fields{"deployment_id": d.ID, "environment": d.Environment, "repository": d.Repository,
			"project": d.Project, "release_number": d.ReleaseNumber, "status": d.Status, "reason": d.Reason}).
			Warn("finished a deployment a dead process left pending")
	}
	if err != nil && ctx.Err() == nil {
		a.log.WithError(err).Warn("resuming deployments left pending")
	}
}

// prune deletes the runs past their retention (every PruneEvery).
func (a *App) prune(ctx context.Context) {
	cutoff := a.opts.Now.Now().Add(-a.opts.Retention)
	n, err := a.pruner.Prune(ctx, cutoff, a.opts.PruneBatch)
	if n > 0 {
		a.log.WithFields(logrus.Fields{"runs": n, "created_before": cutoff}).Info("deleted pipeline runs past their retention")
	}
	if err != nil && ctx.Err() == nil {
		a.log.WithError(err).Warn("pruning pipeline runs past their retention")
	}
}

// Close releases the store and the NATS connection.
func (a *App) Close() error {
	var errs []error
	if a.listener != nil && a.server == nil {
		errs = append(errs, a.listener.Close())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if a.natsAPI != nil {
		a.natsAPI.Close(ctx)
	}
	if a.github != nil {
		a.github.Close(ctx)
	}
	if a.nc != nil {
		a.nc.Close()
	}
	if a.objects != nil {
		errs = append(errs, a.objects.Close())
	}
	if a.store != nil {
		errs = append(errs, a.store.Close())
	}
	return errors.Join(errs...)
}

// Migrate applies the pending migrations of the database at dsn and
// reports each one to out.
func Migrate(ctx context.Context, dsn string, out io.Writer) error {
	if dsn == "" {
		return fault.New(fault.Validation, "no database: pass --database or set FORGE_DATABASE")
	}
	s, err := gormstore.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer s.Close()
	applied, err := s.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(out, "%s: schema is up to date\n", gormstore.RedactDSN(dsn))
		return nil
	}
	for _, v := range applied {
		fmt.Fprintf(out, "%s: applied %s\n", gormstore.RedactDSN(dsn), v)
	}
	return nil
}
