package gitcache

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/catalyst-forge/forge/domain/fault"
)

// Refs the cache keeps in its bare repositories. Commits fetched by SHA
// get a ref each, so that later fetches can tell the remote what the cache
// already has (git negotiates from refs) and gc keeps them; the fallback
// mirrors the remote's branches and tags.
const (
	commitRefs = "refs/forge/commits/"
	headRefs   = "+refs/heads/*:refs/forge/heads/*"
	tagRefs    = "+refs/tags/*:refs/forge/tags/*"
)

// keepCommitRefs is how many commit refs a repository keeps (the newest
// by commit date) once it has twice as many.
const keepCommitRefs = 64

// repoConfig is added to the configuration of every bare repository.
// Fetched objects always stay packed (a pack appears whole or not at all,
// so a killed fetch never leaves half a commit), and automatic gc runs in
// the foreground, under the repository's lock. gc never drops an
// unreachable object: a workspace borrows the objects of its commit
// without the repository knowing, and its commit's ref may have been
// trimmed (keepCommitRefs) while it lives; eviction bounds the size.
const repoConfig = `[fetch]
	unpackLimit = 1
[gc]
	autoDetach = false
	pruneExpire = never
[maintenance]
	autoDetach = false
`

// ensureRepo creates the bare repository in gitDir unless it exists, and
// reports whether it created it. The repository is made aside and renamed
// into place, so a crash never leaves half of one. Call with its lock held.
func (c *Cache) ensureRepo(ctx context.Context, gitDir string) (bool, error) {
	if fi, err := os.Stat(gitDir); err == nil && fi.IsDir() {
		return false, nil
	}
	tmp, err := os.MkdirTemp(c.trashDir, "init-*")
	if err != nil {
		return false, fault.Wrap(fault.Internal, err, "creating a repository for %s", gitDir)
	}
	if _, err := c.git(ctx, "init", "--bare", "--quiet", "--template=", tmp); err != nil {
		_ = os.RemoveAll(tmp)
		return false, toInternal(err, "creating the repository %s", gitDir)
	}
	err = appendFile(filepath.Join(tmp, "config"), repoConfig)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(gitDir), 0o755)
	}
	if err == nil {
		err = os.Rename(tmp, gitDir)
	}
	if err != nil {
		_ = os.RemoveAll(tmp)
		return false, fault.Wrap(fault.Internal, err, "creating the repository %s", gitDir)
	}
	return true, nil
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// hasCommit reports whether the repository has commit. Only a cancelled
// context is an error: a repository git cannot read has nothing.
func (c *Cache) hasCommit(ctx context.Context, gitDir, commit string) (bool, error) {
	_, err := c.git(ctx, "--git-dir="+gitDir, "cat-file", "-e", commit+"^{commit}")
	if err == nil {
		return true, nil
	}
	var ge *gitError
	if errors.As(err, &ge) {
		return false, nil
	}
	return false, err
}

// fetch gets r.commit from r.remote: the commit alone when the server
// serves commits by SHA, or else every branch and tag. Call with the
// repository's lock held.
func (c *Cache) fetch(ctx context.Context, r request) error {
	remote := redact(r.remote)
	ref := commitRefs + r.commit
	_, err := c.git(ctx, "--git-dir="+r.gitDir, "fetch", "--no-tags", "--no-write-fetch-head", "--quiet",
		"--", r.remote, "+"+r.commit+":"+ref)
	if err == nil {
		ok, err := c.hasCommit(ctx, r.gitDir, r.commit)
		if err != nil {
			return err
		}
		if !ok { // the name is of a tree, a blob or a tag
			_, _ = c.git(ctx, "--git-dir="+r.gitDir, "update-ref", "-d", ref)
			return notFound(r, "is not a commit")
		}
		c.trimRefs(ctx, r.gitDir)
		return nil
	}
	if kindOf(err) == fault.Unavailable {
		return withDetails(toFault(err, "fetching %s from %s", r.commit, remote), r)
	}
	// The server may not serve unadvertised commits (uploadpack.allow*SHA1InWant
	// unset, protocol v0/v1): mirror its branches and tags instead.
	if _, err := c.git(ctx, "--git-dir="+r.gitDir, "fetch", "--no-tags", "--no-write-fetch-head", "--prune", "--quiet",
		"--", r.remote, headRefs, tagRefs); err != nil {
		if kindOf(err) == fault.NotFound {
			err = fault.Wrap(fault.Internal, err, "fetching the branches and tags of %s", remote)
		}
		return withDetails(toFault(err, "fetching the branches and tags of %s", remote), r)
	}
	ok, err := c.hasCommit(ctx, r.gitDir, r.commit)
	if err != nil {
		return err
	}
	if !ok {
		return notFound(r, "was not found")
	}
	return nil
}

// withDetails names the repository and the commit in the fault err, unless
// it already has details.
func withDetails(err error, r request) error {
	var fe *fault.Error
	if errors.As(err, &fe) && fe.Details == nil {
		fe.Details = map[string]any{"repository": r.repository, "commit": r.commit}
	}
	return err
}

func notFound(r request, what string) error {
	e := fault.New(fault.NotFound, "commit %s %s at %s", r.commit, what, redact(r.remote))
	e.Details = map[string]any{"repository": r.repository, "commit": r.commit}
	return e
}

// trimRefs deletes the oldest commit refs once there are too many. It is
// housekeeping: failures are ignored.
func (c *Cache) trimRefs(ctx context.Context, gitDir string) {
	out, err := c.git(ctx, "--git-dir="+gitDir, "for-each-ref", "--sort=-committerdate", "--format=%(refname)", commitRefs)
	if err != nil {
		return
	}
	refs := strings.Fields(string(out))
	if len(refs) <= 2*keepCommitRefs {
		return
	}
	var b strings.Builder
	for _, ref := range refs[keepCommitRefs:] {
		b.WriteString("delete " + ref + "\n")
	}
	_, _ = c.gitInput(ctx, strings.NewReader(b.String()), "--git-dir="+gitDir, "update-ref", "--stdin")
}

// materialize makes dir a repository of its own at commit, with its
// files checked out: its .git borrows the objects of the repository in
// gitDir (objects/info/alternates) and holds its own HEAD (detached at
// the commit) and index, so nothing is written to the cache's repository
// and no lock of it is needed. Tools in a step see an ordinary checkout.
// An index already in dir/.git is kept: read-tree then writes only the
// files that differ from the commit (see reuse).
func (c *Cache) materialize(ctx context.Context, gitDir, dir, commit string) error {
	if err := writeGitDir(gitDir, dir, commit); err != nil {
		return err
	}
	return c.readTree(ctx, dir)
}

// writeGitDir writes the .git of the workspace dir: HEAD at commit, the
// cache's repository in gitDir as its object store.
func writeGitDir(gitDir, dir, commit string) error {
	dotGit := filepath.Join(dir, ".git")
	for _, d := range gitDirDirs {
		if err := os.MkdirAll(filepath.Join(dotGit, filepath.FromSlash(d)), 0o755); err != nil {
			return err
		}
	}
	for name, content := range gitDirFiles(gitDir, commit) {
		if err := os.WriteFile(filepath.Join(dotGit, filepath.FromSlash(name)), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// gitDirDirs are the directories writeGitDir makes in a workspace's .git.
var gitDirDirs = []string{"objects/info", "refs/heads", "refs/tags"}

// gitDirFiles are the files writeGitDir writes in a workspace's .git, by
// path, with their content.
func gitDirFiles(gitDir, commit string) map[string]string {
	return map[string]string{
		"HEAD":                    commit + "\n",
		"config":                  "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n",
		"objects/info/alternates": filepath.Join(gitDir, "objects") + "\n",
	}
}

// gitDirIntact reports whether the .git at dotGit holds exactly what
// writeGitDir writes for gitDir and commit, and an index: the same
// directories, the same files with the same content, nothing else (no
// ref, object, setting or hook a job added). A reused workspace whose
// .git is intact needs none of it written again.
func gitDirIntact(dotGit, gitDir, commit string) bool {
	files := gitDirFiles(gitDir, commit)
	dirs := map[string]bool{".": true}
	for _, d := range gitDirDirs {
		for ; d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	seen := 0
	err := walkRel(dotGit, func(p, rel string, d fs.DirEntry) error {
		switch want, ok := files[rel]; {
		case d.IsDir():
			if !dirs[rel] {
				return fs.ErrExist
			}
		case !d.Type().IsRegular():
			return fs.ErrInvalid
		case rel == "index":
			return nil
		case !ok:
			return fs.ErrExist
		default:
			b, err := os.ReadFile(p)
			if err != nil || string(b) != want {
				return fs.ErrInvalid
			}
		}
		seen++
		return nil
	})
	return err == nil && seen == len(dirs)+len(files)
}

// readTree brings the tracked files of the workspace dir to its HEAD and
// its index to match, writing only the files that differ.
func (c *Cache) readTree(ctx context.Context, dir string) error {
	_, err := c.git(ctx, "--git-dir="+filepath.Join(dir, ".git"), "--work-tree="+dir, "-c", c.checkoutWorkers, "read-tree", "--reset", "-u", "HEAD")
	return err
}

// discard deletes a repository the cache just created and could not fill.
// Call with its lock held.
func (c *Cache) discard(gitDir string) {
	if c.trash(gitDir) {
		c.mu.Lock()
		delete(c.sizes, gitDir)
		c.mu.Unlock()
	}
}

// trash renames path into the trash and deletes it there, so nobody sees
// it half-deleted. It reports whether path is gone.
func (c *Cache) trash(path string) bool {
	dst := filepath.Join(c.trashDir, filepath.Base(path)+"-"+randomHex(6))
	if err := os.Rename(path, dst); err != nil {
		return false
	}
	_ = forceRemoveAll(dst)
	return true
}

// forceRemoveAll is os.RemoveAll that also deletes read-only directories
// (a job may leave some, like Go's module cache does).
func forceRemoveAll(path string) error {
	err := os.RemoveAll(path)
	if err == nil {
		return nil
	}
	_ = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o755)
		}
		return nil
	})
	return os.RemoveAll(path)
}
