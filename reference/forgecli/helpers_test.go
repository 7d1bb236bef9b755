package forgecli

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// exampleDir is the example monorepo, resolved while the working directory
// is still this package's directory (tests change it with t.Chdir).
var exampleDir = mustAbs(filepath.Join("..", "examples", "monorepo"))

func mustAbs(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return abs
}

// result is what one in-process run of the forge command produced.
type result struct {
	code   int
	stdout string
	stderr string
}

// forge runs the command line in-process with args.
func forge(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), args, &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// wantCode fails the test when the run did not exit with code.
func (r result) wantCode(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

// tempDir returns a fresh temporary directory with symbolic links resolved,
// so that paths printed relative to it (after t.Chdir) compare exactly.
func tempDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// writeFile writes content to root/rel (rel is slash-separated), creating
// the directories it needs.
func writeFile(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readFile returns the content of root/rel.
func readFile(t *testing.T, root, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func exists(root, rel string) bool {
	_, err := os.Lstat(filepath.Join(root, filepath.FromSlash(rel)))
	return err == nil
}

// copyExample copies the example monorepo into a new temporary directory
// and returns that directory.
func copyExample(t *testing.T) string {
	t.Helper()
	dst := tempDir(t)
	err := filepath.WalkDir(exampleDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(exampleDir, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(target, b, 0o644)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("copying the example monorepo: %v", err)
	}
	if !exists(dst, ".forge/repo.cue") {
		t.Fatalf("the example copy in %s has no .forge/repo.cue", dst)
	}
	return dst
}

// git runs the git binary in dir, isolated from the user's configuration,
// and returns its trimmed standard output.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
	)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// gitInit makes dir a git repository on branch main with everything in it
// committed, and returns the commit SHA.
func gitInit(t *testing.T, dir string) string {
	t.Helper()
	git(t, dir, "init", "-q", "-b", "main")
	git(t, dir, "add", "-A")
	git(t, dir, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false",
		"commit", "-q", "-m", "initial")
	return git(t, dir, "rev-parse", "HEAD")
}

// lines splits output into lines, dropping the final newline.
func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// squeeze collapses every run of blanks in s to one space, so that lines
// aligned by a tabwriter compare independently of column widths.
func squeeze(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// containsLine reports whether out has a line equal to want once blanks are
// squeezed in both.
func containsLine(out, want string) bool {
	want = squeeze(want)
	for _, l := range lines(out) {
		if squeeze(l) == want {
			return true
		}
	}
	return false
}

func equalLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// noForgeAbove fails the test when dir or a parent holds .forge/repo.cue:
// the tests that need "outside any repository" rely on there being none.
func noForgeAbove(t *testing.T, dir string) {
	t.Helper()
	for d := dir; ; d = filepath.Dir(d) {
		if exists(d, ".forge/repo.cue") {
			t.Fatalf("%s has a .forge/repo.cue, so %s is inside a forge repository; this test needs a temporary directory outside any", d, dir)
		}
		if filepath.Dir(d) == d {
			return
		}
	}
}
