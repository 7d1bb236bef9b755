package sourcecachetest

import (
	"fmt"
	"sync"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/ports"
)

// result is the outcome of one concurrent checkout.
type result struct {
	commit string
	ws     *ports.Workspace
	err    error
}

// checkoutAll checks out commits[i] of r in parallel, one goroutine each,
// starting them together, and registers the removal of every workspace.
func (h *harness) checkoutAll(r *remote, commits []string) []result {
	ginkgo.GinkgoHelper()
	results := make([]result, len(commits))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, commit := range commits {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ws, err := h.cache.Checkout(h.ctx, h.request(r, commit, fmt.Sprintf("job-%d", i)))
			results[i] = result{commit: commit, ws: ws, err: err}
		}()
	}
	close(start)
	wg.Wait()
	for _, res := range results {
		if res.err == nil {
			h.registerRemoval(res.ws)
		}
	}
	return results
}

func describeConcurrency(h *harness) {
	ginkgo.Describe("concurrent checkouts", func() {
		ginkgo.It("checks out two commits of one repository at once, each with its own files", func() {
			r := h.newRemote("acme/monorepo")
			c1 := r.commit("first", put("a.txt", "one\n"), put("only-in-first.txt", "1\n"))
			c2 := r.commit("second", put("a.txt", "two\n"), del("only-in-first.txt"), put("b.txt", "b\n"))

			results := h.checkoutAll(r, []string{c1, c2})
			for _, res := range results {
				Expect(res.err).NotTo(HaveOccurred(), "checking out %s", res.commit)
				Expect(res.ws.Commit).To(Equal(res.commit))
				Expect(checkedOut(res.ws.Dir)).To(Equal(r.files(res.commit)))
			}
			Expect(results[0].ws.Dir).NotTo(Equal(results[1].ws.Dir))
		})

		ginkgo.It("checks out one commit eight times at once, into eight workspaces", func() {
			r := h.newRemote("acme/monorepo")
			c1 := r.commit("first", put("a.txt", "one\n"), put("dir/b.txt", "b\n"))

			commits := make([]string, 8)
			for i := range commits {
				commits[i] = c1
			}
			results := h.checkoutAll(r, commits)
			dirs := map[string]bool{}
			for i, res := range results {
				Expect(res.err).NotTo(HaveOccurred(), "checkout %d", i)
				Expect(checkedOut(res.ws.Dir)).To(Equal(r.files(c1)), "checkout %d", i)
				Expect(h.workspaceHead(res.ws.Dir)).To(Equal(c1), "checkout %d", i)
				dirs[res.ws.Dir] = true
			}
			Expect(dirs).To(HaveLen(8), "concurrent checkouts shared a directory")
		})
	})
}
