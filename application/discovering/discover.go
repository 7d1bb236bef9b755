package discovering

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"path"
	"runtime"
	"sync"

	"github.com/catalyst-forge/forge/application/cueconfig"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/discovery"
	"github.com/catalyst-forge/forge/domain/fault"
)

// Service discovers the projects of a repository checkout in the calling
// process. Only the loader's cheap guards (cueconfig) bound its evaluation
// of the repository's CUE, which nothing can stop once it has started:
// use Isolated for repositories that are not trusted.
type Service struct {
	// Workers bounds how many project configurations load at once; zero
	// means one per CPU.
	Workers int

	// observe, when set, hears of each configuration file as its
	// evaluation starts and ends (the child of Isolated reports them).
	observe func(file string, start bool)
}

func (s *Service) evaluating(file string, start bool) {
	if s.observe != nil {
		s.observe(file, start)
	}
}

// Result is what one discovery found.
type Result struct {
	// Output is the discovery output for the git context.
	Output discovery.Output
	// Repo is the repository configuration.
	Repo *config.Repo
	// Projects are the valid projects, by path.
	Projects []*config.Project
	// Problems lists every error and warning found, sorted by position.
	// Errors made discovery skip a project; warnings did not.
	Problems config.Problems
}

// Discover walks fsys (the root of a checkout), loads the repository
// configuration and every project, and builds the output for git.
//
// Errors: a missing root `.forge/repo.cue` is fault.NotFound ("not a forge
// repository", unlike a repository without projects, which succeeds); an
// invalid repository configuration is fault.Validation wrapping the
// config.Problems; an output over discovery.MaxOutputBytes is
// fault.Validation. Invalid projects are skipped and listed in the result.
func (s *Service) Discover(ctx context.Context, fsys fs.FS, git discovery.GitContext) (*Result, error) {
	repoFile := cueconfig.ForgeDir + "/" + cueconfig.RepoFile
	// A link on the way is not followed here; LoadRepo reports it.
	if link, _ := cueconfig.LinkOnPath(fsys, repoFile); link == "" {
		if st, err := fs.Stat(fsys, repoFile); err != nil || !st.Mode().IsRegular() {
			return nil, fault.New(fault.NotFound, "not a forge repository: %s not found at the repository root", repoFile)
		}
	}
	loader := cueconfig.NewLoader()
	s.evaluating(repoFile, true)
	rc, problems := loader.LoadRepo(fsys)
	s.evaluating(repoFile, false)
	if rc == nil {
		problems.Sort()
		return nil, fault.Wrap(fault.Validation, problems, "invalid repository configuration")
	}

	projects, more := s.walkAndLoad(ctx, fsys, rc)
	problems = append(problems, more...)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	projects, dups := config.DropDuplicates(projects)
	problems = append(problems, dups...)
	problems.Sort()

	res := &Result{
		Output:   discovery.Build(rc.Repo, projects, problems, git),
		Repo:     rc.Repo,
		Projects: projects,
		Problems: problems,
	}
	b, err := json.Marshal(res.Output)
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "encoding the discovery output")
	}
	if len(b) > discovery.MaxOutputBytes {
		return nil, fault.New(fault.Validation, "the discovery output is %d bytes, over the limit of %d bytes (1 MB): split the repository or trim project configuration", len(b), discovery.MaxOutputBytes)
	}
	return res, nil
}

// walkAndLoad walks the checkout and evaluates each project it finds while
// the walk goes on, one CUE loader per worker (a loader is not safe for
// concurrent use).
func (s *Service) walkAndLoad(ctx context.Context, fsys fs.FS, rc *cueconfig.RepoConfig) ([]*config.Project, config.Problems) {
	workers := s.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	dirs := make(chan string, 64)
	var mu sync.Mutex
	var projects []*config.Project
	var problems config.Problems
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var l *cueconfig.Loader
			for dir := range dirs {
				if ctx.Err() != nil {
					continue // drain: the walk stops at its next directory
				}
				if l == nil {
					l = cueconfig.NewLoader()
				}
				file := path.Join(dir, cueconfig.ForgeDir, cueconfig.ProjectFile)
				s.evaluating(file, true)
				p, ps := l.LoadProject(fsys, dir, rc)
				s.evaluating(file, false)
				mu.Lock()
				problems = append(problems, ps...)
				if p != nil {
					projects = append(projects, p)
				}
				mu.Unlock()
			}
		}()
	}
	w := &walker{fsys: fsys, found: func(dir string) { dirs <- dir }}
	w.walk(ctx, ".", nil)
	close(dirs)
	wg.Wait()
	return projects, append(problems, w.problems...)
}

// Problems returns the configuration problems carried by err, if any.
func Problems(err error) (config.Problems, bool) {
	var ps config.Problems
	if errors.As(err, &ps) {
		return ps, true
	}
	return nil, false
}
