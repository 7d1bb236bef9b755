package gitcache

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// DefaultIdleWorkspaces is how many removed workspaces of a repository a
// Cache keeps for reuse when New is given no WithIdleWorkspaces.
const DefaultIdleWorkspaces = 4

// idleWorkspace is a removed workspace kept for the next checkout of its
// repository, under a name and a lease of its own.
type idleWorkspace struct {
	dir    string
	commit string // the commit its last checkout was at
	mark   indexMark
	lease  *lease
}

// keep moves a removed workspace aside for reuse, unless its repository
// has enough idle ones already; it reports whether it did. The workspace
// gets an idle lease before it lets go of its own, so its directory is
// never taken for an orphan. The idle lease names no repository: an idle
// workspace does not keep its repository from eviction by another
// process, since a checkout reuses it only once the repository holds its
// commit again, at the same path.
func (c *Cache) keep(w *workspace) bool {
	c.mu.Lock()
	full := len(c.idle[w.gitDir]) >= c.maxIdle
	c.mu.Unlock()
	if full {
		return false
	}
	name := "idle-" + randomHex(8)
	dir := filepath.Join(c.workspaces, name)
	l, err := c.newLease(name, leaseRecord{Workspace: dir, Created: c.clock.Now()})
	if err != nil {
		return false
	}
	if err := os.Rename(w.dir, dir); err != nil {
		l.release()
		return false
	}
	c.mu.Lock()
	c.idle[w.gitDir] = append(c.idle[w.gitDir], &idleWorkspace{dir: dir, commit: w.commit, mark: w.mark, lease: l})
	c.mu.Unlock()
	return true
}

// takeIdle returns an idle workspace of the repository in gitDir, if any.
func (c *Cache) takeIdle(gitDir string) *idleWorkspace {
	c.mu.Lock()
	defer c.mu.Unlock()
	list := c.idle[gitDir]
	if len(list) == 0 {
		return nil
	}
	iw := list[len(list)-1]
	c.idle[gitDir] = list[:len(list)-1]
	return iw
}

// dropIdle deletes the idle workspaces of the repository in gitDir
// (before it is evicted).
func (c *Cache) dropIdle(gitDir string) {
	c.mu.Lock()
	list := c.idle[gitDir]
	delete(c.idle, gitDir)
	c.mu.Unlock()
	for _, iw := range list {
		_ = forceRemoveAll(iw.dir)
		iw.lease.release()
	}
}

// reuse makes the idle workspace iw the workspace dir at commit: renamed,
// its .git rebuilt unless it is intact (refs, objects and settings a step
// left are gone, the index kept), and checked clean against the commit,
// so a task sees exactly what a fresh checkout shows. A workspace reused
// at its own commit whose index and files are provably as they were when
// it was last known clean (unchangedSinceMark: the same index, every
// file's stat data as git recorded it, nothing more) costs no git
// command. Otherwise everything untracked is deleted (git clean -ffdx),
// its tracked files are brought to the commit when it was last checked
// out at another one (only those that differ are written), and git
// status checks it: what the status shows (a job's changes to tracked
// files or the index) is written again from the commit, the status must
// then be clean, and what git does not track (modes, owners and extended
// attributes, hard links, a planted .git, a submodule's directory) as a
// checkout makes it, or else the workspace is made afresh. It returns the
// workspace's new mark. iw's lease is let go once dir exists. On error
// the caller makes a fresh workspace.
func (c *Cache) reuse(ctx context.Context, iw *idleWorkspace, gitDir, dir, commit string) (indexMark, error) {
	defer iw.lease.release()
	if err := os.Rename(iw.dir, dir); err != nil {
		_ = forceRemoveAll(iw.dir)
		return indexMark{}, err
	}
	dotGit := filepath.Join(dir, ".git")
	if fi, err := os.Lstat(dotGit); err != nil || !fi.IsDir() {
		return indexMark{}, errors.New(".git is not a directory") // a step replaced it
	}
	if !gitDirIntact(dotGit, gitDir, commit) {
		entries, err := os.ReadDir(dotGit)
		if err != nil {
			return indexMark{}, err
		}
		for _, e := range entries {
			if e.Name() != "index" {
				if err := forceRemoveAll(filepath.Join(dotGit, e.Name())); err != nil {
					return indexMark{}, err
				}
			}
		}
		if err := writeGitDir(gitDir, dir, commit); err != nil {
			return indexMark{}, err
		}
	}
	// Only the index git wrote, as marked, is trusted: one a job wrote
	// may say anything of the files (entries hidden from git status with
	// assume-unchanged or skip-worktree, stat data forged to match a
	// changed file), so it goes, and every file is written again.
	index, trusted := markedIndex(dir, iw.mark)
	if !trusted {
		if err := forceRemoveAll(filepath.Join(dotGit, "index")); err != nil {
			return indexMark{}, err
		}
		iw.commit = ""
	} else if iw.commit == commit && unchangedSinceMark(dir, iw.mark, index, c.modes) {
		return iw.mark, nil
	}
	// Everything untracked goes (git clean also takes the empty
	// directories git status does not show), then the tracked files are
	// brought to the commit when it is another.
	if _, err := c.git(ctx, "--git-dir="+dotGit, "--work-tree="+dir, "clean", "-ffdxq"); err != nil {
		return indexMark{}, err
	}
	if iw.commit != commit {
		if err := c.readTree(ctx, dir); err != nil {
			return indexMark{}, err
		}
	}
	// The status compares the index with the commit and the files with
	// the index, tracked, untracked and ignored: with no entry hidden from
	// it, empty means the tree is the commit's whatever a job did to the
	// index or the files. What it shows is written again from the commit.
	for attempt := 0; ; attempt++ {
		out, err := c.git(ctx, "--git-dir="+dotGit, "--work-tree="+dir, "status", "--porcelain", "--ignored", "--untracked-files=all")
		switch {
		case err != nil:
			return indexMark{}, err
		case len(out) == 0:
			// git status may have written the index (refreshed stat
			// data): the mark is taken after it.
			mark, entries, err := markIndex(dir)
			if err != nil {
				return indexMark{}, err
			}
			// What git does not track (modes, links) is checked apart;
			// a workspace a job changed so is made afresh.
			if !c.modes.pristine(dir, gitlinkPaths(entries)) {
				return indexMark{}, errors.New("a job changed what git does not track (modes, owners, attributes, links, a .git or a submodule's directory)")
			}
			return mark, nil
		case attempt > 0:
			return indexMark{}, errors.New("not clean: " + strings.TrimSpace(string(out)))
		}
		if err := c.readTree(ctx, dir); err != nil {
			return indexMark{}, err
		}
	}
}
