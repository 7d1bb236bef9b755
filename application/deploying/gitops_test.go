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
	back, _, err := f.svc.Rollback(ctx, alice, "dev", "acme/mono", "api")
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
