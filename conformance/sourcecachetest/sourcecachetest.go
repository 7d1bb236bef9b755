package sourcecachetest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// Factory returns a new cache for one spec, keeping its state in workdir
// (an empty directory the suite creates and deletes), and a cleanup func
// (may be nil) that the suite calls at the end of the spec, after it
// removed the spec's workspaces.
type Factory func(workdir string) (ports.SourceCache, func())

// specTimeout bounds the context of one spec.
const specTimeout = 2 * time.Minute

// Describe declares the SourceCache conformance specs for the adapter
// called name, each on a fresh cache from factory. Call it at the top level
// of a Ginkgo suite file (var _ = sourcecachetest.Describe(...)) or inside
// a container. It returns what ginkgo.Describe returns.
func Describe(name string, factory Factory) bool {
	return ginkgo.Describe("SourceCache conformance: "+name, func() {
		h := &harness{}

		ginkgo.BeforeEach(func() {
			_, err := exec.LookPath("git")
			Expect(err).NotTo(HaveOccurred(), "the suite needs the git binary on PATH")
			tmp, err := os.MkdirTemp("", "sourcecachetest-")
			Expect(err).NotTo(HaveOccurred())
			h.tmp = tmp
			ginkgo.DeferCleanup(func() { Expect(os.RemoveAll(tmp)).To(Succeed()) })
			workdir := filepath.Join(tmp, "cache")
			Expect(os.Mkdir(workdir, 0o755)).To(Succeed())

			cache, cleanup := factory(workdir)
			Expect(cache).NotTo(BeNil(), "the factory returned no cache")
			h.cache = cache
			if cleanup != nil {
				ginkgo.DeferCleanup(cleanup)
			}
			ctx, cancel := context.WithTimeout(context.Background(), specTimeout)
			h.ctx = ctx
			ginkgo.DeferCleanup(cancel)
		})

		describeCheckout(h)
		describeRemove(h)
		describeConcurrency(h)
		describeErrors(h)
	})
}

// harness holds the cache and the temporary directory of the running spec.
type harness struct {
	cache ports.SourceCache
	ctx   context.Context
	tmp   string // the spec's directory: remotes and the cache's workdir
}

// checkout checks out commit of r and registers the workspace's removal at
// the end of the spec.
func (h *harness) checkout(r *remote, commit, jobID string) *ports.Workspace {
	ginkgo.GinkgoHelper()
	ws, err := h.cache.Checkout(h.ctx, h.request(r, commit, jobID))
	Expect(err).NotTo(HaveOccurred(), "checking out %s", commit)
	h.registerRemoval(ws)
	return ws
}

// request is a valid request for commit of r.
func (h *harness) request(r *remote, commit, jobID string) ports.CheckoutRequest {
	return ports.CheckoutRequest{Repository: r.name, Remote: r.url, Commit: commit, JobID: jobID}
}

// registerRemoval removes ws at the end of the spec (Remove may be called
// again: the spec may have removed it already).
func (h *harness) registerRemoval(ws *ports.Workspace) {
	ginkgo.GinkgoHelper()
	Expect(ws).NotTo(BeNil(), "Checkout returned no workspace and no error")
	Expect(ws.Remove).NotTo(BeNil(), "the workspace has no Remove func")
	ginkgo.DeferCleanup(func() {
		Expect(ws.Remove(context.Background())).To(Succeed(), "removing %s", ws.Dir)
	})
}

// haveKind matches a non-nil *fault.Error (or an error wrapping one) of
// kind k.
func haveKind(k fault.Kind) types.GomegaMatcher {
	return SatisfyAll(
		HaveOccurred(),
		WithTransform(func(err error) bool {
			var fe *fault.Error
			return errors.As(err, &fe)
		}, BeTrue()),
		WithTransform(fault.KindOf, Equal(k)),
	)
}
