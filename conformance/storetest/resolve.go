package storetest

import (
	"errors"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/release"
)

// Two commits sharing their first ten characters, for ambiguous prefixes.
const (
	twinA = "abcdef0123" + "4567890abcdef0123456789abcdef0"
	twinB = "abcdef0123" + "fedcba9876543210fedcba98765432"
)

func describeResolution(h *harness) {
	ginkgo.Describe("release.Resolve through FindRelease", func() {
		var r1, r2, r3 *release.Release
		ginkgo.BeforeEach(func() {
			r1 = h.mustRelease(repoName, webProject, commitSHA("web 1"))
			r2 = h.mustRelease(repoName, webProject, commitSHA("web 2"), release.Alias{Alias: "v1.2.3", Type: release.AliasTag})
			r3 = h.mustRelease(repoName, webProject, commitSHA("web 3"))
		})

		resolve := func(id string) (*release.Release, error) {
			return release.Resolve(h.ctx, h.store.FindRelease(repoName, webProject), id)
		}
		resolvesTo := func(id string, want *release.Release) {
			ginkgo.GinkgoHelper()
			got, err := resolve(id)
			Expect(err).NotTo(HaveOccurred(), "resolving %q", id)
			Expect(got.ID).To(Equal(want.ID), "resolving %q", id)
			Expect(got.Number).To(Equal(want.Number), "resolving %q", id)
		}

		ginkgo.It("resolves an exact alias", func() {
			resolvesTo("v1.2.3", r2)
		})

		ginkgo.It("resolves an exact alias before a commit prefix", func() {
			// An alias that is also a prefix of release 2's commit names
			// release 3: the alias wins.
			prefix := r2.CommitSHA[:8]
			Expect(h.store.AddAlias(h.ctx, r3.ID, release.Alias{Alias: prefix, Type: release.AliasCustom})).To(Succeed())
			resolvesTo(prefix, r3)
			resolvesTo(r2.CommitSHA[:9], r2)
		})

		ginkgo.It("refuses a caller's alias made only of digits, which would shadow a release number", func() {
			err := h.store.AddAlias(h.ctx, r3.ID, release.Alias{Alias: "7", Type: release.AliasCustom})
			Expect(err).To(haveKind(fault.Validation))
			resolvesTo("3", r3)
		})

		ginkgo.It("resolves a release number", func() {
			resolvesTo("1", r1)
			resolvesTo("2", r2)
			resolvesTo("3", r3)
		})

		ginkgo.It("resolves a commit prefix of 7 characters or more, and the full commit", func() {
			sha := r2.CommitSHA
			resolvesTo(sha[:7], r2)
			resolvesTo(sha[:12], r2)
			resolvesTo(sha, r2)
		})

		ginkgo.It("does not resolve a commit prefix shorter than 7 characters", func() {
			_, err := resolve(r2.CommitSHA[:6])
			Expect(err).To(haveKind(fault.NotFound))
		})

		ginkgo.It("reports an ambiguous prefix as a Conflict that lists the candidates", func() {
			a := h.mustRelease(repoName, webProject, twinA)
			b := h.mustRelease(repoName, webProject, twinB)

			_, err := resolve(twinA[:7])
			Expect(err).To(haveKind(fault.Conflict))
			var fe *fault.Error
			Expect(errors.As(err, &fe)).To(BeTrue())
			Expect(fe.Details).To(HaveKey("candidates"))
			Expect(fe.Details["candidates"]).To(ConsistOf(twinA, twinB))

			_, err = resolve(twinA[:10])
			Expect(err).To(haveKind(fault.Conflict))

			resolvesTo(twinA[:11], a)
			resolvesTo(twinB[:11], b)
		})

		ginkgo.It("returns NotFound for an identifier that matches nothing", func() {
			for _, id := range []string{"v9.9.9", "99", "0000000", "0123456789abcdef", ""} {
				_, err := resolve(id)
				Expect(err).To(haveKind(fault.NotFound), "resolving %q", id)
			}
		})

		ginkgo.It("never finds a release of another project or repository", func() {
			api := h.mustRelease(repoName, apiProject, commitSHA("api only"), release.Alias{Alias: "api-only", Type: release.AliasCustom})
			other := h.mustRelease(otherRepoName, webProject, commitSHA("other only"), release.Alias{Alias: "other-only", Type: release.AliasCustom})
			for _, id := range []string{"api-only", api.CommitSHA, api.CommitSHA[:10], "other-only", other.CommitSHA, other.CommitSHA[:10]} {
				_, err := resolve(id)
				Expect(err).To(haveKind(fault.NotFound), "resolving %q in %s/%s", id, repoName, webProject)
			}

			worker := h.store.FindRelease(repoName, "worker")
			for _, id := range []string{"1", "v1.2.3", r1.CommitSHA} {
				_, err := release.Resolve(h.ctx, worker, id)
				Expect(err).To(haveKind(fault.NotFound), "resolving %q in a project without releases", id)
			}
		})

		ginkgo.It("has finder methods that return NotFound when nothing matches", func() {
			f := h.store.FindRelease(repoName, webProject)
			_, err := f.ByAlias(h.ctx, "nothing")
			Expect(err).To(haveKind(fault.NotFound))
			_, err = f.ByNumber(h.ctx, 4)
			Expect(err).To(haveKind(fault.NotFound))
			_, err = f.BySHAPrefix(h.ctx, "0000000")
			Expect(err).To(haveKind(fault.NotFound))

			got, err := f.ByNumber(h.ctx, 2)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.ID).To(Equal(r2.ID))
			found, err := f.BySHAPrefix(h.ctx, r3.CommitSHA[:8])
			Expect(err).NotTo(HaveOccurred())
			Expect(found).To(HaveLen(1))
			Expect(found[0].ID).To(Equal(r3.ID))
		})
	})
}
