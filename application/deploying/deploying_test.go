package deploying_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/memory/memstore"
	"github.com/catalyst-forge/forge/application/deploying"
	"github.com/catalyst-forge/forge/application/limiting"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/release"
)

var (
	alice = &identity.Principal{Subject: "alice", Roles: []identity.Role{identity.RoleDeveloper}}
	bob   = &identity.Principal{Subject: "bob", Roles: []identity.Role{identity.RoleApprover}}
	carol = &identity.Principal{Subject: "carol", Roles: []identity.Role{identity.RoleApprover, identity.RoleDeveloper}}
	ops   = &identity.Principal{Subject: "ops", Roles: []identity.Role{identity.RoleOperator}}
)

type fixture struct {
	svc   *deploying.Service
	store *memstore.Store
	now   time.Time
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{store: memstore.New(), now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return f.now }
	f.svc = &deploying.Service{Store: f.store, Clock: clock, Limiter: limiting.New(clock)}
	return f
}

func (f *fixture) release(t *testing.T, project string, n int, trig release.Trigger) *release.Release {
	t.Helper()
	sha := strings.Repeat(string(rune('a'+n)), 40)
	trig.TriggeredAt, trig.TriggeredBy = f.now, "ci"
	r, _, err := f.store.CreateRelease(context.Background(), &release.Release{
		Repository: "acme/mono", Project: project, CommitSHA: sha, CreatedAt: f.now, CreatedBy: "ci", Trigger: &trig,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDeployToDevAndSupersede(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r1 := f.release(t, "api", 1, release.Trigger{Type: release.TriggerBranchPush, Branch: "feature/x"})
	r2 := f.release(t, "api", 2, release.Trigger{Type: release.TriggerBranchPush, Branch: "main"})
	d1, err := f.svc.Deploy(ctx, alice, deploying.DeployRequest{ReleaseID: r1.ID, Environment: "dev"})
	if err != nil || d1.Status != release.DeploymentActive || d1.DeployedBy != "alice" || d1.ReleaseNumber != 1 {
		t.Fatalf("deploy 1 = %+v, %v", d1, err)
	}
	d2, err := f.svc.Deploy(ctx, alice, deploying.DeployRequest{ReleaseID: r2.ID, Environment: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := f.svc.Current(ctx, bob, "dev", "acme/mono", "api")
	if err != nil || cur.ID != d2.ID {
		t.Fatalf("current = %+v, %v; want deployment 2", cur, err)
	}
	old, _ := f.store.GetDeployment(ctx, d1.ID)
	if old.Status != release.DeploymentSuperseded {
		t.Errorf("first deployment is %s, want superseded", old.Status)
	}

	back, prev, err := f.svc.Rollback(ctx, alice, "dev", "acme/mono", "api", "")
	if err != nil || back.ReleaseID != r1.ID || prev.ID != d2.ID {
		t.Fatalf("rollback = %+v (prev %+v), %v; want release 1 again", back, prev, err)
	}
}

func TestPolicyRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	feature := f.release(t, "api", 1, release.Trigger{Type: release.TriggerBranchPush, Branch: "feature/x"})
	cases := []struct {
		name string
		who  *identity.Principal
		req  deploying.DeployRequest
		kind fault.Kind
		msg  string
	}{
		{"branch not allowed in staging", alice, deploying.DeployRequest{ReleaseID: feature.ID, Environment: "staging"}, fault.PermissionDenied,
			"environment staging does not accept releases from branch feature/x (allowed_branches: main, release/*)"},
		{"branch pushes never reach production", ops, deploying.DeployRequest{ReleaseID: feature.ID, Environment: "production"}, fault.PermissionDenied,
			"does not accept releases triggered by branch_push (allowed_triggers: tag, manual)"},
		{"approver may not deploy to production", bob, deploying.DeployRequest{ReleaseID: feature.ID, Environment: "production"}, fault.PermissionDenied,
			"deploying to production needs one of the roles developer, operator"},
		{"unknown environment", alice, deploying.DeployRequest{ReleaseID: feature.ID, Environment: "qa"}, fault.Validation,
			`unknown environment "qa" (environments: dev, production, staging)`},
		{"unknown release", alice, deploying.DeployRequest{ReleaseID: "nope", Environment: "dev"}, fault.NotFound, ""},
	}
	for _, c := range cases {
		_, err := f.svc.Deploy(ctx, c.who, c.req)
		if fault.KindOf(err) != c.kind || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want %s with %q", c.name, err, c.kind, c.msg)
		}
	}
}

func TestProductionNeedsApprovalFromSomeoneElse(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.release(t, "api", 1, release.Trigger{Type: release.TriggerTag, Tag: "api/v1.0.0"})

	_, err := f.svc.Deploy(ctx, alice, deploying.DeployRequest{ReleaseID: r.ID, Environment: "production"})
	if !fault.Is(err, fault.PermissionDenied) || !strings.Contains(err.Error(), "production requires an active approval of api release 1") {
		t.Fatalf("deploy without approval = %v", err)
	}
	if _, err := f.svc.Approve(ctx, alice, deploying.ApproveRequest{ReleaseID: r.ID, Environment: "production", Justification: "x"}); !fault.Is(err, fault.PermissionDenied) {
		t.Errorf("a developer approved: %v", err)
	}
	if _, err := f.svc.Approve(ctx, bob, deploying.ApproveRequest{ReleaseID: r.ID, Environment: "production", Justification: "  "}); !fault.Is(err, fault.Validation) {
		t.Errorf("empty justification accepted: %v", err)
	}
	a, err := f.svc.Approve(ctx, carol, deploying.ApproveRequest{ReleaseID: r.ID, Environment: "production", Justification: "CHG-1 reviewed"})
	if err != nil || a.ExpiresAt == nil || !a.ExpiresAt.Equal(f.now.Add(24*time.Hour)) {
		t.Fatalf("approve = %+v, %v", a, err)
	}
	// carol approved, so carol cannot deploy on that approval.
	if _, err := f.svc.Deploy(ctx, carol, deploying.DeployRequest{ReleaseID: r.ID, Environment: "production"}); !fault.Is(err, fault.PermissionDenied) ||
		!strings.Contains(err.Error(), "carol approved this release for production and cannot also deploy it") {
		t.Fatalf("approver deploying = %v", err)
	}
	// After expiry the approval no longer counts.
	f.now = f.now.Add(25 * time.Hour)
	got, err := f.svc.Approval(ctx, alice, r.ID, "production")
	if err != nil || got.Status != release.ApprovalExpired {
		t.Fatalf("approval after 25 h = %+v, %v; want expired", got, err)
	}
	if _, err := f.svc.Deploy(ctx, alice, deploying.DeployRequest{ReleaseID: r.ID, Environment: "production"}); !fault.Is(err, fault.PermissionDenied) {
		t.Fatalf("deploy on an expired approval = %v", err)
	}
	// A fresh approval from bob lets alice deploy.
	a2, err := f.svc.Approve(ctx, bob, deploying.ApproveRequest{ReleaseID: r.ID, Environment: "production", Justification: "again"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.svc.Deploy(ctx, alice, deploying.DeployRequest{ReleaseID: r.ID, Environment: "production"})
	if err != nil || d.ApprovalID == nil || *d.ApprovalID != a2.ID {
		t.Fatalf("deploy with approval = %+v, %v", d, err)
	}
	// Revoked approvals stop counting.
	if _, err := f.svc.Revoke(ctx, alice, a2.ID); !fault.Is(err, fault.PermissionDenied) {
		t.Errorf("a developer revoked: %v", err)
	}
	if _, err := f.svc.Revoke(ctx, ops, a2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Revoke(ctx, ops, a2.ID); !fault.Is(err, fault.Conflict) {
		t.Errorf("revoking twice = %v", err)
	}
	if _, err := f.svc.Deploy(ctx, alice, deploying.DeployRequest{ReleaseID: r.ID, Environment: "production", ApprovalID: a2.ID}); !fault.Is(err, fault.PermissionDenied) ||
		!strings.Contains(err.Error(), "is revoked") {
		t.Errorf("deploy on a revoked approval = %v", err)
	}
}

func TestDeploymentRateLimit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.release(t, "api", 1, release.Trigger{Type: release.TriggerManual})
	for i := range 10 {
		if _, err := f.svc.Deploy(ctx, alice, deploying.DeployRequest{ReleaseID: r.ID, Environment: "dev"}); err != nil {
			t.Fatalf("deployment %d: %v", i+1, err)
		}
	}
	if _, err := f.svc.Deploy(ctx, alice, deploying.DeployRequest{ReleaseID: r.ID, Environment: "dev"}); !fault.Is(err, fault.RateLimited) {
		t.Fatalf("11th deployment in a minute = %v", err)
	}
	if _, err := f.svc.Deploy(ctx, alice, deploying.DeployRequest{ReleaseID: r.ID, Environment: "staging"}); fault.Is(err, fault.RateLimited) {
		t.Fatalf("another environment is limited too: %v", err)
	}
}

func TestRollbackWithoutHistory(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, _, err := f.svc.Rollback(ctx, alice, "dev", "acme/mono", "api", ""); !fault.Is(err, fault.NotFound) {
		t.Errorf("rollback with nothing deployed = %v", err)
	}
	r := f.release(t, "api", 1, release.Trigger{Type: release.TriggerManual})
	if _, err := f.svc.Deploy(ctx, alice, deploying.DeployRequest{ReleaseID: r.ID, Environment: "dev"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Rollback(ctx, alice, "dev", "acme/mono", "api", ""); !fault.Is(err, fault.Conflict) {
		t.Errorf("rollback with one release = %v", err)
	}
}

// TestRollbackToANamedRelease: --to rolls back to an older release named
// by an alias, a number or a commit prefix; the active release, a newer
// one or an unknown one is refused.
func TestRollbackToANamedRelease(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var ds []*release.Deployment
	for n := 1; n <= 3; n++ {
		r := f.release(t, "api", n, release.Trigger{Type: release.TriggerBranchPush, Branch: "main"})
		d, err := f.svc.Deploy(ctx, alice, deploying.DeployRequest{ReleaseID: r.ID, Environment: "dev"})
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	back, from, err := f.svc.Rollback(ctx, alice, "dev", "acme/mono", "api", strings.Repeat("b", 12))
	if err != nil || back.ReleaseNumber != 1 || from.ID != ds[2].ID || back.RollbackOf == nil || *back.RollbackOf != ds[2].ID {
		t.Fatalf("rollback to release 1 by its commit prefix = %+v (from %+v), %v", back, from, err)
	}
	if cur, err := f.svc.Current(ctx, alice, "dev", "acme/mono", "api"); err != nil || cur.ID != back.ID {
		t.Errorf("current = %+v, %v; want the rollback", cur, err)
	}
	for to, kind := range map[string]fault.Kind{"1": fault.Conflict, "3": fault.Conflict, "9": fault.NotFound} {
		if _, _, err := f.svc.Rollback(ctx, alice, "dev", "acme/mono", "api", to); !fault.Is(err, kind) {
			t.Errorf("rollback --to %s = %v; want %s", to, err, kind)
		}
	}
	if _, _, err := f.svc.Rollback(ctx, alice, "dev", "acme/mono", "api", "3"); err == nil || !strings.Contains(err.Error(), "forge deploy dev api 3") {
		t.Errorf("rollback to a newer release = %v; want a pointer to forge deploy", err)
	}
}
