package gitopstest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// Remote is a fresh, empty GitOps remote for one spec.
type Remote struct {
	// URL is where the git command clones it from.
	URL string
	// New returns a new client of the remote.
	New func() ports.GitOps
}

// Factory returns a remote and a cleanup func (may be nil) the suite
// calls when the spec ends.
type Factory func() (Remote, func())

// Describe declares the GitOps conformance specs for the adapter and
// remote called name. It returns what ginkgo.Describe returns.
func Describe(name string, factory Factory) bool {
	return ginkgo.Describe("GitOps conformance: "+name, func() {
		h := &harness{}
		ginkgo.BeforeEach(func() {
			remote, cleanup := factory()
			Expect(remote.New).NotTo(BeNil(), "the factory returned no client maker")
			h.remote, h.ctx = remote, context.Background()
			if cleanup != nil {
				ginkgo.DeferCleanup(cleanup)
			}
		})

		ginkgo.It("writes a file as one commit with its message and author, on an empty remote", func() {
			g := h.remote.New()
			when := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
			sha, changed, err := g.Apply(h.ctx, ports.GitOpsChange{Path: "environments/dev/acme/mono/api/release.yaml",
				Content: []byte("kind: ReleasePointer\n"), Message: "Deploy api to dev: release 1 (main-1)\n\nDeployed by: alice\n",
				Author: "Alice <alice@acme.test>", When: when})
			Expect(err).NotTo(HaveOccurred())
			Expect(changed).To(BeTrue())
			c := h.clone()
			Expect(c.git("rev-parse", "HEAD")).To(Equal(sha), "the commit returned is the remote branch's head")
			Expect(c.file("environments/dev/acme/mono/api/release.yaml")).To(Equal("kind: ReleasePointer\n"))
			Expect(c.git("log", "--format=%s|%an|%ae|%aI")).To(Equal("Deploy api to dev: release 1 (main-1)|Alice|alice@acme.test|2026-12-03T10:00:00+00:00"))
			Expect(c.git("log", "-1", "--format=%B")).To(Equal("Deploy api to dev: release 1 (main-1)\n\nDeployed by: alice"))
		})

		ginkgo.It("makes no commit for a file that holds the content already, and keeps other files", func() {
			g := h.remote.New()
			first := h.apply(g, "environments/dev/acme/mono/api/release.yaml", "v1\n", "one")
			h.apply(g, "environments/dev/acme/mono/web/release.yaml", "w1\n", "two")
			again, changed, err := h.remote.New().Apply(h.ctx, ports.GitOpsChange{Path: "environments/dev/acme/mono/web/release.yaml", Content: []byte("w1\n"), Message: "again"})
			Expect(err).NotTo(HaveOccurred())
			Expect(changed).To(BeFalse(), "a change already there is not committed again")
			third := h.apply(g, "environments/dev/acme/mono/api/release.yaml", "v2\n", "three")
			Expect(third).NotTo(Equal(first))
			c := h.clone()
			Expect(c.git("rev-parse", "HEAD~1")).To(Equal(again), "the unchanged apply returned the head of its time")
			Expect(c.git("log", "--format=%s")).To(Equal("three\ntwo\none"))
			Expect(c.file("environments/dev/acme/mono/api/release.yaml")).To(Equal("v2\n"))
			Expect(c.file("environments/dev/acme/mono/web/release.yaml")).To(Equal("w1\n"))
		})

		ginkgo.It("reads a file back with the head it was read at", func() {
			g := h.remote.New()
			_, _, err := g.Read(h.ctx, "environments/dev/acme/mono/api/release.yaml")
			Expect(fault.Is(err, fault.NotFound)).To(BeTrue(), "an empty remote: %v", err)
			sha := h.apply(g, "environments/dev/acme/mono/api/release.yaml", "v1\n", "one")
			content, head, err := h.remote.New().Read(h.ctx, "environments/dev/acme/mono/api/release.yaml")
			Expect(err).NotTo(HaveOccurred())
			Expect(string(content)).To(Equal("v1\n"))
			Expect(head).To(Equal(sha))
			_, _, err = g.Read(h.ctx, "environments/dev/acme/mono/web/release.yaml")
			Expect(fault.Is(err, fault.NotFound)).To(BeTrue(), "a missing file: %v", err)
		})

		ginkgo.It("refuses paths outside the repository and empty messages, pushing nothing", func() {
			g := h.remote.New()
			for _, p := range []string{"", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", ".git/config", "a/.git/hooks/x"} {
				_, _, err := g.Apply(h.ctx, ports.GitOpsChange{Path: p, Content: []byte("x"), Message: "m"})
				Expect(fault.Is(err, fault.Validation)).To(BeTrue(), "path %q: %v", p, err)
			}
			_, _, err := g.Apply(h.ctx, ports.GitOpsChange{Path: "a/b", Content: []byte("x"), Message: " \n"})
			Expect(fault.Is(err, fault.Validation)).To(BeTrue(), "an empty message: %v", err)
			out, _ := exec.Command("git", "ls-remote", h.remote.URL).CombinedOutput()
			Expect(strings.TrimSpace(string(out))).To(BeEmpty(), "the remote got a branch")
		})

		ginkgo.It("lands 20 changes from 5 clients at once, each its own commit, none lost", func() {
			const n, clients = 20, 5
			gs := make([]ports.GitOps, clients)
			for i := range gs {
				gs[i] = h.remote.New()
			}
			var wg sync.WaitGroup
			errs := make(chan error, n)
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer ginkgo.GinkgoRecover()
					defer wg.Done()
					<-start
					ctx, cancel := context.WithTimeout(h.ctx, 2*time.Minute)
					defer cancel()
					_, changed, err := gs[i%clients].Apply(ctx, ports.GitOpsChange{Path: fmt.Sprintf("environments/dev/acme/mono/p%02d/release.yaml", i),
						Content: []byte(fmt.Sprintf("project %d\n", i)), Message: fmt.Sprintf("deploy p%02d", i)})
					if err == nil && !changed {
						err = fmt.Errorf("change %d reported unchanged", i)
					}
					if err != nil {
						errs <- fmt.Errorf("change %d: %w", i, err)
					}
				}()
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				Expect(err).NotTo(HaveOccurred())
			}
			c := h.clone()
			subjects := strings.Split(c.git("log", "--format=%s"), "\n")
			sort.Strings(subjects)
			want := make([]string, n)
			for i := range want {
				want[i] = fmt.Sprintf("deploy p%02d", i)
				Expect(c.file(fmt.Sprintf("environments/dev/acme/mono/p%02d/release.yaml", i))).To(Equal(fmt.Sprintf("project %d\n", i)))
			}
			Expect(subjects).To(Equal(want), "one commit per change")
			for i := range n {
				// Each commit changes its own file alone: a replayed
				// change never carries another's old content.
				files := c.git("show", "--format=", "--name-only", "HEAD~"+fmt.Sprint(i))
				Expect(strings.Split(files, "\n")).To(HaveLen(1), "commit HEAD~%d changes %q", i, files)
			}
		})
	})
}

type harness struct {
	remote Remote
	ctx    context.Context
}

func (h *harness) apply(g ports.GitOps, path, content, msg string) string {
	sha, changed, err := g.Apply(h.ctx, ports.GitOpsChange{Path: path, Content: []byte(content), Message: msg})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	ExpectWithOffset(1, changed).To(BeTrue())
	return sha
}

// checkout is a clone of the remote made with the git command.
type checkout struct{ dir string }

func (h *harness) clone() checkout {
	dir, err := os.MkdirTemp("", "gitopstest-clone-")
	Expect(err).NotTo(HaveOccurred())
	ginkgo.DeferCleanup(os.RemoveAll, dir)
	out, err := exec.Command("git", "clone", "-q", h.remote.URL, dir).CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "git clone: %s", out)
	return checkout{dir}
}

func (c checkout) git(args ...string) string {
	out, err := exec.Command("git", append([]string{"-C", c.dir}, args...)...).CombinedOutput()
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), "git %v: %s", args, out)
	return strings.TrimSpace(string(out))
}

func (c checkout) file(p string) string {
	b, err := os.ReadFile(filepath.Join(c.dir, filepath.FromSlash(p)))
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return string(b)
}
