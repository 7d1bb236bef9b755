package storetest

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
)

// statusSubject reaches the status of one kind of pipeline entity, so that
// the same transition specs run for runs, phases, tasks and steps.
type statusSubject struct {
	kind pipeline.Kind
	// terminal lists the final statuses of the kind.
	terminal []pipeline.Status
	// foreign is a status that only other kinds have.
	foreign pipeline.Status
	// create makes a pending entity and returns its ID.
	create func(h *harness) string
	// update calls the kind's Update method; fn sees the entity's ID and
	// status and may change the status.
	update func(h *harness, id string, fn func(id string, s *pipeline.Status) error) error
	// status reads the stored status.
	status func(h *harness, id string) pipeline.Status
}

var statusSubjects = []statusSubject{
	{
		kind:     pipeline.KindRun,
		terminal: []pipeline.Status{pipeline.StatusSuccess, pipeline.StatusFailed, pipeline.StatusCancelled},
		foreign:  pipeline.StatusSkipped,
		create: func(h *harness) string {
			return h.mustRun(repoName, "main", commitSHA("subject"), at(0)).ID
		},
		update: func(h *harness, id string, fn func(string, *pipeline.Status) error) error {
			_, err := h.store.UpdateRun(h.ctx, id, func(r *pipeline.Run) error { return fn(r.ID, &r.Status) })
			return err
		},
		status: func(h *harness, id string) pipeline.Status {
			ginkgo.GinkgoHelper()
			r, err := h.store.GetRun(h.ctx, id)
			Expect(err).NotTo(HaveOccurred())
			return r.Status
		},
	},
	{
		kind:     pipeline.KindPhase,
		terminal: []pipeline.Status{pipeline.StatusSuccess, pipeline.StatusFailed, pipeline.StatusSkipped},
		foreign:  pipeline.StatusCancelled,
		create: func(h *harness) string {
			return findPhase(h.mustPlannedRun(commitSHA("subject")).Phases, "test").ID
		},
		update: func(h *harness, id string, fn func(string, *pipeline.Status) error) error {
			_, err := h.store.UpdatePhase(h.ctx, id, func(p *pipeline.Phase) error { return fn(p.ID, &p.Status) })
			return err
		},
		status: func(h *harness, id string) pipeline.Status {
			ginkgo.GinkgoHelper()
			runs, _, err := h.store.ListRuns(h.ctx, ports.RunFilter{}, page(0, 0))
			Expect(err).NotTo(HaveOccurred())
			for _, listed := range runs {
				r, err := h.store.GetRun(h.ctx, listed.ID)
				Expect(err).NotTo(HaveOccurred())
				for _, p := range r.Phases {
					if p.ID == id {
						return p.Status
					}
				}
			}
			ginkgo.Fail("phase " + id + " is in no run")
			return ""
		},
	},
	{
		kind:     pipeline.KindTask,
		terminal: []pipeline.Status{pipeline.StatusSuccess, pipeline.StatusFailed, pipeline.StatusSkipped},
		foreign:  pipeline.StatusCancelled,
		create: func(h *harness) string {
			return findTask(findPhase(h.mustPlannedRun(commitSHA("subject")).Phases, "test"), webProject).ID
		},
		update: func(h *harness, id string, fn func(string, *pipeline.Status) error) error {
			_, err := h.store.UpdateTask(h.ctx, id, func(t *pipeline.Task) error { return fn(t.ID, &t.Status) })
			return err
		},
		status: func(h *harness, id string) pipeline.Status {
			ginkgo.GinkgoHelper()
			t, err := h.store.GetTask(h.ctx, id)
			Expect(err).NotTo(HaveOccurred())
			return t.Status
		},
	},
	{
		kind:     pipeline.KindStep,
		terminal: []pipeline.Status{pipeline.StatusSuccess, pipeline.StatusFailed, pipeline.StatusSkipped},
		foreign:  pipeline.StatusCancelled,
		create: func(h *harness) string {
			return findStep(findTask(findPhase(h.mustPlannedRun(commitSHA("subject")).Phases, "test"), webProject), "e2e").ID
		},
		update: func(h *harness, id string, fn func(string, *pipeline.Status) error) error {
			_, err := h.store.UpdateStep(h.ctx, id, func(s *pipeline.Step) error { return fn(s.ID, &s.Status) })
			return err
		},
		status: func(h *harness, id string) pipeline.Status {
			ginkgo.GinkgoHelper()
			s, err := h.store.GetStep(h.ctx, id)
			Expect(err).NotTo(HaveOccurred())
			return s.Status
		},
	},
}

func describeStatusUpdates(h *harness) {
	ginkgo.Describe("status updates", func() {
		for _, sub := range statusSubjects {
			describeStatusSubject(h, sub)
		}
		describeUpdatedFields(h)
	})
}

func describeStatusSubject(h *harness, sub statusSubject) {
	ginkgo.Describe("of a "+string(sub.kind), func() {
		var id string
		ginkgo.BeforeEach(func() { id = sub.create(h) })

		set := func(to pipeline.Status) error {
			return sub.update(h, id, func(_ string, s *pipeline.Status) error {
				*s = to
				return nil
			})
		}

		ginkgo.It("passes the current entity to the closure", func() {
			Expect(set(pipeline.StatusRunning)).To(Succeed())
			var seenID string
			var seenStatus pipeline.Status
			Expect(sub.update(h, id, func(gotID string, s *pipeline.Status) error {
				seenID, seenStatus = gotID, *s
				return nil
			})).To(Succeed())
			Expect(seenID).To(Equal(id))
			Expect(seenStatus).To(Equal(pipeline.StatusRunning))
		})

		ginkgo.It("saves legal transitions: pending → running → success", func() {
			Expect(sub.status(h, id)).To(Equal(pipeline.StatusPending))
			Expect(set(pipeline.StatusRunning)).To(Succeed())
			Expect(sub.status(h, id)).To(Equal(pipeline.StatusRunning))
			Expect(set(pipeline.StatusSuccess)).To(Succeed())
			Expect(sub.status(h, id)).To(Equal(pipeline.StatusSuccess))
		})

		ginkgo.It("lets a pending entity end without running", func() {
			Expect(set(pipeline.StatusFailed)).To(Succeed())
			Expect(sub.status(h, id)).To(Equal(pipeline.StatusFailed))
		})

		ginkgo.It("accepts the current status again, terminal or not", func() {
			Expect(set(pipeline.StatusRunning)).To(Succeed())
			Expect(set(pipeline.StatusRunning)).To(Succeed())
			Expect(sub.status(h, id)).To(Equal(pipeline.StatusRunning))
			Expect(set(pipeline.StatusSuccess)).To(Succeed())
			Expect(set(pipeline.StatusSuccess)).To(Succeed())
			Expect(sub.status(h, id)).To(Equal(pipeline.StatusSuccess))
		})

		for _, final := range sub.terminal {
			ginkgo.It("never changes a "+string(final)+" "+string(sub.kind)+" (Conflict) and keeps the stored status", func() {
				Expect(set(final)).To(Succeed())
				for _, to := range []pipeline.Status{pipeline.StatusRunning, pipeline.StatusPending} {
					Expect(set(to)).To(haveKind(fault.Conflict), "%s → %s", final, to)
					Expect(sub.status(h, id)).To(Equal(final))
				}
			})
		}

		ginkgo.It("refuses running → pending (Conflict)", func() {
			Expect(set(pipeline.StatusRunning)).To(Succeed())
			Expect(set(pipeline.StatusPending)).To(haveKind(fault.Conflict))
			Expect(sub.status(h, id)).To(Equal(pipeline.StatusRunning))
		})

		ginkgo.It("refuses a status the kind does not have (Validation) and keeps the stored status", func() {
			Expect(set(sub.foreign)).To(haveKind(fault.Validation))
			Expect(set("bogus")).To(haveKind(fault.Validation))
			Expect(sub.status(h, id)).To(Equal(pipeline.StatusPending))
		})

		ginkgo.It("returns the closure's error and saves nothing", func() {
			boom := errors.New("closure failed")
			err := sub.update(h, id, func(_ string, s *pipeline.Status) error {
				*s = pipeline.StatusRunning
				return boom
			})
			Expect(err).To(MatchError(boom))
			Expect(sub.status(h, id)).To(Equal(pipeline.StatusPending))
		})

		ginkgo.It("returns NotFound for an unknown ID and never calls the closure", func() {
			called := false
			err := sub.update(h, uuid.NewString(), func(string, *pipeline.Status) error {
				called = true
				return nil
			})
			Expect(err).To(haveKind(fault.NotFound))
			Expect(called).To(BeFalse())
		})
	})
}

// describeUpdatedFields checks which fields each Update method saves.
func describeUpdatedFields(h *harness) {
	ginkgo.Describe("saved fields", func() {
		ginkgo.It("UpdateRun saves status, completed time, reason, workflow name and discovery output", func() {
			r := h.mustRun(repoName, "main", commitSHA("run 1"), at(0))
			discovery := json.RawMessage(`{"projects": [{"name": "web", "path": "services/web"}]}`)
			got, err := h.store.UpdateRun(h.ctx, r.ID, func(r *pipeline.Run) error {
				r.Status = pipeline.StatusRunning
				r.ArgoWorkflowName = "forge-run-abc12"
				r.DiscoveryOutput = discovery
				return nil
			})
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Status).To(Equal(pipeline.StatusRunning))

			_, err = h.store.UpdateRun(h.ctx, r.ID, func(r *pipeline.Run) error {
				r.Status = pipeline.StatusFailed
				r.CompletedAt = ptr(at(10 * time.Minute))
				r.Reason = "phase test failed: web/unit exited 1"
				return nil
			})
			Expect(err).NotTo(HaveOccurred())

			stored, err := h.store.GetRun(h.ctx, r.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(stored.Status).To(Equal(pipeline.StatusFailed))
			Expect(stored.CompletedAt).To(pointAround(at(10 * time.Minute)))
			Expect(stored.Reason).To(Equal("phase test failed: web/unit exited 1"))
			Expect(stored.ArgoWorkflowName).To(Equal("forge-run-abc12"))
			Expect(string(stored.DiscoveryOutput)).To(MatchJSON(discovery))
		})

		ginkgo.It("UpdateRun saves a cancelled run with its reason", func() {
			r := h.mustRun(repoName, "main", commitSHA("run 1"), at(0))
			_, err := h.store.UpdateRun(h.ctx, r.ID, func(r *pipeline.Run) error {
				r.Status = pipeline.StatusCancelled
				r.CompletedAt = ptr(at(time.Minute))
				r.Reason = "cancelled by alice@acme.example"
				return nil
			})
			Expect(err).NotTo(HaveOccurred())
			stored, err := h.store.GetRun(h.ctx, r.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(stored.Status).To(Equal(pipeline.StatusCancelled))
			Expect(stored.Reason).To(Equal("cancelled by alice@acme.example"))
			Expect(stored.CompletedAt).To(pointAround(at(time.Minute)))
		})

		ginkgo.It("UpdateRun changes no other field", func() {
			r := h.mustRun(repoName, "main", commitSHA("run 1"), at(0))
			_, err := h.store.UpdateRun(h.ctx, r.ID, func(r *pipeline.Run) error {
				r.Status = pipeline.StatusRunning
				r.Repository = otherRepoName
				r.Branch = "hacked"
				r.CommitSHA = commitSHA("other")
				r.TriggeredBy = "mallory@acme.example"
				r.TriggerType = pipeline.TriggerManual
				r.StartedAt = at(99 * time.Hour)
				r.CreatedAt = at(99 * time.Hour)
				return nil
			})
			Expect(err).NotTo(HaveOccurred())
			stored, err := h.store.GetRun(h.ctx, r.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(stored.Status).To(Equal(pipeline.StatusRunning))
			Expect(stored.Repository).To(Equal(repoName))
			Expect(stored.Branch).To(Equal("main"))
			Expect(stored.CommitSHA).To(Equal(commitSHA("run 1")))
			Expect(stored.TriggeredBy).To(Equal("alice@acme.example"))
			Expect(stored.TriggerType).To(Equal(pipeline.TriggerPush))
			Expect(stored.StartedAt).To(beAround(at(0)))
			Expect(stored.CreatedAt).To(beAround(at(0)))
		})

		ginkgo.It("UpdatePhase saves status and times", func() {
			run := h.mustPlannedRun(commitSHA("run 1"))
			id := findPhase(run.Phases, "build").ID
			_, err := h.store.UpdatePhase(h.ctx, id, func(p *pipeline.Phase) error {
				p.Status = pipeline.StatusRunning
				p.StartedAt = ptr(at(time.Minute))
				return nil
			})
			Expect(err).NotTo(HaveOccurred())
			got, err := h.store.UpdatePhase(h.ctx, id, func(p *pipeline.Phase) error {
				p.Status = pipeline.StatusSuccess
				p.CompletedAt = ptr(at(2 * time.Minute))
				return nil
			})
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Status).To(Equal(pipeline.StatusSuccess))

			stored, err := h.store.GetRun(h.ctx, run.ID)
			Expect(err).NotTo(HaveOccurred())
			p := findPhase(stored.Phases, "build")
			Expect(p.Status).To(Equal(pipeline.StatusSuccess))
			Expect(p.StartedAt).To(pointAround(at(time.Minute)))
			Expect(p.CompletedAt).To(pointAround(at(2 * time.Minute)))
			Expect(findPhase(stored.Phases, "test").Status).To(Equal(pipeline.StatusPending), "other phases are untouched")
		})

		ginkgo.It("UpdateTask saves status, times and error", func() {
			run := h.mustPlannedRun(commitSHA("run 1"))
			id := findTask(findPhase(run.Phases, "test"), webProject).ID
			_, err := h.store.UpdateTask(h.ctx, id, func(t *pipeline.Task) error {
				t.Status = pipeline.StatusRunning
				t.StartedAt = ptr(at(time.Minute))
				return nil
			})
			Expect(err).NotTo(HaveOccurred())
			_, err = h.store.UpdateTask(h.ctx, id, func(t *pipeline.Task) error {
				t.Status = pipeline.StatusFailed
				t.CompletedAt = ptr(at(3 * time.Minute))
				t.Error = "step e2e exited 2"
				return nil
			})
			Expect(err).NotTo(HaveOccurred())

			got, err := h.store.GetTask(h.ctx, id)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Status).To(Equal(pipeline.StatusFailed))
			Expect(got.StartedAt).To(pointAround(at(time.Minute)))
			Expect(got.CompletedAt).To(pointAround(at(3 * time.Minute)))
			Expect(got.Error).To(Equal("step e2e exited 2"))
			Expect(got.Steps).To(HaveLen(2))
		})

		ginkgo.It("UpdateStep saves status, times, exit code and logs key", func() {
			run := h.mustPlannedRun(commitSHA("run 1"))
			task := findTask(findPhase(run.Phases, "test"), apiProject)
			unit, lint := findStep(task, "unit"), findStep(task, "lint-go")

			_, err := h.store.UpdateStep(h.ctx, unit.ID, func(s *pipeline.Step) error {
				s.Status = pipeline.StatusRunning
				s.StartedAt = ptr(at(time.Minute))
				return nil
			})
			Expect(err).NotTo(HaveOccurred())
			_, err = h.store.UpdateStep(h.ctx, unit.ID, func(s *pipeline.Step) error {
				s.Status = pipeline.StatusSuccess
				s.CompletedAt = ptr(at(2 * time.Minute))
				s.ExitCode = ptr(0)
				s.LogsKey = "logs/run-1/test/api/unit.log"
				return nil
			})
			Expect(err).NotTo(HaveOccurred())
			_, err = h.store.UpdateStep(h.ctx, lint.ID, func(s *pipeline.Step) error {
				s.Status = pipeline.StatusFailed
				s.ExitCode = ptr(3)
				return nil
			})
			Expect(err).NotTo(HaveOccurred())

			got, err := h.store.GetStep(h.ctx, unit.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Status).To(Equal(pipeline.StatusSuccess))
			Expect(got.StartedAt).To(pointAround(at(time.Minute)))
			Expect(got.CompletedAt).To(pointAround(at(2 * time.Minute)))
			Expect(got.ExitCode).To(Equal(ptr(0)), "exit code 0 is kept, not dropped")
			Expect(got.LogsKey).To(Equal("logs/run-1/test/api/unit.log"))

			got, err = h.store.GetStep(h.ctx, lint.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Status).To(Equal(pipeline.StatusFailed))
			Expect(got.ExitCode).To(Equal(ptr(3)))

			stored, err := h.store.GetRun(h.ctx, run.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(shape(stored.Phases)).To(Equal(planShape), "updating steps keeps their order")
			Expect(findStep(findTask(findPhase(stored.Phases, "test"), apiProject), "unit").ExitCode).To(Equal(ptr(0)))
		})
	})
}
