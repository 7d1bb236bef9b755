package forgecli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/catalyst-forge/forge/application/cueconfig"
	"github.com/catalyst-forge/forge/domain/discovery"
)

// checkout is a repository on disk as the user named it.
type checkout struct {
	// root is the absolute path of the directory holding .forge/repo.cue.
	root string
	// display is how to print root: relative to the working directory
	// when that is shorter, so printed file paths can be opened as shown.
	display string
}

// findCheckout looks for .forge/repo.cue in dir and then in each parent,
// the way git finds .git, so commands work from inside a project.
func findCheckout(dir string) (*checkout, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, failed("%s: %v", dir, err)
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return nil, failed("%s is not a directory", dir)
	}
	for d := abs; ; d = filepath.Dir(d) {
		st, err := os.Lstat(filepath.Join(d, cueconfig.ForgeDir, cueconfig.RepoFile))
		if err == nil && st.Mode().IsRegular() {
			return &checkout{root: d, display: displayPath(d)}, nil
		}
		if filepath.Dir(d) == d {
			return nil, failed("not a forge repository: no %s/%s in %s or any parent directory (create one, or pass the repository directory)",
				cueconfig.ForgeDir, cueconfig.RepoFile, dir)
		}
	}
}

func displayPath(abs string) string {
	wd, err := os.Getwd()
	if err != nil {
		return abs
	}
	rel, err := filepath.Rel(wd, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		return abs
	}
	return rel
}

// file returns how to print a repository-relative file path.
func (c *checkout) file(rel string) string {
	if rel == "" {
		return c.display
	}
	return filepath.Join(c.display, filepath.FromSlash(rel))
}

// gitContext reads the branch, tag and commit of the checkout's HEAD with
// the git command. Outside a git work tree every field stays empty.
func gitContext(ctx context.Context, dir string) discovery.GitContext {
	run := func(args ...string) string {
		cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
		out, err := cmd.Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	return discovery.GitContext{
		Commit: run("rev-parse", "--verify", "-q", "HEAD"),
		Branch: run("symbolic-ref", "-q", "--short", "HEAD"),
		Tag:    run("describe", "--tags", "--exact-match", "HEAD"),
	}
}

// dirArg returns the optional DIR argument of a command, "." by default.
func dirArg(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return "."
}
