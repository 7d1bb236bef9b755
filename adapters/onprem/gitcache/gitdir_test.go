package gitcache

import (
	"os"
	"path/filepath"
	"testing"
)

// TestGitDirIntactSeesWhatAJobAdds: a .git as writeGitDir writes it
// (with or without an index) is intact; anything a job could add or
// change in it is not.
func TestGitDirIntactSeesWhatAJobAdds(t *testing.T) {
	const commit = "0123456789abcdef0123456789abcdef01234567"
	gitDir := "/cache/repos/acme/app.git"
	for _, c := range []struct {
		name   string
		change func(dotGit string) error
		intact bool
	}{
		{"as written", func(string) error { return nil }, true},
		{"with its index", func(g string) error { return os.WriteFile(filepath.Join(g, "index"), []byte("DIRC"), 0o644) }, true},
		{"a branch", func(g string) error {
			return os.WriteFile(filepath.Join(g, "refs", "heads", "job"), []byte(commit+"\n"), 0o644)
		}, false},
		{"packed refs", func(g string) error { return os.WriteFile(filepath.Join(g, "packed-refs"), nil, 0o644) }, false},
		{"a hook", func(g string) error { return os.MkdirAll(filepath.Join(g, "hooks"), 0o755) }, false},
		{"a loose object", func(g string) error { return os.MkdirAll(filepath.Join(g, "objects", "ab"), 0o755) }, false},
		{"a setting", func(g string) error {
			return os.WriteFile(filepath.Join(g, "config"), []byte("[core]\n\tfsmonitor = true\n"), 0o644)
		}, false},
		{"HEAD moved", func(g string) error {
			return os.WriteFile(filepath.Join(g, "HEAD"), []byte("ref: refs/heads/job\n"), 0o644)
		}, false},
		{"other objects", func(g string) error {
			return os.WriteFile(filepath.Join(g, "objects", "info", "alternates"), []byte("/elsewhere\n"), 0o644)
		}, false},
		{"config a link", func(g string) error {
			p := filepath.Join(g, "config")
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			target := filepath.Join(t.TempDir(), "config")
			if err := os.WriteFile(target, b, 0o644); err != nil {
				return err
			}
			if err := os.Remove(p); err != nil {
				return err
			}
			return os.Symlink(target, p)
		}, false},
		{"refs gone", func(g string) error { return os.RemoveAll(filepath.Join(g, "refs", "tags")) }, false},
	} {
		dir := t.TempDir()
		if err := writeGitDir(gitDir, dir, commit); err != nil {
			t.Fatal(err)
		}
		dotGit := filepath.Join(dir, ".git")
		if err := c.change(dotGit); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := gitDirIntact(dotGit, gitDir, commit); got != c.intact {
			t.Errorf("%s: intact = %v, want %v", c.name, got, c.intact)
		}
	}
	dir := t.TempDir()
	if err := writeGitDir(gitDir, dir, commit); err != nil {
		t.Fatal(err)
	}
	if gitDirIntact(filepath.Join(dir, ".git"), gitDir, "fedcba9876543210fedcba9876543210fedcba98") {
		t.Error("a .git at another commit is intact")
	}
}
