package gitcache

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// jobChanges are what a job can do to a workspace's files and index, one
// change at a time, on a tree of a.txt ("one\n"), dir/b.txt ("b\n"),
// link (to a.txt), .gitignore ("*.log") and a submodule sub (at
// gitlinkID, its directory empty): a reuse must see each.
var jobChanges = []struct {
	Name string
	Do   func(t *testing.T, dir string)
	// Untracked says git status does not see the change.
	Untracked bool
}{
	{"same size, times set back", func(t *testing.T, dir string) {
		p := filepath.Join(dir, "a.txt")
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, p, "ONE\n")
		if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
			t.Fatal(err)
		}
	}, false},
	{"executable bit", func(t *testing.T, dir string) { must(t, os.Chmod(filepath.Join(dir, "a.txt"), 0o755)) }, false},
	{"deleted", func(t *testing.T, dir string) { must(t, os.Remove(filepath.Join(dir, "dir", "b.txt"))) }, false},
	{"link retargeted", func(t *testing.T, dir string) {
		must(t, os.Remove(filepath.Join(dir, "link")))
		must(t, os.Symlink("dir/b.txt", filepath.Join(dir, "link")))
	}, false},
	{"file replaced by a link", func(t *testing.T, dir string) {
		must(t, os.Remove(filepath.Join(dir, "a.txt")))
		must(t, os.Symlink("dir/b.txt", filepath.Join(dir, "a.txt")))
	}, false},
	{"ignored file", func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "dir", "build.log"), "log\n") }, false},
	{"new directory", func(t *testing.T, dir string) { must(t, os.Mkdir(filepath.Join(dir, "made"), 0o755)) }, false},
	{"directory made read-only", func(t *testing.T, dir string) { must(t, os.Chmod(filepath.Join(dir, "dir"), 0o555)) }, true},
	{"file made private", func(t *testing.T, dir string) { must(t, os.Chmod(filepath.Join(dir, "a.txt"), 0o600)) }, true},
	{"workspace made read-only", func(t *testing.T, dir string) { must(t, os.Chmod(dir, 0o555)) }, true},
	{"file linked from outside", func(t *testing.T, dir string) {
		must(t, os.Link(filepath.Join(dir, "a.txt"), filepath.Join(t.TempDir(), "a.txt")))
	}, true},
	{"user attribute on a directory", func(t *testing.T, dir string) {
		must(t, syscall.Setxattr(filepath.Join(dir, "dir"), "user.forge", []byte("x"), 0))
	}, true},
	{"user attribute on a file", func(t *testing.T, dir string) {
		must(t, syscall.Setxattr(filepath.Join(dir, "a.txt"), "user.forge", []byte("x"), 0))
	}, true},
	{"modification time in the future", func(t *testing.T, dir string) {
		later := time.Now().Add(time.Hour)
		must(t, os.Chtimes(filepath.Join(dir, "a.txt"), later, later))
	}, true},
	{"git directory planted", func(t *testing.T, dir string) {
		writeFile(t, filepath.Join(dir, "dir", ".git"), "gitdir: /elsewhere\n")
	}, true},
	{"file in a submodule's directory", func(t *testing.T, dir string) {
		writeFile(t, filepath.Join(dir, "sub", "evil.txt"), "evil\n")
	}, true},
	{"index forged to match a changed file", func(t *testing.T, dir string) {
		// A changed file staged, then its entry given the commit's blob
		// again (and the index its checksum): the entry's stat data are
		// the changed file's, so git status sees nothing.
		original := gitOut(t, dir, "rev-parse", ":a.txt")
		writeFile(t, filepath.Join(dir, "a.txt"), "EVL\n")
		time.Sleep(1100 * time.Millisecond) // git judges racy entries by the second
		gitIn(t, dir, "add", "a.txt")
		changed := gitOut(t, dir, "rev-parse", ":a.txt")
		p := filepath.Join(dir, ".git", "index")
		b, err := os.ReadFile(p)
		must(t, err)
		from, _ := hex.DecodeString(changed)
		to, _ := hex.DecodeString(original)
		if bytes.Count(b, from) != 1 {
			t.Fatalf("the staged blob is not in the index once")
		}
		b = bytes.Replace(b, from, to, 1)
		sum := sha1.Sum(b[:len(b)-sha1.Size])
		copy(b[len(b)-sha1.Size:], sum[:])
		must(t, os.WriteFile(p, b, 0o644))
		if out := gitOut(t, dir, "status", "--porcelain"); out != "" {
			t.Fatalf("the forged index does not hide the change from git status: %s", out)
		}
	}, false},
	{"index changed", func(t *testing.T, dir string) {
		writeFile(t, filepath.Join(dir, "a.txt"), "staged\n")
		gitIn(t, dir, "add", "a.txt")
		writeFile(t, filepath.Join(dir, "a.txt"), "one\n")
	}, false},
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(t, os.WriteFile(p, []byte(content), 0o644))
}

func gitIn(t *testing.T, dir string, args ...string) { gitOut(t, dir, args...) }

// gitOut runs git in dir and returns its output, trimmed.
func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v: %s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// unchanged is what a reuse at the same commit asks: the index is the
// marked one and the tree is unchanged since the mark.
func unchanged(dir string, m indexMark, modes checkoutModes) bool {
	index, ok := markedIndex(dir, m)
	return ok && unchangedSinceMark(dir, m, index, modes)
}

// modesOf returns the attributes of the tree in dir as checked out.
func modesOf(t *testing.T, dir string) checkoutModes {
	t.Helper()
	attrs := func(p string) nodeAttrs {
		fi, err := os.Lstat(filepath.Join(dir, p))
		must(t, err)
		a, err := attrsOf(filepath.Join(dir, p), fi)
		must(t, err)
		return a
	}
	exec := attrs("a.txt")
	exec.mode |= 0o111
	return checkoutModes{root: attrs("."), dir: attrs("dir"), file: attrs("a.txt"), exec: exec}
}

// gitlinkID is the commit the tree's submodule "sub" points at.
const gitlinkID = "1111111111111111111111111111111111111111"

// TestUnchangedSinceMarkSeesEveryChange: a workspace whose index git
// wrote well after its files is unchanged since its mark; each of
// jobChanges is seen. An index as new as its files (every entry git
// cannot trust by its stat data, as after a fresh checkout on a coarse
// clock, or an entry written at the very time of the index) is not
// trusted at all.
func TestUnchangedSinceMarkSeesEveryChange(t *testing.T) {
	for _, change := range jobChanges {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "a.txt"), "one\n")
		writeFile(t, filepath.Join(dir, "dir", "b.txt"), "b\n")
		writeFile(t, filepath.Join(dir, ".gitignore"), "*.log\n")
		must(t, os.Symlink("a.txt", filepath.Join(dir, "link")))
		must(t, os.Mkdir(filepath.Join(dir, "sub"), 0o777))
		gitIn(t, dir, "init", "-q")
		gitIn(t, dir, "add", "-A")
		gitIn(t, dir, "update-index", "--add", "--cacheinfo", "160000,"+gitlinkID+",sub")
		gitIn(t, dir, "commit", "-qm", "one")
		// The index written again well after the files (read-tree
		// without stat data, then refreshed).
		time.Sleep(30 * time.Millisecond)
		must(t, os.Remove(filepath.Join(dir, ".git", "index")))
		gitIn(t, dir, "read-tree", "HEAD")
		gitIn(t, dir, "update-index", "-q", "--refresh")
		m, entries, err := markIndex(dir)
		must(t, err)
		modes := modesOf(t, dir)
		links := gitlinkPaths(entries)
		if !links["sub"] || !modes.pristine(dir, links) {
			t.Fatalf("the workspace as checked out is not pristine (gitlinks %v)", links)
		}
		if !unchanged(dir, m, modes) {
			t.Fatalf("the workspace as checked out is not unchanged since its mark")
		}

		// The same index, taken to be written when its newest entry
		// was (or before): no entry may be trusted by its stat data.
		newest := time.Time{}
		for _, e := range entries {
			for _, at := range []time.Time{time.Unix(int64(e.mtimeSec), int64(e.mtimeNsec)), time.Unix(int64(e.ctimeSec), int64(e.ctimeNsec))} {
				if at.After(newest) {
					newest = at
				}
			}
		}
		if racy := (indexMark{sum: m.sum, written: newest}); unchanged(dir, racy, modes) {
			t.Errorf("entries as new as their index were trusted by their stat data")
		}
		change.Do(t, dir)
		// A change git cannot see must be seen by the pristine check,
		// which the reuse runs after git status.
		if unchanged(dir, m, modes) {
			t.Errorf("a job's change (%s) went unseen", change.Name)
		}
		if change.Untracked && modes.pristine(dir, links) {
			t.Errorf("a job's change (%s) git does not track is pristine", change.Name)
		}
	}
}
