package storetest

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/ports"
)

// Names the specs use for repositories and projects.
const (
	repoName      = "acme/monorepo"
	otherRepoName = "acme/platform"
	webProject    = "web"
	apiProject    = "api"
	production    = "production"
	staging       = "staging"
)

// epoch is the base of every time in the suite: UTC, whole microseconds,
// so that databases that round to the microsecond store it exactly.
var epoch = time.Date(2025, time.March, 14, 9, 26, 53, 589793000, time.UTC)

// at returns epoch + d.
func at(d time.Duration) time.Time { return epoch.Add(d) }

func ptr[T any](v T) *T { return &v }

// commitSHA returns a real-looking 40-hex commit SHA derived from seed.
func commitSHA(seed string) string {
	sum := sha1.Sum([]byte(seed))
	return hex.EncodeToString(sum[:])
}

// haveKind matches a non-nil error whose fault kind is k.
func haveKind(k fault.Kind) types.GomegaMatcher {
	return SatisfyAll(HaveOccurred(), WithTransform(fault.KindOf, Equal(k)))
}

// beAround matches a time within a millisecond of t (databases round).
func beAround(t time.Time) types.GomegaMatcher {
	return BeTemporally("~", t, time.Millisecond)
}

// pointAround matches a non-nil *time.Time within a millisecond of t.
func pointAround(t time.Time) types.GomegaMatcher {
	return SatisfyAll(Not(BeNil()), WithTransform(func(p *time.Time) time.Time { return *p }, beAround(t)))
}

// --- builders of valid entities ---

func newRepository(name string) *repository.Repository {
	return &repository.Repository{
		Name:      name,
		Limits:    repository.Limits{MaxConcurrentRuns: 50, RunsPerMinute: 10},
		CreatedAt: at(0),
		CreatedBy: "alice@acme.example",
	}
}

func newRun(repo, branch, commit string, createdAt time.Time) *pipeline.Run {
	return &pipeline.Run{
		Repository:  repo,
		Branch:      branch,
		CommitSHA:   commit,
		TriggeredBy: "alice@acme.example",
		TriggerType: pipeline.TriggerPush,
		Status:      pipeline.StatusPending,
		CreatedAt:   createdAt,
		StartedAt:   createdAt,
	}
}

func newStep(name, action, target string) pipeline.Step {
	return pipeline.Step{Name: name, Action: action, Target: target, Status: pipeline.StatusPending}
}

func newTask(project string, steps ...pipeline.Step) pipeline.Task {
	return pipeline.Task{ProjectName: project, ProjectPath: "services/" + project, Status: pipeline.StatusPending, Steps: steps}
}

func newPhase(name string, group int, tasks ...pipeline.Task) pipeline.Phase {
	return pipeline.Phase{Name: name, GroupNumber: group, Status: pipeline.StatusPending, Tasks: tasks}
}

// newPlan returns a plan given out of order: GetRun must return it as
// planShape says.
func newPlan() []pipeline.Phase {
	return []pipeline.Phase{
		newPhase("publish", 2, newTask(webProject, newStep("push", "earthly", "+publish"))),
		newPhase("test", 1,
			newTask(webProject, newStep("unit", "earthly", "+test"), newStep("e2e", "earthly", "+e2e")),
			newTask(apiProject, newStep("unit", "earthly", "+test"), newStep("lint-go", "script", "golangci-lint run"), newStep("integration", "earthly", "+integration")),
		),
		newPhase("lint", 1, newTask(apiProject, newStep("vet", "script", "go vet ./..."))),
		newPhase("build", 2,
			newTask(webProject, newStep("image", "earthly", "+image")),
			newTask(apiProject, newStep("image", "earthly", "+image")),
		),
		newPhase("notify", 3),
	}
}

// planShape is newPlan as GetRun returns it: phases by group then name,
// tasks by project name, steps in the order they were added.
var planShape = []string{
	"lint@1", "lint/api", "lint/api/vet",
	"test@1", "test/api", "test/api/unit", "test/api/lint-go", "test/api/integration",
	"test/web", "test/web/unit", "test/web/e2e",
	"build@2", "build/api", "build/api/image", "build/web", "build/web/image",
	"publish@2", "publish/web", "publish/web/push",
	"notify@3",
}

// shape flattens a plan into phase@group, phase/task and phase/task/step
// entries, in order.
func shape(phases []pipeline.Phase) []string {
	var out []string
	for _, p := range phases {
		out = append(out, fmt.Sprintf("%s@%d", p.Name, p.GroupNumber))
		for _, t := range p.Tasks {
			out = append(out, p.Name+"/"+t.ProjectName)
			for _, s := range t.Steps {
				out = append(out, p.Name+"/"+t.ProjectName+"/"+s.Name)
			}
		}
	}
	return out
}

// planIDs maps every entry of shape(phases) to the ID of its entity.
func planIDs(phases []pipeline.Phase) map[string]string {
	out := map[string]string{}
	for _, p := range phases {
		out[p.Name] = p.ID
		for _, t := range p.Tasks {
			out[p.Name+"/"+t.ProjectName] = t.ID
			for _, s := range t.Steps {
				out[p.Name+"/"+t.ProjectName+"/"+s.Name] = s.ID
			}
		}
	}
	return out
}

func findPhase(phases []pipeline.Phase, name string) pipeline.Phase {
	ginkgo.GinkgoHelper()
	for _, p := range phases {
		if p.Name == name {
			return p
		}
	}
	ginkgo.Fail("no phase " + name)
	return pipeline.Phase{}
}

func findTask(p pipeline.Phase, project string) pipeline.Task {
	ginkgo.GinkgoHelper()
	for _, t := range p.Tasks {
		if t.ProjectName == project {
			return t
		}
	}
	ginkgo.Fail("no task " + project + " in phase " + p.Name)
	return pipeline.Task{}
}

func findStep(t pipeline.Task, name string) pipeline.Step {
	ginkgo.GinkgoHelper()
	for _, s := range t.Steps {
		if s.Name == name {
			return s
		}
	}
	ginkgo.Fail("no step " + name + " in task " + t.ProjectName)
	return pipeline.Step{}
}

func newRelease(repo, project, commit string) *release.Release {
	return &release.Release{
		Repository: repo,
		Project:    project,
		CommitSHA:  commit,
		OCIURI:     "registry.acme.example/" + repo + "/" + project + ":" + commit,
		OCIDigest:  "sha256:" + commitSHA("digest "+commit) + commitSHA("digest2 " + commit)[:24],
		CreatedAt:  at(time.Hour),
		CreatedBy:  "release-bot@acme.example",
	}
}

func newDeployment(r *release.Release, env string, status release.DeploymentStatus, deployedAt time.Time) *release.Deployment {
	return &release.Deployment{
		ReleaseID:       r.ID,
		Repository:      r.Repository,
		Project:         r.Project,
		ReleaseNumber:   r.Number,
		Environment:     env,
		Status:          status,
		DeployedAt:      deployedAt,
		DeployedBy:      "bob@acme.example",
		GitOpsCommitSHA: commitSHA(fmt.Sprintf("gitops %s %s %s", r.ID, env, deployedAt)),
	}
}

func newApproval(releaseID, env string, approvedAt time.Time, expiresAt *time.Time) *release.Approval {
	return &release.Approval{
		ReleaseID:     releaseID,
		Environment:   env,
		Approver:      "carol@acme.example",
		ApprovedAt:    approvedAt,
		ExpiresAt:     expiresAt,
		Justification: "change ticket CHG-1234",
		Status:        release.ApprovalActive,
	}
}

// aliasNames projects aliases to "alias (type)" strings.
func aliasNames(as []release.Alias) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Alias + " (" + string(a.Type) + ")"
	}
	return out
}

// releaseNumbers projects releases to their numbers.
func releaseNumbers(rs []release.Release) []int {
	out := make([]int, len(rs))
	for i, r := range rs {
		out[i] = r.Number
	}
	return out
}

// --- store helpers that fail the spec on error ---

func (h *harness) mustRepository(name string) *repository.Repository {
	ginkgo.GinkgoHelper()
	got, _, err := h.store.CreateRepository(h.ctx, newRepository(name))
	Expect(err).NotTo(HaveOccurred())
	return got
}

// mustRun registers the repository and creates a run.
func (h *harness) mustRun(repo, branch, commit string, createdAt time.Time) *pipeline.Run {
	ginkgo.GinkgoHelper()
	h.mustRepository(repo)
	got, created, err := h.store.CreateRun(h.ctx, newRun(repo, branch, commit, createdAt))
	Expect(err).NotTo(HaveOccurred())
	Expect(created).To(BeTrue())
	return got
}

// mustPlannedRun creates a run with newPlan and returns it as GetRun does.
func (h *harness) mustPlannedRun(commit string) *pipeline.Run {
	ginkgo.GinkgoHelper()
	r := h.mustRun(repoName, "main", commit, at(0))
	_, err := h.store.AddPhases(h.ctx, r.ID, newPlan())
	Expect(err).NotTo(HaveOccurred())
	got, err := h.store.GetRun(h.ctx, r.ID)
	Expect(err).NotTo(HaveOccurred())
	return got
}

// setRunStatus moves a run to status through UpdateRun.
func (h *harness) setRunStatus(id string, status pipeline.Status) {
	ginkgo.GinkgoHelper()
	_, err := h.store.UpdateRun(h.ctx, id, func(r *pipeline.Run) error {
		r.Status = status
		return nil
	})
	Expect(err).NotTo(HaveOccurred())
}

// mustRelease registers the repository and creates a release.
func (h *harness) mustRelease(repo, project, commit string, aliases ...release.Alias) *release.Release {
	ginkgo.GinkgoHelper()
	h.mustRepository(repo)
	r := newRelease(repo, project, commit)
	r.Aliases = aliases
	got, created, err := h.store.CreateRelease(h.ctx, r)
	Expect(err).NotTo(HaveOccurred())
	Expect(created).To(BeTrue())
	return got
}

func (h *harness) mustDeployment(d *release.Deployment) *release.Deployment {
	ginkgo.GinkgoHelper()
	got, err := h.store.CreateDeployment(h.ctx, d)
	Expect(err).NotTo(HaveOccurred())
	return got
}

func (h *harness) deploymentStatus(id string) release.DeploymentStatus {
	ginkgo.GinkgoHelper()
	d, err := h.store.GetDeployment(h.ctx, id)
	Expect(err).NotTo(HaveOccurred())
	return d.Status
}

func (h *harness) mustApproval(a *release.Approval) *release.Approval {
	ginkgo.GinkgoHelper()
	got, err := h.store.CreateApproval(h.ctx, a)
	Expect(err).NotTo(HaveOccurred())
	return got
}

func (h *harness) approvalStatus(id string) release.ApprovalStatus {
	ginkgo.GinkgoHelper()
	a, err := h.store.GetApproval(h.ctx, id)
	Expect(err).NotTo(HaveOccurred())
	return a.Status
}

// page is shorthand for a ports.Page.
func page(limit, offset int) ports.Page { return ports.Page{Limit: limit, Offset: offset} }

// getRun reads a run through GetRun.
func (h *harness) getRun(id string) *pipeline.Run {
	ginkgo.GinkgoHelper()
	got, err := h.store.GetRun(h.ctx, id)
	Expect(err).NotTo(HaveOccurred())
	return got
}
