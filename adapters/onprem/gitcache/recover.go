package gitcache

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// staleAfter is how old a half-made entry (a lease being written, a
// repository being created) must be before New treats it as left by a
// crash rather than being made right now by another process.
const staleAfter = time.Minute

// recover cleans up after processes that crashed while using the cache:
// it empties the trash, removes the workspaces whose lease nobody holds,
// removes worktrees of the cache that have no lease at all, and prunes
// the registrations of the removed worktrees.
func (c *Cache) recover(ctx context.Context) {
	c.emptyTrash()
	c.removeStaleProbes()
	c.reapLeases()
	c.reapOrphans()
	for _, r := range c.scan() {
		if !hasWorktrees(r.gitDir) {
			continue
		}
		lk := c.lockFor(r.gitDir, r.lockPath)
		if !lk.tryLock() {
			continue // someone is using it; their next removal prunes
		}
		_, _ = c.git(ctx, "--git-dir="+r.gitDir, "worktree", "prune")
		lk.unlock()
		c.measure(r.gitDir)
	}
}

// emptyTrash deletes what evictions and failed creations left behind.
func (c *Cache) emptyTrash() {
	entries, _ := os.ReadDir(c.trashDir)
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleAfter {
			_ = forceRemoveAll(filepath.Join(c.trashDir, e.Name()))
		}
	}
}

// removeStaleProbes deletes what probeModes left in the workspaces
// directory when its process crashed (a probe younger than staleAfter
// may be another process's, at work).
func (c *Cache) removeStaleProbes() {
	entries, _ := os.ReadDir(c.workspaces)
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && strings.HasPrefix(e.Name(), probePrefix) && time.Since(fi.ModTime()) > staleAfter {
			_ = forceRemoveAll(filepath.Join(c.workspaces, e.Name()))
		}
	}
}

// reapLeases removes the workspace of every lease that nobody holds: its
// process is gone.
func (c *Cache) reapLeases() {
	entries, _ := os.ReadDir(c.leasesDir)
	for _, e := range entries {
		path := filepath.Join(c.leasesDir, e.Name())
		if strings.HasPrefix(e.Name(), tmpLeasePrefix) {
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleAfter {
				c.reapLease(path, "")
			}
			continue
		}
		if name, ok := strings.CutSuffix(e.Name(), ".lock"); ok {
			c.reapLease(path, name)
		}
	}
}

// reapLease removes the workspace of the lease in path, called name, and
// the lease itself, if nobody holds it.
func (c *Cache) reapLease(path, name string) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return // alive
	}
	var rec leaseRecord
	// Only the directory the lease is named for is deleted, whatever the
	// file says.
	if json.NewDecoder(f).Decode(&rec) == nil && name != "" &&
		filepath.IsAbs(rec.Workspace) && filepath.Base(rec.Workspace) == name {
		_ = forceRemoveAll(rec.Workspace)
	}
	_ = os.Remove(path)
}

// reapOrphans removes the directories in the workspaces directory that are
// workspaces of the cache's repositories (or worktrees, as caches before
// this one made) but have no lease. A lease is written before its
// workspace is made and deleted after it is removed, so such a workspace
// belongs to no live job.
func (c *Cache) reapOrphans() {
	entries, _ := os.ReadDir(c.workspaces)
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(c.workspaces, e.Name())
		gitdir := readGitdir(filepath.Join(dir, ".git"))
		if gitdir == "" {
			gitdir = readAlternate(filepath.Join(dir, ".git", "objects", "info", "alternates"))
		}
		if !strings.HasPrefix(gitdir, c.reposDir+string(filepath.Separator)) {
			continue
		}
		if _, err := os.Lstat(filepath.Join(c.leasesDir, e.Name()+".lock")); err == nil {
			continue
		}
		_ = forceRemoveAll(dir)
	}
}

// readGitdir returns the repository a worktree's .git file points to, or
// "" when path is not such a file.
func readGitdir(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	dir, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir: ")
	if !ok {
		return ""
	}
	return filepath.Clean(dir)
}

// readAlternate returns the directory of the objects a workspace borrows
// (its only alternate), or "" when path holds no alternate.
func readAlternate(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if line == "" || !filepath.IsAbs(line) {
		return ""
	}
	return filepath.Clean(line)
}
