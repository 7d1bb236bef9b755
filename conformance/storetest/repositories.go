package storetest

import (
	"fmt"

	"github.com/google/uuid"
	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/repository"
)

func describeRepositories(h *harness) {
	ginkgo.Describe("repositories", func() {
		ginkgo.It("registers a repository, filling its ID with a UUID", func() {
			got, created, err := h.store.CreateRepository(h.ctx, newRepository(repoName))
			Expect(err).NotTo(HaveOccurred())
			Expect(created).To(BeTrue())
			Expect(uuid.Parse(got.ID)).Error().NotTo(HaveOccurred(), "ID %q is not a UUID", got.ID)
			Expect(got.Name).To(Equal(repoName))
		})

		ginkgo.It("is idempotent on the name: the existing registration comes back, unchanged", func() {
			first, _, err := h.store.CreateRepository(h.ctx, newRepository(repoName))
			Expect(err).NotTo(HaveOccurred())

			again := newRepository(repoName)
			again.CreatedBy = "mallory@acme.example"
			again.Limits = repository.Limits{MaxConcurrentRuns: 1, RunsPerMinute: 1}
			got, created, err := h.store.CreateRepository(h.ctx, again)
			Expect(err).NotTo(HaveOccurred())
			Expect(created).To(BeFalse())
			Expect(got.ID).To(Equal(first.ID))
			Expect(got.CreatedBy).To(Equal("alice@acme.example"))

			stored, err := h.store.GetRepository(h.ctx, repoName)
			Expect(err).NotTo(HaveOccurred())
			Expect(stored.ID).To(Equal(first.ID))
			Expect(stored.Limits).To(Equal(repository.Limits{MaxConcurrentRuns: 50, RunsPerMinute: 10}))
			_, total, err := h.store.ListRepositories(h.ctx, page(0, 0))
			Expect(err).NotTo(HaveOccurred())
			Expect(total).To(Equal(1))
		})

		ginkgo.It("gets a registration by name with every field", func() {
			created := h.mustRepository(repoName)
			h.mustRepository(otherRepoName)

			got, err := h.store.GetRepository(h.ctx, repoName)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.ID).To(Equal(created.ID))
			Expect(got.Name).To(Equal(repoName))
			Expect(got.Limits).To(Equal(repository.Limits{MaxConcurrentRuns: 50, RunsPerMinute: 10}))
			Expect(got.CreatedBy).To(Equal("alice@acme.example"))
			Expect(got.CreatedAt).To(beAround(at(0)))
		})

		ginkgo.It("returns NotFound for a name that is not registered", func() {
			h.mustRepository(repoName)
			_, err := h.store.GetRepository(h.ctx, "acme/unknown")
			Expect(err).To(haveKind(fault.NotFound))
		})

		ginkgo.It("lists registrations by name with the total", func() {
			for _, n := range []string{"zeta/app", "acme/monorepo", "beta/tools", "acme/api"} {
				h.mustRepository(n)
			}
			got, total, err := h.store.ListRepositories(h.ctx, page(0, 0))
			Expect(err).NotTo(HaveOccurred())
			Expect(total).To(Equal(4))
			Expect(repositoryNames(got)).To(Equal([]string{"acme/api", "acme/monorepo", "beta/tools", "zeta/app"}))
		})

		ginkgo.It("pages through the list, the total counting every registration", func() {
			for _, n := range []string{"zeta/app", "acme/monorepo", "beta/tools", "acme/api"} {
				h.mustRepository(n)
			}
			got, total, err := h.store.ListRepositories(h.ctx, page(2, 1))
			Expect(err).NotTo(HaveOccurred())
			Expect(total).To(Equal(4))
			Expect(repositoryNames(got)).To(Equal([]string{"acme/monorepo", "beta/tools"}))

			got, total, err = h.store.ListRepositories(h.ctx, page(10, 4))
			Expect(err).NotTo(HaveOccurred())
			Expect(total).To(Equal(4))
			Expect(got).To(BeEmpty())
		})

		ginkgo.It("applies the default (20) and maximum (100) page limits", func() {
			for i := range 105 {
				h.mustRepository(fmt.Sprintf("acme/repo-%03d", i))
			}
			got, total, err := h.store.ListRepositories(h.ctx, page(0, 0))
			Expect(err).NotTo(HaveOccurred())
			Expect(total).To(Equal(105))
			Expect(got).To(HaveLen(20))
			Expect(got[0].Name).To(Equal("acme/repo-000"))

			got, _, err = h.store.ListRepositories(h.ctx, page(1000, 0))
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(HaveLen(100))
			Expect(got[99].Name).To(Equal("acme/repo-099"))

			got, _, err = h.store.ListRepositories(h.ctx, page(1000, 100))
			Expect(err).NotTo(HaveOccurred())
			Expect(repositoryNames(got)).To(Equal([]string{"acme/repo-100", "acme/repo-101", "acme/repo-102", "acme/repo-103", "acme/repo-104"}))
		})
	})
}

func repositoryNames(rs []repository.Repository) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}
