package discovering

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/domain/discovery"
)

// generateMonorepo writes a repository of n projects, each with a
// configuration of three phases, an artifact and release triggers, a dozen
// source files and an ignored node_modules tree: about 35 files a project.
// It returns the number of files written.
func generateMonorepo(tb testing.TB, dir string, n int) int {
	tb.Helper()
	files := 0
	write := func(rel, content string) {
		full := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
		files++
	}
	write(".forge/repo.cue", `package repo

forgeVersion: "v1.0.0"
tagging: strategy: "monorepo"
phases: {
	check: {group: 1, timeout: "5m"}
	build: {group: 1, timeout: "10m"}
	test: {group: 2, timeout: "15m", required: true}
}
publishers: registry: {type: "docker", registry: "localhost:5000", credentials: {provider: "env", name: "TOKEN"}}
`)
	write(".gitignore", "node_modules/\n*.log\ndist/\n")
	for i := range n {
		p := fmt.Sprintf("services/team-%02d/svc-%03d", i%20, i)
		write(p+"/.forge/project.cue", fmt.Sprintf(`package project

name: "svc-%03d"
ci: phases: {
	check: lint: {action: "script", run: "sh -n main.sh"}
	build: {
		compile: {action: "earthly", target: "+build", priority: 10}
		docs: {action: "script", run: "echo docs"}
	}
	test: unit: {action: "earthly", target: "+test", timeout: @repo(path="phases.test.timeout")}
}
artifacts: app: {
	type: "container"
	producer: earthly: target: "+image"
	publishers: registry: tags: ["latest"]
}
deployment: resources: [{
	apiVersion: "forge.io/v1"
	kind: "Deployment"
	metadata: name: "svc-%03d"
	spec: image: @artifact("app.publishers.registry.uri")
}]
release: on: [{branch: "main"}, {tag: true}]
`, i, i))
		write(p+"/.forge/cue.mod/module.cue", fmt.Sprintf("module: \"forge.local/svc-%03d@v0\"\nlanguage: version: \"v0.17.0\"\n", i))
		for f := range 12 {
			write(fmt.Sprintf("%s/src/pkg%d/file%d.go", p, f%3, f), "package main\n")
		}
		for f := range 20 {
			write(fmt.Sprintf("%s/node_modules/dep%d/index.js", p, f), "module.exports = {}\n")
		}
	}
	return files
}

// BenchmarkDiscover measures a whole discovery of a generated monorepo of
// 200 projects and about 7,000 files (node_modules trees included, and
// ignored). Set FORGE_BENCH_KEEP=DIR to write the tree to DIR and keep it,
// for timing the forge binary on the same input.
func BenchmarkDiscover(b *testing.B) {
	dir := os.Getenv("FORGE_BENCH_KEEP")
	if dir == "" {
		dir = b.TempDir()
	}
	files := generateMonorepo(b, dir, 200)
	fsys := os.DirFS(dir)
	svc := &Service{}
	git := discovery.GitContext{Branch: "main", Commit: "0123456789abcdef0123456789abcdef01234567"}
	b.ReportMetric(float64(files), "files")
	cpu := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		res, err := svc.Discover(context.Background(), fsys, git)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Projects) != 200 || len(res.Output.ReleaseProjects) != 200 {
			b.Fatalf("discovered %d projects (%d releasing), want 200", len(res.Projects), len(res.Output.ReleaseProjects))
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// cpuTime is the CPU time (user and system) this process and its waited-for
// children have used. On a machine shared with other work, CPU time per
// operation varies much less than wall time.
func cpuTime() time.Duration {
	var self, children syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	total := time.Duration(0)
	for _, tv := range []syscall.Timeval{self.Utime, self.Stime, children.Utime, children.Stime} {
		total += time.Duration(tv.Nano())
	}
	return total
}

// BenchmarkDiscoverIsolated is BenchmarkDiscover through Isolated: the
// same discovery in a child process (this test binary, see TestMain)
// bounded by the default limits. The difference is the cost of the bound:
// starting the child, and carrying the result back.
func BenchmarkDiscoverIsolated(b *testing.B) {
	dir := b.TempDir()
	files := generateMonorepo(b, dir, 200)
	svc := isolated(Limits{})
	git := discovery.GitContext{Branch: "main", Commit: "0123456789abcdef0123456789abcdef01234567"}
	b.ReportMetric(float64(files), "files")
	cpu := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		res, err := svc.Discover(context.Background(), dir, git)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Projects) != 200 || len(res.Output.ReleaseProjects) != 200 {
			b.Fatalf("discovered %d projects (%d releasing), want 200", len(res.Projects), len(res.Output.ReleaseProjects))
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

func TestGeneratedMonorepoIsValid(t *testing.T) {
	dir := t.TempDir()
	files := generateMonorepo(t, dir, 5)
	if files != 2+5*34 {
		t.Errorf("wrote %d files, want %d", files, 2+5*34)
	}
	res, err := (&Service{}).Discover(context.Background(), os.DirFS(dir), discovery.GitContext{})
	if err != nil || len(res.Projects) != 5 || len(res.Problems) != 0 {
		t.Fatalf("Discover = %v projects, problems %v, err %v", len(res.Projects), res.Problems, err)
	}
}
