package storetest

import (
	"errors"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
)

func describeTransactions(h *harness) {
	ginkgo.Describe("InTx", func() {
		ginkgo.It("commits what fn did when it returns nil, and fn sees its own writes", func() {
			var runID string
			err := h.store.InTx(h.ctx, func(tx ports.Tx) error {
				if _, _, err := tx.CreateRepository(h.ctx, newRepository(repoName)); err != nil {
					return err
				}
				r, created, err := tx.CreateRun(h.ctx, newRun(repoName, "main", commitSHA("tx"), at(0)))
				if err != nil {
					return err
				}
				Expect(created).To(BeTrue())
				runID = r.ID
				if _, err := tx.AddPhases(h.ctx, r.ID, newPlan()); err != nil {
					return err
				}
				inside, err := tx.GetRun(h.ctx, r.ID)
				if err != nil {
					return err
				}
				Expect(shape(inside.Phases)).To(Equal(planShape))
				return nil
			})
			Expect(err).NotTo(HaveOccurred())

			got, err := h.store.GetRun(h.ctx, runID)
			Expect(err).NotTo(HaveOccurred())
			Expect(shape(got.Phases)).To(Equal(planShape))
			_, err = h.store.GetRepository(h.ctx, repoName)
			Expect(err).NotTo(HaveOccurred())
		})

		ginkgo.It("rolls back everything when fn fails, and returns fn's error", func() {
			boom := errors.New("fn failed")
			var runID, releaseID string
			err := h.store.InTx(h.ctx, func(tx ports.Tx) error {
				if _, _, err := tx.CreateRepository(h.ctx, newRepository(repoName)); err != nil {
					return err
				}
				r, _, err := tx.CreateRun(h.ctx, newRun(repoName, "main", commitSHA("tx"), at(0)))
				if err != nil {
					return err
				}
				runID = r.ID
				if _, err := tx.AddPhases(h.ctx, r.ID, newPlan()); err != nil {
					return err
				}
				rel, _, err := tx.CreateRelease(h.ctx, newRelease(repoName, webProject, commitSHA("tx")))
				if err != nil {
					return err
				}
				releaseID = rel.ID
				return boom
			})
			Expect(err).To(MatchError(boom))
			Expect(runID).NotTo(BeEmpty())

			_, err = h.store.GetRun(h.ctx, runID)
			Expect(err).To(haveKind(fault.NotFound))
			_, err = h.store.GetRepository(h.ctx, repoName)
			Expect(err).To(haveKind(fault.NotFound))
			_, err = h.store.GetRelease(h.ctx, releaseID)
			Expect(err).To(haveKind(fault.NotFound))
			_, total, err := h.store.ListRuns(h.ctx, ports.RunFilter{}, page(0, 0))
			Expect(err).NotTo(HaveOccurred())
			Expect(total).To(Equal(0))
		})

		ginkgo.It("rolls back updates when fn fails", func() {
			r := h.mustRun(repoName, "main", commitSHA("tx"), at(0))
			boom := errors.New("fn failed")
			err := h.store.InTx(h.ctx, func(tx ports.Tx) error {
				if _, err := tx.UpdateRun(h.ctx, r.ID, func(r *pipeline.Run) error {
					r.Status = pipeline.StatusRunning
					r.Reason = "inside"
					return nil
				}); err != nil {
					return err
				}
				return boom
			})
			Expect(err).To(MatchError(boom))
			got, err := h.store.GetRun(h.ctx, r.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Status).To(Equal(pipeline.StatusPending))
			Expect(got.Reason).To(BeEmpty())
		})

		ginkgo.It("returns a store error from inside fn unchanged in kind", func() {
			h.mustRun(repoName, "main", commitSHA("tx"), at(0))
			err := h.store.InTx(h.ctx, func(tx ports.Tx) error {
				_, err := tx.GetRepository(h.ctx, "acme/unknown")
				return err
			})
			Expect(err).To(haveKind(fault.NotFound))
		})

		ginkgo.It("consumes no release number in a rolled-back transaction", func() {
			h.mustRepository(repoName)
			err := h.store.InTx(h.ctx, func(tx ports.Tx) error {
				rel, _, err := tx.CreateRelease(h.ctx, newRelease(repoName, webProject, commitSHA("rolled back")))
				if err != nil {
					return err
				}
				Expect(rel.Number).To(Equal(1))
				return errors.New("fn failed")
			})
			Expect(err).To(HaveOccurred())

			got := h.mustRelease(repoName, webProject, commitSHA("kept"))
			Expect(got.Number).To(Equal(1))
			_, err = release.Resolve(h.ctx, h.store.FindRelease(repoName, webProject), commitSHA("rolled back"))
			Expect(err).To(haveKind(fault.NotFound))
		})
	})
}
