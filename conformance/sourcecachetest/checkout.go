package sourcecachetest

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func describeCheckout(h *harness) {
	ginkgo.Describe("Checkout", func() {
		var (
			r      *remote
			c1, c2 string
		)

		ginkgo.BeforeEach(func() {
			r = h.newRemote("acme/monorepo")
			c1 = r.commit("first",
				put("README.md", "# monorepo\n"),
				put("services/api/main.go", "package main\n"),
				put("docs/old.md", "to be deleted\n"),
			)
			c2 = r.commit("second",
				put("README.md", "# monorepo, edited\n"),
				put("services/web/index.html", "<h1>web</h1>\n"),
				del("docs/old.md"),
			)
		})

		ginkgo.It("gives exactly the files of the commit asked for, and none of a later commit", func() {
			ws := h.checkout(r, c1, "job-1")
			Expect(ws.Commit).To(Equal(c1))
			Expect(ws.CommitTime).To(Equal(r.time(c1)), "the workspace tells the commit's committer time, in UTC")
			Expect(ws.Message).To(Equal("first"), "the workspace tells the commit's message")
			Expect(ws.Author).To(MatchRegexp(`^.+ <.*>$`), "the workspace tells the commit's author as Name <email>")
			Expect(ws.Dir).NotTo(BeEmpty())
			Expect(checkedOut(ws.Dir)).To(Equal(r.files(c1)))

			ws2 := h.checkout(r, c2, "job-2")
			Expect(ws2.Commit).To(Equal(c2))
			Expect(ws2.Dir).NotTo(Equal(ws.Dir), "two workspaces share a directory")
			Expect(checkedOut(ws2.Dir)).To(Equal(r.files(c2)))
			Expect(checkedOut(ws.Dir)).To(Equal(r.files(c1)), "the second checkout changed the first workspace")
		})

		ginkgo.It("misses the cache on the first checkout of a repository and hits it on the second", func() {
			first := h.checkout(r, c2, "job-1")
			Expect(first.CacheHit).To(BeFalse(), "the first checkout of a repository cannot be a cache hit")

			second := h.checkout(r, c2, "job-2")
			Expect(second.CacheHit).To(BeTrue(), "the commit was fetched by the first checkout")
			Expect(checkedOut(second.Dir)).To(Equal(r.files(c2)))
		})

		ginkgo.It("keeps what it fetched after the workspaces are removed", func() {
			first := h.checkout(r, c2, "job-1")
			Expect(first.Remove(h.ctx)).To(Succeed())

			again := h.checkout(r, c2, "job-2")
			Expect(again.CacheHit).To(BeTrue())
			Expect(checkedOut(again.Dir)).To(Equal(r.files(c2)))
		})

		ginkgo.It("fetches a commit pushed to the remote after the first checkout", func() {
			h.checkout(r, c2, "job-1")
			c3 := r.commit("third", put("services/api/main.go", "package main\n\nfunc main() {}\n"))

			ws := h.checkout(r, c3, "job-2")
			Expect(ws.CacheHit).To(BeFalse(), "%s was pushed after the first checkout", c3)
			Expect(ws.Commit).To(Equal(c3))
			Expect(checkedOut(ws.Dir)).To(Equal(r.files(c3)))
		})

		ginkgo.It("checks out a commit that is no branch's tip", func() {
			r.commit("third", put("later.txt", "later\n"))
			ws := h.checkout(r, c1, "job-1")
			Expect(checkedOut(ws.Dir)).To(Equal(r.files(c1)))
		})

		ginkgo.It("makes a real git checkout: regular files with their modes, HEAD at the commit, nothing modified", func() {
			c3 := r.commit("scripts",
				exe("scripts/build.sh", "#!/bin/sh\necho build\n"),
				put("scripts/README", "how to build\n"),
			)
			ws := h.checkout(r, c3, "job-1")
			tree := checkedOut(ws.Dir)
			Expect(tree).To(Equal(r.files(c3)))
			Expect(tree["scripts/build.sh"].executable).To(BeTrue(), "the executable bit was lost")
			Expect(tree["scripts/README"].executable).To(BeFalse())
			Expect(h.workspaceHead(ws.Dir)).To(Equal(c3))
			Expect(strings.TrimSpace(gitIn(h.tmp, ws.Dir, "status", "--porcelain"))).To(BeEmpty(),
				"git status of a fresh workspace shows changes")
		})

		ginkgo.It("keeps a workspace intact when another workspace of the repository is removed", func() {
			ws1 := h.checkout(r, c1, "job-1")
			ws2 := h.checkout(r, c2, "job-2")
			ws3 := h.checkout(r, c2, "job-3")

			Expect(ws1.Remove(h.ctx)).To(Succeed())
			Expect(ws3.Remove(h.ctx)).To(Succeed())

			Expect(checkedOut(ws2.Dir)).To(Equal(r.files(c2)))
			Expect(h.workspaceHead(ws2.Dir)).To(Equal(c2))
			Expect(strings.TrimSpace(gitIn(h.tmp, ws2.Dir, "status", "--porcelain"))).To(BeEmpty())
		})

		ginkgo.It("keeps the repositories of two remotes apart", func() {
			other := h.newRemote("acme/platform")
			o1 := other.commit("platform", put("README.md", "# platform\n"), put("infra/main.tf", "# tf\n"))

			ws := h.checkout(r, c1, "job-1")
			wo := h.checkout(other, o1, "job-2")
			Expect(checkedOut(ws.Dir)).To(Equal(r.files(c1)))
			Expect(checkedOut(wo.Dir)).To(Equal(other.files(o1)))
			Expect(wo.CacheHit).To(BeFalse())
		})
	})
}

func describeRemove(h *harness) {
	ginkgo.Describe("Remove", func() {
		ginkgo.It("deletes the workspace, and does nothing when called again", func() {
			r := h.newRemote("acme/monorepo")
			c1 := r.commit("first", put("a.txt", "a\n"), put("dir/b.txt", "b\n"))
			ws := h.checkout(r, c1, "job-1")
			Expect(ws.Dir).To(BeADirectory())

			Expect(ws.Remove(h.ctx)).To(Succeed())
			_, err := os.Stat(ws.Dir)
			Expect(os.IsNotExist(err)).To(BeTrue(), "%s still exists after Remove (stat: %v)", ws.Dir, err)

			Expect(ws.Remove(h.ctx)).To(Succeed(), "a second Remove must do nothing")
			_, err = os.Stat(ws.Dir)
			Expect(os.IsNotExist(err)).To(BeTrue())
		})

		ginkgo.It("deletes files the job added to the workspace", func() {
			r := h.newRemote("acme/monorepo")
			c1 := r.commit("first", put("a.txt", "a\n"))
			ws := h.checkout(r, c1, "job-1")
			Expect(os.MkdirAll(filepath.Join(ws.Dir, "build", "out"), 0o755)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(ws.Dir, "build", "out", "app"), []byte("binary"), 0o644)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(ws.Dir, "a.txt"), []byte("edited by the job\n"), 0o644)).To(Succeed())

			Expect(ws.Remove(h.ctx)).To(Succeed())
			_, err := os.Stat(ws.Dir)
			Expect(os.IsNotExist(err)).To(BeTrue(), "%s still exists after Remove (stat: %v)", ws.Dir, err)

			again := h.checkout(r, c1, "job-2")
			Expect(checkedOut(again.Dir)).To(Equal(r.files(c1)), "a job's edits leaked into a later workspace")
		})
	})
}
