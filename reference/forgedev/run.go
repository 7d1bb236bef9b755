package forgedev

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/catalyst-forge/forge/application/running"
	"github.com/catalyst-forge/forge/domain/artifact"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/reference/secretflags"
)

// Options configure one dev run.
type Options struct {
	// Dir is the repository to run.
	Dir string
	// Ref names the commit; empty runs the working tree (see resolve).
	Ref string
	// Data keeps the database, queue, objects and cache; empty means a
	// temporary directory removed afterwards.
	Data string
	// Progress receives one line per event (nil: none).
	Progress io.Writer
	// Secrets says which environment variables and files steps may read
	// as secrets; nothing under Data ever is.
	Secrets secretflags.Options
	// Registry is the HOST:PORT of the registry artifacts go to; empty
	// serves one in this process for the run.
	Registry string
}

// Outcome is a finished dev run.
type Outcome struct {
	Run *pipeline.Run
	// FailedLogs holds the last lines of the log of each failed step, by
	// "phase/project/step".
	FailedLogs map[string]string
	// Snapshot is true when the working tree was committed to run it.
	Snapshot bool
	// Artifacts are the outcomes of the artifacts the run built, in the
	// registry at Registry; their tracking images are signed with the key
	// whose public half is the file PublicKey.
	Artifacts []artifact.Output
	Registry  string
	PublicKey string
	// Releases are the releases the run made, their images in the
	// registry at Registry, signed like the tracking images.
	Releases []release.Release
	// Deployments are the releases' auto-deployments (to dev), committed
	// to the GitOps repository at GitOps.
	Deployments []Deployment
	GitOps      string
}

// worker is the service account the in-process workers act as.
var worker = &identity.Principal{Subject: "forge-dev", Roles: []identity.Role{identity.RoleServiceAccount}}

// Run pushes one commit of a local repository through a real pipeline on
// embedded defaults and returns the finished run.
func Run(ctx context.Context, o Options) (*Outcome, error) {
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	data := o.Data
	if data == "" {
		if data, err = os.MkdirTemp("", "forge-dev-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(data)
	}
	dd, err := openDataDir(data)
	if err != nil {
		return nil, err
	}
	defer dd.close()
	data = dd.path // absolute from here on
	p := &printer{w: o.Progress, started: map[string]time.Time{}}
	// The commit (a snapshot is a few git commands) is found while the
	// platform opens.
	type resolved struct {
		src *source
		err error
	}
	found := make(chan resolved, 1)
	go func() {
		src, err := resolve(ctx, dir, o.Ref, data)
		found <- resolved{src, err}
	}()
	pf, err := open(ctx, data, p)
	r := <-found
	if r.err != nil {
		_ = pf.close()
		return nil, r.err
	}
	if err != nil {
		return nil, err
	}
	defer pf.close()
	src := r.src
	if src.snapshot {
		p.printf("running the files of %s as they are (snapshot commit %s)", o.Dir, src.commit[:12])
	} else {
		p.printf("running commit %s of %s", src.commit[:12], o.Dir)
	}

	repo := "local/" + repoName(filepath.Base(dir))
	if _, _, err := pf.store.CreateRepository(ctx, &repository.Repository{Name: repo, Limits: repository.Limits{}.WithDefaults(),
		CreatedAt: time.Now().UTC(), CreatedBy: worker.Subject}); err != nil {
		return nil, err
	}
	secrets, err := secretflags.Registry(ctx, o.Secrets, data)
	if err != nil {
		return nil, err
	}
	if err := pf.startWorkers(func(string) (string, error) { return fileURL(src.remote) }, secrets, o.Registry, ""); err != nil {
		return nil, err
	}
	if err := pf.resumeDeployments(ctx); err != nil {
		return nil, err
	}

	run, _, err := pf.runs.Create(ctx, worker, running.CreateRequest{Repository: repo, Branch: src.branch, CommitSHA: src.commit, TriggerType: pipeline.TriggerManual})
	if err != nil {
		return nil, err
	}
	p.printf("run %s created", run.ID)
	if err := drive(ctx, pf, run.ID); err != nil {
		return nil, err
	}
	store, objects := pf.store, pf.objects
	final, err := store.GetRun(context.WithoutCancel(ctx), run.ID)
	if err != nil {
		return nil, err
	}
	out := &Outcome{Run: final, FailedLogs: map[string]string{}, Snapshot: src.snapshot,
		Artifacts: runArtifacts(context.WithoutCancel(ctx), objects, final), Registry: pf.registry, PublicKey: filepath.Join(data, publicKeyFile)}
	if out.Releases, err = store.RunReleases(context.WithoutCancel(ctx), final.ID); err != nil {
		return nil, err
	}
	out.Deployments, out.GitOps = pf.runDeployments(context.WithoutCancel(ctx), final.ID, out.Releases), pf.gitopsURL
	for _, ph := range final.Phases {
		for _, t := range ph.Tasks {
			for _, st := range t.Steps {
				if st.Status == pipeline.StatusFailed && st.LogsKey != "" {
					out.FailedLogs[ph.Name+"/"+t.ProjectName+"/"+st.Name] = tail(ctx, objects, st.LogsKey, 20)
				}
			}
		}
	}
	return out, nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

func repoName(base string) string {
	name := strings.Trim(unsafeName.ReplaceAllString(base, "-"), "-.")
	if name == "" {
		return "repository"
	}
	return name
}

// drive runs the pipeline to its end. When ctx ends first (the user
// pressed Ctrl-C), the run is cancelled as DELETE /v1/runs/{id} would and
// driven until its workers have stopped its steps, so that it ends in a
// recorded state.
func drive(ctx context.Context, pf *platform, runID string) error {
	done := make(chan error, 1)
	go func() { done <- pf.orch.Execute(context.WithoutCancel(ctx), runID) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	pf.print.printf("interrupted: cancelling run %s", runID)
	if err := pf.runs.Cancel(context.WithoutCancel(ctx), worker, runID); err != nil && !fault.Is(err, fault.Conflict) {
		return err
	}
	return <-done
}

// tail returns the last n lines of an object.
func tail(ctx context.Context, objects ports.ObjectStore, key string, n int) string {
	body, _, err := objects.Get(ctx, key, 0)
	if err != nil {
		return ""
	}
	defer body.Close()
	var lines []string
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// fileURL is the file:// URL of path, made absolute first: "file://" and
// a relative path would read its first element as a host.
func fileURL(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("making %s absolute: %w", path, err)
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), nil
}
