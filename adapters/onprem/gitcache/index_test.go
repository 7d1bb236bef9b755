package gitcache

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestScanIndexReadsEveryVersion: indexes git writes in versions 2, 3 and
// 4, with and without a hidden entry, among entries of several path
// lengths (the padding of versions 2 and 3, the prefix compression of 4).
func TestScanIndexReadsEveryVersion(t *testing.T) {
	dir := t.TempDir()
	gitIn := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	gitIn("init", "-q")
	for _, name := range []string{"a", "bb", "dir/ccc", "dir/sub/dddddddd", "eeeeeeeeeeeeeee.txt", "z"} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitIn("add", "-A")
	index := filepath.Join(dir, ".git", "index")
	for _, c := range []struct {
		version string
		flag    string
		hides   bool
	}{
		{"2", "", false}, {"3", "", false}, {"4", "", false},
		{"2", "--assume-unchanged", true}, {"4", "--assume-unchanged", true},
		{"3", "--skip-worktree", true}, {"4", "--skip-worktree", true},
	} {
		gitIn("update-index", "--no-assume-unchanged", "--no-skip-worktree", "dir/sub/dddddddd")
		gitIn("update-index", "--index-version", c.version)
		if c.flag != "" {
			gitIn("update-index", c.flag, "dir/sub/dddddddd")
		}
		b, err := os.ReadFile(index)
		if err != nil {
			t.Fatal(err)
		}
		hides, err := scanIndex(b)
		if err != nil || hides != c.hides {
			t.Errorf("version %s %s: hides %v, %v; want %v", c.version, c.flag, hides, err, c.hides)
		}
	}
	if _, err := scanIndex([]byte("DIRC\x00\x00\x00\x02\x00\x00\x00\x05short")); err == nil {
		t.Error("a truncated index was read")
	}
	if !indexHidesFiles(filepath.Join(dir, "missing")) {
		t.Error("a missing index counts as trusted")
	}
}
