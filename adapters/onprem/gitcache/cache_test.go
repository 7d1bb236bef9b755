package gitcache_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/onprem/gitcache"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

func checkout(t testing.TB, c *gitcache.Cache, repository string, r *testRepo, commit, job string) *ports.Workspace {
	t.Helper()
	ws, err := c.Checkout(context.Background(), ports.CheckoutRequest{
		Repository: repository, Remote: r.url, Commit: commit, JobID: job,
	})
	if err != nil {
		t.Fatalf("checking out %s of %s: %v", commit, repository, err)
	}
	t.Cleanup(func() {
		if err := ws.Remove(context.Background()); err != nil {
			t.Errorf("removing %s: %v", ws.Dir, err)
		}
	})
	return ws
}

func remove(t testing.TB, ws *ports.Workspace) {
	t.Helper()
	if err := ws.Remove(context.Background()); err != nil {
		t.Fatalf("removing %s: %v", ws.Dir, err)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// blob is the size of the one file of threeRepos' repositories.
const blob = 256 << 10

// threeRepos makes three repositories of one commit each, a random file
// of blob bytes, and returns them and their commits.
func threeRepos(t *testing.T) (a, b, c *testRepo, ca, cb, cc string) {
	a, b, c = newTestRepo(t), newTestRepo(t), newTestRepo(t)
	ca = a.commit(t, "a", map[string][]byte{"blob.bin": randomBytes(blob)})
	cb = b.commit(t, "b", map[string][]byte{"blob.bin": randomBytes(blob)})
	cc = c.commit(t, "c", map[string][]byte{"blob.bin": randomBytes(blob)})
	return a, b, c, ca, cb, cc
}

func TestEvictsLeastRecentlyUsedRepositoryButNotOneInUse(t *testing.T) {
	// Three repositories of about 260 KiB each; the budget holds two.
	a, b, cr, ca, cb, cc := threeRepos(t)

	dir := t.TempDir()
	clock := &testClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	const budget = 700 << 10
	c, err := gitcache.New(dir, gitcache.WithBudget(budget), gitcache.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	gitDir := func(name string) string { return filepath.Join(dir, "repos", "acme", name+".git") }

	clock.advance(time.Minute)
	wsA := checkout(t, c, "acme/a", a, ca, "a") // the oldest, but kept live
	clock.advance(time.Minute)
	remove(t, checkout(t, c, "acme/b", b, cb, "b"))
	clock.advance(time.Minute)
	remove(t, checkout(t, c, "acme/c", cr, cc, "c"))

	if exists(gitDir("b")) {
		t.Errorf("acme/b, the least recently used repository without a workspace, was not evicted")
	}
	if !exists(gitDir("a")) {
		t.Errorf("acme/a was evicted while a workspace of it was live")
	}
	if !exists(gitDir("c")) {
		t.Errorf("acme/c, the most recently used repository, was evicted")
	}
	if got := c.Stats(); got.Evictions != 1 || got.Bytes > budget || got.Bytes < 2*blob {
		t.Errorf("Stats() = %+v, want 1 eviction and %d < Bytes <= %d", got, 2*blob, budget)
	}
	if _, err := os.Stat(filepath.Join(wsA.Dir, "blob.bin")); err != nil {
		t.Errorf("the live workspace of acme/a lost its files: %v", err)
	}

	// Once its workspace is gone, acme/a is the least recently used.
	remove(t, wsA)
	clock.advance(time.Minute)
	ws := checkout(t, c, "acme/b", b, cb, "b-again")
	if ws.CacheHit {
		t.Errorf("checkout of the evicted acme/b was a cache hit")
	}
	if exists(gitDir("a")) {
		t.Errorf("acme/a was not evicted once it was the least recently used without a workspace")
	}
	if !exists(gitDir("b")) || !exists(gitDir("c")) {
		t.Errorf("acme/b or acme/c was evicted; want only acme/a gone")
	}
	if got := c.Stats(); got.Evictions != 2 || got.Bytes > budget {
		t.Errorf("Stats() = %+v, want 2 evictions and Bytes <= %d", got, budget)
	}
}

func TestEvictionOrderSurvivesARestart(t *testing.T) {
	// Last use is kept on disk, so a new Cache on the directory evicts in
	// the same order.
	a, b := newTestRepo(t), newTestRepo(t)
	ca := a.commit(t, "a", map[string][]byte{"blob.bin": randomBytes(blob)})
	cb := b.commit(t, "b", map[string][]byte{"blob.bin": randomBytes(blob)})
	dir := t.TempDir()
	clock := &testClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	first, err := gitcache.New(dir, gitcache.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	clock.advance(time.Minute)
	remove(t, checkout(t, first, "acme/b", b, cb, "b"))
	clock.advance(-time.Hour) // a used "earlier" than b, whatever the order of calls
	remove(t, checkout(t, first, "acme/a", a, ca, "a"))

	second, err := gitcache.New(dir, gitcache.WithBudget(400<<10))
	if err != nil {
		t.Fatal(err)
	}
	if exists(filepath.Join(dir, "repos", "acme", "a.git")) || !exists(filepath.Join(dir, "repos", "acme", "b.git")) {
		t.Errorf("New over budget did not evict acme/a, the least recently used")
	}
	if got := second.Stats(); got.Evictions != 1 {
		t.Errorf("Stats() = %+v, want 1 eviction", got)
	}
}

func TestStatsCountHitsMissesAndBytes(t *testing.T) {
	r := newTestRepo(t)
	c1 := r.commit(t, "one", map[string][]byte{"a.txt": []byte("one\n"), "blob.bin": randomBytes(64 << 10)})
	c, err := gitcache.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Stats(); got != (gitcache.Stats{}) {
		t.Errorf("Stats() of a new cache = %+v, want zeros", got)
	}

	checkout(t, c, "acme/app", r, c1, "1")
	checkout(t, c, "acme/app", r, c1, "2")
	c2 := r.commit(t, "two", map[string][]byte{"a.txt": []byte("two\n")})
	checkout(t, c, "acme/app", r, c2, "3")
	checkout(t, c, "acme/app", r, c1, "4")
	_, err = c.Checkout(context.Background(), ports.CheckoutRequest{
		Repository: "acme/app", Remote: r.url, Commit: strings.Repeat("ab", 20), JobID: "5",
	})
	if !fault.Is(err, fault.NotFound) {
		t.Fatalf("unknown commit: err = %v, want NotFound", err)
	}
	_, err = c.Checkout(context.Background(), ports.CheckoutRequest{Repository: "acme/app", Remote: r.url, Commit: "abc"})
	if !fault.Is(err, fault.Validation) {
		t.Fatalf("short commit: err = %v, want Validation", err)
	}

	got := c.Stats()
	want := gitcache.Stats{Hits: 2, Misses: 3, Evictions: 0}
	if got.Hits != want.Hits || got.Misses != want.Misses || got.Evictions != want.Evictions {
		t.Errorf("Stats() = %+v, want Hits 2, Misses 3 (the failed fetch is a miss, the invalid request nothing), Evictions 0", got)
	}
	if got.Bytes < 64<<10 || got.Bytes > 1<<20 {
		t.Errorf("Stats().Bytes = %d, want the size of one small repository", got.Bytes)
	}
}

// The helper process of TestNewCleansUpAfterACrashedProcess: it checks a
// commit out and exits without removing the workspace, as a crash would.
func TestCrashHelperProcess(t *testing.T) {
	dir := os.Getenv("FORGE_TEST_GITCACHE_CRASH_DIR")
	if dir == "" {
		t.Skip("helper process of TestNewCleansUpAfterACrashedProcess: runs only when that test sets FORGE_TEST_GITCACHE_CRASH_DIR")
	}
	c, err := gitcache.New(dir)
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
	ws, err := c.Checkout(context.Background(), ports.CheckoutRequest{
		Repository: "acme/app", Remote: os.Getenv("GITCACHE_CRASH_REMOTE"),
		Commit: os.Getenv("GITCACHE_CRASH_COMMIT"), JobID: "crashed-job",
	})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
	fmt.Println("WORKSPACE", ws.Dir)
	os.Exit(0)
}

func TestNewCleansUpAfterACrashedProcess(t *testing.T) {
	r := newTestRepo(t)
	c1 := r.commit(t, "one", map[string][]byte{"a.txt": []byte("one\n")})
	dir := t.TempDir()
	gitDir := filepath.Join(dir, "repos", "acme", "app.git")

	// A live workspace of another Cache on the directory, which must stay.
	live, err := gitcache.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	liveWS := checkout(t, live, "acme/app", r, c1, "live-job")

	// A process that checks out and dies.
	cmd := execSelf("^TestCrashHelperProcess$",
		"FORGE_TEST_GITCACHE_CRASH_DIR="+dir, "GITCACHE_CRASH_REMOTE="+r.url, "GITCACHE_CRASH_COMMIT="+c1)
	out, err := cmd.Output()
	crashed, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "WORKSPACE ")
	if err != nil || !ok {
		t.Fatalf("helper process: %v: %s", err, out)
	}

	// A workspace made by hand, with no lease at all, and a worktree as
	// caches before this one made them, with none either.
	orphan := filepath.Join(dir, "workspaces", "orphan-0123456789ab")
	if err := os.MkdirAll(filepath.Join(orphan, ".git", "objects", "info"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(orphan, ".git", "objects", "info", "alternates"), []byte(filepath.Join(gitDir, "objects")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	oldOrphan := filepath.Join(dir, "workspaces", "old-orphan-0123456789ab")
	runGit(t, dir, "--git-dir="+gitDir, "worktree", "add", "--detach", "--quiet", oldOrphan, c1)

	// What New's probe of modes left when its process died, and one a
	// live process may be using still.
	deadProbe, liveProbe := filepath.Join(dir, "workspaces", "probe-0123"), filepath.Join(dir, "workspaces", "probe-4567")
	for _, p := range []string{deadProbe, liveProbe} {
		if err := os.MkdirAll(filepath.Join(p, "dir"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-time.Hour)
	if err := os.Chtimes(deadProbe, long, long); err != nil {
		t.Fatal(err)
	}

	list := runGit(t, dir, "--git-dir="+gitDir, "worktree", "list", "--porcelain")
	if !exists(crashed) || !exists(orphan) || !strings.Contains(list, oldOrphan) {
		t.Fatalf("the setup left no crashed workspace %s, orphan %s and old orphan %s:\n%s", crashed, orphan, oldOrphan, list)
	}

	c, err := gitcache.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ws := range []string{crashed, orphan, oldOrphan, deadProbe} {
		if exists(ws) {
			t.Errorf("New left the workspace %s of a dead job", ws)
		}
	}
	if !exists(liveProbe) {
		t.Errorf("New removed a probe another process may be using")
	}
	list = runGit(t, dir, "--git-dir="+gitDir, "worktree", "list", "--porcelain")
	if strings.Contains(list, oldOrphan) {
		t.Errorf("New left the worktree registration of a dead job:\n%s", list)
	}
	if !exists(filepath.Join(liveWS.Dir, "a.txt")) {
		t.Errorf("New removed the live workspace %s of another Cache", liveWS.Dir)
	}
	leases, _ := os.ReadDir(filepath.Join(dir, "leases"))
	if len(leases) != 1 {
		t.Errorf("leases after recovery = %d, want 1 (the live workspace's)", len(leases))
	}

	// The repository the dead process fetched is still a cache hit.
	if ws := checkout(t, c, "acme/app", r, c1, "next"); !ws.CacheHit {
		t.Errorf("checkout after recovery was a miss")
	}
}

func TestFallsBackToBranchesWhenTheServerRefusesCommitsBySHA(t *testing.T) {
	// A wrapper that makes git speak protocol v0, where a server without
	// uploadpack.allow*SHA1InWant serves only what its refs advertise.
	wrapper := filepath.Join(t.TempDir(), "git-v0")
	script := "#!/bin/sh\nexec git -c protocol.version=0 \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	r := newTestRepo(t)
	c1 := r.commit(t, "one", map[string][]byte{"a.txt": []byte("one\n")})
	r.commit(t, "two", map[string][]byte{"a.txt": []byte("two\n")})
	runGit(t, r.dir, "checkout", "--quiet", "-b", "scratch")
	dangling := r.commit(t, "on no branch", map[string][]byte{"a.txt": []byte("dangling\n")})
	runGit(t, r.dir, "checkout", "--quiet", "main")
	runGit(t, r.dir, "branch", "--quiet", "-D", "scratch")

	dir := t.TempDir()
	c, err := gitcache.New(dir, gitcache.WithGit(wrapper))
	if err != nil {
		t.Fatal(err)
	}
	ws := checkout(t, c, "acme/app", r, c1, "old-commit")
	if b, err := os.ReadFile(filepath.Join(ws.Dir, "a.txt")); err != nil || string(b) != "one\n" {
		t.Errorf("a.txt = %q, %v; want the first commit's", b, err)
	}
	gitDir := filepath.Join(dir, "repos", "acme", "app.git")
	if refs := runGit(t, dir, "--git-dir="+gitDir, "show-ref"); !strings.Contains(refs, "refs/forge/heads/main") {
		t.Errorf("the cache did not fall back to fetching branches; its refs:\n%s", refs)
	}

	_, err = c.Checkout(context.Background(), ports.CheckoutRequest{Repository: "acme/app", Remote: r.url, Commit: dangling})
	if !fault.Is(err, fault.NotFound) {
		t.Errorf("a commit on no branch of a server that refuses SHAs: err = %v, want NotFound", err)
	}
}

func TestFetchesOnlyTheCommitWhenTheServerServesSHAs(t *testing.T) {
	r := newTestRepo(t)
	c1 := r.commit(t, "one", map[string][]byte{"a.txt": []byte("one\n")})
	r.commit(t, "two", map[string][]byte{"a.txt": []byte("two\n")})
	dir := t.TempDir()
	c, err := gitcache.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkout(t, c, "acme/app", r, c1, "job")
	refs := runGit(t, dir, "--git-dir="+filepath.Join(dir, "repos", "acme", "app.git"), "show-ref")
	if refs != c1+" refs/forge/commits/"+c1 {
		t.Errorf("refs after fetching %s by SHA:\n%s\nwant only its commit ref", c1, refs)
	}
}

func TestTwoCachesShareADirectory(t *testing.T) {
	r := newTestRepo(t)
	c1 := r.commit(t, "one", map[string][]byte{"a.txt": []byte("one\n")})
	c2 := r.commit(t, "two", map[string][]byte{"a.txt": []byte("two\n")})
	dir := t.TempDir()
	caches := make([]*gitcache.Cache, 2)
	for i := range caches {
		c, err := gitcache.New(dir)
		if err != nil {
			t.Fatal(err)
		}
		caches[i] = c
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			commit, want := c1, "one\n"
			if i%2 == 1 {
				commit, want = c2, "two\n"
			}
			ws, err := caches[i%2].Checkout(context.Background(), ports.CheckoutRequest{
				Repository: "acme/app", Remote: r.url, Commit: commit, JobID: fmt.Sprint(i),
			})
			if err != nil {
				errs <- err
				return
			}
			if b, err := os.ReadFile(filepath.Join(ws.Dir, "a.txt")); err != nil || string(b) != want {
				errs <- fmt.Errorf("checkout %d: a.txt = %q, %v; want %q", i, b, err, want)
			}
			if err := ws.Remove(context.Background()); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// What is left are the removed workspaces each Cache keeps for reuse.
	entries, _ := os.ReadDir(filepath.Join(dir, "workspaces"))
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "idle-") {
			t.Errorf("workspace %s left after every Remove", e.Name())
		}
	}
	if len(entries) > 2*gitcache.DefaultIdleWorkspaces {
		t.Errorf("%d idle workspaces left; each Cache keeps at most %d", len(entries), gitcache.DefaultIdleWorkspaces)
	}
}

func TestRedactRemovesCredentialsFromURLs(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://user:secret@github.com/acme/app.git", "https://github.com/acme/app.git"},
		{"https://x-access-token:ghs_abc123@github.com/acme/app", "https://github.com/acme/app"},
		{"https://glpat-token@gitlab.example/acme/app.git", "https://gitlab.example/acme/app.git"},
		{"http://user:p@ss@host:8080/x.git", "http://host:8080/x.git"},
		{"HTTPS://USER:PASS@HOST/x", "HTTPS://HOST/x"},
		{"ssh://git@host:2222/acme/app.git", "ssh://host:2222/acme/app.git"},
		{"fatal: unable to access 'https://u:p@host/x/': The requested URL returned error: 403",
			"fatal: unable to access 'https://host/x/': The requested URL returned error: 403"},
		{"from https://a:b@one/x to https://c:d@two/y", "from https://one/x to https://two/y"},
		{"https://github.com/acme/app.git", "https://github.com/acme/app.git"},
		{"git@github.com:acme/app.git", "git@github.com:acme/app.git"},
		{"file:///srv/git/app.git", "file:///srv/git/app.git"},
		{"https://host/path/with@sign", "https://host/path/with@sign"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := gitcache.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestErrorsNeverCarryCredentials(t *testing.T) {
	// A server that refuses everyone, and one that is down.
	refusing := refusingServer(t)
	down := closedAddress(t)
	c, err := gitcache.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, remote := range []string{
		"http://deploy:s3cr3t-pa55@" + refusing + "/acme/app.git",
		"http://deploy:s3cr3t-pa55@" + down + "/acme/app.git",
		"http://ghp_s3cr3t-pa55@" + down + "/acme/app.git",
	} {
		_, err := c.Checkout(context.Background(), ports.CheckoutRequest{
			Repository: "acme/app", Remote: remote, Commit: strings.Repeat("1", 40),
		})
		if !fault.Is(err, fault.Unavailable) {
			t.Errorf("%s: err = %v, want Unavailable", gitcache.Redact(remote), err)
		}
		if err != nil && strings.Contains(fmt.Sprintf("%v %#v", err, err), "s3cr3t") {
			t.Errorf("the error carries the password: %v", err)
		}
	}
}

func TestCancellingTheContextStopsGit(t *testing.T) {
	// A server that never answers: only the context can end the fetch.
	hanging := hangingServer(t)
	c, err := gitcache.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.Checkout(ctx, ports.CheckoutRequest{
		Repository: "acme/app", Remote: "http://" + hanging + "/acme/app.git", Commit: strings.Repeat("2", 40),
	})
	if !errors.Is(err, context.DeadlineExceeded) || !fault.Is(err, fault.Unavailable) {
		t.Errorf("err = %v, want Unavailable wrapping context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("Checkout returned %v after the deadline", elapsed)
	}
}

func TestRemoveFinishesAfterTheContextEnded(t *testing.T) {
	r := newTestRepo(t)
	c1 := r.commit(t, "one", map[string][]byte{"a.txt": []byte("one\n")})
	c, err := gitcache.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ws := checkout(t, c, "acme/app", r, c1, "job")
	// A job leaves a read-only directory behind, as Go's module cache does.
	ro := filepath.Join(ws.Dir, "pkg", "mod")
	if err := os.MkdirAll(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ro, "f"), []byte("x"), 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ws.Remove(ctx); err != nil {
		t.Fatalf("Remove with an ended context: %v", err)
	}
	if exists(ws.Dir) {
		t.Errorf("%s still exists", ws.Dir)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		dir  string
		opts []gitcache.Option
		kind fault.Kind
	}{
		{"empty directory", "", nil, fault.Validation},
		{"zero budget", t.TempDir(), []gitcache.Option{gitcache.WithBudget(0)}, fault.Validation},
		{"negative budget", t.TempDir(), []gitcache.Option{gitcache.WithBudget(-1)}, fault.Validation},
		{"negative idle workspaces", t.TempDir(), []gitcache.Option{gitcache.WithIdleWorkspaces(-1)}, fault.Validation},
		{"no such git", t.TempDir(), []gitcache.Option{gitcache.WithGit("/no/such/git")}, fault.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := gitcache.New(tt.dir, tt.opts...); !fault.Is(err, tt.kind) {
				t.Errorf("New: err = %v, want %s", err, tt.kind)
			}
		})
	}
}

func TestWorkspacesGoWhereTheOptionSays(t *testing.T) {
	r := newTestRepo(t)
	c1 := r.commit(t, "one", map[string][]byte{"a.txt": []byte("one\n")})
	workspaces := t.TempDir()
	c, err := gitcache.New(t.TempDir(), gitcache.WithWorkspaces(workspaces))
	if err != nil {
		t.Fatal(err)
	}
	ws := checkout(t, c, "acme/app", r, c1, "build 42/../x")
	if filepath.Dir(ws.Dir) != workspaces {
		t.Errorf("workspace %s is not in %s", ws.Dir, workspaces)
	}
	if base := filepath.Base(ws.Dir); strings.ContainsAny(base, " /") || !strings.HasPrefix(base, "build_42") {
		t.Errorf("workspace name %q is not the job ID made safe", base)
	}
}

// TestALiveWorkspaceOfAnotherCacheKeepsItsRepository: a Cache that runs
// over its budget does not evict the repository whose objects a live
// workspace of another Cache (another process) borrows; its lease says so.
func TestALiveWorkspaceOfAnotherCacheKeepsItsRepository(t *testing.T) {
	a, b, cr, ca, cb, cc := threeRepos(t)
	dir := t.TempDir()
	clock := &testClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	other, err := gitcache.New(dir, gitcache.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	clock.advance(time.Minute)
	wsA := checkout(t, other, "acme/a", a, ca, "a")

	c, err := gitcache.New(dir, gitcache.WithBudget(500<<10), gitcache.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	clock.advance(time.Minute)
	remove(t, checkout(t, c, "acme/b", b, cb, "b"))
	clock.advance(time.Minute)
	remove(t, checkout(t, c, "acme/c", cr, cc, "c"))
	gitDir := func(name string) string { return filepath.Join(dir, "repos", "acme", name+".git") }
	if !exists(gitDir("a")) {
		t.Fatalf("acme/a was evicted while another Cache's workspace borrowed its objects")
	}
	if exists(gitDir("b")) {
		t.Errorf("acme/b, the least recently used repository without a workspace, was not evicted")
	}
	if out := strings.TrimSpace(runGit(t, wsA.Dir, "cat-file", "-s", "HEAD:blob.bin")); out != fmt.Sprint(blob) {
		t.Errorf("the live workspace reads a blob.bin of %s bytes from its objects, want %d", out, blob)
	}
	remove(t, wsA)
}

// TestAWorkspaceIsAGitCheckoutOfItsCommit: tools in a step see an
// ordinary repository, clean and detached at the commit, with its history.
func TestAWorkspaceIsAGitCheckoutOfItsCommit(t *testing.T) {
	r := newTestRepo(t)
	c1 := r.commit(t, "one", map[string][]byte{"a.txt": []byte("one\n")})
	c2 := r.commit(t, "two", map[string][]byte{"a.txt": []byte("two\n"), "dir/b.txt": []byte("b\n")})
	c, err := gitcache.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ws := checkout(t, c, "acme/app", r, c2, "job")
	defer remove(t, ws)
	if got := strings.TrimSpace(runGit(t, ws.Dir, "rev-parse", "HEAD")); got != c2 {
		t.Errorf("HEAD = %s, want %s", got, c2)
	}
	if got := runGit(t, ws.Dir, "status", "--porcelain"); got != "" {
		t.Errorf("git status of a fresh workspace:\n%s", got)
	}
	if got := strings.TrimSpace(runGit(t, ws.Dir, "rev-parse", "HEAD~1")); got != c1 {
		t.Errorf("HEAD~1 = %s, want %s (the history is there)", got, c1)
	}
	if b, err := os.ReadFile(filepath.Join(ws.Dir, "dir", "b.txt")); err != nil || string(b) != "b\n" {
		t.Errorf("dir/b.txt = %q, %v", b, err)
	}
	// A step's change shows in its own workspace only.
	if err := os.WriteFile(filepath.Join(ws.Dir, "a.txt"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	second := checkout(t, c, "acme/app", r, c2, "other")
	defer remove(t, second)
	if b, _ := os.ReadFile(filepath.Join(second.Dir, "a.txt")); string(b) != "two\n" || !second.CacheHit {
		t.Errorf("another workspace of the commit reads a.txt = %q (hit %v)", b, second.CacheHit)
	}
	if got := runGit(t, ws.Dir, "status", "--porcelain"); strings.TrimSpace(got) != "M a.txt" {
		t.Errorf("git status after the change = %q", got)
	}
}

// TestRemovalWaitsForNoLock: a workspace is removed while another
// process holds its repository's lock (a long fetch), since nothing of
// the workspace is in the repository.
func TestRemovalWaitsForNoLock(t *testing.T) {
	r := newTestRepo(t)
	c1 := r.commit(t, "one", map[string][]byte{"a.txt": []byte("one\n")})
	dir := t.TempDir()
	c, err := gitcache.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	ws := checkout(t, c, "acme/app", r, c1, "job")
	f, err := os.OpenFile(filepath.Join(dir, "repos", "acme", "app.lock"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatalf("taking the repository's lock as another process would: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- ws.Remove(context.Background()) }()
	select {
	case err := <-done:
		if err != nil || exists(ws.Dir) {
			t.Errorf("Remove = %v; the workspace exists: %v", err, exists(ws.Dir))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Remove waited for the repository's lock")
	}
}

// TestARemovedWorkspaceIsReusedPristine: a removed workspace is kept and
// made the next checkout of its repository, of the same commit or
// another: whatever the job before changed, added, committed or branched
// is gone, and a workspace whose .git a job replaced is made afresh.
func TestARemovedWorkspaceIsReusedPristine(t *testing.T) {
	r := newTestRepo(t)
	c1 := r.commit(t, "one", map[string][]byte{"a.txt": []byte("one\n"), ".gitignore": []byte("*.log\n")})
	c2 := r.commit(t, "two", map[string][]byte{"a.txt": []byte("two\n"), "dir/b.txt": []byte("b\n")})
	c, err := gitcache.New(t.TempDir(), gitcache.WithIdleWorkspaces(1))
	if err != nil {
		t.Fatal(err)
	}
	inode := func(dir string) uint64 {
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Sys().(*syscall.Stat_t).Ino
	}
	ws := checkout(t, c, "acme/app", r, c2, "first")
	first := inode(ws.Dir)
	for name, content := range map[string]string{"a.txt": "changed\n", "new.txt": "new\n", "build.log": "ignored\n", "dir/c/d.txt": "deep\n"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(ws.Dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ws.Dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(ws.Dir, "dir", "b.txt"), 0o755); err != nil {
		t.Fatal(err)
	}
	runGit(t, ws.Dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "a job's commit")
	runGit(t, ws.Dir, "branch", "job-branch")
	remove(t, ws)
	if exists(ws.Dir) {
		t.Fatalf("%s exists after Remove", ws.Dir)
	}

	next := checkout(t, c, "acme/app", r, c1, "second")
	if inode(next.Dir) != first {
		t.Fatalf("the removed workspace was not reused")
	}
	if got := strings.TrimSpace(runGit(t, next.Dir, "rev-parse", "HEAD")); got != c1 {
		t.Errorf("HEAD = %s, want %s", got, c1)
	}
	if got := runGit(t, next.Dir, "status", "--porcelain", "--ignored", "--untracked-files=all"); got != "" {
		t.Errorf("git status of the reused workspace:\n%s", got)
	}
	if got := runGit(t, next.Dir, "for-each-ref"); got != "" {
		t.Errorf("refs a job made are still there:\n%s", got)
	}
	if b, _ := os.ReadFile(filepath.Join(next.Dir, "a.txt")); string(b) != "one\n" || exists(filepath.Join(next.Dir, "dir")) || exists(filepath.Join(next.Dir, "build.log")) {
		t.Errorf("the reused workspace holds a.txt = %q, dir: %v, build.log: %v", b, exists(filepath.Join(next.Dir, "dir")), exists(filepath.Join(next.Dir, "build.log")))
	}

	// A job that replaced .git leaves a workspace that is made afresh.
	if err := os.RemoveAll(filepath.Join(next.Dir, ".git")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(next.Dir, ".git"), []byte("gitdir: /elsewhere\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	remove(t, next)
	third := checkout(t, c, "acme/app", r, c2, "third")
	defer remove(t, third)
	if got := strings.TrimSpace(runGit(t, third.Dir, "rev-parse", "HEAD")); got != c2 {
		t.Errorf("HEAD = %s, want %s", got, c2)
	}
	if b, _ := os.ReadFile(filepath.Join(third.Dir, "dir", "b.txt")); string(b) != "b\n" {
		t.Errorf("dir/b.txt = %q", b)
	}
	if fi, err := os.Stat(filepath.Join(third.Dir, "dir", "b.txt")); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("dir/b.txt mode = %v, %v", fi.Mode(), err)
	}
}

// TestAWorkspaceIsReusedAtItsOwnCommit: a workspace reused at the commit
// it was at costs at most two git commands (clean and status, while the
// files are as new as the index) when its job left it clean, and none
// once git has seen it clean; it is brought back to the commit when its job
// changed, staged, deleted, committed or added files.
func TestAWorkspaceIsReusedAtItsOwnCommit(t *testing.T) {
	r := newTestRepo(t)
	// A submodule too: its empty directory is what a checkout leaves.
	if err := os.Mkdir(filepath.Join(r.dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	runGit(t, r.dir, "update-index", "--add", "--cacheinfo", "160000,"+gitcache.GitlinkID+",sub")
	commit := r.commit(t, "one", map[string][]byte{"a.txt": []byte("one\n"), "dir/b.txt": []byte("b\n"), ".gitignore": []byte("*.log\n")})
	if !strings.Contains(runGit(t, r.dir, "ls-tree", commit), "160000 commit "+gitcache.GitlinkID+"\tsub") {
		t.Fatalf("the commit has no submodule")
	}
	calls := filepath.Join(t.TempDir(), "calls")
	wrapper := filepath.Join(t.TempDir(), "git")
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\necho \"$@\" >> "+calls+"\nexec git \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := gitcache.New(t.TempDir(), gitcache.WithIdleWorkspaces(1), gitcache.WithGit(wrapper))
	if err != nil {
		t.Fatal(err)
	}
	ran := func(name string) ([]string, *ports.Workspace) {
		t.Helper()
		before, _ := os.ReadFile(calls)
		ws := checkout(t, c, "acme/app", r, commit, name)
		after, _ := os.ReadFile(calls)
		ran := strings.TrimSpace(strings.TrimPrefix(string(after), string(before)))
		if ran == "" {
			return nil, ws
		}
		return strings.Split(ran, "\n"), ws
	}
	remove(t, checkout(t, c, "acme/app", r, commit, "first"))
	// The file system's clock is coarse: files written in the index's
	// tick cannot be trusted by their stat data.
	time.Sleep(50 * time.Millisecond)
	cmds, ws := ran("second")
	if len(cmds) > 0 && (len(cmds) != 2 || !strings.Contains(cmds[0], " clean ") || !strings.Contains(cmds[1], " status ")) {
		t.Errorf("reusing a clean workspace at its commit ran %q, want at most git clean and git status", cmds)
	}
	remove(t, ws)
	if cmds, ws = ran("third"); len(cmds) > 0 {
		t.Errorf("reusing a workspace seen clean by git, and left so, ran %q, want no git command", cmds)
	}

	if err := os.WriteFile(filepath.Join(ws.Dir, "a.txt"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runGit(t, ws.Dir, "add", "a.txt")
	if err := os.Remove(filepath.Join(ws.Dir, "dir", "b.txt")); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"new.txt": "new\n", "build.log": "ignored\n"} {
		if err := os.WriteFile(filepath.Join(ws.Dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	runGit(t, ws.Dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "a job's commit")
	remove(t, ws)
	next := checkout(t, c, "acme/app", r, commit, "fourth")
	defer remove(t, next)
	if got := strings.TrimSpace(runGit(t, next.Dir, "rev-parse", "HEAD")); got != commit {
		t.Errorf("HEAD = %s, want %s", got, commit)
	}
	if got := runGit(t, next.Dir, "status", "--porcelain", "--ignored", "--untracked-files=all"); got != "" {
		t.Errorf("git status of the reused workspace:\n%s", got)
	}
	a, _ := os.ReadFile(filepath.Join(next.Dir, "a.txt"))
	b, _ := os.ReadFile(filepath.Join(next.Dir, "dir", "b.txt"))
	if string(a) != "one\n" || string(b) != "b\n" || exists(filepath.Join(next.Dir, "new.txt")) || exists(filepath.Join(next.Dir, "build.log")) {
		t.Errorf("the reused workspace holds a.txt %q, dir/b.txt %q, new.txt %v, build.log %v", a, b,
			exists(filepath.Join(next.Dir, "new.txt")), exists(filepath.Join(next.Dir, "build.log")))
	}
}

// TestReuseWithoutGitSeesEveryChange: a job that changes a workspace's
// files or index in any of the ways of JobChanges leaves a workspace
// that the next checkout brings back to the commit.
// (TestUnchangedSinceMarkSeesEveryChange checks the same changes against
// both ways a reuse trusts a file: its stat data, its content.)
func TestReuseWithoutGitSeesEveryChange(t *testing.T) {
	r := newTestRepo(t)
	if err := os.Symlink("a.txt", filepath.Join(r.dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(r.dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	runGit(t, r.dir, "update-index", "--add", "--cacheinfo", "160000,"+gitcache.GitlinkID+",sub")
	commit := r.commit(t, "one", map[string][]byte{"a.txt": []byte("one\n"), "dir/b.txt": []byte("b\n"), ".gitignore": []byte("*.log\n")})
	c, err := gitcache.New(t.TempDir(), gitcache.WithIdleWorkspaces(1))
	if err != nil {
		t.Fatal(err)
	}
	remove(t, checkout(t, c, "acme/app", r, commit, "fresh"))
	untracked := 0
	for _, change := range gitcache.JobChanges {
		if change.Untracked {
			untracked++ // the workspace is made afresh
		}
		ws := checkout(t, c, "acme/app", r, commit, "job")
		change.Do(t, ws.Dir)
		remove(t, ws)
		next := checkout(t, c, "acme/app", r, commit, "next")
		a, _ := os.ReadFile(filepath.Join(next.Dir, "a.txt"))
		b, _ := os.ReadFile(filepath.Join(next.Dir, "dir", "b.txt"))
		link, _ := os.Readlink(filepath.Join(next.Dir, "link"))
		fi, err := os.Lstat(filepath.Join(next.Dir, "a.txt"))
		fb, errb := os.Lstat(filepath.Join(next.Dir, "dir", "b.txt"))
		fd, errd := os.Lstat(filepath.Join(next.Dir, "dir"))
		fr, errr := os.Lstat(next.Dir)
		if err != nil || errb != nil || errd != nil || errr != nil || fi.Mode() != fb.Mode() || fi.Sys().(*syscall.Stat_t).Nlink != 1 ||
			fd.Mode().Perm()&0o200 == 0 || fr.Mode().Perm()&0o200 == 0 {
			t.Errorf("after a job's change (%s), the next task sees modes a.txt %v (%v links), dir/b.txt %v, dir %v, workspace %v",
				change.Name, fi.Mode(), fi.Sys().(*syscall.Stat_t).Nlink, fb.Mode(), fd.Mode(), fr.Mode())
		}
		if sub, err := os.ReadDir(filepath.Join(next.Dir, "sub")); err != nil || len(sub) > 0 || exists(filepath.Join(next.Dir, "dir", ".git")) {
			t.Errorf("after a job's change (%s), the next task sees sub holding %v (%v), dir/.git %v", change.Name, sub, err, exists(filepath.Join(next.Dir, "dir", ".git")))
		}
		if x, _ := syscall.Listxattr(filepath.Join(next.Dir, "a.txt"), nil); x > 0 {
			t.Errorf("after a job's change (%s), a.txt has extended attributes", change.Name)
		}
		if string(a) != "one\n" || string(b) != "b\n" || link != "a.txt" || err != nil || fi.Mode() != 0o644 ||
			exists(filepath.Join(next.Dir, "dir", "build.log")) || exists(filepath.Join(next.Dir, "made")) {
			t.Errorf("after a job's change (%s), the next task sees a.txt %q (%v), dir/b.txt %q, link to %q, dir/build.log %v, made %v",
				change.Name, a, fi.Mode(), b, link, exists(filepath.Join(next.Dir, "dir", "build.log")), exists(filepath.Join(next.Dir, "made")))
		}
		if got := runGit(t, next.Dir, "status", "--porcelain", "--ignored", "--untracked-files=all"); got != "" {
			t.Errorf("after a job's change (%s), git status of the next workspace:\n%s", change.Name, got)
		}
		remove(t, next)
	}
	if st, n := c.Stats(), int64(2*len(gitcache.JobChanges)); st.Reuses != n-int64(untracked) || st.ReuseFailures != int64(untracked) {
		t.Errorf("stats count %d reuses and %d failures, want %d and %d", st.Reuses, st.ReuseFailures, n-int64(untracked), untracked)
	}
}

// TestAJobCannotHideItsChangesFromReuse: a job that marks files
// assume-unchanged or skip-worktree before changing them (git status then
// skips them) leaves a workspace that is rewritten from the commit.
func TestAJobCannotHideItsChangesFromReuse(t *testing.T) {
	r := newTestRepo(t)
	commit := r.commit(t, "one", map[string][]byte{"a.txt": []byte("one\n"), "b.txt": []byte("b\n")})
	c, err := gitcache.New(t.TempDir(), gitcache.WithIdleWorkspaces(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{"--assume-unchanged", "--skip-worktree"} {
		ws := checkout(t, c, "acme/app", r, commit, "job"+flag)
		runGit(t, ws.Dir, "update-index", flag, "a.txt")
		if err := os.WriteFile(filepath.Join(ws.Dir, "a.txt"), []byte("EVIL\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		remove(t, ws)
		next := checkout(t, c, "acme/app", r, commit, "next"+flag)
		if b, _ := os.ReadFile(filepath.Join(next.Dir, "a.txt")); string(b) != "one\n" {
			t.Errorf("after a job's %s, the next task sees a.txt = %q", flag, b)
		}
		if got := runGit(t, next.Dir, "ls-files", "-v"); strings.Contains(got, "h ") || strings.Contains(got, "S ") {
			t.Errorf("after a job's %s, the index still hides files:\n%s", flag, got)
		}
		remove(t, next)
	}
}

// TestACommitKnownBeforeIsFetchedAgainWhenItsRepositoryWasRemade: a Cache
// that checked a commit out before answers it again without asking git,
// unless the repository was evicted and made again since (here by
// another Cache, from a remote without that commit): then it fetches it.
func TestACommitKnownBeforeIsFetchedAgainWhenItsRepositoryWasRemade(t *testing.T) {
	first, other := newTestRepo(t), newTestRepo(t)
	c1 := first.commit(t, "one", map[string][]byte{"a.txt": []byte("one\n")})
	cx := other.commit(t, "x", map[string][]byte{"x.txt": []byte("x\n")})
	dir := t.TempDir()
	c, err := gitcache.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	remove(t, checkout(t, c, "acme/app", first, c1, "one"))
	if ws := checkout(t, c, "acme/app", first, c1, "again"); !ws.CacheHit {
		t.Errorf("a commit checked out before missed the cache")
	} else {
		remove(t, ws)
	}

	if err := os.RemoveAll(filepath.Join(dir, "repos", "acme", "app.git")); err != nil {
		t.Fatal(err)
	}
	another, err := gitcache.New(dir, gitcache.WithIdleWorkspaces(0))
	if err != nil {
		t.Fatal(err)
	}
	remove(t, checkout(t, another, "acme/app", other, cx, "x"))

	ws := checkout(t, c, "acme/app", first, c1, "after")
	defer remove(t, ws)
	if ws.CacheHit {
		t.Errorf("the commit was taken for cached in a repository made again without it")
	}
	if b, err := os.ReadFile(filepath.Join(ws.Dir, "a.txt")); err != nil || string(b) != "one\n" {
		t.Errorf("a.txt = %q, %v", b, err)
	}
}
