package gitcache

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestReadIndexReadsEveryVersion: indexes git writes in versions 2, 3 and
// 4, with and without a hidden entry, read with their paths and stat data, among entries of several path
// lengths (the padding of versions 2 and 3, the prefix compression of 4).
func TestReadIndexReadsEveryVersion(t *testing.T) {
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
	// A long path: the next drops more than 127 bytes of it (version 4's
	// varint of two bytes).
	names := []string{"a", "bb", "dir/ccc", "dir/sub/dddddddd", "eeeeeeeeeeeeeee.txt", "long/" + strings.Repeat("x", 150), "z"}
	for _, name := range names {
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
		entries, err := readIndex(b)
		if err != nil {
			t.Fatalf("version %s %s: %v", c.version, c.flag, err)
		}
		var paths []string
		hides := false
		for _, e := range entries {
			paths = append(paths, e.path)
			hides = hides || e.hidden
			fi, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(e.path)))
			if err != nil || e.size != uint32(fi.Size()) || e.mode != 0o100644 || e.stage != 0 ||
				int64(e.mtimeSec) != fi.ModTime().Unix() || int64(e.mtimeNsec) != int64(fi.ModTime().Nanosecond()) {
				t.Errorf("version %s: entry %+v does not match the file's stat %v (%v)", c.version, e, fi, err)
			}
		}
		if !slices.Equal(paths, names) {
			t.Errorf("version %s: paths %q, want %q", c.version, paths, names)
		}
		if hides != c.hides {
			t.Errorf("version %s %s: hides %v; want %v", c.version, c.flag, hides, c.hides)
		}
	}
	if _, err := readIndex([]byte("DIRC\x00\x00\x00\x02\x00\x00\x00\x05short")); err == nil {
		t.Error("a truncated index was read")
	}
}
