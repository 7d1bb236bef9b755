package deploying_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/memory/memqueue"
	"github.com/catalyst-forge/forge/application/deploying"
	"github.com/catalyst-forge/forge/application/working"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/job"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/ports"
)

// repo is a GitOps repository in memory, for the service's tests (the
// git adapter passes conformance/gitopstest against real remotes; the
// whole path runs through forge dev in reference/forgedev).
type repo struct {
	mu       sync.Mutex
	files    map[string][]byte
	messages []string
	refuse   error
}

func (r *repo) Apply(_ context.Context, c ports.GitOpsChange) (string, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refuse != nil {
		return "", false, r.refuse
	}
	r.files[c.Path] = c.Content
	r.messages = append([]string{c.Message}, r.messages...)
	sum := sha1.Sum([]byte(c.Message))
	return hex.EncodeToString(sum[:]), true, nil
}

func (r *repo) Read(_ context.Context, p string) ([]byte, string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.files[p], "", nil
}

// gitopsFixture deploys through a job queue to a worker that writes
// pointers to g.
func gitopsFixture(t *testing.T, g *repo) *fixture {
	t.Helper()
	f := newFixture(t)
	q := memqueue.New()
	f.svc.Jobs, f.svc.DeployTimeout = q, 20*time.Second
	g.files = map[string][]byte{}
	w := &working.Worker{GitOps: g}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = q.Consume(ctx, []job.Type{job.TypeDeployment}, 2, w.Handle) }()
	t.Cleanup(func() { cancel(); <-done })
	return f
}

func (f *fixture) imaged(t *testing.T, r *release.Release) *release.Release {
	t.Helper()
	got, err := f.store.SetReleaseImage(context.Background(), r.ID, "sha256:"+strings.Repeat(string(rune('0'+r.Number)), 64))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestDeploymentsCommitPointers: a deployment is pending until a worker
// has committed its pointer, then active with that commit; the pointer in
// the repository is the release's; a rollback commits spec 05's message;
// a release without an image cannot be deployed.
func TestDeploymentsCommitPointers(t *testing.T) {
	g := &repo{}
	f := gitopsFixture(t, g)
	ctx := context.Background()
	r1 := f.imaged(t, f.release(t, "api", 1, release.Trigger{Type: release.TriggerBranchPush, Branch: "main"}))
	r2 := f.imaged(t, f.release(t, "api", 2, release.Trigger{Type: release.TriggerBranchPush, Branch: "main"}))
	bare := f.release(t, "api", 3, release.Trigger{Type: release.TriggerBranchPush, Branch: "main"})

	d1, err := f.svc.Deploy(ctx, alice, deploying.DeployRequest{ReleaseID: r1.ID, Environment: "dev"})
	if err != nil || d1.Status != release.DeploymentActive || len(d1.GitOpsCommitSHA) != 40 {
		t.Fatalf("deploy = %+v, %v", d1, err)
	}
	p, err := deploying.ParsePointer(g.files["environments/dev/acme/mono/api/release.yaml"], "environments/dev/acme/mono/api")
	if err != nil || p.Spec.Release != r1.CommitSHA || p.Spec.Digest != r1.OCIDigest || p.Spec.DeployedBy != "alice" {
		t.Fatalf("pointer = %+v, %v", p, err)
	}
	d2, err := f.svc.Deploy(ctx, alice, deploying.DeployRequest{ReleaseID: r2.ID, Environment: "dev"})
	if err != nil || d2.Status != release.DeploymentActive {
		t.Fatalf("second deploy = %+v, %v", d2, err)
	}
	if old, _ := f.store.GetDeployment(ctx, d1.ID); old.Status != release.DeploymentSuperseded {
		t.Errorf("the first deployment is %s", old.Status)
	}
	back, _, err := f.svc.Rollback(ctx, alice, "dev", "acme/mono", "api", "")
	if err != nil || back.Status != release.DeploymentActive {
		t.Fatalf("rollback = %+v, %v", back, err)
	}
	if logs := g.messages; len(logs) != 3 || !strings.HasPrefix(logs[0], "Rollback api in dev to release 1 (1)\n\nPrevious release: 2 (2)\nRolled back by: alice\n") ||
		!strings.HasPrefix(logs[1], "Deploy api to dev: release 2 (2)") {
		t.Errorf("commit messages:\n%q", logs)
	}
	if _, err := f.svc.Deploy(ctx, alice, deploying.DeployRequest{ReleaseID: bare.ID, Environment: "dev"}); err == nil || !strings.Contains(err.Error(), "has no image yet") {
		t.Errorf("a release without an image: %v", err)
	}
}

// TestDeploymentFailsWithTheReason: a push that cannot land marks the
// deployment failed with why, and the active one stays active.
func TestDeploymentFailsWithTheReason(t *testing.T) {
	f := gitopsFixture(t, &repo{refuse: fault.New(fault.PermissionDenied, "gitops: pushing to https://git.example.com/gitops.git: the remote refused the credentials")})
	ctx := context.Background()
	r := f.imaged(t, f.release(t, "api", 1, release.Trigger{Type: release.TriggerBranchPush, Branch: "main"}))
	d, err := f.svc.Deploy(ctx, alice, deploying.DeployRequest{ReleaseID: r.ID, Environment: "dev"})
	if err != nil || d.Status != release.DeploymentFailed || !strings.Contains(d.Reason, "writing environments/dev/acme/mono/api/release.yaml to the GitOps repository failed: gitops: pushing to https://git.example.com/gitops.git: the remote refused the credentials") {
		t.Fatalf("deploy to a missing repository = %+v, %v", d, err)
	}
	if _, err := f.svc.Current(ctx, alice, "dev", "acme/mono", "api"); err == nil {
		t.Error("a failed deployment became current")
	}
}

// TestAutoDeploy: a new release is deployed to every environment whose
// policy auto-deploys and admits its trigger (dev, by default), once.
func TestAutoDeploy(t *testing.T) {
	g := &repo{}
	f := gitopsFixture(t, g)
	ctx := context.Background()
	r := f.imaged(t, f.release(t, "api", 1, release.Trigger{Type: release.TriggerBranchPush, Branch: "main"}))
	ds, err := f.svc.AutoDeploy(ctx, r.ID)
	if err != nil || len(ds) != 1 || ds[0].Environment != "dev" || ds[0].Status != release.DeploymentActive || ds[0].DeployedBy != "forge (auto-deploy)" {
		t.Fatalf("auto-deploy = %+v, %v; want dev alone", ds, err)
	}
	if _, ok := g.files["environments/dev/acme/mono/api/release.yaml"]; !ok {
		t.Error("no pointer in dev")
	}
	if again, err := f.svc.AutoDeploy(ctx, r.ID); err != nil || len(again) != 0 {
		t.Errorf("auto-deploying again = %+v, %v; want nothing: it is active in dev", again, err)
	}
}

// abandoned saves a pending deployment as a process that died before
// dispatching its job leaves it.
func (f *fixture) abandoned(t *testing.T, r *release.Release, env string, at time.Time, rollbackOf *string) *release.Deployment {
	t.Helper()
	d, err := f.store.CreateDeployment(context.Background(), &release.Deployment{ReleaseID: r.ID, Repository: r.Repository, Project: r.Project,
		ReleaseNumber: r.Number, Environment: env, Status: release.DeploymentPending, DeployedAt: at, DeployedBy: "alice", RollbackOf: rollbackOf})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestResumeFinishesAbandonedDeployments: deployments left pending by a
// dead process are pushed again (a rollback with its rollback message,
// the pointer with its first deployer and time) or, when a later
// deployment of the same place exists, failed as superseded; a pending
// deployment younger than AbandonedAfter is left to the live process.
func TestResumeFinishesAbandonedDeployments(t *testing.T) {
	g := &repo{}
	f := gitopsFixture(t, g)
	ctx := context.Background()
	main := release.Trigger{Type: release.TriggerBranchPush, Branch: "main"}
	r1, r2 := f.imaged(t, f.release(t, "api", 1, main)), f.imaged(t, f.release(t, "api", 2, main))
	w1 := f.imaged(t, f.release(t, "web", 1, main))
	f.now = f.now.Add(-time.Hour)
	if _, err := f.svc.Deploy(ctx, alice, deploying.DeployRequest{ReleaseID: r1.ID, Environment: "dev"}); err != nil {
		t.Fatal(err)
	}
	d2, err := f.svc.Deploy(ctx, alice, deploying.DeployRequest{ReleaseID: r2.ID, Environment: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Hour)
	back := f.abandoned(t, r1, "dev", f.now.Add(-10*time.Minute), &d2.ID)
	older := f.abandoned(t, r1, "staging", f.now.Add(-9*time.Minute), nil)
	newer := f.abandoned(t, r2, "staging", f.now.Add(-8*time.Minute), nil)
	young := f.abandoned(t, w1, "dev", f.now.Add(-time.Second), nil)

	got, err := f.svc.Resume(ctx, f.now.Add(-f.svc.AbandonedAfter()))
	if err != nil || len(got) != 3 {
		t.Fatalf("resume = %+v, %v; want three", got, err)
	}
	if got[0].ID != back.ID || got[0].Status != release.DeploymentActive || len(got[0].GitOpsCommitSHA) != 40 {
		t.Errorf("the rollback resumed as %+v", got[0])
	}
	if !strings.HasPrefix(g.messages[1], "Rollback api in dev to release 1 (1)\n\nPrevious release: 2 (2)\nRolled back by: alice\n") {
		t.Errorf("the resumed rollback committed %q", g.messages[1])
	}
	p, err := deploying.ParsePointer(g.files["environments/dev/acme/mono/api/release.yaml"], "environments/dev/acme/mono/api")
	if err != nil || p.Spec.Release != r1.CommitSHA || p.Spec.DeployedBy != "alice" || !p.Spec.DeployedAt.Equal(back.DeployedAt) {
		t.Errorf("pointer after the resumed rollback = %+v, %v", p, err)
	}
	if got[1].ID != older.ID || got[1].Status != release.DeploymentFailed ||
		got[1].Reason != "superseded before its outcome was recorded: deployment "+newer.ID+" of release 2 (pending) came after it" {
		t.Errorf("the superseded one = %+v", got[1])
	}
	if got[2].ID != newer.ID || got[2].Status != release.DeploymentActive {
		t.Errorf("the newer one = %+v", got[2])
	}
	if d, _ := f.store.GetDeployment(ctx, young.ID); d.Status != release.DeploymentPending {
		t.Errorf("a deployment younger than AbandonedAfter became %s", d.Status)
	}
	if again, err := f.svc.Resume(ctx, f.now.Add(-f.svc.AbandonedAfter())); err != nil || len(again) != 0 {
		t.Errorf("resuming again = %+v, %v; want nothing", again, err)
	}
}

// TestAutoDeployFinishesAnEarlierAttempt: a retried release stage whose
// first process died after recording its auto-deployment finishes that
// deployment instead of making another.
func TestAutoDeployFinishesAnEarlierAttempt(t *testing.T) {
	g := &repo{}
	f := gitopsFixture(t, g)
	ctx := context.Background()
	r := f.imaged(t, f.release(t, "api", 1, release.Trigger{Type: release.TriggerBranchPush, Branch: "main"}))
	left := f.abandoned(t, r, "dev", f.now.Add(-time.Minute), nil)
	ds, err := f.svc.AutoDeploy(ctx, r.ID)
	if err != nil || len(ds) != 1 || ds[0].ID != left.ID || ds[0].Status != release.DeploymentActive {
		t.Fatalf("auto-deploy = %+v, %v; want the earlier deployment finished", ds, err)
	}
	if all, total, _ := f.store.ListDeployments(ctx, "dev", "acme/mono", "api", ports.Page{}); total != 1 || len(g.messages) != 1 {
		t.Errorf("deployments %+v and commits %q; want one of each", all, g.messages)
	}
}
