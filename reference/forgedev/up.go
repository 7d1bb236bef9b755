package forgedev

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/catalyst-forge/forge/application/orchestrating"
	"github.com/catalyst-forge/forge/application/working"
	"github.com/catalyst-forge/forge/reference/forgeapi"
	"github.com/catalyst-forge/forge/reference/secretflags"
)

// UpOptions configure 'forge dev up'.
type UpOptions struct {
	// Data keeps the database, queue, logs and cache (required: runs in
	// progress resume from it after a restart).
	Data string
	// Addr is the API's listen address (default 127.0.0.1:8080; port 0
	// picks one).
	Addr string
	// DevKey is the development signing key the API trusts (created if
	// missing); 'forge dev token' signs with the same default file.
	DevKey string
	// Remote maps a repository to the URL workers fetch it from (see
	// working.RemoteTemplate; default working.DefaultRemote).
	Remote string
	// Progress receives the platform's progress lines, Log the API's JSON
	// request logs (nil: none).
	Progress io.Writer
	Log      io.Writer
	// Ready, when set, is called with the API's address once it listens.
	Ready func(addr string)
	// Secrets says which environment variables and files steps may read
	// as secrets; nothing under Data and not DevKey ever is.
	Secrets secretflags.Options
	// Registry is the HOST:PORT of the registry artifacts go to; empty
	// serves one in this process.
	Registry string
	// GitOps is the GitOps repository deployments are committed to; empty
	// is a bare repository under Data (gitops.git), made at first use.
	GitOps string
}

// Up runs the whole platform in this process until ctx ends: the API with
// the development issuer, SQLite, embedded NATS JetStream, the filesystem
// object store, the git cache, the local workflow engine and workers.
// Runs left in progress by an earlier Up are resumed at start; runs in
// progress when ctx ends stay so, for the next Up to resume.
func Up(ctx context.Context, o UpOptions) error {
	if o.Data == "" {
		return fmt.Errorf("forge dev up needs a data directory")
	}
	if o.Remote == "" {
		o.Remote = working.DefaultRemote
	}
	remote, err := working.RemoteTemplate(o.Remote)
	if err != nil {
		return err
	}
	dd, err := openDataDir(o.Data)
	if err != nil {
		return err
	}
	defer dd.close()
	o.Data = dd.path // absolute from here on
	if o.DevKey == "" {
		o.DevKey = filepath.Join(o.Data, "dev-key.pem")
	}
	p := &printer{w: o.Progress, started: map[string]time.Time{}}
	pf, err := open(ctx, o.Data, p)
	if err != nil {
		return err
	}
	defer pf.close()
	pf.discover.KeepWarm = true // every push discovers
	secrets, err := secretflags.Registry(ctx, o.Secrets, o.Data, o.DevKey)
	if err != nil {
		return err
	}
	if err := pf.startWorkers(remote, secrets, o.Registry, o.GitOps); err != nil {
		return err
	}
	if err := pf.resumeDeployments(ctx); err != nil {
		return err
	}
	p.printf("artifacts go to the registry at %s; tracking images are signed (cosign verify --key %s)", pf.registry, filepath.Join(o.Data, publicKeyFile))
	engine := orchestrating.NewLocalEngine(pf.orch, func(runID string, err error) {
		p.printf("run %s: %v (retrying)", runID, err)
	})
	defer engine.Close()

	logs := o.Log
	if logs == nil {
		logs = io.Discard
	}
	app, err := forgeapi.New(ctx, forgeapi.Options{
		Addr: o.Addr, Auth: "dev", DevKey: o.DevKey, ObjectsDir: filepath.Join(o.Data, "objects"),
		Store: pf.store, Engine: engine, Log: logs, ReportSecret: pf.reportSecret, Registry: pf.registry, Jobs: pf.queue,
	})
	if err != nil {
		return err
	}
	defer app.Close()
	n, err := engine.Resume(ctx)
	if err != nil {
		return err
	}
	p.printf("forge dev up: API on http://%s, data in %s", app.Addr(), o.Data)
	if n > 0 {
		p.printf("resuming %d run(s) left in progress", n)
	}
	p.printf("repositories are fetched from %s; deployments are committed to %s", o.Remote, pf.gitopsURL)
	if o.Ready != nil {
		o.Ready(app.Addr())
	}
	return app.Run(ctx)
}
