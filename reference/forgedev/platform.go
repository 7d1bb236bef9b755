package forgedev

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/catalyst-forge/forge/adapters/onprem/fsblob"
	"github.com/catalyst-forge/forge/adapters/onprem/gitcache"
	"github.com/catalyst-forge/forge/adapters/onprem/gormstore"
	"github.com/catalyst-forge/forge/adapters/onprem/natsembed"
	"github.com/catalyst-forge/forge/adapters/onprem/natsqueue"
	"github.com/catalyst-forge/forge/adapters/onprem/stepexec"
	"github.com/catalyst-forge/forge/application/discovering"
	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/application/resolving"
	"github.com/catalyst-forge/forge/application/running"
	"github.com/catalyst-forge/forge/application/working"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/reference/internal/discoverchild"
)

// workerConcurrency is how many jobs the in-process workers run at once;
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
	print   *printer

	stopWorkers context.CancelFunc
	workers     sync.WaitGroup
	// registry is the host:port artifacts go to; stopRegistry stops the
	// in-process one.
	registry     string
	stopRegistry func()
}

// open starts the parts; close stops them. On error everything opened so
// far is closed.
func open(ctx context.Context, data string, print *printer) (p *platform, err error) {
	p = &platform{data: data, print: print}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	if p.store, err = gormstore.Open(ctx, "sqlite://"+filepath.Join(data, "forge.db")); err != nil {
		return nil, err
	}
	if _, err = p.store.Migrate(ctx); err != nil {
		return nil, err
	}
	if p.objects, err = fsblob.New(filepath.Join(data, "objects")); err != nil {
		return nil, err
	}
	if p.cache, err = gitcache.New(filepath.Join(data, "cache")); err != nil {
		return nil, err
	}
	if p.nats, err = natsembed.Start(ctx, natsembed.Config{Dir: filepath.Join(data, "nats"), NoListener: true, Name: "forge-dev"}); err != nil {
		return nil, err
	}
	if p.nc, err = p.nats.Connect(); err != nil {
		return nil, err
	}
	if p.queue, err = natsqueue.New(ctx, p.nc, natsqueue.WithObjectStore(p.objects), natsqueue.WithShutdownGrace(shutdownGrace),
		natsqueue.WithAckWait(job.TypeDiscovery, ackWait), natsqueue.WithAckWait(job.TypeCI, ackWait), natsqueue.WithAckWait(job.TypeArtifact, ackWait)); err != nil {
		return nil, err
	}
	p.runs = &running.Service{Store: p.store, Objects: p.objects}
	p.orch = &orchestrating.Orchestrator{Store: p.store, Jobs: p.queue, Status: print, Objects: p.objects}
	return p, nil
}

// startWorkers consumes discovery, CI and artifact jobs in this process,
// fetching repositories from remote, resolving step secrets through
// secrets, and publishing to the registry at registryAddr (empty: one
// served by this process).
func (p *platform) startWorkers(remote func(string) (string, error), secrets *resolving.Registry, registryAddr string) error {
	host, err := p.startRegistry(registryAddr)
	if err != nil {
		return err
	}
	steps := stepexec.New()
	artifacts, err := p.artifacts(host, steps, secrets)
	if err != nil {
		return err
	}
	w := &working.Worker{
		Artifacts: artifacts,
		// Discovery runs in a child of this binary, bounded by the
		// default limits (reference/internal/discoverchild).
		Discover: discoverchild.New(discovering.Limits{}).Discover,
		Sources:  p.cache,
		Steps:    steps,
		Objects:  p.objects,
		Reporter: &reporter{runs: p.runs, store: p.store, print: p.print},
		Remote:   remote,
		Secrets:  secrets.Resolve,
	}
	ctx, stop := context.WithCancel(context.Background())
	p.stopWorkers = stop
	p.workers.Add(1)
	go func() {
		defer p.workers.Done()
		_ = p.queue.Consume(ctx, []job.Type{job.TypeDiscovery, job.TypeCI, job.TypeArtifact}, workerConcurrency, w.Handle)
	}()
	return nil
}

func (p *platform) close() error {
	if p.stopWorkers != nil {
		p.stopWorkers()
		p.workers.Wait()
	}
	if p.stopRegistry != nil {
		p.stopRegistry()
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
