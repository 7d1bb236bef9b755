package working

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"time"

	"github.com/catalyst-forge/forge/application/discovering"
	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/application/publishing"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/ports"
)

// Defaults of a worker's intervals.
const (
	DefaultLogFlush   = time.Second
	DefaultCancelPoll = 2 * time.Second
)

// Worker handles discovery, CI, artifact, release and deployment jobs.
type Worker struct {
	Sources  ports.SourceCache
	Steps    ports.StepExecutor
	Objects  ports.ObjectStore
	Reporter ports.RunReporter
	// Remote maps a repository (owner/name) to the URL to fetch it from.
	Remote func(repository string) (string, error)
	// Secrets resolves a step's secret reference to its value; nil makes
	// steps that need secrets fail with a message saying so.
	Secrets func(ctx context.Context, ref config.SecretRef) (string, error)
	// Discover discovers a checked-out directory. Nil discovers in this
	// process, where nothing bounds the evaluation of the repository's
	// CUE; the reference workers set a discovering.Isolated's Discover, so
	// that a configuration that runs away fails its job (and the run)
	// within the limits instead of holding the worker.
	Discover func(ctx context.Context, dir string, git discovery.GitContext) (*discovering.Result, error)
	// Artifacts builds and publishes artifacts; nil makes this worker
	// refuse artifact jobs.
	Artifacts *publishing.Service
	// Releaser makes releases; nil makes this worker refuse release jobs.
	Releaser *Releaser
	// GitOps is the GitOps repository deployments are written to; nil
	// makes this worker refuse deployment jobs.
	GitOps ports.GitOps
	// LogFlush is how often a running step's log is uploaded; CancelPoll
	// how often the run's status is checked to stop when it has ended.
	LogFlush   time.Duration
	CancelPoll time.Duration
	// Log receives the causes of failures whose reasons, seen by every
	// reader of the run, say only what failed (see reasons.go); nil
	// means slog.Default().
	Log *slog.Logger
}

// Handle runs one job; it is the worker's ports.JobHandler.
func (w *Worker) Handle(ctx context.Context, d *ports.Delivery) ([]byte, error) {
	switch d.Job.Type {
	case job.TypeDiscovery:
		return w.discover(ctx, d)
	case job.TypeCI:
		return w.task(ctx, d)
	case job.TypeArtifact:
		return w.artifact(ctx, d)
	case job.TypeRelease:
		return w.release(ctx, d)
	case job.TypeDeployment:
		return w.deploy(ctx, d)
	}
	return nil, fault.New(fault.Validation, "this worker does not handle %s jobs", d.Job.Type)
}

// workspace checks the commit out for a job.
// Its error says which commit could not be checked out; the cause (git's
// output, paths on this worker) goes to the worker's log.
func (w *Worker) workspace(ctx context.Context, jobID, repository, commit string) (*ports.Workspace, error) {
	remote, err := w.Remote(repository)
	if err != nil {
		return nil, w.userError(jobID, err, "this worker has no remote to fetch %s from", repository)
	}
	ws, err := w.Sources.Checkout(ctx, ports.CheckoutRequest{Repository: repository, Remote: remote, Commit: commit, JobID: jobID})
	if err != nil {
		if ctx.Err() != nil {
			return nil, err // taken away: nothing to report
		}
		return nil, w.userError(jobID, err, "checking out commit %s of %s failed", short(commit), repository)
	}
	return ws, nil
}

// discover checks the commit out and returns its discovery output.
func (w *Worker) discover(ctx context.Context, d *ports.Delivery) ([]byte, error) {
	var dj orchestrating.DiscoveryJob
	if err := json.Unmarshal(d.Job.Payload, &dj); err != nil {
		return nil, fault.Wrap(fault.Validation, err, "reading discovery job %s", d.Job.ID)
	}
	ws, err := w.workspace(ctx, d.Job.ID, dj.Repository, dj.CommitSHA)
	if err != nil {
		return nil, err
	}
	defer ws.Remove(context.WithoutCancel(ctx))
	git := discovery.GitContext{Branch: dj.Branch, Commit: dj.CommitSHA}
	var res *discovering.Result
	if w.Discover != nil {
		res, err = w.Discover(ctx, ws.Dir, git)
	} else {
		res, err = (&discovering.Service{}).Discover(ctx, os.DirFS(ws.Dir), git)
	}
	if err != nil && !fault.Is(err, fault.Validation) && ctx.Err() == nil {
		// A configuration error is the user's to read; anything else
		// happened on this worker.
		err = w.userError(d.Job.ID, err, "discovering the projects of commit %s failed", short(dj.CommitSHA))
	}
	if err != nil {
		return nil, err
	}
	res.Output.Commit = &discovery.Commit{SHA: dj.CommitSHA, Time: ws.CommitTime, Author: ws.Author, Message: ws.Message}
	return json.Marshal(res.Output)
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
