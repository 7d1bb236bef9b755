package forgedev

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// source is the commit a dev run builds and where to fetch it from.
type source struct {
	remote string // a directory holding a git repository
	commit string
	branch string
	// snapshot says the commit was made from the working tree.
	snapshot bool
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=forge dev", "GIT_AUTHOR_EMAIL=forge@localhost",
		"GIT_COMMITTER_NAME=forge dev", "GIT_COMMITTER_EMAIL=forge@localhost")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

// resolve finds the commit to run. With ref, dir must be the top of a git
// work tree and ref names the commit. Without it, a clean work tree runs
// its HEAD; anything else (a subdirectory, uncommitted changes, no git at
// all) runs a snapshot of the directory as it is, committed into a
// scratch repository under data.
func resolve(ctx context.Context, dir, ref, data string) (*source, error) {
	top, err := git(ctx, dir, "rev-parse", "--show-toplevel")
	isTop := err == nil && sameDir(top, dir)
	if ref != "" {
		if !isTop {
			return nil, fmt.Errorf("--ref needs %s to be the top of a git work tree", dir)
		}
		commit, err := git(ctx, dir, "rev-parse", "--verify", ref+"^{commit}")
		if err != nil {
			return nil, fmt.Errorf("%s does not name a commit in %s", ref, dir)
		}
		branch := ""
		if _, err := git(ctx, dir, "show-ref", "--verify", "--quiet", "refs/heads/"+ref); err == nil {
			branch = ref
		}
		return &source{remote: dir, commit: commit, branch: branch}, nil
	}
	if isTop {
		if status, err := git(ctx, dir, "status", "--porcelain"); err == nil && status == "" {
			if commit, err := git(ctx, dir, "rev-parse", "--verify", "HEAD^{commit}"); err == nil {
				branch, _ := git(ctx, dir, "symbolic-ref", "-q", "--short", "HEAD")
				return &source{remote: dir, commit: commit, branch: branch}, nil
			}
		}
	}
	return snapshot(ctx, dir, data)
}

// isDir reports whether d is the directory of info (nil: none).
func isDir(d fs.DirEntry, info fs.FileInfo) bool {
	if info == nil {
		return false
	}
	di, err := d.Info()
	return err == nil && os.SameFile(di, info)
}

func sameDir(a, b string) bool {
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}

// snapshot copies dir (without .git, and without the data directory
// when it lies inside: it is being written meanwhile) into a fresh
// repository under data and commits it.
func snapshot(ctx context.Context, dir, data string) (*source, error) {
	into := filepath.Join(data, "snapshot")
	dataInfo, _ := os.Stat(data)
	if err := os.RemoveAll(into); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(into, 0o755); err != nil {
		return nil, err
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() && (d.Name() == ".git" || isDir(d, dataInfo)) {
			return filepath.SkipDir
		}
		target := filepath.Join(into, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.Type().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			info, _ := d.Info()
			return os.WriteFile(target, data, info.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("copying %s: %w", dir, err)
	}
	// The snapshot repository lives for one run: no background maintenance
	// after its commit (a process of its own each time).
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"},
		{"-c", "maintenance.auto=false", "commit", "-q", "--allow-empty", "-m", "forge dev run snapshot"}} {
		if _, err := git(ctx, into, args...); err != nil {
			return nil, err
		}
	}
	commit, err := git(ctx, into, "rev-parse", "HEAD")
	if err != nil {
		return nil, err
	}
	return &source{remote: into, commit: commit, branch: "main", snapshot: true}, nil
}
