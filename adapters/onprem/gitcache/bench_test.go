package gitcache_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/onprem/gitcache"
	"github.com/catalyst-forge/forge/ports"
)

// The benchmark's repositories: 2,000 commits each, at three sizes of
// history. The first commit adds benchFiles files and every later commit
// rewrites one of them with new random text, so the history is large and
// the head's tree small (about a tenth of the history), as in a monorepo
// with years behind it.
const (
	benchCommits = 2000
	benchFiles   = 200
	benchDirs    = 20
	// packRatio is about how much zlib keeps of base64 text.
	packRatio = 0.76
	// benchVersion names the generator; change it when the generator
	// changes so cached repositories are made again.
	benchVersion = "v1"
)

var benchSizesMiB = []int{5, 25, 100}

// BenchmarkCheckout compares a checkout from a warm cache with its peer, a
// plain git clone, both over git's smart HTTP protocol (git http-backend
// behind net/http/cgi on 127.0.0.1):
//
//	size=<n>MB/warm-cache   Checkout of the head commit once the cache has
//	                        the repository (the usual case on a worker), Remove
//	                        not timed: the workspace removed before is reused;
//	size=<n>MB/warm-fresh   the same with no workspace kept for reuse
//	                        (WithIdleWorkspaces(0)): every file written;
//	size=<n>MB/fresh-clone  git clone of the repository into a new directory,
//	                        what a worker without a cache does for every job.
//
// The generated repositories are kept under os.TempDir()/forge-gitcache-bench
// so that reruns skip the generation.
func BenchmarkCheckout(b *testing.B) {
	gitPath, err := exec.LookPath("git")
	if err != nil {
		b.Fatal("the git command is required: install git")
	}
	root := filepath.Join(os.TempDir(), "forge-gitcache-bench")
	if err := os.MkdirAll(root, 0o755); err != nil {
		b.Fatal(err)
	}
	repos := make(map[int]benchRepo, len(benchSizesMiB))
	for _, mib := range benchSizesMiB {
		repos[mib] = ensureBenchRepo(b, root, mib)
	}

	server := httptest.NewServer(&cgi.Handler{
		Path: gitPath,
		Args: []string{"http-backend"},
		Env: []string{
			"GIT_PROJECT_ROOT=" + root,
			"GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1",
			"GIT_CONFIG_GLOBAL=/dev/null",
		},
	})
	defer server.Close()

	ctx := context.Background()
	for _, mib := range benchSizesMiB {
		repo := repos[mib]
		url := server.URL + "/" + repo.name
		historyMiB := float64(repo.bytes) / (1 << 20)

		for _, v := range []struct {
			name string
			idle int
		}{{"warm-cache", gitcache.DefaultIdleWorkspaces}, {"warm-fresh", 0}} {
			b.Run(fmt.Sprintf("size=%dMB/%s", mib, v.name), func(b *testing.B) {
				benchWarm(b, gitcache.WithIdleWorkspaces(v.idle), ports.CheckoutRequest{Repository: fmt.Sprintf("bench/size-%dmb", mib), Remote: url, Commit: repo.head})
				b.ReportMetric(historyMiB, "history-MiB")
			})
		}

		b.Run(fmt.Sprintf("size=%dMB/fresh-clone", mib), func(b *testing.B) {
			dir := b.TempDir()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				dst := filepath.Join(dir, fmt.Sprintf("clone-%d", i))
				cmd := exec.CommandContext(ctx, gitPath, "clone", "--quiet", url, dst)
				cmd.Env = testEnv(dir)
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("git clone: %v: %s", err, out)
				}
				b.StopTimer()
				if err := os.RemoveAll(dst); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(historyMiB, "history-MiB")
		})
	}
}

// benchRepo is a generated bare repository under the server's root.
type benchRepo struct {
	name  string // its path under the root
	head  string // the SHA of its last commit
	bytes int64  // its size on disk
}

// ensureBenchRepo returns the repository of about mib MiB of history,
// generating it unless a previous run left it complete.
func ensureBenchRepo(b *testing.B, root string, mib int) benchRepo {
	b.Helper()
	name := fmt.Sprintf("size-%dMB-%s.git", mib, benchVersion)
	path := filepath.Join(root, name)
	marker := filepath.Join(path, "forge-bench-head")
	if head, err := os.ReadFile(marker); err == nil {
		return benchRepo{name: name, head: strings.TrimSpace(string(head)), bytes: treeSize(path)}
	}
	_ = os.RemoveAll(path) // an interrupted generation
	start := time.Now()

	tmp, err := os.MkdirTemp(root, ".generating-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	runGit(b, root, "init", "--quiet", "--bare", "--initial-branch=main", tmp)

	cmd := exec.Command("git", "--git-dir="+tmp, "fast-import", "--quiet")
	cmd.Env = testEnv(root)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	genErr := writeHistory(stdin, mib)
	if err := stdin.Close(); genErr == nil {
		genErr = err
	}
	if err := cmd.Wait(); err != nil || genErr != nil {
		b.Fatalf("git fast-import: %v %v: %s", err, genErr, stderr.String())
	}
	// One pack with a bitmap, as a git server keeps its repositories.
	runGit(b, root, "--git-dir="+tmp, "repack", "-a", "-d", "-b", "--window=0", "--quiet")
	runGit(b, root, "--git-dir="+tmp, "config", "uploadpack.allowAnySHA1InWant", "true")
	head := runGit(b, root, "--git-dir="+tmp, "rev-parse", "refs/heads/main")
	if err := os.WriteFile(filepath.Join(tmp, "forge-bench-head"), []byte(head+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	repo := benchRepo{name: name, head: head, bytes: treeSize(path)}
	b.Logf("generated %s (%d commits, %.1f MiB) in %v", name, benchCommits, float64(repo.bytes)/(1<<20), time.Since(start).Round(time.Millisecond))
	return repo
}

// writeHistory writes the fast-import stream of a repository of about mib
// MiB of packed history.
func writeHistory(w io.Writer, mib int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	rng := rand.NewChaCha8([32]byte{byte(mib)})
	raw := float64(mib<<20) / packRatio
	fileSize := int(raw / float64(benchCommits-1+benchFiles))
	random := make([]byte, 57)
	line := make([]byte, 77)
	line[76] = '\n'
	content := func() []byte {
		out := make([]byte, 0, fileSize+77)
		for len(out) < fileSize {
			_, _ = rng.Read(random)
			base64.StdEncoding.Encode(line, random)
			out = append(out, line...)
		}
		return out
	}
	writeFile := func(n int) {
		data := content()
		fmt.Fprintf(bw, "M 100644 inline src/pkg%02d/file%03d.txt\ndata %d\n", n%benchDirs, n, len(data))
		bw.Write(data)
		bw.WriteByte('\n')
	}
	for i := 0; i < benchCommits; i++ {
		msg := fmt.Sprintf("change %d", i)
		fmt.Fprintf(bw, "commit refs/heads/main\ncommitter Forge Bench <bench@forge.invalid> %d +0000\ndata %d\n%s\n",
			1700000000+60*i, len(msg), msg)
		if i == 0 {
			for n := 0; n < benchFiles; n++ {
				writeFile(n)
			}
		} else {
			writeFile(i % benchFiles)
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// treeSize adds up the sizes of the files under dir.
func treeSize(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				total += fi.Size()
			}
		}
		return nil
	})
	return total
}

// benchWarm times checkouts of req from a cache made with opt that has
// fetched it once.
func benchWarm(b *testing.B, opt gitcache.Option, req ports.CheckoutRequest) {
	ctx := context.Background()
	c, err := gitcache.New(b.TempDir(), opt)
	if err != nil {
		b.Fatal(err)
	}
	ws, err := c.Checkout(ctx, req) // the one fetch: the cache is warm from now on
	if err != nil {
		b.Fatal(err)
	}
	if err := ws.Remove(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req.JobID = fmt.Sprintf("bench-%d", i)
		ws, err := c.Checkout(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if !ws.CacheHit {
			b.Fatal("a checkout of a warm cache missed it")
		}
		if err := ws.Remove(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
