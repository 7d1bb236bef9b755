package forgedispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/catalyst-forge/forge/adapters/aws/ebevents"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/sirupsen/logrus"

	"github.com/catalyst-forge/forge/adapters/onprem/gormstore"
	"github.com/catalyst-forge/forge/adapters/onprem/logstatus"
	"github.com/catalyst-forge/forge/adapters/onprem/natsevents"
	"github.com/catalyst-forge/forge/adapters/onprem/natsqueue"
	"github.com/catalyst-forge/forge/adapters/onprem/prommetrics"
	"github.com/catalyst-forge/forge/application/announcing"
	"github.com/catalyst-forge/forge/application/deploying"
	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/event"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/reference/githubflags"
	"github.com/catalyst-forge/forge/reference/internal/opsserver"
	"github.com/catalyst-forge/forge/reference/objstore"
	"github.com/catalyst-forge/forge/reference/redact"
	"github.com/catalyst-forge/forge/reference/secretflags"
)

// The stages of a run's workflow.
const (
	StageDiscovery  = "discovery"
	StagePhaseGroup = "phase-group"
	StageRelease    = "release"
)

// Exit codes of forge-dispatcher.
const (
	ExitOK      = 0
	ExitFailure = 1 // the run ended failed or cancelled, or the stage could not run
	ExitUsage   = 2 // the command line was wrong
)

// DefaultOutDir is where the discovery stage writes its files (the paths
// the workflow reads its output parameters from).
const DefaultOutDir = "/tmp/forge"

// The files of the discovery stage, in OutDir.
const (
	PhaseGroupsFile    = "phase-groups.json"
	ReleaseEnabledFile = "release-enabled"
)

// Options configure one dispatcher stage. In reference/cmd/forge-dispatcher
// Stage is the argument and the other fields but QueueOptions and Log are
// flags with FORGE_* environment variables.
type Options struct {
	Stage string // discovery, phase-group or release
	RunID string
	Group string // phase-group: the group number; ignored otherwise

	Database string // sqlite:///path/forge.db or postgres://...
	NATSURL  string // the JetStream server the workers consume from
	OutDir   string // discovery's files (default DefaultOutDir)

	// Objects, when set, is the object store the workers put results too
	// large for a message in (a discovery output near its 1 MB cap); it
	// must be the workers' store.
	Objects objstore.Options
	// ReportSecretFile holds the secret the report keys of CI jobs are
	// made with, shared with forge-api; empty reads FORGE_REPORT_SECRET,
	// and without either jobs carry no key.
	ReportSecretFile string
	// Policies is the environment policy file forge-api reads (its
	// --policies): the release stage deploys each new release to every
	// environment whose policy has auto_deploy, through deployment jobs.
	// Empty: the spec's default environments.
	Policies string
	// QueueOptions configure the job queue; they must describe the same
	// streams as the workers' queue (the defaults do).
	QueueOptions []natsqueue.Option
	// StoreOptions configure the database connection (a statement
	// logger, a connection limit).
	StoreOptions []gormstore.Option
	// MetricsAddr, when set, is where /metrics (Prometheus: the runs and
	// phases it finishes, the queue's depth, the database pool), /healthz
	// and /readyz are served while the stage runs.
	MetricsAddr string
	// GitHub, when it names credentials, gets the run's commit statuses
	// and, when it ends, its pull request summary.
	GitHub githubflags.Options
	// EventBridgeBus, when set, is the Amazon EventBridge bus events go to
	// instead of NATS (the AWS profile).
	EventBridgeBus string
	Log            io.Writer // JSON log lines (default stderr)
}

// UsageError is a wrong command line or missing configuration (exit 2).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// EndedError says the run has ended failed or cancelled: nothing more of
// its workflow may run (exit 1).
type EndedError struct {
	RunID  string
	Status pipeline.Status
	Reason string
}

func (e *EndedError) Error() string {
	msg := fmt.Sprintf("run %s has ended %s", e.RunID, e.Status)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg + "; the workflow stops here"
}

// ExitCode returns the exit code for an error of Run.
func ExitCode(err error) int {
	var usage *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &usage):
		return ExitUsage
	}
	return ExitFailure
}

// Run runs one stage for one run (see the package documentation).
func Run(ctx context.Context, o Options) error {
	group, err := o.check()
	if err != nil {
		return err
	}
	logger := logrus.New()
	logger.SetFormatter(&logrus.JSONFormatter{})
	if o.Log != nil {
		logger.SetOutput(o.Log)
	}
	fields := logrus.Fields{"run_id": o.RunID, "stage": o.Stage, "trace_id": ports.RunTraceID(o.RunID)}
	if o.Stage == StagePhaseGroup {
		fields["group"] = group
	}
	d := &dispatcher{runID: o.RunID, outDir: o.OutDir, log: logger.WithFields(fields)}
	if d.outDir == "" {
		d.outDir = DefaultOutDir
	}
	if err := d.open(ctx, o, logger); err != nil {
		return err
	}
	defer d.close()
	d.log.Info("stage started")

	switch o.Stage {
	case StageDiscovery:
		err = d.discovery(ctx)
	case StagePhaseGroup:
		err = d.phaseGroup(ctx, group)
	default:
		err = d.release(ctx)
	}
	var ended *EndedError
	switch {
	case errors.As(err, &ended):
		d.log.WithField("run_status", string(ended.Status)).Warn(err.Error())
	case err != nil:
		d.log.WithError(err).Error("stage failed")
	default:
		d.log.Info("stage done")
	}
	return err
}

// check validates the options before anything is opened and returns the
// group number of a phase-group stage.
func (o *Options) check() (int, error) {
	switch o.Stage {
	case StageDiscovery, StagePhaseGroup, StageRelease:
	case "":
		return 0, &UsageError{Msg: "which stage? discovery, phase-group or release"}
	default:
		return 0, &UsageError{Msg: fmt.Sprintf("unknown stage %q: use discovery, phase-group or release", o.Stage)}
	}
	if strings.TrimSpace(o.RunID) == "" {
		return 0, &UsageError{Msg: "which run? pass --run ID or set FORGE_RUN_ID"}
	}
	group := 0
	if o.Stage == StagePhaseGroup {
		n, err := strconv.Atoi(strings.TrimSpace(o.Group))
		if err != nil || n < 1 {
			return 0, &UsageError{Msg: fmt.Sprintf("the phase-group stage needs --group N, a positive group number; got %q", o.Group)}
		}
		group = n
	}
	if o.Database == "" {
		return 0, &UsageError{Msg: "no database: pass --database or set FORGE_DATABASE"}
	}
	if o.NATSURL == "" {
		return 0, &UsageError{Msg: "no NATS server: pass --nats or set FORGE_NATS_URL"}
	}
	return group, nil
}

// dispatcher is one stage's connections and orchestrator.
type dispatcher struct {
	runID  string
	outDir string
	log    logrus.FieldLogger
	store  *gormstore.Store
	nc     *nats.Conn
	orch   *orchestrating.Orchestrator

	closeObjects func()
	ops          *opsserver.Server
}

func (d *dispatcher) open(ctx context.Context, o Options, logger *logrus.Logger) (err error) {
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	db := gormstore.RedactDSN(o.Database)
	if d.store, err = gormstore.Open(ctx, o.Database, o.StoreOptions...); err != nil {
		return fmt.Errorf("opening the database: %w", err) // it names the database
	}
	if err = d.store.CheckSchema(ctx); err != nil {
		return fmt.Errorf("database %s: %w", db, err)
	}
	server := redact.URLs(o.NATSURL)
	d.nc, err = nats.Connect(o.NATSURL, nats.Name("forge-dispatcher"), nats.MaxReconnects(-1))
	if err != nil {
		return fmt.Errorf("connecting to NATS at %s: %s", server, redact.Scrub(err.Error(), o.NATSURL))
	}
	qopts := o.QueueOptions
	var objects ports.ObjectStore
	if o.Objects.Set() {
		var closeObjects func()
		objects, closeObjects, err = objstore.Open(ctx, o.Objects)
		if err != nil {
			return fmt.Errorf("opening the object store: %w", err)
		}
		d.closeObjects = closeObjects
		qopts = append(slices.Clone(qopts), natsqueue.WithObjectStore(objects))
	}
	queue, err := natsqueue.New(ctx, d.nc, qopts...)
	if err != nil {
		return fmt.Errorf("opening the job queue on NATS at %s: %s", server, redact.Scrub(err.Error(), o.NATSURL))
	}
	var publisher ports.EventPublisher = natsevents.New(d.nc, "")
	if o.EventBridgeBus != "" {
		if publisher, err = ebevents.New(ctx, ebevents.Config{Bus: o.EventBridgeBus}); err != nil {
			return err
		}
	}
	events := &announcing.Announcer{Publisher: publisher, OnError: func(e event.Event, err error) {
		d.log.WithError(err).WithField("event_type", e.Type).Error("event not published")
	}}
	reportSecret, err := secretflags.ReportSecret(o.ReportSecretFile)
	if err != nil {
		return err
	}
	slogger := slog.New(slog.NewJSONHandler(logger.Out, nil))
	gh, err := githubflags.Reporter(ctx, o.GitHub, slogger)
	if err != nil {
		return err
	}
	metrics := prommetrics.New()
	metrics.Database(d.store.SQL())
	metrics.QueueDepth(queue.Depth)
	if o.MetricsAddr != "" {
		if d.ops, err = opsserver.Start(o.MetricsAddr, metrics.Handler(), d.ready); err != nil {
			return err
		}
	}
	d.orch = &orchestrating.Orchestrator{Store: d.store, Jobs: queue, Status: metrics.Status(githubflags.Alongside(logstatus.New(logger), gh)), Events: events, Objects: objects,
		ReportSecret: reportSecret, Log: slogger}
	if o.Stage == StageRelease {
		policies, err := deploying.LoadPolicies(o.Policies)
		if err != nil {
			return fmt.Errorf("--policies: %w", err)
		}
		d.orch.AutoDeploy = (&deploying.Service{Store: d.store, Events: events, Jobs: queue,
			Environments: policies.Environments, ApprovalTTL: policies.ApprovalTTL}).AutoDeploy
	}
	return nil
}

// ready says whether the store and NATS answer.
func (d *dispatcher) ready(ctx context.Context) error {
	if err := d.store.CheckSchema(ctx); err != nil {
		return err
	}
	return opsserver.NATSReady(d.nc)
}

func (d *dispatcher) close() {
	if d.ops != nil {
		d.ops.Close()
	}
	if d.closeObjects != nil {
		d.closeObjects()
	}
	if d.nc != nil {
		d.nc.Close()
	}
	if d.store != nil {
		_ = d.store.Close()
	}
}

// discovery runs discovery and writes the plan for the workflow.
func (d *dispatcher) discovery(ctx context.Context) error {
	plan, err := d.orch.Discover(ctx, d.runID)
	if err != nil {
		return fmt.Errorf("discovery of run %s: %w", d.runID, err)
	}
	if plan.Ended {
		if err := d.ended(ctx); err != nil {
			return err
		}
		return d.writePlan(nil, false) // it had succeeded: nothing to run
	}
	if len(plan.Groups) == 0 && !plan.Release {
		// No later step runs: the run is complete now.
		if err := d.orch.Complete(ctx, d.runID); err != nil {
			return fmt.Errorf("completing run %s: %w", d.runID, err)
		}
		d.log.Info("nothing to run: no phase group and no release; the run is complete")
	}
	if err := d.writePlan(plan.Groups, plan.Release); err != nil {
		return err
	}
	d.log.WithFields(logrus.Fields{"groups": plan.Groups, "release": plan.Release}).Info("plan written")
	return nil
}

// phaseGroup runs group n, and completes the run when n is its last group
// and no release follows.
func (d *dispatcher) phaseGroup(ctx context.Context, n int) error {
	ended, err := d.orch.RunGroup(ctx, d.runID, n)
	if ctx.Err() != nil {
		// The pod is being stopped: whatever RunGroup returned, the
		// group is not known to be done. A retry resumes it.
		return fmt.Errorf("phase group %d of run %s interrupted: %w", n, d.runID, ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("phase group %d of run %s: %w", n, d.runID, err)
	}
	if ended {
		return d.ended(ctx)
	}
	run, err := d.store.GetRun(ctx, d.runID)
	if err != nil {
		return fmt.Errorf("reading run %s: %w", d.runID, err)
	}
	if left := unfinished(run, n); left != "" {
		return fmt.Errorf("phase group %d of run %s did not finish: %s", n, d.runID, left)
	}
	if n < lastGroup(run) {
		return nil
	}
	if releaseEnabled(run) {
		d.log.Info("last phase group done; the release stage follows")
		return nil
	}
	if err := d.orch.Complete(ctx, d.runID); err != nil {
		return fmt.Errorf("completing run %s: %w", d.runID, err)
	}
	d.log.Info("last phase group done and no release: the run is complete")
	return nil
}

// release runs the release stage: every artifact of the run's
// release-triggered projects is built and published by artifact jobs,
// then the run completes (or fails naming what failed). A retry reuses
// the artifacts an earlier attempt kept in the object store.
func (d *dispatcher) release(ctx context.Context) error {
	run, err := d.store.GetRun(ctx, d.runID)
	if err != nil {
		return fmt.Errorf("reading run %s: %w", d.runID, err)
	}
	if run.Status.Terminal() {
		return d.endedRun(run)
	}
	if left := unfinished(run, 0); left != "" {
		return fmt.Errorf("run %s cannot reach its release stage yet: %s", d.runID, left)
	}
	ended, err := d.orch.Release(ctx, d.runID)
	if ctx.Err() != nil {
		return fmt.Errorf("release stage of run %s interrupted: %w", d.runID, ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("release stage of run %s: %w", d.runID, err)
	}
	if ended {
		return d.ended(ctx)
	}
	if err := d.orch.Complete(ctx, d.runID); err != nil {
		return fmt.Errorf("completing run %s: %w", d.runID, err)
	}
	d.log.Info("artifacts built and published, releases made: the run is complete")
	return nil
}

// ended is the answer of a stage that found the run ended: nil when it
// succeeded (a retried last step has nothing to do), an EndedError
// otherwise.
func (d *dispatcher) ended(ctx context.Context) error {
	run, err := d.store.GetRun(ctx, d.runID)
	if err != nil {
		return fmt.Errorf("reading run %s: %w", d.runID, err)
	}
	return d.endedRun(run)
}

func (d *dispatcher) endedRun(run *pipeline.Run) error {
	switch run.Status {
	case pipeline.StatusSuccess:
		d.log.Info("the run has already succeeded: nothing to do")
		return nil
	case pipeline.StatusFailed, pipeline.StatusCancelled:
		return &EndedError{RunID: run.ID, Status: run.Status, Reason: run.Reason}
	}
	return fmt.Errorf("run %s is %s, yet the orchestrator reports it ended", run.ID, run.Status)
}

// unfinished names a task of group n (of every group when n is 0) that
// has not finished, or returns "".
func unfinished(run *pipeline.Run, n int) string {
	for _, ph := range run.Phases {
		if n != 0 && ph.GroupNumber != n {
			continue
		}
		for _, t := range ph.Tasks {
			if !t.Status.Terminal() {
				return fmt.Sprintf("task %s (%s of %s, group %d) is %s", t.ID, ph.Name, t.ProjectName, ph.GroupNumber, t.Status)
			}
		}
	}
	return ""
}

func lastGroup(run *pipeline.Run) int {
	last := 0
	for _, ph := range run.Phases {
		last = max(last, ph.GroupNumber)
	}
	return last
}

// releaseEnabled reads the run's discovery output: whether a release
// stage follows the groups.
func releaseEnabled(run *pipeline.Run) bool {
	var out discovery.Output
	return json.Unmarshal(run.DiscoveryOutput, &out) == nil && out.ReleaseEnabled
}

// writePlan writes discovery's two files, each replaced atomically.
func (d *dispatcher) writePlan(groups []int, release bool) error {
	if groups == nil {
		groups = []int{}
	}
	list, err := json.Marshal(groups)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(d.outDir, 0o755); err != nil {
		return fmt.Errorf("writing the plan: %w", err)
	}
	if err := writeAtomic(filepath.Join(d.outDir, PhaseGroupsFile), list); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(d.outDir, ReleaseEnabledFile), []byte(strconv.FormatBool(release)))
}

// writeAtomic writes data to a temporary file beside path and renames it
// over path, so a reader sees the old file or the new one, never a part.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
