package storetest

import (
	"time"

	"github.com/google/uuid"
	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
)

func describeRuns(h *harness) {
	ginkgo.Describe("runs", func() {
		ginkgo.Describe("CreateRun and GetRun", func() {
			ginkgo.It("saves a run, filling its ID with a UUID", func() {
				h.mustRepository(repoName)
				in := newRun(repoName, "main", commitSHA("run 1"), at(0))
				got, created, err := h.store.CreateRun(h.ctx, in)
				Expect(err).NotTo(HaveOccurred())
				Expect(created).To(BeTrue())
				Expect(uuid.Parse(got.ID)).Error().NotTo(HaveOccurred(), "ID %q is not a UUID", got.ID)

				stored, err := h.store.GetRun(h.ctx, got.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(stored.ID).To(Equal(got.ID))
				Expect(stored.Repository).To(Equal(repoName))
				Expect(stored.Branch).To(Equal("main"))
				Expect(stored.CommitSHA).To(Equal(commitSHA("run 1")))
				Expect(stored.TriggeredBy).To(Equal("alice@acme.example"))
				Expect(stored.TriggerType).To(Equal(pipeline.TriggerPush))
				Expect(stored.Status).To(Equal(pipeline.StatusPending))
				Expect(stored.CreatedAt).To(beAround(at(0)))
				Expect(stored.StartedAt).To(beAround(at(0)))
				Expect(stored.CompletedAt).To(BeNil())
				Expect(stored.Phases).To(BeEmpty())
			})

			ginkgo.It("keeps the GitHub context, through GetRun, ListRuns and updates", func() {
				h.mustRepository(repoName)
				r := newRun(repoName, "feature", commitSHA("c9"), at(0))
				r.GitHub = &pipeline.GitHubContext{PRNumber: 42, RunID: "5678901234", Context: "ci/forge-staging", CheckRunID: "987"}
				created, _, err := h.store.CreateRun(h.ctx, r)
				Expect(err).NotTo(HaveOccurred())
				Expect(created.GitHub).To(Equal(r.GitHub))
				h.setRunStatus(created.ID, pipeline.StatusRunning)
				got := h.getRun(created.ID)
				Expect(got.GitHub).To(Equal(r.GitHub))
				listed, _, err := h.store.ListRuns(h.ctx, ports.RunFilter{CommitSHA: commitSHA("c9")}, page(0, 0))
				Expect(err).NotTo(HaveOccurred())
				Expect(listed).To(HaveLen(1))
				Expect(listed[0].GitHub).To(Equal(r.GitHub))
				plain := h.mustRun(repoName, "main", commitSHA("ca"), at(0))
				Expect(h.getRun(plain.ID).GitHub).To(BeNil())
			})

			ginkgo.It("keeps an ID the caller chose", func() {
				h.mustRepository(repoName)
				in := newRun(repoName, "main", commitSHA("run 1"), at(0))
				in.ID = uuid.NewString()
				got, _, err := h.store.CreateRun(h.ctx, in)
				Expect(err).NotTo(HaveOccurred())
				Expect(got.ID).To(Equal(in.ID))
				_, err = h.store.GetRun(h.ctx, in.ID)
				Expect(err).NotTo(HaveOccurred())
			})

			ginkgo.It("is idempotent on repository and commit and changes nothing the second time", func() {
				first := h.mustRun(repoName, "main", commitSHA("run 1"), at(0))

				again := newRun(repoName, "feature/other", commitSHA("run 1"), at(time.Hour))
				again.TriggeredBy = "mallory@acme.example"
				again.TriggerType = pipeline.TriggerManual
				got, created, err := h.store.CreateRun(h.ctx, again)
				Expect(err).NotTo(HaveOccurred())
				Expect(created).To(BeFalse())
				Expect(got.ID).To(Equal(first.ID))
				Expect(got.Branch).To(Equal("main"))

				stored, err := h.store.GetRun(h.ctx, first.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(stored.Branch).To(Equal("main"))
				Expect(stored.TriggeredBy).To(Equal("alice@acme.example"))
				Expect(stored.TriggerType).To(Equal(pipeline.TriggerPush))
				Expect(stored.CreatedAt).To(beAround(at(0)))
				_, total, err := h.store.ListRuns(h.ctx, ports.RunFilter{}, page(0, 0))
				Expect(err).NotTo(HaveOccurred())
				Expect(total).To(Equal(1))
			})

			ginkgo.It("treats the same commit in another repository as another run", func() {
				a := h.mustRun(repoName, "main", commitSHA("shared"), at(0))
				b := h.mustRun(otherRepoName, "main", commitSHA("shared"), at(time.Minute))
				Expect(b.ID).NotTo(Equal(a.ID))
			})

			ginkgo.It("refuses a run with an unknown status (Validation)", func() {
				h.mustRepository(repoName)
				in := newRun(repoName, "main", commitSHA("run 1"), at(0))
				in.Status = "bogus"
				_, _, err := h.store.CreateRun(h.ctx, in)
				Expect(err).To(haveKind(fault.Validation))
			})

			ginkgo.It("ignores phases given to CreateRun", func() {
				h.mustRepository(repoName)
				in := newRun(repoName, "main", commitSHA("run 1"), at(0))
				in.Phases = newPlan()
				got, _, err := h.store.CreateRun(h.ctx, in)
				Expect(err).NotTo(HaveOccurred())
				stored, err := h.store.GetRun(h.ctx, got.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(stored.Phases).To(BeEmpty())
			})

			ginkgo.It("returns NotFound for an unknown run", func() {
				h.mustRun(repoName, "main", commitSHA("run 1"), at(0))
				_, err := h.store.GetRun(h.ctx, uuid.NewString())
				Expect(err).To(haveKind(fault.NotFound))
			})
		})

		ginkgo.Describe("ReopenRun", func() {
			var run *pipeline.Run
			ginkgo.BeforeEach(func() {
				run = h.mustRun(repoName, "main", commitSHA("reopen"), at(0))
				_, err := h.store.UpdateRun(h.ctx, run.ID, func(r *pipeline.Run) error {
					r.Status, r.Reason, r.CompletedAt = pipeline.StatusFailed, "release of api failed", ptr(at(time.Hour))
					return nil
				})
				Expect(err).NotTo(HaveOccurred())
			})

			ginkgo.It("moves a failed run back to running, its reason and end cleared and its start moved", func() {
				seen := ""
				got, err := h.store.ReopenRun(h.ctx, run.ID, at(2*time.Hour), func(r *pipeline.Run) error {
					seen = r.Reason
					return nil
				})
				Expect(err).NotTo(HaveOccurred())
				Expect(seen).To(Equal("release of api failed"), "check sees the failed run")
				for _, r := range []*pipeline.Run{got, h.getRun(run.ID)} {
					Expect(r.Status).To(Equal(pipeline.StatusRunning))
					Expect(r.Reason).To(BeEmpty())
					Expect(r.CompletedAt).To(BeNil())
					Expect(r.StartedAt).To(beAround(at(2 * time.Hour)))
					Expect(r.CreatedAt).To(beAround(at(0)), "the creation time stays")
				}
				st, err := h.store.RunStatus(h.ctx, run.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(st).To(Equal(pipeline.StatusRunning))
			})

			ginkgo.It("changes nothing when check refuses, and returns its error", func() {
				_, err := h.store.ReopenRun(h.ctx, run.ID, at(2*time.Hour), func(*pipeline.Run) error {
					return fault.New(fault.Conflict, "its tests failed")
				})
				Expect(err).To(MatchError(ContainSubstring("its tests failed")))
				r := h.getRun(run.ID)
				Expect(r.Status).To(Equal(pipeline.StatusFailed))
				Expect(r.Reason).To(Equal("release of api failed"))
			})

			ginkgo.It("reopens only a failed run (Conflict) and knows no other (NotFound)", func() {
				ok := func(*pipeline.Run) error { return nil }
				_, err := h.store.ReopenRun(h.ctx, run.ID, at(2*time.Hour), ok)
				Expect(err).NotTo(HaveOccurred())
				_, err = h.store.ReopenRun(h.ctx, run.ID, at(3*time.Hour), ok)
				Expect(err).To(haveKind(fault.Conflict), "a running run")
				_, err = h.store.ReopenRun(h.ctx, run.ID, at(3*time.Hour), func(*pipeline.Run) error {
					return fault.New(fault.PermissionDenied, "not your repository")
				})
				Expect(err).To(haveKind(fault.PermissionDenied), "check sees a run of any status before the Conflict")
				h.setRunStatus(run.ID, pipeline.StatusSuccess)
				_, err = h.store.ReopenRun(h.ctx, run.ID, at(3*time.Hour), ok)
				Expect(err).To(haveKind(fault.Conflict), "a successful run")
				_, err = h.store.ReopenRun(h.ctx, uuid.NewString(), at(3*time.Hour), ok)
				Expect(err).To(haveKind(fault.NotFound))
			})
		})

		ginkgo.Describe("AddPhases", func() {
			ginkgo.It("saves phases, tasks and steps, fills their IDs, and GetRun returns them nested in order", func() {
				r := h.mustRun(repoName, "main", commitSHA("run 1"), at(0))
				saved, err := h.store.AddPhases(h.ctx, r.ID, newPlan())
				Expect(err).NotTo(HaveOccurred())
				Expect(shape(saved)).To(ConsistOf(planShape))
				ids := planIDs(saved)
				seen := map[string]bool{}
				for entry, id := range ids {
					Expect(id).NotTo(BeEmpty(), "no ID for %s", entry)
					Expect(seen).NotTo(HaveKey(id), "ID of %s is used twice", entry)
					seen[id] = true
				}

				got, err := h.store.GetRun(h.ctx, r.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(shape(got.Phases)).To(Equal(planShape))
				Expect(planIDs(got.Phases)).To(Equal(ids))

				test := findPhase(got.Phases, "test")
				Expect(test.Status).To(Equal(pipeline.StatusPending))
				api := findTask(test, apiProject)
				Expect(api.ProjectPath).To(Equal("services/api"))
				Expect(api.Status).To(Equal(pipeline.StatusPending))
				lint := findStep(api, "lint-go")
				Expect(lint.Action).To(Equal("script"))
				Expect(lint.Target).To(Equal("golangci-lint run"))
				Expect(lint.Status).To(Equal(pipeline.StatusPending))
				Expect(lint.ExitCode).To(BeNil())
				Expect(lint.StartedAt).To(BeNil())
				Expect(lint.CompletedAt).To(BeNil())
			})

			ginkgo.It("returns the first plan unchanged when called again", func() {
				r := h.mustRun(repoName, "main", commitSHA("run 1"), at(0))
				first, err := h.store.AddPhases(h.ctx, r.ID, newPlan())
				Expect(err).NotTo(HaveOccurred())

				other := []pipeline.Phase{newPhase("deploy", 1, newTask("ops", newStep("apply", "script", "kubectl apply")))}
				second, err := h.store.AddPhases(h.ctx, r.ID, other)
				Expect(err).NotTo(HaveOccurred())
				Expect(planIDs(second)).To(Equal(planIDs(first)))
				Expect(shape(second)).To(ConsistOf(planShape))

				got, err := h.store.GetRun(h.ctx, r.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(shape(got.Phases)).To(Equal(planShape))
			})

			ginkgo.It("returns NotFound for an unknown run", func() {
				h.mustRun(repoName, "main", commitSHA("run 1"), at(0))
				_, err := h.store.AddPhases(h.ctx, uuid.NewString(), newPlan())
				Expect(err).To(haveKind(fault.NotFound))
			})

			ginkgo.It("hands out copies: changing a returned run changes nothing stored", func() {
				got := h.mustPlannedRun(commitSHA("run 1"))
				got.Status = pipeline.StatusFailed
				got.Phases[0].Name = "changed"
				got.Phases[1].Tasks[0].Steps[0].Status = pipeline.StatusFailed
				got.Phases = got.Phases[:1]

				again, err := h.store.GetRun(h.ctx, got.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(again.Status).To(Equal(pipeline.StatusPending))
				Expect(shape(again.Phases)).To(Equal(planShape))
				Expect(again.Phases[1].Tasks[0].Steps[0].Status).To(Equal(pipeline.StatusPending))
			})
		})

		ginkgo.Describe("ListRuns and CountActiveRuns", func() {
			// Four runs, oldest first: r1 (monorepo, main, pending),
			// r2 (monorepo, main, running), r3 (monorepo, feature/x,
			// pending), r4 (platform, main, success).
			var r1, r2, r3, r4 *pipeline.Run
			ginkgo.BeforeEach(func() {
				r1 = h.mustRun(repoName, "main", commitSHA("r1"), at(1*time.Minute))
				r2 = h.mustRun(repoName, "main", commitSHA("r2"), at(2*time.Minute))
				r3 = h.mustRun(repoName, "feature/x", commitSHA("r3"), at(3*time.Minute))
				r4 = h.mustRun(otherRepoName, "main", commitSHA("r4"), at(4*time.Minute))
				h.setRunStatus(r2.ID, pipeline.StatusRunning)
				h.setRunStatus(r4.ID, pipeline.StatusRunning)
				h.setRunStatus(r4.ID, pipeline.StatusSuccess)
			})

			list := func(f ports.RunFilter, p ports.Page) ([]string, int) {
				ginkgo.GinkgoHelper()
				got, total, err := h.store.ListRuns(h.ctx, f, p)
				Expect(err).NotTo(HaveOccurred())
				ids := make([]string, len(got))
				for i, r := range got {
					ids[i] = r.ID
				}
				return ids, total
			}

			ginkgo.It("lists every run newest first with the total", func() {
				ids, total := list(ports.RunFilter{}, page(0, 0))
				Expect(total).To(Equal(4))
				Expect(ids).To(Equal([]string{r4.ID, r3.ID, r2.ID, r1.ID}))
			})

			ginkgo.It("filters by repository", func() {
				ids, total := list(ports.RunFilter{Repository: repoName}, page(0, 0))
				Expect(total).To(Equal(3))
				Expect(ids).To(Equal([]string{r3.ID, r2.ID, r1.ID}))
			})

			ginkgo.It("filters by branch", func() {
				ids, total := list(ports.RunFilter{Branch: "main"}, page(0, 0))
				Expect(total).To(Equal(3))
				Expect(ids).To(Equal([]string{r4.ID, r2.ID, r1.ID}))
			})

			ginkgo.It("filters by commit", func() {
				ids, total := list(ports.RunFilter{CommitSHA: commitSHA("r2")}, page(0, 0))
				Expect(total).To(Equal(1))
				Expect(ids).To(Equal([]string{r2.ID}))
			})

			ginkgo.It("filters by status", func() {
				ids, total := list(ports.RunFilter{Status: pipeline.StatusPending}, page(0, 0))
				Expect(total).To(Equal(2))
				Expect(ids).To(Equal([]string{r3.ID, r1.ID}))
			})

			ginkgo.It("combines filters", func() {
				ids, total := list(ports.RunFilter{Repository: repoName, Branch: "main", Status: pipeline.StatusRunning}, page(0, 0))
				Expect(total).To(Equal(1))
				Expect(ids).To(Equal([]string{r2.ID}))

				ids, total = list(ports.RunFilter{Repository: otherRepoName, Status: pipeline.StatusPending}, page(0, 0))
				Expect(total).To(Equal(0))
				Expect(ids).To(BeEmpty())
			})

			ginkgo.It("pages, the total counting every match", func() {
				ids, total := list(ports.RunFilter{}, page(2, 1))
				Expect(total).To(Equal(4))
				Expect(ids).To(Equal([]string{r3.ID, r2.ID}))

				ids, total = list(ports.RunFilter{Repository: repoName}, page(2, 2))
				Expect(total).To(Equal(3))
				Expect(ids).To(Equal([]string{r1.ID}))

				ids, total = list(ports.RunFilter{}, page(5, 10))
				Expect(total).To(Equal(4))
				Expect(ids).To(BeEmpty())
			})

			ginkgo.It("returns runs without their phases but with their fields", func() {
				_, err := h.store.AddPhases(h.ctx, r2.ID, newPlan())
				Expect(err).NotTo(HaveOccurred())
				got, _, err := h.store.ListRuns(h.ctx, ports.RunFilter{CommitSHA: commitSHA("r2")}, page(0, 0))
				Expect(err).NotTo(HaveOccurred())
				Expect(got).To(HaveLen(1))
				Expect(got[0].Phases).To(BeEmpty())
				Expect(got[0].Repository).To(Equal(repoName))
				Expect(got[0].Branch).To(Equal("main"))
				Expect(got[0].Status).To(Equal(pipeline.StatusRunning))
				Expect(got[0].CreatedAt).To(beAround(at(2 * time.Minute)))
			})

			ginkgo.It("counts the pending and running runs of a repository", func() {
				n, err := h.store.CountActiveRuns(h.ctx, repoName)
				Expect(err).NotTo(HaveOccurred())
				Expect(n).To(Equal(3))

				h.setRunStatus(r1.ID, pipeline.StatusCancelled)
				h.setRunStatus(r2.ID, pipeline.StatusFailed)
				n, err = h.store.CountActiveRuns(h.ctx, repoName)
				Expect(err).NotTo(HaveOccurred())
				Expect(n).To(Equal(1))

				n, err = h.store.CountActiveRuns(h.ctx, otherRepoName)
				Expect(err).NotTo(HaveOccurred())
				Expect(n).To(Equal(0), "a successful run is not active")

				n, err = h.store.CountActiveRuns(h.ctx, "acme/unknown")
				Expect(err).NotTo(HaveOccurred())
				Expect(n).To(Equal(0))
			})
		})

		ginkgo.Describe("GetTask, GetStep, PlaceOfTask and PlaceOfStep", func() {
			var run *pipeline.Run
			var task pipeline.Task
			ginkgo.BeforeEach(func() {
				run = h.mustPlannedRun(commitSHA("run 1"))
				task = findTask(findPhase(run.Phases, "test"), apiProject)
			})

			ginkgo.It("gets a task with its steps in the order they were added", func() {
				got, err := h.store.GetTask(h.ctx, task.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(got.ID).To(Equal(task.ID))
				Expect(got.ProjectName).To(Equal(apiProject))
				Expect(got.ProjectPath).To(Equal("services/api"))
				Expect(got.Status).To(Equal(pipeline.StatusPending))
				names := []string{}
				for _, s := range got.Steps {
					names = append(names, s.Name)
				}
				Expect(names).To(Equal([]string{"unit", "lint-go", "integration"}))
				Expect(got.Steps[2].ID).To(Equal(task.Steps[2].ID))
			})

			ginkgo.It("gets a step", func() {
				want := findStep(task, "integration")
				got, err := h.store.GetStep(h.ctx, want.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(got.ID).To(Equal(want.ID))
				Expect(got.Name).To(Equal("integration"))
				Expect(got.Action).To(Equal("earthly"))
				Expect(got.Target).To(Equal("+integration"))
				Expect(got.Status).To(Equal(pipeline.StatusPending))
			})

			ginkgo.It("returns NotFound for an unknown task or step", func() {
				_, err := h.store.GetTask(h.ctx, uuid.NewString())
				Expect(err).To(haveKind(fault.NotFound))
				_, err = h.store.GetStep(h.ctx, uuid.NewString())
				Expect(err).To(haveKind(fault.NotFound))
			})

			ginkgo.It("says which run a task or step belongs to", func() {
				other := h.mustPlannedRun(commitSHA("run 2"))
				otherStep := findStep(findTask(findPhase(other.Phases, "build"), webProject), "image")

				place, err := h.store.PlaceOfTask(h.ctx, task.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(place.RunID).To(Equal(run.ID))
				place, err = h.store.PlaceOfStep(h.ctx, task.Steps[1].ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(place.RunID).To(Equal(run.ID))
				place, err = h.store.PlaceOfStep(h.ctx, otherStep.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(place.RunID).To(Equal(other.ID))
			})

			ginkgo.It("says where a task or step sits, with the statuses of its run, phase and task, as they change", func() {
				phase := findPhase(run.Phases, "test")
				step := findStep(task, "lint-go")
				got, err := h.store.PlaceOfTask(h.ctx, task.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(*got).To(Equal(pipeline.Place{RunID: run.ID, RunStatus: run.Status, PhaseName: "test", PhaseStatus: pipeline.StatusPending,
					TaskID: task.ID, TaskProject: apiProject, TaskStatus: pipeline.StatusPending}))

				h.setRunStatus(run.ID, pipeline.StatusRunning)
				_, err = h.store.UpdatePhase(h.ctx, phase.ID, func(p *pipeline.Phase) error { p.Status = pipeline.StatusRunning; return nil })
				Expect(err).NotTo(HaveOccurred())
				_, err = h.store.UpdateTask(h.ctx, task.ID, func(t *pipeline.Task) error { t.Status = pipeline.StatusRunning; return nil })
				Expect(err).NotTo(HaveOccurred())
				got, err = h.store.PlaceOfStep(h.ctx, step.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(*got).To(Equal(pipeline.Place{RunID: run.ID, RunStatus: pipeline.StatusRunning, PhaseName: "test", PhaseStatus: pipeline.StatusRunning,
					TaskID: task.ID, TaskProject: apiProject, TaskStatus: pipeline.StatusRunning,
					StepID: step.ID, StepName: "lint-go", StepStatus: pipeline.StatusPending}))

				other := h.mustPlannedRun(commitSHA("run 2"))
				otherStep := findStep(findTask(findPhase(other.Phases, "build"), webProject), "image")
				got, err = h.store.PlaceOfStep(h.ctx, otherStep.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(got.RunID).To(Equal(other.ID))
				Expect(got.PhaseName).To(Equal("build"))
				Expect(got.TaskProject).To(Equal(webProject))

				_, err = h.store.PlaceOfTask(h.ctx, uuid.NewString())
				Expect(err).To(haveKind(fault.NotFound))
				_, err = h.store.PlaceOfStep(h.ctx, "not-a-step-id")
				Expect(err).To(haveKind(fault.NotFound))
			})

			ginkgo.It("reads a run's status alone, as it changes", func() {
				st, err := h.store.RunStatus(h.ctx, run.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(st).To(Equal(run.Status))
				h.setRunStatus(run.ID, pipeline.StatusRunning)
				st, err = h.store.RunStatus(h.ctx, run.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(st).To(Equal(pipeline.StatusRunning))
				_, err = h.store.RunStatus(h.ctx, "00000000-0000-4000-8000-000000000000")
				Expect(fault.KindOf(err)).To(Equal(fault.NotFound))
				_, err = h.store.RunStatus(h.ctx, "not-a-run-id")
				Expect(fault.KindOf(err)).To(Equal(fault.NotFound))
			})

			ginkgo.It("returns NotFound for the run of an unknown task or step", func() {
				_, err := h.store.PlaceOfTask(h.ctx, uuid.NewString())
				Expect(err).To(haveKind(fault.NotFound))
				_, err = h.store.PlaceOfStep(h.ctx, uuid.NewString())
				Expect(err).To(haveKind(fault.NotFound))
			})
		})

		ginkgo.Describe("ExpiredRuns and DeleteRuns", func() {
			var old, failed, running, released, recent *pipeline.Run
			var rel *release.Release
			var plan []pipeline.Phase
			ginkgo.BeforeEach(func() {
				old = h.mustRun(repoName, "main", commitSHA("e1"), at(0))
				var err error
				plan, err = h.store.AddPhases(h.ctx, old.ID, newPlan())
				Expect(err).NotTo(HaveOccurred())
				h.setRunStatus(old.ID, pipeline.StatusRunning)
				h.setRunStatus(old.ID, pipeline.StatusSuccess)
				failed = h.mustRun(repoName, "main", commitSHA("e2"), at(time.Hour))
				h.setRunStatus(failed.ID, pipeline.StatusFailed)
				running = h.mustRun(repoName, "main", commitSHA("e3"), at(2*time.Hour))
				h.setRunStatus(running.ID, pipeline.StatusRunning)
				released = h.mustRun(repoName, "main", commitSHA("e4"), at(3*time.Hour))
				h.setRunStatus(released.ID, pipeline.StatusRunning)
				h.setRunStatus(released.ID, pipeline.StatusSuccess)
				r := newRelease(repoName, "api", commitSHA("e4"))
				r.PipelineRunID = &released.ID
				rel, _, err = h.store.CreateRelease(h.ctx, r)
				Expect(err).NotTo(HaveOccurred())
				recent = h.mustRun(repoName, "main", commitSHA("e5"), at(100*time.Hour))
				h.setRunStatus(recent.ID, pipeline.StatusCancelled)
			})

			ginkgo.It("lists the ended runs older than the cut-off that no release names, oldest first, within the limit", func() {
				ids, err := h.store.ExpiredRuns(h.ctx, at(50*time.Hour), 10)
				Expect(err).NotTo(HaveOccurred())
				Expect(ids).To(Equal([]string{old.ID, failed.ID}))
				ids, err = h.store.ExpiredRuns(h.ctx, at(50*time.Hour), 1)
				Expect(err).NotTo(HaveOccurred())
				Expect(ids).To(Equal([]string{old.ID}))
				ids, err = h.store.ExpiredRuns(h.ctx, at(0), 10)
				Expect(err).NotTo(HaveOccurred())
				Expect(ids).To(BeEmpty())
			})

			ginkgo.It("deletes ended runs with their plan, never a running run or one a release names, and is idempotent", func() {
				n, err := h.store.DeleteRuns(h.ctx, []string{old.ID, failed.ID, running.ID, released.ID, "not-a-run-id", uuid.NewString()})
				Expect(err).NotTo(HaveOccurred())
				Expect(n).To(Equal(2))
				for _, id := range []string{old.ID, failed.ID} {
					_, err = h.store.GetRun(h.ctx, id)
					Expect(err).To(haveKind(fault.NotFound))
				}
				task := findTask(findPhase(plan, "test"), "api")
				_, err = h.store.GetTask(h.ctx, task.ID)
				Expect(err).To(haveKind(fault.NotFound))
				_, err = h.store.PlaceOfStep(h.ctx, task.Steps[0].ID)
				Expect(err).To(haveKind(fault.NotFound))
				for _, id := range []string{running.ID, released.ID, recent.ID} {
					_, err = h.store.GetRun(h.ctx, id)
					Expect(err).NotTo(HaveOccurred())
				}
				kept, err := h.store.GetRelease(h.ctx, rel.ID)
				Expect(err).NotTo(HaveOccurred())
				Expect(kept.PipelineRunID).To(Equal(&released.ID))

				n, err = h.store.DeleteRuns(h.ctx, []string{old.ID, failed.ID})
				Expect(err).NotTo(HaveOccurred())
				Expect(n).To(BeZero())
				// The same commit can run again once its old run is gone.
				h.mustRun(repoName, "main", commitSHA("e1"), at(200*time.Hour))
			})
		})
	})
}
