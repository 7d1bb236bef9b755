package gitcache

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// repoInfo is one bare repository found in the cache directory.
type repoInfo struct {
	gitDir   string
	lockPath string
	lastUsed time.Time
	size     int64
}

// scan lists the bare repositories in the cache directory, the ones other
// processes made included. Sizes come from the last measure of this Cache
// when there is one, and are measured otherwise.
func (c *Cache) scan() []repoInfo {
	var repos []repoInfo
	owners, _ := os.ReadDir(c.reposDir)
	for _, o := range owners {
		if !o.IsDir() {
			continue
		}
		ownerDir := filepath.Join(c.reposDir, o.Name())
		entries, _ := os.ReadDir(ownerDir)
		for _, e := range entries {
			if !e.IsDir() || !strings.HasSuffix(e.Name(), ".git") {
				continue
			}
			r := repoInfo{
				gitDir:   filepath.Join(ownerDir, e.Name()),
				lockPath: filepath.Join(ownerDir, strings.TrimSuffix(e.Name(), ".git")+".lock"),
			}
			if fi, err := os.Stat(r.lockPath); err == nil {
				r.lastUsed = fi.ModTime()
			} else if fi, err := os.Stat(r.gitDir); err == nil {
				r.lastUsed = fi.ModTime()
			}
			repos = append(repos, r)
		}
	}

	c.mu.Lock()
	known := make(map[string]int64, len(c.sizes))
	for k, v := range c.sizes {
		known[k] = v
	}
	c.mu.Unlock()
	seen := make(map[string]bool, len(repos))
	for i := range repos {
		r := &repos[i]
		seen[r.gitDir] = true
		if size, ok := known[r.gitDir]; ok {
			r.size = size
			continue
		}
		r.size = dirSize(r.gitDir)
		c.mu.Lock()
		c.sizes[r.gitDir] = r.size
		c.mu.Unlock()
	}
	c.mu.Lock()
	for k := range c.sizes {
		if !seen[k] {
			delete(c.sizes, k)
		}
	}
	c.mu.Unlock()
	return repos
}

// measure records the size of the repository in gitDir.
func (c *Cache) measure(gitDir string) {
	size := dirSize(gitDir)
	c.mu.Lock()
	c.sizes[gitDir] = size
	c.mu.Unlock()
}

// dirSize adds up the sizes of the files under dir.
func dirSize(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil && fi.Mode().IsRegular() {
			total += fi.Size()
		}
		return nil
	})
	return total
}

// evict deletes least recently used repositories until the cache fits its
// budget, skipping any that is in use: by a checkout or a live workspace
// of this Cache, by anyone holding its lock, or by a worktree of another
// process. It records the resulting size in Stats.Bytes.
func (c *Cache) evict() {
	c.evictMu.Lock()
	defer c.evictMu.Unlock()
	repos := c.scan()
	var total int64
	for _, r := range repos {
		total += r.size
	}
	if total > c.budget {
		sort.Slice(repos, func(i, j int) bool {
			if !repos[i].lastUsed.Equal(repos[j].lastUsed) {
				return repos[i].lastUsed.Before(repos[j].lastUsed)
			}
			return repos[i].gitDir < repos[j].gitDir
		})
		for _, r := range repos {
			if total <= c.budget {
				break
			}
			if c.evictOne(r) {
				total -= r.size
			}
		}
	}
	c.mu.Lock()
	c.stats.Bytes = total
	c.mu.Unlock()
}

// evictOne deletes one repository unless it is in use, and reports
// whether it did.
func (c *Cache) evictOne(r repoInfo) bool {
	if c.inUse(r.gitDir) {
		return false
	}
	lk := c.lockFor(r.gitDir, r.lockPath)
	if !lk.tryLock() {
		return false
	}
	defer lk.unlock()
	if c.inUse(r.gitDir) {
		return false
	}
	c.dropIdle(r.gitDir)
	if hasWorktrees(r.gitDir) || c.leased(r.gitDir) {
		return false
	}
	if !c.trash(r.gitDir) {
		return false
	}
	c.mu.Lock()
	delete(c.sizes, r.gitDir)
	c.stats.Evictions++
	c.mu.Unlock()
	return true
}

// leased reports whether a live workspace, whichever process made it,
// borrows the objects of the repository in gitDir: a lease that names it
// and that its holder still locks. Leases are written under the
// repository's lock, which the caller holds.
func (c *Cache) leased(gitDir string) bool {
	entries, _ := os.ReadDir(c.leasesDir)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".lock") {
			continue
		}
		f, err := os.Open(filepath.Join(c.leasesDir, e.Name()))
		if err != nil {
			continue
		}
		var rec leaseRecord
		named := json.NewDecoder(f).Decode(&rec) == nil && rec.GitDir == gitDir
		held := named && syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB) != nil
		f.Close()
		if held {
			return true
		}
	}
	return false
}

// hasWorktrees reports whether the repository in gitDir has registered
// worktrees, which caches before this one made (and a process of such a
// version may still be using).
func hasWorktrees(gitDir string) bool {
	entries, err := os.ReadDir(filepath.Join(gitDir, "worktrees"))
	return err == nil && len(entries) > 0
}
