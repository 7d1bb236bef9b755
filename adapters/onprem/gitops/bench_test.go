package gitops_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/onprem/gitops"
	"github.com/catalyst-forge/forge/ports"
)

// BenchmarkConcurrentDeployments measures 20 deployments landing at once
// on one GitOps remote served over smart HTTP (git http-backend), each a
// one-file commit of its own project, until the last has landed: through
// the adapter (five clients, as five workers) and, as the peer, through
// the git command (20 clones, each committing and pushing, pulling with
// rebase and pushing again while refused). One op is the 20 changes on a
// fresh remote.
func BenchmarkConcurrentDeployments(b *testing.B) {
	const n, clients = 20, 5
	setup := func(b *testing.B) (url string, stop func()) {
		root, err := os.MkdirTemp("", "gitops-bench-")
		if err != nil {
			b.Fatal(err)
		}
		dir := filepath.Join(root, "gitops.git")
		for _, args := range [][]string{{"init", "-q", "--bare", "-b", "main", dir}, {"-C", dir, "config", "http.receivepack", "true"}} {
			if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
				b.Fatalf("%v: %s", err, out)
			}
		}
		srv := smartHTTPBench(root)
		return srv.URL + "/gitops.git", func() { srv.Close(); os.RemoveAll(root) }
	}
	b.Run("forge", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			url, stop := setup(b)
			gs := make([]ports.GitOps, clients)
			for i := range gs {
				g, err := gitops.New(gitops.Options{URL: url})
				if err != nil {
					b.Fatal(err)
				}
				gs[i] = g
			}
			b.StartTimer()
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					_, _, err := gs[i%clients].Apply(context.Background(), ports.GitOpsChange{Path: fmt.Sprintf("environments/dev/acme/mono/p%02d/release.yaml", i),
						Content: []byte(fmt.Sprintf("project %d\n", i)), Message: fmt.Sprintf("deploy p%02d", i), When: time.Now()})
					if err != nil {
						b.Error(err)
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			stop()
			b.StartTimer()
		}
	})
	b.Run("git", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			url, stop := setup(b)
			work, _ := os.MkdirTemp("", "gitops-bench-clones-")
			b.StartTimer()
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					dir := filepath.Join(work, fmt.Sprint(i))
					file := fmt.Sprintf("environments/dev/acme/mono/p%02d/release.yaml", i)
					script := fmt.Sprintf(`set -e
git clone -q %[1]s %[2]s 2>/dev/null
cd %[2]s
git checkout -q -B main
mkdir -p $(dirname %[3]s)
echo "project %[4]d" > %[3]s
git add %[3]s
git -c user.name=bench -c user.email=b@b commit -q -m "deploy p%02[4]d"
until git push -q origin main 2>/dev/null; do git -c user.name=bench -c user.email=b@b pull -q --rebase origin main 2>/dev/null || true; done`, url, dir, file, i)
					if out, err := exec.Command("sh", "-c", script).CombinedOutput(); err != nil {
						b.Errorf("git client %d: %v: %s", i, err, out)
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			out, _ := exec.Command("git", "ls-remote", url).Output()
			if len(out) == 0 {
				b.Error("nothing landed")
			}
			stop()
			os.RemoveAll(work)
			b.StartTimer()
		}
	})
}
