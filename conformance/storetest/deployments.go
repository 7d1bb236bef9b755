package storetest

import (
	"errors"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/release"
)

func describeDeployments(h *harness) {
	ginkgo.Describe("deployments", func() {
		// Releases 1 and 2 of web, release 1 of api.
		var web1, web2, api1 *release.Release
		ginkgo.BeforeEach(func() {
			web1 = h.mustRelease(repoName, webProject, commitSHA("web 1"))
			web2 = h.mustRelease(repoName, webProject, commitSHA("web 2"))
			api1 = h.mustRelease(repoName, apiProject, commitSHA("api 1"))
		})

		current := func(env, project string) (*release.Deployment, error) {
			return h.store.CurrentDeployment(h.ctx, env, repoName, project)
		}
		currentID := func(env, project string) string {
			ginkgo.GinkgoHelper()
			d, err := current(env, project)
			Expect(err).NotTo(HaveOccurred())
			return d.ID
		}

		ginkgo.It("saves a deployment, filling its ID with a UUID", func() {
			in := newDeployment(web1, production, release.DeploymentActive, at(time.Hour))
			created, err := h.store.CreateDeployment(h.ctx, in)
			Expect(err).NotTo(HaveOccurred())
			Expect(uuid.Parse(created.ID)).Error().NotTo(HaveOccurred(), "ID %q is not a UUID", created.ID)

			got, err := h.store.GetDeployment(h.ctx, created.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.ID).To(Equal(created.ID))
			Expect(got.ReleaseID).To(Equal(web1.ID))
			Expect(got.Repository).To(Equal(repoName))
			Expect(got.Project).To(Equal(webProject))
			Expect(got.ReleaseNumber).To(Equal(1))
			Expect(got.Environment).To(Equal(production))
			Expect(got.Status).To(Equal(release.DeploymentActive))
			Expect(got.DeployedAt).To(beAround(at(time.Hour)))
			Expect(got.DeployedBy).To(Equal("bob@acme.example"))
			Expect(got.GitOpsCommitSHA).To(Equal(in.GitOpsCommitSHA))
			Expect(got.ApprovalID).To(BeNil())
			Expect(currentID(production, webProject)).To(Equal(created.ID))
		})

		ginkgo.It("refuses a deployment with an unknown status (Validation)", func() {
			_, err := h.store.CreateDeployment(h.ctx, newDeployment(web1, production, "bogus", at(time.Hour)))
			Expect(err).To(haveKind(fault.Validation))
		})

		ginkgo.It("supersedes the active deployment when another becomes active in the same place", func() {
			first := h.mustDeployment(newDeployment(web1, production, release.DeploymentActive, at(time.Hour)))
			second := h.mustDeployment(newDeployment(web2, production, release.DeploymentActive, at(2*time.Hour)))
			Expect(second.Status).To(Equal(release.DeploymentActive))

			Expect(h.deploymentStatus(first.ID)).To(Equal(release.DeploymentSuperseded))
			Expect(h.deploymentStatus(second.ID)).To(Equal(release.DeploymentActive))
			got, err := current(production, webProject)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.ID).To(Equal(second.ID))
			Expect(got.ReleaseID).To(Equal(web2.ID))
			Expect(got.ReleaseNumber).To(Equal(2))
		})

		ginkgo.It("leaves other environments, other projects and pending deployments alone", func() {
			webStaging := h.mustDeployment(newDeployment(web1, staging, release.DeploymentActive, at(time.Hour)))
			webProd := h.mustDeployment(newDeployment(web1, production, release.DeploymentActive, at(2*time.Hour)))
			apiProd := h.mustDeployment(newDeployment(api1, production, release.DeploymentActive, at(3*time.Hour)))
			otherRepo := h.mustRelease(otherRepoName, webProject, commitSHA("other web 1"))
			otherProd := h.mustDeployment(newDeployment(otherRepo, production, release.DeploymentActive, at(4*time.Hour)))
			inFlight := h.mustDeployment(newDeployment(web1, production, release.DeploymentPending, at(4*time.Hour+time.Minute)))

			newer := h.mustDeployment(newDeployment(web2, production, release.DeploymentActive, at(5*time.Hour)))

			Expect(h.deploymentStatus(webProd.ID)).To(Equal(release.DeploymentSuperseded))
			Expect(h.deploymentStatus(webStaging.ID)).To(Equal(release.DeploymentActive))
			Expect(h.deploymentStatus(apiProd.ID)).To(Equal(release.DeploymentActive))
			Expect(h.deploymentStatus(otherProd.ID)).To(Equal(release.DeploymentActive))
			Expect(h.deploymentStatus(inFlight.ID)).To(Equal(release.DeploymentPending), "only the active deployment is superseded")
			Expect(currentID(production, webProject)).To(Equal(newer.ID))
			Expect(currentID(staging, webProject)).To(Equal(webStaging.ID))
			Expect(currentID(production, apiProject)).To(Equal(apiProd.ID))
			d, err := h.store.CurrentDeployment(h.ctx, production, otherRepoName, webProject)
			Expect(err).NotTo(HaveOccurred())
			Expect(d.ID).To(Equal(otherProd.ID))
		})

		ginkgo.It("does not supersede anything with a pending deployment", func() {
			active := h.mustDeployment(newDeployment(web1, production, release.DeploymentActive, at(time.Hour)))
			pending := h.mustDeployment(newDeployment(web2, production, release.DeploymentPending, at(2*time.Hour)))
			Expect(pending.Status).To(Equal(release.DeploymentPending))

			Expect(h.deploymentStatus(active.ID)).To(Equal(release.DeploymentActive))
			Expect(h.deploymentStatus(pending.ID)).To(Equal(release.DeploymentPending))
			Expect(currentID(production, webProject)).To(Equal(active.ID))
		})

		ginkgo.It("supersedes the active deployment when UpdateDeployment makes a pending one active", func() {
			active := h.mustDeployment(newDeployment(web1, production, release.DeploymentActive, at(time.Hour)))
			pending := h.mustDeployment(newDeployment(web2, production, release.DeploymentPending, at(2*time.Hour)))

			got, err := h.store.UpdateDeployment(h.ctx, pending.ID, func(d *release.Deployment) error {
				Expect(d.ID).To(Equal(pending.ID))
				Expect(d.Status).To(Equal(release.DeploymentPending))
				d.Status = release.DeploymentActive
				return nil
			})
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Status).To(Equal(release.DeploymentActive))
			Expect(h.deploymentStatus(active.ID)).To(Equal(release.DeploymentSuperseded))
			Expect(h.deploymentStatus(pending.ID)).To(Equal(release.DeploymentActive))
			Expect(currentID(production, webProject)).To(Equal(pending.ID))
		})

		ginkgo.It("saves the GitOps commit and approval on update", func() {
			approval := h.mustApproval(newApproval(web2.ID, production, at(time.Hour), ptr(at(25*time.Hour))))
			in := newDeployment(web2, production, release.DeploymentPending, at(2*time.Hour))
			in.GitOpsCommitSHA = ""
			pending := h.mustDeployment(in)

			gitops := commitSHA("gitops landed")
			_, err := h.store.UpdateDeployment(h.ctx, pending.ID, func(d *release.Deployment) error {
				d.Status = release.DeploymentActive
				d.GitOpsCommitSHA = gitops
				d.ApprovalID = ptr(approval.ID)
				return nil
			})
			Expect(err).NotTo(HaveOccurred())
			got, err := h.store.GetDeployment(h.ctx, pending.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Status).To(Equal(release.DeploymentActive))
			Expect(got.GitOpsCommitSHA).To(Equal(gitops))
			Expect(got.ApprovalID).To(Equal(ptr(approval.ID)))
		})

		ginkgo.It("fails a pending deployment with its reason, superseding nothing, and never revives it", func() {
			active := h.mustDeployment(newDeployment(web1, production, release.DeploymentActive, at(time.Hour)))
			pending := h.mustDeployment(newDeployment(web2, production, release.DeploymentPending, at(2*time.Hour)))
			_, err := h.store.UpdateDeployment(h.ctx, pending.ID, func(d *release.Deployment) error {
				d.Status, d.Reason = release.DeploymentFailed, "the GitOps remote refused the push: permission denied"
				return nil
			})
			Expect(err).NotTo(HaveOccurred())
			got, err := h.store.GetDeployment(h.ctx, pending.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Status).To(Equal(release.DeploymentFailed))
			Expect(got.Reason).To(Equal("the GitOps remote refused the push: permission denied"))
			Expect(currentID(production, webProject)).To(Equal(active.ID), "a failed deployment supersedes nothing")
			_, err = h.store.UpdateDeployment(h.ctx, pending.ID, func(d *release.Deployment) error {
				d.Status = release.DeploymentActive
				return nil
			})
			Expect(err).To(haveKind(fault.Conflict), "failed → active")
			_, err = h.store.UpdateDeployment(h.ctx, active.ID, func(d *release.Deployment) error {
				d.Status = release.DeploymentFailed
				return nil
			})
			Expect(err).To(haveKind(fault.Conflict), "active → failed")
		})

		ginkgo.It("lists the pending deployments of every place deployed at or before a time, oldest first, up to a limit", func() {
			h.mustDeployment(newDeployment(web1, production, release.DeploymentActive, at(time.Hour)))
			old := h.mustDeployment(newDeployment(web2, production, release.DeploymentPending, at(2*time.Hour)))
			other := h.mustDeployment(newDeployment(api1, staging, release.DeploymentPending, at(3*time.Hour)))
			h.mustDeployment(newDeployment(web1, staging, release.DeploymentPending, at(5*time.Hour)))
			failed := h.mustDeployment(newDeployment(web2, staging, release.DeploymentPending, at(time.Hour)))
			_, err := h.store.UpdateDeployment(h.ctx, failed.ID, func(d *release.Deployment) error {
				d.Status, d.Reason = release.DeploymentFailed, "push refused"
				return nil
			})
			Expect(err).NotTo(HaveOccurred())

			ids := func(ds []release.Deployment) []string {
				out := []string{}
				for _, d := range ds {
					out = append(out, d.ID)
				}
				return out
			}
			got, err := h.store.PendingDeployments(h.ctx, at(3*time.Hour), 0)
			Expect(err).NotTo(HaveOccurred())
			Expect(ids(got)).To(Equal([]string{old.ID, other.ID}), "pending at or before 3h, oldest first; not active, failed or later")
			Expect(got[1].Environment).To(Equal(staging))
			Expect(got[1].Project).To(Equal(apiProject))
			got, err = h.store.PendingDeployments(h.ctx, at(3*time.Hour), 1)
			Expect(err).NotTo(HaveOccurred())
			Expect(ids(got)).To(Equal([]string{old.ID}))
			got, err = h.store.PendingDeployments(h.ctx, at(time.Hour), 10)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(BeEmpty())
		})

		ginkgo.It("keeps the deployment a rollback rolled back from, and refuses an unknown one (NotFound)", func() {
			first := h.mustDeployment(newDeployment(web1, production, release.DeploymentActive, at(time.Hour)))
			rollback := newDeployment(web2, production, release.DeploymentPending, at(2*time.Hour))
			rollback.RollbackOf = ptr(first.ID)
			created := h.mustDeployment(rollback)
			got, err := h.store.GetDeployment(h.ctx, created.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.RollbackOf).To(Equal(ptr(first.ID)))
			plain, err := h.store.GetDeployment(h.ctx, first.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(plain.RollbackOf).To(BeNil())

			bad := newDeployment(web2, staging, release.DeploymentPending, at(3*time.Hour))
			bad.RollbackOf = ptr(uuid.NewString())
			_, err = h.store.CreateDeployment(h.ctx, bad)
			Expect(err).To(haveKind(fault.NotFound))
			pending, err := h.store.PendingDeployments(h.ctx, at(4*time.Hour), 0)
			Expect(err).NotTo(HaveOccurred())
			Expect(pending).To(HaveLen(1), "the refused deployment was not saved")
		})

		ginkgo.It("never reactivates a superseded deployment (Conflict)", func() {
			first := h.mustDeployment(newDeployment(web1, production, release.DeploymentActive, at(time.Hour)))
			second := h.mustDeployment(newDeployment(web2, production, release.DeploymentActive, at(2*time.Hour)))

			_, err := h.store.UpdateDeployment(h.ctx, first.ID, func(d *release.Deployment) error {
				d.Status = release.DeploymentActive
				return nil
			})
			Expect(err).To(haveKind(fault.Conflict))
			Expect(h.deploymentStatus(first.ID)).To(Equal(release.DeploymentSuperseded))
			Expect(h.deploymentStatus(second.ID)).To(Equal(release.DeploymentActive))
			Expect(currentID(production, webProject)).To(Equal(second.ID))

			_, err = h.store.UpdateDeployment(h.ctx, second.ID, func(d *release.Deployment) error {
				d.Status = release.DeploymentPending
				return nil
			})
			Expect(err).To(haveKind(fault.Conflict), "active → pending")
			Expect(h.deploymentStatus(second.ID)).To(Equal(release.DeploymentActive))
		})

		ginkgo.It("returns the closure's error from UpdateDeployment and saves nothing", func() {
			pending := h.mustDeployment(newDeployment(web1, production, release.DeploymentPending, at(time.Hour)))
			boom := errors.New("closure failed")
			_, err := h.store.UpdateDeployment(h.ctx, pending.ID, func(d *release.Deployment) error {
				d.Status = release.DeploymentActive
				d.GitOpsCommitSHA = commitSHA("never")
				return boom
			})
			Expect(err).To(MatchError(boom))
			got, err := h.store.GetDeployment(h.ctx, pending.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Status).To(Equal(release.DeploymentPending))
			Expect(got.GitOpsCommitSHA).To(Equal(pending.GitOpsCommitSHA))
			_, err = current(production, webProject)
			Expect(err).To(haveKind(fault.NotFound))
		})

		ginkgo.It("returns NotFound for an unknown deployment", func() {
			_, err := h.store.GetDeployment(h.ctx, uuid.NewString())
			Expect(err).To(haveKind(fault.NotFound))
			_, err = h.store.UpdateDeployment(h.ctx, uuid.NewString(), func(d *release.Deployment) error { return nil })
			Expect(err).To(haveKind(fault.NotFound))
		})

		ginkgo.It("returns NotFound as the current deployment when none is active", func() {
			_, err := current(production, webProject)
			Expect(err).To(haveKind(fault.NotFound))
			h.mustDeployment(newDeployment(web1, production, release.DeploymentPending, at(time.Hour)))
			h.mustDeployment(newDeployment(web1, staging, release.DeploymentActive, at(time.Hour)))
			_, err = current(production, webProject)
			Expect(err).To(haveKind(fault.NotFound))
		})

		ginkgo.It("lists the deployments of a project in an environment newest first, with the total", func() {
			d1 := h.mustDeployment(newDeployment(web1, production, release.DeploymentActive, at(1*time.Hour)))
			d2 := h.mustDeployment(newDeployment(web2, production, release.DeploymentPending, at(2*time.Hour)))
			d3 := h.mustDeployment(newDeployment(web2, production, release.DeploymentActive, at(3*time.Hour)))
			h.mustDeployment(newDeployment(web1, staging, release.DeploymentActive, at(4*time.Hour)))
			h.mustDeployment(newDeployment(api1, production, release.DeploymentActive, at(5*time.Hour)))

			ids := func(ds []release.Deployment) []string {
				out := make([]string, len(ds))
				for i, d := range ds {
					out[i] = d.ID
				}
				return out
			}
			got, total, err := h.store.ListDeployments(h.ctx, production, repoName, webProject, page(0, 0))
			Expect(err).NotTo(HaveOccurred())
			Expect(total).To(Equal(3))
			Expect(ids(got)).To(Equal([]string{d3.ID, d2.ID, d1.ID}))
			Expect(got[2].Status).To(Equal(release.DeploymentSuperseded))

			got, total, err = h.store.ListDeployments(h.ctx, production, repoName, webProject, page(1, 1))
			Expect(err).NotTo(HaveOccurred())
			Expect(total).To(Equal(3))
			Expect(ids(got)).To(Equal([]string{d2.ID}))

			got, total, err = h.store.ListDeployments(h.ctx, "dev", repoName, webProject, page(0, 0))
			Expect(err).NotTo(HaveOccurred())
			Expect(total).To(Equal(0))
			Expect(got).To(BeEmpty())
		})

		ginkgo.It("keeps exactly one deployment active when ten become active at once", func() {
			const n = 10
			ids := make([]string, n)
			errs := make([]error, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					rel := web1
					if i%2 == 1 {
						rel = web2
					}
					d, err := h.store.CreateDeployment(h.ctx, newDeployment(rel, production, release.DeploymentActive, at(time.Duration(i+1)*time.Minute)))
					errs[i] = err
					if err == nil {
						ids[i] = d.ID
					}
				}()
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				Expect(err).NotTo(HaveOccurred(), "creation %d", i)
			}

			all, total, err := h.store.ListDeployments(h.ctx, production, repoName, webProject, page(0, 0))
			Expect(err).NotTo(HaveOccurred())
			Expect(total).To(Equal(n))
			var active []string
			for _, d := range all {
				Expect(d.Status).To(BeElementOf(release.DeploymentActive, release.DeploymentSuperseded))
				if d.Status == release.DeploymentActive {
					active = append(active, d.ID)
				}
			}
			Expect(active).To(HaveLen(1))
			Expect(ids).To(ContainElement(active[0]))
			Expect(currentID(production, webProject)).To(Equal(active[0]))
		})
	})
}
