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
	"syscall"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// DefaultBudget is the size budget of a cache when New is given none.
const DefaultBudget int64 = 20 << 30 // 20 GiB

// Cache is a persistent git cache: bare repositories kept in a directory,
// from which each checkout makes a workspace that borrows their objects. It is safe for concurrent
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
	// commits remembers the commits checked out before, by git dir and
	// commit, with what a workspace tells of them.
	commits map[string]commitInfo
	idle    map[string][]*idleWorkspace // removed workspaces kept for reuse, by git dir
	maxIdle int
	modes   checkoutModes    // what a checkout in workspaces makes
	users   map[string]int   // checkouts in progress and live workspaces, by git dir
	sizes   map[string]int64 // bytes of each repository, as last measured, by git dir
	stats   Stats

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
	// Reuses counts checkouts made from a removed workspace kept for
	// reuse (WithIdleWorkspaces).
	Reuses int64
	// ReuseFailures counts kept workspaces that could not be reused (a
	// job left what git cannot bring back, or git failed) and were
	// replaced by fresh ones; a cache where most reuses fail writes the
	// whole tree for every task.
	ReuseFailures int64
}

// Option configures New.
type Option func(*options)

type options struct {
	budget     int64
	workspaces string
	git        string
	clock      ports.Clock
	idle       int
}

// WithBudget sets how many bytes the bare repositories may take before the
// least recently used ones are evicted (DefaultBudget otherwise).
func WithBudget(bytes int64) Option { return func(o *options) { o.budget = bytes } }

// WithWorkspaces puts the workspaces in dir instead of <cache>/workspaces,
// for example on a faster or larger volume. The cache owns the directory.
func WithWorkspaces(dir string) Option { return func(o *options) { o.workspaces = dir } }

// WithIdleWorkspaces sets how many removed workspaces of a repository
// are kept to be reused by its next checkouts (DefaultIdleWorkspaces
// otherwise; 0 deletes every removed workspace). Reusing one writes only
// the files that differ from the commit asked for, instead of every file
// of the tree.
func WithIdleWorkspaces(n int) Option { return func(o *options) { o.idle = n } }

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
	o := options{budget: DefaultBudget, git: "git", idle: DefaultIdleWorkspaces}
	for _, opt := range opts {
		opt(&o)
	}
	if dir == "" {
		return nil, fault.New(fault.Validation, "gitcache: the cache directory is empty")
	}
	if o.idle < 0 {
		return nil, fault.New(fault.Validation, "gitcache: the number of idle workspaces must not be negative, not %d", o.idle)
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
		commits:         map[string]commitInfo{},
		idle:            map[string][]*idleWorkspace{},
		maxIdle:         o.idle,
	}
	for _, d := range []string{c.reposDir, c.leasesDir, c.trashDir, c.workspaces} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fault.Wrap(fault.Internal, err, "gitcache: creating %s", d)
		}
	}
	if c.modes, err = probeModes(c.workspaces); err != nil {
		return nil, fault.Wrap(fault.Internal, err, "gitcache: making files in %s", c.workspaces)
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

// Checkout makes a workspace of req.Commit, fetching the commit first
// unless the cache has it. See ports.SourceCache.
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
	info, hit, l, err := c.prepare(ctx, r)
	if err != nil {
		return nil, err
	}
	// The repository's lock is not held from here: the workspace is a
	// repository of its own that borrows the cache's objects, and its
	// lease keeps the cache's repository from eviction, so checkouts and
	// removals of one repository run side by side.
	dir := filepath.Join(c.workspaces, r.wsName)
	reused := false
	var mark indexMark
	if iw := c.takeIdle(r.gitDir); iw != nil {
		var err error
		mark, err = c.reuse(ctx, iw, r.gitDir, dir, r.commit)
		reused = err == nil
		c.countReuse(reused)
		if err != nil {
			if rerr := forceRemoveAll(dir); rerr != nil {
				// A fresh workspace must not be written over what is left.
				l.release()
				return nil, fault.Wrap(fault.Internal, rerr, "gitcache: removing a workspace that could not be reused (%v)", err)
			}
		}
	}
	if !reused {
		if err := c.materialize(ctx, r.gitDir, dir, r.commit); err != nil {
			_ = forceRemoveAll(dir)
			l.release()
			return nil, toInternal(err, "checking out %s at %s", r.repository, r.commit)
		}
		mark, _, _ = markIndex(dir) // unreadable: no mark, nothing trusted
	}
	w := &workspace{c: c, gitDir: r.gitDir, dir: dir, commit: r.commit, mark: mark, lease: l}
	return &ports.Workspace{Dir: dir, Commit: r.commit, CommitTime: info.when, Author: info.author, Message: info.message,
		CacheHit: hit, Remove: w.remove}, nil
}

// commitInfo is what a workspace tells of its commit, and which
// repository (repoID) it was read from.
type commitInfo struct {
	when            time.Time
	author, message string
	repo            [2]int64
}

// prepare makes sure the cache holds r.commit, fetching it if need be,
// and takes the workspace's lease, all under the repository's lock. A
// commit this Cache has checked out before costs no git command.
func (c *Cache) prepare(ctx context.Context, r request) (commitInfo, bool, *lease, error) {
	lk := c.lockFor(r.gitDir, r.lockPath)
	if err := lk.lock(ctx); err != nil {
		return commitInfo{}, false, nil, err
	}
	defer lk.unlock()

	key := r.gitDir + "\x00" + r.commit
	repo, exists := repoID(r.gitDir)
	c.mu.Lock()
	info, known := c.commits[key]
	c.mu.Unlock()
	// A commit this Cache checked out before is still there, unless its
	// repository was evicted since (and perhaps made again: another one).
	hit := known && exists && info.repo == repo
	if hit {
		c.count(true)
	} else {
		created, err := c.ensureRepo(ctx, r.gitDir)
		if err != nil {
			return commitInfo{}, false, nil, err
		}
		if !created {
			if hit, err = c.hasCommit(ctx, r.gitDir, r.commit); err != nil {
				return commitInfo{}, false, nil, err
			}
		}
		c.count(hit)
		if !hit {
			if err := c.fetch(ctx, r); err != nil {
				if created {
					c.discard(r.gitDir)
				}
				return commitInfo{}, false, nil, err
			}
			c.measure(r.gitDir)
		}
		if info.when, info.author, info.message, err = c.readCommit(ctx, r.gitDir, r.commit); err != nil {
			return commitInfo{}, false, nil, err
		}
		info.repo, _ = repoID(r.gitDir)
		c.remember(key, info)
	}
	l, err := c.newLease(r.wsName, leaseRecord{
		Workspace: filepath.Join(c.workspaces, r.wsName), GitDir: r.gitDir, Repository: r.repository, JobID: r.jobID, Created: c.clock.Now(),
	})
	if err != nil {
		return commitInfo{}, false, nil, err
	}
	c.touch(r.lockPath)
	return info, hit, l, nil
}

// maxKnownCommits bounds the commits a Cache remembers; past it, it
// starts again from none.
const maxKnownCommits = 4096

// remember keeps what a workspace tells of a commit, under key.
func (c *Cache) remember(key string, info commitInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.commits) >= maxKnownCommits {
		clear(c.commits)
	}
	c.commits[key] = info
}

// repoID tells the repository directory gitDir apart from any other that
// was or will be at that path (its inode and its change time): an evicted
// repository made again is another. exists is false when there is none.
func repoID(gitDir string) (id [2]int64, exists bool) {
	fi, err := os.Stat(gitDir)
	if err != nil || !fi.IsDir() {
		return id, false
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id = [2]int64{int64(st.Ino), st.Ctim.Nano()}
	}
	return id, true
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

// count counts a checkout that found its commit in the cache, or fetched it.
func (c *Cache) count(hit bool) { c.tally(hit, &c.stats.Hits, &c.stats.Misses) }

// countReuse counts a reuse of a kept workspace, or its failure.
func (c *Cache) countReuse(ok bool) { c.tally(ok, &c.stats.Reuses, &c.stats.ReuseFailures) }

// tally adds one to yes when ok, to no otherwise, under the cache's lock.
func (c *Cache) tally(ok bool, yes, no *int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ok {
		*yes++
	} else {
		*no++
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
	c      *Cache
	gitDir string
	dir    string
	commit string // the commit it was checked out at
	mark   indexMark
	lease  *lease

	mu      sync.Mutex
	removed bool
}

// remove moves the workspace aside for the next checkout of its
// repository (see keep) or deletes it, then lets its lease go. It takes
// no lock of the repository: nothing of the workspace is in it.
func (w *workspace) remove(context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.removed {
		return nil
	}
	if !w.c.keep(w) {
		if err := forceRemoveAll(w.dir); err != nil {
			return fault.Wrap(fault.Internal, err, "removing the workspace %s", w.dir)
		}
	}
	w.lease.release()
	w.c.use(w.gitDir, -1)
	w.removed = true
	return nil
}
