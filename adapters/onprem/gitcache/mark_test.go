package gitcache

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// jobChanges are what a job can do to a workspace's files and index, one
// change at a time, on a tree of a.txt ("one\n"), dir/b.txt ("b\n"),
// link (to a.txt) and .gitignore ("*.log"): a reuse must see each.
var jobChanges = []struct {
	Name string
	Do   func(t *testing.T, dir string)
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
	}},
	{"executable bit", func(t *testing.T, dir string) { must(t, os.Chmod(filepath.Join(dir, "a.txt"), 0o755)) }},
	{"deleted", func(t *testing.T, dir string) { must(t, os.Remove(filepath.Join(dir, "dir", "b.txt"))) }},
	{"link retargeted", func(t *testing.T, dir string) {
		must(t, os.Remove(filepath.Join(dir, "link")))
		must(t, os.Symlink("dir/b.txt", filepath.Join(dir, "link")))
	}},
	{"file replaced by a link", func(t *testing.T, dir string) {
		must(t, os.Remove(filepath.Join(dir, "a.txt")))
		must(t, os.Symlink("dir/b.txt", filepath.Join(dir, "a.txt")))
	}},
	{"ignored file", func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "dir", "build.log"), "log\n") }},
	{"new directory", func(t *testing.T, dir string) { must(t, os.Mkdir(filepath.Join(dir, "made"), 0o755)) }},
	{"index changed", func(t *testing.T, dir string) {
		writeFile(t, filepath.Join(dir, "a.txt"), "staged\n")
		gitIn(t, dir, "add", "a.txt")
		writeFile(t, filepath.Join(dir, "a.txt"), "one\n")
	}},
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

func gitIn(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v: %s", args, err, out)
	}
}

// TestUnchangedSinceMarkSeesEveryChange: a workspace as git checked it
// out is unchanged since its mark; each of jobChanges is seen, both when
// the mark trusts the files' stat data (entries written well before the
// index) and when it must hash their content (every entry as new as the
// index, as after a fresh checkout on a coarse clock).
func TestUnchangedSinceMarkSeesEveryChange(t *testing.T) {
	for _, settled := range []bool{true, false} {
		for _, change := range jobChanges {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "a.txt"), "one\n")
			writeFile(t, filepath.Join(dir, "dir", "b.txt"), "b\n")
			writeFile(t, filepath.Join(dir, ".gitignore"), "*.log\n")
			must(t, os.Symlink("a.txt", filepath.Join(dir, "link")))
			gitIn(t, dir, "init", "-q")
			gitIn(t, dir, "add", "-A")
			gitIn(t, dir, "commit", "-qm", "one")
			var m indexMark
			if settled {
				// The index written again well after the files (read-tree
				// without stat data, then refreshed): every entry is
				// trusted by its stat data.
				time.Sleep(30 * time.Millisecond)
				must(t, os.Remove(filepath.Join(dir, ".git", "index")))
				gitIn(t, dir, "read-tree", "HEAD")
				gitIn(t, dir, "update-index", "-q", "--refresh")
				m = markIndex(dir)
				b, _ := os.ReadFile(filepath.Join(dir, ".git", "index"))
				entries, err := readIndex(b)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range entries {
					if !e.before(m.written) {
						t.Fatalf("entry %s is as new as its index: the stat path is not tested", e.path)
					}
				}
			} else {
				// Every entry as new as the index: only content counts.
				m = markIndex(dir)
				m.written = time.Unix(1, 0)
			}
			if !unchangedSinceMark(dir, m) {
				t.Fatalf("settled %v: the workspace as checked out is not unchanged since its mark", settled)
			}
			change.Do(t, dir)
			if unchangedSinceMark(dir, m) {
				t.Errorf("settled %v: a job's change (%s) went unseen", settled, change.Name)
			}
		}
	}
}
