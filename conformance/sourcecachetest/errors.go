package sourcecachetest

import (
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// unknownCommit is a well-formed SHA that no remote of the suite has.
const unknownCommit = "0123456789abcdef0123456789abcdef01234567"

func describeErrors(h *harness) {
	ginkgo.Describe("errors", func() {
		var (
			r  *remote
			c1 string
		)

		ginkgo.BeforeEach(func() {
			r = h.newRemote("acme/monorepo")
			c1 = r.commit("first", put("a.txt", "a\n"))
		})

		ginkgo.It("returns NotFound for a commit the remote does not have", func() {
			_, err := h.cache.Checkout(h.ctx, h.request(r, unknownCommit, "job-1"))
			Expect(err).To(haveKind(fault.NotFound))
		})

		ginkgo.It("returns NotFound for an unknown commit of a repository it has cached", func() {
			h.checkout(r, c1, "job-1")
			_, err := h.cache.Checkout(h.ctx, h.request(r, unknownCommit, "job-2"))
			Expect(err).To(haveKind(fault.NotFound))
			ws := h.checkout(r, c1, "job-3")
			Expect(checkedOut(ws.Dir)).To(Equal(r.files(c1)), "a failed checkout damaged the cache")
		})

		ginkgo.It("returns Unavailable for a remote that does not exist", func() {
			missing := &remote{name: "acme/missing", url: "file://" + filepath.Join(h.tmp, "no-such-remote")}
			_, err := h.cache.Checkout(h.ctx, h.request(missing, c1, "job-1"))
			Expect(err).To(haveKind(fault.Unavailable))
		})

		ginkgo.It("returns Unavailable for a remote whose server is down", func() {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			Expect(err).NotTo(HaveOccurred())
			addr := l.Addr().String()
			Expect(l.Close()).To(Succeed()) // nothing listens there any more
			down := &remote{name: "acme/down", url: "http://" + addr + "/acme/down.git"}
			_, err = h.cache.Checkout(h.ctx, h.request(down, c1, "job-1"))
			Expect(err).To(haveKind(fault.Unavailable))
		})

		ginkgo.DescribeTable("returns Validation for a bad request, touching nothing outside its directory",
			func(edit func(req *ports.CheckoutRequest)) {
				before := entries(h.tmp)
				req := h.request(r, c1, "job-1")
				edit(&req)
				ws, err := h.cache.Checkout(h.ctx, req)
				if ws != nil {
					h.registerRemoval(ws)
				}
				Expect(err).To(haveKind(fault.Validation))
				Expect(entries(h.tmp)).To(Equal(before), "a rejected request created files next to the cache")
			},
			ginkgo.Entry("an empty commit", func(req *ports.CheckoutRequest) { req.Commit = "" }),
			ginkgo.Entry("a commit that is not hex", func(req *ports.CheckoutRequest) { req.Commit = strings.Repeat("g", 40) }),
			ginkgo.Entry("a commit with a non-hex digit", func(req *ports.CheckoutRequest) { req.Commit = req.Commit[:39] + "z" }),
			ginkgo.Entry("a short SHA", func(req *ports.CheckoutRequest) { req.Commit = req.Commit[:7] }),
			ginkgo.Entry("a SHA one digit short", func(req *ports.CheckoutRequest) { req.Commit = req.Commit[:39] }),
			ginkgo.Entry("a branch name", func(req *ports.CheckoutRequest) { req.Commit = "main" }),
			ginkgo.Entry("an empty repository", func(req *ports.CheckoutRequest) { req.Repository = "" }),
			ginkgo.Entry("a repository '..'", func(req *ports.CheckoutRequest) { req.Repository = ".." }),
			ginkgo.Entry("a repository with a '..' owner", func(req *ports.CheckoutRequest) { req.Repository = "../monorepo" }),
			ginkgo.Entry("a repository with a '..' name", func(req *ports.CheckoutRequest) { req.Repository = "acme/.." }),
			ginkgo.Entry("a repository climbing out", func(req *ports.CheckoutRequest) { req.Repository = "acme/../../../escape" }),
			ginkgo.Entry("an empty remote", func(req *ports.CheckoutRequest) { req.Remote = "" }),
		)
	})
}

// entries lists the names in dir and in its direct subdirectories, to see
// whether something was created next to the cache's directory.
func entries(dir string) []string {
	ginkgo.GinkgoHelper()
	var names []string
	top, err := os.ReadDir(dir)
	Expect(err).NotTo(HaveOccurred())
	for _, e := range top {
		names = append(names, e.Name())
		if e.IsDir() && e.Name() != "cache" {
			sub, err := os.ReadDir(filepath.Join(dir, e.Name()))
			Expect(err).NotTo(HaveOccurred())
			for _, s := range sub {
				names = append(names, e.Name()+"/"+s.Name())
			}
		}
	}
	return names
}
