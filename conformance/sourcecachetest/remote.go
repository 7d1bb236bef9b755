package sourcecachetest

import (
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// remote is a git repository the suite made, served as a file:// remote.
type remote struct {
	name string // the cache key, owner/name
	dir  string
	url  string
	tree map[string]file            // the files of the latest commit
	at   map[string]map[string]file // the files of each commit, by SHA
}

// file is a file of a commit: its content and whether it is executable.
type file struct {
	content    string
	executable bool
}

// change is one edit of a commit: write a file, or delete it.
type change struct {
	path   string
	file   file
	delete bool
}

func put(path, content string) change { return change{path: path, file: file{content: content}} }

func exe(path, content string) change {
	return change{path: path, file: file{content: content, executable: true}}
}

func del(path string) change { return change{path: path, delete: true} }

// newRemote makes an empty repository for the cache key name ("owner/repo")
// that serves any commit it has by SHA, like the big git hosts do.
func (h *harness) newRemote(name string) *remote {
	ginkgo.GinkgoHelper()
	dir := filepath.Join(h.tmp, "remotes", filepath.FromSlash(name))
	Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
	gitIn(h.tmp, dir, "init", "--quiet", "--initial-branch=main")
	gitIn(h.tmp, dir, "config", "uploadpack.allowAnySHA1InWant", "true")
	return &remote{name: name, dir: dir, url: "file://" + dir, tree: map[string]file{}, at: map[string]map[string]file{}}
}

// commit applies changes to the remote's main branch and returns the new
// commit's SHA.
func (r *remote) commit(message string, changes ...change) string {
	ginkgo.GinkgoHelper()
	for _, c := range changes {
		path := filepath.Join(r.dir, filepath.FromSlash(c.path))
		if c.delete {
			Expect(os.Remove(path)).To(Succeed())
			delete(r.tree, c.path)
			continue
		}
		Expect(os.MkdirAll(filepath.Dir(path), 0o755)).To(Succeed())
		mode := os.FileMode(0o644)
		if c.file.executable {
			mode = 0o755
		}
		Expect(os.WriteFile(path, []byte(c.file.content), mode)).To(Succeed())
		Expect(os.Chmod(path, mode)).To(Succeed())
		r.tree[c.path] = c.file
	}
	home := filepath.Dir(filepath.Dir(r.dir))
	gitIn(home, r.dir, "add", "--all")
	gitIn(home, r.dir, "commit", "--quiet", "--allow-empty", "--message", message)
	sha := strings.TrimSpace(gitIn(home, r.dir, "rev-parse", "HEAD"))
	r.at[sha] = maps.Clone(r.tree)
	return sha
}

// time returns the committer time of commit, as git records it.
func (r *remote) time(commit string) time.Time {
	ginkgo.GinkgoHelper()
	home := filepath.Dir(filepath.Dir(r.dir))
	secs, err := strconv.ParseInt(strings.TrimSpace(gitIn(home, r.dir, "show", "-s", "--format=%ct", commit)), 10, 64)
	Expect(err).NotTo(HaveOccurred())
	return time.Unix(secs, 0).UTC()
}

// files returns the files of commit, as the suite committed them.
func (r *remote) files(commit string) map[string]file {
	ginkgo.GinkgoHelper()
	tree, ok := r.at[commit]
	Expect(ok).To(BeTrue(), "the suite made no commit %s", commit)
	return tree
}

// gitIn runs git in dir without any system or user configuration, as a
// fixed author and committer, and returns its stdout. home is the HOME of
// the command.
func gitIn(home, dir string, args ...string) string {
	ginkgo.GinkgoHelper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = gitEnv(home)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	Expect(err).NotTo(HaveOccurred(), "git %s in %s: %s", strings.Join(args, " "), dir, stderr.String())
	return string(out)
}

// gitEnv is the environment of the suite's git commands.
func gitEnv(home string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"LC_ALL=C",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Forge Conformance",
		"GIT_AUTHOR_EMAIL=conformance@forge.invalid",
		"GIT_AUTHOR_DATE=2025-03-14T09:26:53Z",
		"GIT_COMMITTER_NAME=Forge Conformance",
		"GIT_COMMITTER_EMAIL=conformance@forge.invalid",
		"GIT_COMMITTER_DATE=2025-03-14T09:26:53Z",
	}
}

// checkedOut returns the files of the checkout in dir, leaving out the
// top-level .git entry, and fails on anything that is not a regular file or
// a directory.
func checkedOut(dir string) map[string]file {
	ginkgo.GinkgoHelper()
	tree := map[string]file{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == ".git" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		fi, err := os.Lstat(path)
		if err != nil {
			return err
		}
		Expect(fi.Mode().IsRegular()).To(BeTrue(), "%s in the workspace is not a regular file (mode %v)", rel, fi.Mode())
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		tree[rel] = file{content: string(b), executable: fi.Mode().Perm()&0o100 != 0}
		return nil
	})
	Expect(err).NotTo(HaveOccurred(), "reading the workspace %s", dir)
	return tree
}

// workspaceHead returns what git says HEAD is in the workspace dir.
func (h *harness) workspaceHead(dir string) string {
	ginkgo.GinkgoHelper()
	return strings.TrimSpace(gitIn(h.tmp, dir, "rev-parse", "HEAD"))
}
