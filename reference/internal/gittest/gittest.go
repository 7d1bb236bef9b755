// Package gittest makes real git repositories for the reference
// packages' tests.
package gittest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// CommitAll makes dir a git repository on branch main with one commit of
// all its files, and returns the commit. The user's and the system's git
// configuration are ignored.
func CommitAll(t testing.TB, dir string) string {
	t.Helper()
	var out []byte
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-q", "-m", "example"}, {"rev-parse", "HEAD"}} {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		var err error
		if out, err = cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return strings.TrimSpace(string(out))
}
