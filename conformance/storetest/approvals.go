package storetest

import (
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/release"
)

func describeApprovals(h *harness) {
	ginkgo.Describe("approvals", func() {
		var rel, other *release.Release
		ginkgo.BeforeEach(func() {
			rel = h.mustRelease(repoName, webProject, commitSHA("web 1"))
			other = h.mustRelease(repoName, webProject, commitSHA("web 2"))
		})

		revoke := func(id string) error {
			_, err := h.store.UpdateApproval(h.ctx, id, func(a *release.Approval) error {
				a.Status = release.ApprovalRevoked
				return nil
			})
			return err
		}

		ginkgo.It("saves an approval, filling its ID with a UUID", func() {
			in := newApproval(rel.ID, production, at(time.Hour), ptr(at(25*time.Hour)))
			created, err := h.store.CreateApproval(h.ctx, in)
			Expect(err).NotTo(HaveOccurred())
			Expect(uuid.Parse(created.ID)).Error().NotTo(HaveOccurred(), "ID %q is not a UUID", created.ID)

			got, err := h.store.GetApproval(h.ctx, created.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.ID).To(Equal(created.ID))
			Expect(got.ReleaseID).To(Equal(rel.ID))
			Expect(got.Environment).To(Equal(production))
			Expect(got.Approver).To(Equal("carol@acme.example"))
			Expect(got.ApprovedAt).To(beAround(at(time.Hour)))
			Expect(got.ExpiresAt).To(pointAround(at(25 * time.Hour)))
			Expect(got.Justification).To(Equal("change ticket CHG-1234"))
			Expect(got.Status).To(Equal(release.ApprovalActive))

			*in.ExpiresAt = at(99 * time.Hour)
			*got.ExpiresAt = at(99 * time.Hour)
			again, err := h.store.GetApproval(h.ctx, created.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(again.ExpiresAt).To(pointAround(at(25*time.Hour)), "the store keeps its own copy")
		})

		ginkgo.It("keeps an approval without expiry", func() {
			created := h.mustApproval(newApproval(rel.ID, production, at(time.Hour), nil))
			got, err := h.store.GetApproval(h.ctx, created.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.ExpiresAt).To(BeNil())
		})

		ginkgo.It("refuses an approval with an unknown status (Validation)", func() {
			in := newApproval(rel.ID, production, at(time.Hour), nil)
			in.Status = "bogus"
			_, err := h.store.CreateApproval(h.ctx, in)
			Expect(err).To(haveKind(fault.Validation))
		})

		ginkgo.It("returns NotFound for an unknown approval", func() {
			_, err := h.store.GetApproval(h.ctx, uuid.NewString())
			Expect(err).To(haveKind(fault.NotFound))
			_, err = h.store.UpdateApproval(h.ctx, uuid.NewString(), func(a *release.Approval) error { return nil })
			Expect(err).To(haveKind(fault.NotFound))
		})

		ginkgo.Describe("LatestApproval", func() {
			ginkgo.It("returns the newest approval by approval time, whatever its status", func() {
				// Created newest first, so that insertion order and
				// approval time disagree.
				newest := h.mustApproval(newApproval(rel.ID, production, at(3*time.Hour), ptr(at(27*time.Hour))))
				h.mustApproval(newApproval(rel.ID, production, at(1*time.Hour), ptr(at(25*time.Hour))))
				h.mustApproval(newApproval(rel.ID, production, at(2*time.Hour), ptr(at(26*time.Hour))))
				h.mustApproval(newApproval(rel.ID, staging, at(4*time.Hour), nil))
				h.mustApproval(newApproval(other.ID, production, at(5*time.Hour), nil))
				Expect(revoke(newest.ID)).To(Succeed())

				got, err := h.store.LatestApproval(h.ctx, rel.ID, production)
				Expect(err).NotTo(HaveOccurred())
				Expect(got.ID).To(Equal(newest.ID))
				Expect(got.Status).To(Equal(release.ApprovalRevoked))
			})

			ginkgo.It("returns NotFound when the release has no approval for the environment", func() {
				h.mustApproval(newApproval(rel.ID, staging, at(time.Hour), nil))
				_, err := h.store.LatestApproval(h.ctx, rel.ID, production)
				Expect(err).To(haveKind(fault.NotFound))
				_, err = h.store.LatestApproval(h.ctx, other.ID, staging)
				Expect(err).To(haveKind(fault.NotFound))
			})
		})

		ginkgo.Describe("ActiveApproval", func() {
			ginkgo.It("returns an active approval until its expiry, then NotFound", func() {
				a := h.mustApproval(newApproval(rel.ID, production, at(time.Hour), ptr(at(25*time.Hour))))

				for _, now := range []time.Time{at(time.Hour), at(2 * time.Hour), at(25*time.Hour - time.Millisecond)} {
					got, err := h.store.ActiveApproval(h.ctx, rel.ID, production, now)
					Expect(err).NotTo(HaveOccurred(), "at %s", now)
					Expect(got.ID).To(Equal(a.ID))
				}
				for _, now := range []time.Time{at(25 * time.Hour), at(26 * time.Hour)} {
					_, err := h.store.ActiveApproval(h.ctx, rel.ID, production, now)
					Expect(err).To(haveKind(fault.NotFound), "at %s", now)
				}
				Expect(h.approvalStatus(a.ID)).To(Equal(release.ApprovalActive), "reading does not expire")
			})

			ginkgo.It("returns an active approval without expiry at any time", func() {
				a := h.mustApproval(newApproval(rel.ID, production, at(time.Hour), nil))
				got, err := h.store.ActiveApproval(h.ctx, rel.ID, production, at(10000*time.Hour))
				Expect(err).NotTo(HaveOccurred())
				Expect(got.ID).To(Equal(a.ID))
			})

			ginkgo.It("returns NotFound for a revoked approval", func() {
				a := h.mustApproval(newApproval(rel.ID, production, at(time.Hour), ptr(at(25*time.Hour))))
				Expect(revoke(a.ID)).To(Succeed())
				_, err := h.store.ActiveApproval(h.ctx, rel.ID, production, at(2*time.Hour))
				Expect(err).To(haveKind(fault.NotFound))
			})

			ginkgo.It("returns the approval of the right release and environment only", func() {
				h.mustApproval(newApproval(rel.ID, staging, at(time.Hour), nil))
				h.mustApproval(newApproval(other.ID, production, at(time.Hour), nil))
				_, err := h.store.ActiveApproval(h.ctx, rel.ID, production, at(2*time.Hour))
				Expect(err).To(haveKind(fault.NotFound))

				a := h.mustApproval(newApproval(rel.ID, production, at(time.Hour), nil))
				got, err := h.store.ActiveApproval(h.ctx, rel.ID, production, at(2*time.Hour))
				Expect(err).NotTo(HaveOccurred())
				Expect(got.ID).To(Equal(a.ID))
			})

			ginkgo.It("skips an expired approval for a newer active one", func() {
				h.mustApproval(newApproval(rel.ID, production, at(time.Hour), ptr(at(2*time.Hour))))
				fresh := h.mustApproval(newApproval(rel.ID, production, at(3*time.Hour), ptr(at(27*time.Hour))))
				got, err := h.store.ActiveApproval(h.ctx, rel.ID, production, at(4*time.Hour))
				Expect(err).NotTo(HaveOccurred())
				Expect(got.ID).To(Equal(fresh.ID))
			})
		})

		ginkgo.Describe("UpdateApproval", func() {
			ginkgo.It("revokes an active approval", func() {
				a := h.mustApproval(newApproval(rel.ID, production, at(time.Hour), ptr(at(25*time.Hour))))
				got, err := h.store.UpdateApproval(h.ctx, a.ID, func(a *release.Approval) error {
					Expect(a.Status).To(Equal(release.ApprovalActive))
					a.Status = release.ApprovalRevoked
					return nil
				})
				Expect(err).NotTo(HaveOccurred())
				Expect(got.Status).To(Equal(release.ApprovalRevoked))
				Expect(h.approvalStatus(a.ID)).To(Equal(release.ApprovalRevoked))
				Expect(revoke(a.ID)).To(Succeed(), "revoking again changes nothing")
			})

			ginkgo.It("never reactivates a revoked approval (Conflict)", func() {
				a := h.mustApproval(newApproval(rel.ID, production, at(time.Hour), ptr(at(25*time.Hour))))
				Expect(revoke(a.ID)).To(Succeed())
				_, err := h.store.UpdateApproval(h.ctx, a.ID, func(a *release.Approval) error {
					a.Status = release.ApprovalActive
					return nil
				})
				Expect(err).To(haveKind(fault.Conflict))
				Expect(h.approvalStatus(a.ID)).To(Equal(release.ApprovalRevoked))
			})

			ginkgo.It("returns the closure's error and saves nothing", func() {
				a := h.mustApproval(newApproval(rel.ID, production, at(time.Hour), ptr(at(25*time.Hour))))
				boom := errors.New("closure failed")
				_, err := h.store.UpdateApproval(h.ctx, a.ID, func(a *release.Approval) error {
					a.Status = release.ApprovalRevoked
					return boom
				})
				Expect(err).To(MatchError(boom))
				Expect(h.approvalStatus(a.ID)).To(Equal(release.ApprovalActive))
			})
		})

		ginkgo.Describe("ExpireApprovals", func() {
			ginkgo.It("marks only the active approvals expired at or before now, and counts them", func() {
				now := at(10 * time.Hour)
				past := h.mustApproval(newApproval(rel.ID, production, at(time.Hour), ptr(at(5*time.Hour))))
				exactly := h.mustApproval(newApproval(rel.ID, staging, at(time.Hour), ptr(now)))
				future := h.mustApproval(newApproval(other.ID, production, at(time.Hour), ptr(at(11*time.Hour))))
				forever := h.mustApproval(newApproval(other.ID, staging, at(time.Hour), nil))
				revoked := h.mustApproval(newApproval(rel.ID, "dev", at(time.Hour), ptr(at(2*time.Hour))))
				Expect(revoke(revoked.ID)).To(Succeed())

				n, err := h.store.ExpireApprovals(h.ctx, now)
				Expect(err).NotTo(HaveOccurred())
				Expect(n).To(Equal(2))

				Expect(h.approvalStatus(past.ID)).To(Equal(release.ApprovalExpired))
				Expect(h.approvalStatus(exactly.ID)).To(Equal(release.ApprovalExpired))
				Expect(h.approvalStatus(future.ID)).To(Equal(release.ApprovalActive))
				Expect(h.approvalStatus(forever.ID)).To(Equal(release.ApprovalActive))
				Expect(h.approvalStatus(revoked.ID)).To(Equal(release.ApprovalRevoked))

				n, err = h.store.ExpireApprovals(h.ctx, now)
				Expect(err).NotTo(HaveOccurred())
				Expect(n).To(Equal(0), "a second pass changes nothing")

				_, err = h.store.UpdateApproval(h.ctx, past.ID, func(a *release.Approval) error {
					a.Status = release.ApprovalActive
					return nil
				})
				Expect(err).To(haveKind(fault.Conflict), "an expired approval never becomes active again")
			})
		})
	})
}
