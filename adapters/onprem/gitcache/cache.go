package gitcache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// DefaultBudget is the size budget of a cache when New is given none.
const DefaultBudget int64 = 20 << 30 // 20 GiB

// Cache is a persistent git cache: bare repositories kept in a directory,
// from which it adds a worktree per checkout. It is safe for concurrent
// use, and several Cache values (in one process or several) may share a
// directory.
type Cache struct {
	dir        string // absolute
	reposDir   string
	leasesDir  string
	trashDir   string
	workspaces string
	gitPath    string
	budget     int64
	clock      ports.Clock
	env        []string
	// checkoutWorkers is the -c setting of git's parallel checkout.
	checkoutWorkers string

	mu    sync.Mutex
	locks map[string]*repoLock // by git dir
	users map[string]int       // checkouts in progress and live workspaces, by git dir
	sizes map[string]int64     // bytes of each repository, as last measured, by git dir
	stats Stats

	evictMu sync.Mutex // one eviction pass at a time
}

var _ ports.SourceCache = (*Cache)(nil)

// Stats counts what a Cache did since New.
type Stats struct {
	// Hits counts checkouts whose commit was already in the cache.
	Hits int64
	// Misses counts checkouts that had to fetch from the remote, whether
	// the fetch worked or not. Rejected requests count nothing.
	Misses int64
	// Evictions counts repositories deleted to keep within the budget.
	Evictions int64
	// Bytes is the size of the cached repositories, as last measured
	// (after the latest checkout); workspaces are not counted.
	Bytes int64
}

// Option configures New.
type Option func(*options)

type options struct {
	budget     int64
	workspaces string
	git        string
	clock      ports.Clock
}

// WithBudget sets how many bytes the bare repositories may take before the
// least recently used ones are evicted (DefaultBudget otherwise).
func WithBudget(bytes int64) Option { return func(o *options) { o.budget = bytes } }

// WithWorkspaces puts the workspaces in dir instead of <cache>/workspaces,
// for example on a faster or larger volume. The cache owns the directory.
func WithWorkspaces(dir string) Option { return func(o *options) { o.workspaces = dir } }

// WithGit sets the git binary to run (found on PATH by default).
func WithGit(path string) Option { return func(o *options) { o.git = path } }

// WithClock sets the clock that stamps when a repository was last used,
// which orders eviction (the system clock by default).
func WithClock(clock ports.Clock) Option { return func(o *options) { o.clock = clock } }

// New opens the cache in dir, creating it if needed, and cleans up after a
// process that crashed while using it: workspaces whose lease nobody holds
// are removed and their worktrees pruned. Errors: Validation for bad
// options, Internal when the directory or git cannot be used.
func New(dir string, opts ...Option) (*Cache, error) {
	o := options{budget: DefaultBudget, git: "git"}
	for _, opt := range opts {
		opt(&o)
	}
	if dir == "" {
		return nil, fault.New(fault.Validation, "gitcache: the cache directory is empty")
	}
	if o.budget <= 0 {
		return nil, fault.New(fault.Validation, "gitcache: the size budget must be positive, not %d", o.budget)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "gitcache: resolving %s", dir)
	}
	if o.workspaces == "" {
		o.workspaces = filepath.Join(abs, "workspaces")
	}
	workspaces, err := filepath.Abs(o.workspaces)
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "gitcache: resolving %s", o.workspaces)
	}
	gitPath, err := exec.LookPath(o.git)
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "gitcache: finding the git binary %q", o.git)
	}
	c := &Cache{
		dir:        abs,
		reposDir:   filepath.Join(abs, "repos"),
		leasesDir:  filepath.Join(abs, "leases"),
		trashDir:   filepath.Join(abs, "trash"),
		workspaces: workspaces,
		gitPath:    gitPath,
		budget:     o.budget,
		clock:      o.clock,
		env:        gitEnv(),
		// Parallel checkout writes big trees faster; GOMAXPROCS follows
		// the container's CPU limit, unlike git's own count of cores.
		checkoutWorkers: fmt.Sprintf("checkout.workers=%d", min(max(runtime.GOMAXPROCS(0), 1), 8)),
		locks:           map[string]*repoLock{},
		users:           map[string]int{},
		sizes:           map[string]int64{},
	}
	for _, d := range []string{c.reposDir, c.leasesDir, c.trashDir, c.workspaces} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fault.Wrap(fault.Internal, err, "gitcache: creating %s", d)
		}
	}
	c.recover(context.Background())
	c.evict()
	return c, nil
}

// Stats returns the counters of the cache.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Checkout adds a worktree of req.Commit as a new workspace, fetching the
// commit first unless the cache has it. See ports.SourceCache.
func (c *Cache) Checkout(ctx context.Context, req ports.CheckoutRequest) (*ports.Workspace, error) {
	r, err := c.parse(req)
	if err != nil {
		return nil, err
	}
	c.use(r.gitDir, 1) // eviction leaves the repository alone from now on
	ws, err := c.checkout(ctx, r)
	if err != nil {
		c.use(r.gitDir, -1)
		return nil, err
	}
	c.evict()
	return ws, nil
}

func (c *Cache) checkout(ctx context.Context, r request) (*ports.Workspace, error) {
	lk := c.lockFor(r.gitDir, r.lockPath)
	if err := lk.lock(ctx); err != nil {
		return nil, err
	}
	defer lk.unlock()

	created, err := c.ensureRepo(ctx, r.gitDir)
	if err != nil {
		return nil, err
	}
	hit := false
	if !created {
		if hit, err = c.hasCommit(ctx, r.gitDir, r.commit); err != nil {
			return nil, err
		}
	}
	c.count(hit)
	if !hit {
		if err := c.fetch(ctx, r); err != nil {
			if created {
				c.discard(r.gitDir)
			}
			return nil, err
		}
	}

	dir := filepath.Join(c.workspaces, r.wsName)
	l, err := c.newLease(r.wsName, leaseRecord{
		Workspace: dir, GitDir: r.gitDir, Repository: r.repository, JobID: r.jobID, Created: c.clock.Now(),
	})
	if err != nil {
		return nil, err
	}
	if _, err := c.git(ctx, "--git-dir="+r.gitDir, "-c", c.checkoutWorkers, "worktree", "add", "--detach", "--quiet", dir, r.commit); err != nil {
		_ = forceRemoveAll(dir)
		_, _ = c.git(context.WithoutCancel(ctx), "--git-dir="+r.gitDir, "worktree", "prune")
		l.release()
		return nil, toInternal(err, "adding a worktree of %s at %s", r.repository, r.commit)
	}
	c.touch(r.lockPath)
	c.measure(r.gitDir)

	w := &workspace{c: c, gitDir: r.gitDir, lockPath: r.lockPath, dir: dir, lease: l}
	when, author, message, err := c.commitInfo(ctx, r.gitDir, r.commit)
	if err != nil {
		_ = w.remove(context.WithoutCancel(ctx))
		return nil, err
	}
	return &ports.Workspace{Dir: dir, Commit: r.commit, CommitTime: when, Author: author, Message: message, CacheHit: hit, Remove: w.remove}, nil
}

// lockFor returns the lock of the repository in gitDir.
func (c *Cache) lockFor(gitDir, lockPath string) *repoLock {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.locks[gitDir]
	if !ok {
		l = newRepoLock(lockPath)
		c.locks[gitDir] = l
	}
	return l
}

// use adds delta to the number of users of the repository in gitDir.
func (c *Cache) use(gitDir string, delta int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.users[gitDir] += delta
	if c.users[gitDir] <= 0 {
		delete(c.users, gitDir)
	}
}

// inUse reports whether a checkout or a live workspace of this Cache uses
// the repository in gitDir.
func (c *Cache) inUse(gitDir string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.users[gitDir] > 0
}

func (c *Cache) count(hit bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if hit {
		c.stats.Hits++
	} else {
		c.stats.Misses++
	}
}

// touch stamps the repository as used now: its lock file's mtime orders
// eviction, across restarts and across processes.
func (c *Cache) touch(lockPath string) {
	now := c.clock.Now()
	_ = os.Chtimes(lockPath, now, now)
}

// toInternal wraps an error of a local git command (not one that talks to
// a remote) as Internal, keeping faults (a cancelled context) as they are.
func toInternal(err error, format string, args ...any) error {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return err
	}
	return fault.Wrap(fault.Internal, err, format, args...)
}

// workspace is the state behind a Workspace's Remove.
type workspace struct {
	c        *Cache
	gitDir   string
	lockPath string
	dir      string
	lease    *lease

	mu      sync.Mutex
	removed bool
}

// remove deletes the worktree and its registration, then lets the lease
// go. It finishes even when ctx is cancelled, a job's cleanup often runs
// after its context ended, but gives up after removeTimeout.
func (w *workspace) remove(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.removed {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
	defer cancel()
	lk := w.c.lockFor(w.gitDir, w.lockPath)
	if err := lk.lock(ctx); err != nil {
		return err
	}
	err := w.c.removeWorktree(ctx, w.gitDir, w.dir)
	lk.unlock()
	if err != nil {
		return err
	}
	w.lease.release()
	w.c.use(w.gitDir, -1)
	w.removed = true
	return nil
}
