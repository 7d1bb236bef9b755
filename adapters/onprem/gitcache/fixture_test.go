package gitcache_test

import (
	"crypto/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testEnv is the environment of the tests' own git commands: no system or
// user configuration, a fixed author and committer.
func testEnv(home string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"LC_ALL=C",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Forge Test",
		"GIT_AUTHOR_EMAIL=test@forge.invalid",
		"GIT_AUTHOR_DATE=2025-03-14T09:26:53Z",
		"GIT_COMMITTER_NAME=Forge Test",
		"GIT_COMMITTER_EMAIL=test@forge.invalid",
		"GIT_COMMITTER_DATE=2025-03-14T09:26:53Z",
	}
}

// runGit runs git in dir and returns its trimmed stdout, failing t on error.
func runGit(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = testEnv(os.TempDir())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s in %s: %v: %s", strings.Join(args, " "), dir, err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// testRepo is a git repository served as a file:// remote. It has no
// uploadpack.allow*SHA1InWant setting: with protocol v2 (git's default)
// it serves any commit it has; with v0 only what its refs advertise.
type testRepo struct {
	dir string
	url string
}

func newTestRepo(t testing.TB) *testRepo {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "remote")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	runGit(t, dir, "init", "--quiet", "--initial-branch=main")
	return &testRepo{dir: dir, url: "file://" + dir}
}

// commit writes files (path → content) and commits them on the current
// branch, returning the commit's SHA.
func (r *testRepo) commit(t testing.TB, message string, files map[string][]byte) string {
	t.Helper()
	for path, content := range files {
		p := filepath.Join(r.dir, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	runGit(t, r.dir, "add", "--all")
	runGit(t, r.dir, "commit", "--quiet", "--allow-empty", "--message", message)
	return runGit(t, r.dir, "rev-parse", "HEAD")
}

// randomBytes returns n incompressible bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// testClock is a clock the tests move by hand.
type testClock struct{ now time.Time }

func (c *testClock) Now() time.Time { return c.now }

func (c *testClock) advance(d time.Duration) { c.now = c.now.Add(d) }

// refusingServer starts an HTTP server that answers every request with
// 401 and returns its host:port.
func refusingServer(t testing.TB) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="forge-test"`)
		http.Error(w, "who are you?", http.StatusUnauthorized)
	}))
	t.Cleanup(s.Close)
	return s.Listener.Addr().String()
}

// hangingServer starts an HTTP server that never answers (until the client
// goes away) and returns its host:port.
func hangingServer(t testing.TB) string {
	t.Helper()
	done := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() {
		close(done)
		s.Close()
	})
	return s.Listener.Addr().String()
}

// closedAddress returns a host:port on which nothing listens.
func closedAddress(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// execSelf returns a command that runs the test binary's tests matching
// run, with env added to the environment.
func execSelf(run string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run="+run, "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	return cmd
}
