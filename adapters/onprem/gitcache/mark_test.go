package gitcache

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestUnchangedSinceMarkSeesEveryChange: a workspace as git checked it
// out is unchanged since its mark; each change a job could make to its
// files or index is seen, both when the mark trusts the files' stat data
// (entries written well before the index) and when it must hash their
// content (every entry as new as the index, as after a fresh checkout on
// a coarse clock).
func TestUnchangedSinceMarkSeesEveryChange(t *testing.T) {
	gitIn := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	write := func(p, content string) error {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, []byte(content), 0o644)
	}
	changes := []struct {
		name string
		do   func(dir string) error
	}{
		{"same size, times set back", func(dir string) error {
			p := filepath.Join(dir, "a.txt")
			fi, err := os.Stat(p)
			if err != nil {
				return err
			}
			if err := write(p, "ONE\n"); err != nil {
				return err
			}
			return os.Chtimes(p, fi.ModTime(), fi.ModTime())
		}},
		{"executable bit", func(dir string) error { return os.Chmod(filepath.Join(dir, "a.txt"), 0o755) }},
		{"deleted", func(dir string) error { return os.Remove(filepath.Join(dir, "dir", "b.txt")) }},
		{"link retargeted", func(dir string) error {
			p := filepath.Join(dir, "link")
			if err := os.Remove(p); err != nil {
				return err
			}
			return os.Symlink("dir/b.txt", p)
		}},
		{"file replaced by a link", func(dir string) error {
			p := filepath.Join(dir, "a.txt")
			if err := os.Remove(p); err != nil {
				return err
			}
			return os.Symlink("dir/b.txt", p)
		}},
		{"new file", func(dir string) error { return write(filepath.Join(dir, "dir", "build.log"), "log\n") }},
		{"new directory", func(dir string) error { return os.Mkdir(filepath.Join(dir, "made"), 0o755) }},
		{"index changed", func(dir string) error {
			if err := write(filepath.Join(dir, "a.txt"), "staged\n"); err != nil {
				return err
			}
			gitIn(dir, "add", "a.txt")
			return write(filepath.Join(dir, "a.txt"), "one\n")
		}},
	}
	for _, settled := range []bool{true, false} {
		for _, change := range changes {
			dir := t.TempDir()
			for name, content := range map[string]string{"a.txt": "one\n", "dir/b.txt": "b\n"} {
				if err := write(filepath.Join(dir, name), content); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Symlink("a.txt", filepath.Join(dir, "link")); err != nil {
				t.Fatal(err)
			}
			gitIn(dir, "init", "-q")
			gitIn(dir, "add", "-A")
			gitIn(dir, "commit", "-qm", "one")
			var m indexMark
			if settled {
				// The index written again well after the files (read-tree
				// without stat data, then refreshed): every entry is
				// trusted by its stat data.
				time.Sleep(30 * time.Millisecond)
				if err := os.Remove(filepath.Join(dir, ".git", "index")); err != nil {
					t.Fatal(err)
				}
				gitIn(dir, "read-tree", "HEAD")
				gitIn(dir, "update-index", "-q", "--refresh")
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
			if err := change.do(dir); err != nil {
				t.Fatalf("%s: %v", change.name, err)
			}
			if unchangedSinceMark(dir, m) {
				t.Errorf("settled %v: a job's change (%s) went unseen", settled, change.name)
			}
		}
	}
}
