package forgedev

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/catalyst-forge/forge/adapters/onprem/fsblob"
	"github.com/catalyst-forge/forge/adapters/onprem/gitcache"
	"github.com/catalyst-forge/forge/adapters/onprem/gitops"
	"github.com/catalyst-forge/forge/adapters/onprem/gormstore"
	"github.com/catalyst-forge/forge/adapters/onprem/natsembed"
	"github.com/catalyst-forge/forge/adapters/onprem/natsqueue"
	"github.com/catalyst-forge/forge/adapters/onprem/stepexec"
	"github.com/catalyst-forge/forge/application/deploying"
	"github.com/catalyst-forge/forge/application/discovering"
	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/application/releasing"
	"github.com/catalyst-forge/forge/application/resolving"
	"github.com/catalyst-forge/forge/application/running"
	"github.com/catalyst-forge/forge/application/working"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/reference/internal/discoverchild"
	"github.com/catalyst-forge/forge/reference/publishflags"
)

// workerConcurrency is how many CI jobs the in-process workers run at
// once, and how many jobs of the other types beside them;
// shutdownGrace how long running steps get to finish when the process
// stops before their jobs go back to the queue (to run again on the next
// start).
// ackWait is how soon the server offers a job again when its worker went
// silent: short on one machine, where the worker and the server stop
// together and a job handed back at the stop is only redelivered after
// it.
const (
	workerConcurrency = 4
	shutdownGrace     = 3 * time.Second
	ackWait           = 10 * time.Second
)

// platform is the embedded defaults every dev command runs on: SQLite,
// an embedded NATS JetStream server, the filesystem object store, the git
// cache, the orchestrator and in-process workers, all under one data
// directory.
type platform struct {
	data    string
	store   *gormstore.Store
	objects *fsblob.Store
	cache   *gitcache.Cache
	nats    *natsembed.Server
	nc      *nats.Conn
	queue   *natsqueue.Queue
	runs    *running.Service
	orch    *orchestrating.Orchestrator
	// releases registers the releases the in-process workers make, in
	// the registry the workers push to.
	releases *releasing.Service
	// deployments commits deployments through the in-process workers.
	deployments *deploying.Service
	print       *printer
	// discover runs the discoveries, each in a child of this binary.
	discover *discovering.Isolated

	stopWorkers context.CancelFunc
	workers     sync.WaitGroup
	// reportSecret keys the statuses the workers report (the API's too).
	reportSecret []byte
	// registry is the host:port artifacts go to; stopRegistry stops the
	// in-process one.
	registry     string
	stopRegistry func()
	// gitopsURL is the GitOps repository deployments are committed to.
	gitopsURL string
}

// open starts the parts; close stops them. On error everything opened so
// far is closed.
// data is the absolute path of a data directory this process has locked
// (openDataDir). Every error is one line that says which part failed.
func open(ctx context.Context, data string, print *printer) (*platform, error) {
	// p is never returned on error, so the deferred close always has the
	// parts opened so far (a named result would be nil by then).
	p := &platform{data: data, print: print}
	ok := false
	defer func() {
		if !ok {
			_ = p.close()
		}
	}()
	// The discovery's child starts now and waits: its start (package
	// initialisation) overlaps the opening of everything else.
	p.discover = discoverchild.New(discovering.Limits{})
	p.discover.Warm()
	db := filepath.Join(data, "forge.db")
	var err error
	if p.store, err = gormstore.Open(ctx, "sqlite://"+db); err != nil {
		return nil, fmt.Errorf("cannot open the database %s: %s", db, oneLine(err))
	}
	if _, err = p.store.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("cannot use the database %s (is it a forge database?): %s", db, oneLine(err))
	}
	if p.objects, err = fsblob.New(filepath.Join(data, "objects")); err != nil {
		return nil, fmt.Errorf("cannot open the object store under %s: %s", data, oneLine(err))
	}
	if p.cache, err = gitcache.New(filepath.Join(data, "cache")); err != nil {
		return nil, fmt.Errorf("cannot open the git cache under %s: %s", data, oneLine(err))
	}
	if p.nats, err = natsembed.Start(ctx, natsembed.Config{Dir: filepath.Join(data, "nats"), NoListener: true, Name: "forge-dev"}); err != nil {
		return nil, fmt.Errorf("cannot start the embedded queue under %s: %s", data, oneLine(err))
	}
	if p.nc, err = p.nats.Connect(); err != nil {
		return nil, fmt.Errorf("cannot connect to the embedded queue: %s", oneLine(err))
	}
	if p.queue, err = natsqueue.New(ctx, p.nc, natsqueue.WithObjectStore(p.objects), natsqueue.WithShutdownGrace(shutdownGrace),
		natsqueue.WithAckWait(job.TypeDiscovery, ackWait), natsqueue.WithAckWait(job.TypeCI, ackWait), natsqueue.WithAckWait(job.TypeArtifact, ackWait),
		natsqueue.WithAckWait(job.TypeRelease, ackWait), natsqueue.WithAckWait(job.TypeDeployment, ackWait)); err != nil {
		return nil, fmt.Errorf("cannot set up the job queue: %s", oneLine(err))
	}
	if p.reportSecret, err = reportSecret(data); err != nil {
		return nil, fmt.Errorf("cannot make the report secret: %s", oneLine(err))
	}
	p.runs = &running.Service{Store: p.store, Objects: p.objects, ReportSecret: p.reportSecret}
	p.orch = &orchestrating.Orchestrator{Store: p.store, Jobs: p.queue, Status: print, Objects: p.objects, ReportSecret: p.reportSecret}
	// New releases go to the environments whose policy auto-deploys them
	// (dev), committed to the GitOps repository by the workers.
	p.deployments = &deploying.Service{Store: p.store, Jobs: p.queue}
	p.orch.AutoDeploy = p.deployments.AutoDeploy
	ok = true
	return p, nil
}

// oneLine is err's message on one line: the first line, trimmed.
func oneLine(err error) string {
	msg, _, _ := strings.Cut(strings.TrimSpace(err.Error()), "\n")
	return strings.TrimSpace(msg)
}

// startWorkers consumes discovery, CI, artifact and release jobs in this process,
// fetching repositories from remote, resolving step secrets through
// secrets, and publishing to the registry at registryAddr (empty: one
// served by this process).
func (p *platform) startWorkers(remote func(string) (string, error), secrets *resolving.Registry, registryAddr, gitopsURL string) error {
	host, err := p.startRegistry(registryAddr)
	if err != nil {
		return err
	}
	// Steps die with this process (the parent-death signal); what a
	// killed earlier process left of its steps is swept now, before a
	// resumed run starts them again.
	steps := stepexec.New(stepexec.WithStateDir(filepath.Join(p.data, "steps")))
	if n, err := steps.Sweep(); err != nil {
		return fmt.Errorf("stopping steps a previous run left behind: %s", oneLine(err))
	} else if n > 0 {
		p.print.printf("stopped %d process(es) of steps a previous run left running", n)
	}
	opts, err := p.publishOptions(host)
	if err != nil {
		return err
	}
	artifacts, err := publishflags.Service(opts, steps, secrets)
	if err != nil {
		return err
	}
	p.releases = &releasing.Service{Store: p.store, Registry: host}
	releaser, err := publishflags.Releaser(opts, registrar{p.releases})
	if err != nil {
		return err
	}
	repo, err := p.gitops(gitopsURL)
	if err != nil {
		return err
	}
	w := &working.Worker{
		Artifacts: artifacts,
		Releaser:  releaser,
		GitOps:    repo,
		// Discovery runs in a child of this binary, bounded by the
		// default limits (reference/internal/discoverchild).
		Discover: p.discover.Discover,
		Sources:  p.cache,
		Steps:    steps,
		Objects:  p.objects,
		Reporter: &reporter{runs: p.runs, store: p.store, print: p.print},
		Remote:   remote,
		Secrets:  secrets.Resolve,
	}
	ctx, stop := context.WithCancel(context.Background())
	p.stopWorkers = stop
	// CI jobs are consumed apart from the other types, as the worker
	// StatefulSets of a cluster consume them: four CI tasks at once, and
	// a discovery or release never waits behind them for a slot.
	for _, types := range [][]job.Type{{job.TypeCI}, {job.TypeDiscovery, job.TypeArtifact, job.TypeRelease, job.TypeDeployment}} {
		p.workers.Add(1)
		go func() {
			defer p.workers.Done()
			_ = p.queue.Consume(ctx, types, workerConcurrency, w.Handle)
		}()
	}
	return nil
}

// resumeDeployments finishes the deployments an earlier process on this
// data directory left pending: the directory's lock says that process is
// gone, so none of them has anyone waiting for its outcome. Call it once
// the workers consume.
func (p *platform) resumeDeployments(ctx context.Context) error {
	ds, err := p.deployments.Resume(ctx, time.Now())
	for _, d := range ds {
		what := "active at GitOps commit " + d.GitOpsCommitSHA
		if d.Status != release.DeploymentActive {
			what = string(d.Status) + ": " + d.Reason
		}
		p.print.printf("finished a deployment a previous process left pending: %s release %d in %s, %s", d.Project, d.ReleaseNumber, d.Environment, what)
	}
	if err != nil {
		return fmt.Errorf("cannot finish the deployments a previous process left pending: %s", oneLine(err))
	}
	return nil
}

// gitops opens the GitOps repository at url, or else the bare
// repository under the data directory, made the first time.
func (p *platform) gitops(url string) (ports.GitOps, error) {
	if url == "" {
		dir := filepath.Join(p.data, "gitops.git")
		if _, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil {
			if out, err := exec.Command("git", "init", "-q", "--bare", "-b", "main", dir).CombinedOutput(); err != nil {
				return nil, fmt.Errorf("cannot make the GitOps repository %s: %s", dir, strings.TrimSpace(string(out)))
			}
		}
		url = "file://" + dir
	}
	p.gitopsURL = url
	repo, err := gitops.New(gitops.Options{URL: url})
	if err != nil {
		return nil, fmt.Errorf("the GitOps repository: %s", oneLine(err))
	}
	return repo, nil
}

// close stops whatever open and startWorkers started; it is safe on a
// platform that opened only in part, and on nil.
func (p *platform) close() error {
	if p == nil {
		return nil
	}
	if p.stopWorkers != nil {
		p.stopWorkers()
		p.workers.Wait()
	}
	if p.stopRegistry != nil {
		p.stopRegistry()
	}
	if p.discover != nil {
		p.discover.Close()
	}
	var errs []error
	if p.nc != nil {
		p.nc.Close()
	}
	if p.nats != nil {
		p.nats.Shutdown()
	}
	if p.objects != nil {
		errs = append(errs, p.objects.Close())
	}
	if p.store != nil {
		errs = append(errs, p.store.Close())
	}
	return errors.Join(errs...)
}
