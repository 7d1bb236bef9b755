package httptransport_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

// deploy asks for a deployment as who.
func (e *env) deploy(who, releaseID, environment string) reply {
	e.t.Helper()
	return e.do(http.MethodPost, "/v1/deployments", who, endpoints.DeployRequest{ReleaseID: releaseID, Environment: environment})
}

// approve approves a release for an environment as who.
func (e *env) approve(who, releaseID, environment string) reply {
	e.t.Helper()
	return e.do(http.MethodPost, "/v1/approvals", who, endpoints.ApproveRequest{ReleaseID: releaseID, Environment: environment, Justification: "CHG-1234 reviewed"})
}

func TestDeployAndCurrentDeployment(t *testing.T) {
	e := newEnv(t)
	rel := e.branchRelease("api", sha("a1"), "feature-login")

	e.do(http.MethodGet, "/v1/deployments/dev/acme/mono/api", alice, nil).wantError(t, http.StatusNotFound, fault.NotFound).
		wantMessage(t, "acme/mono/api has no active deployment in dev")

	r := e.deploy(alice, rel.ID, "dev").want(t, http.StatusCreated)
	obj := object(t, r)
	d := decode[endpoints.DeploymentResponse](t, r)
	if d.ID == "" || d.DeploymentID != d.ID || obj["deployment_id"] != d.ID {
		t.Errorf("id %q, deployment_id %q", d.ID, d.DeploymentID)
	}
	if _, ok := obj["status"].(string); !ok || (d.Status != "active" && d.Status != "pending") {
		t.Errorf("status = %v", obj["status"])
	}
	if _, ok := obj["gitops_commit_sha"]; !ok {
		t.Errorf("no gitops_commit_sha in %s", r.body)
	}
	if d.ReleaseID != rel.ID || d.ReleaseNumber != 1 || d.Environment != "dev" || d.DeployedBy != alice || !d.DeployedAt.Equal(start) ||
		d.Repository != "acme/mono" || d.Project != "api" || d.ApprovalID != nil {
		t.Errorf("deployment = %s", r.body)
	}

	cur := decode[endpoints.DeploymentResponse](t, e.do(http.MethodGet, "/v1/deployments/dev/acme/mono/api", bob, nil).want(t, http.StatusOK))
	if cur != d {
		t.Errorf("current = %+v, want %+v", cur, d)
	}

	// A newer deployment supersedes it.
	e.clock.Advance(time.Minute)
	rel2 := e.branchRelease("api", sha("a2"), "main")
	d2 := decode[endpoints.DeploymentResponse](t, e.deploy(ci, rel2.ID, "dev").want(t, http.StatusCreated))
	cur = decode[endpoints.DeploymentResponse](t, e.do(http.MethodGet, "/v1/deployments/dev/acme/mono/api", alice, nil).want(t, http.StatusOK))
	if cur.ID != d2.ID || cur.ReleaseNumber != 2 || cur.DeployedBy != ci {
		t.Errorf("current after a second deployment = %+v", cur)
	}
	// Other environments are separate.
	e.do(http.MethodGet, "/v1/deployments/staging/acme/mono/api", alice, nil).wantError(t, http.StatusNotFound, fault.NotFound)
	e.do(http.MethodGet, "/v1/deployments/qa/acme/mono/api", alice, nil).wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, "environment")

	// Bad requests.
	e.deploy(alice, "no-such-release", "dev").wantError(t, http.StatusNotFound, fault.NotFound)
	e.deploy(alice, rel.ID, "qa").wantError(t, http.StatusUnprocessableEntity, fault.Validation).
		wantMessage(t, `unknown environment "qa" (environments: dev, production, staging)`)
	e.do(http.MethodPost, "/v1/deployments", alice, `{"release_id":"x","environment":"dev","force":true}`).
		wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, "force")
}

func TestDeployRoles(t *testing.T) {
	e := newEnv(t)
	rel := e.branchRelease("api", sha("b1"), "main")
	// dev takes every role; staging developers, operators and service accounts.
	for _, who := range []string{alice, bob, carol, ci} {
		e.deploy(who, rel.ID, "dev").want(t, http.StatusCreated)
	}
	for _, who := range []string{alice, carol, ci} {
		e.deploy(who, rel.ID, "staging").want(t, http.StatusCreated)
	}
	a := e.deploy(bob, rel.ID, "staging").wantError(t, http.StatusForbidden, fault.PermissionDenied)
	a.wantMessage(t, "deploying to staging needs one of the roles developer, operator, service-account")
	if a.Details["rule"] != "deploy_roles" {
		t.Errorf("details = %v", a.Details)
	}

	// Production: an approver may not deploy at all, nor a service account.
	tag := e.tagRelease("api", sha("b2"), "v1.0.0")
	e.approve(bob, tag.ID, "production").want(t, http.StatusCreated)
	e.deploy(bob, tag.ID, "production").wantError(t, http.StatusForbidden, fault.PermissionDenied).
		wantMessage(t, "deploying to production needs one of the roles developer, operator")
	e.deploy(ci, tag.ID, "production").wantError(t, http.StatusForbidden, fault.PermissionDenied).
		wantMessage(t, "deploying to production needs one of the roles developer, operator")
	e.deploy(carol, tag.ID, "production").want(t, http.StatusCreated)
}

func TestPolicyRefusals(t *testing.T) {
	e := newEnv(t)
	feature := e.branchRelease("api", sha("c1"), "feature-login")
	mainPush := e.branchRelease("api", sha("c2"), "main")
	tag := e.tagRelease("api", sha("c3"), "api/v1.0.0")

	t.Run("staging from a feature branch", func(t *testing.T) {
		a := e.deploy(alice, feature.ID, "staging").wantError(t, http.StatusForbidden, fault.PermissionDenied)
		a.wantMessage(t, "environment staging does not accept releases from branch feature-login", "allowed_branches: main, release/*")
		if a.Details["rule"] != "allowed_branches" || a.Details["actual"] != "feature-login" {
			t.Errorf("details = %v", a.Details)
		}
		// The same release is fine in dev, and main is fine in staging.
		e.deploy(alice, feature.ID, "dev").want(t, http.StatusCreated)
		e.deploy(alice, mainPush.ID, "staging").want(t, http.StatusCreated)
	})
	t.Run("production from a branch push", func(t *testing.T) {
		e.approve(bob, mainPush.ID, "production").want(t, http.StatusCreated)
		a := e.deploy(alice, mainPush.ID, "production").wantError(t, http.StatusForbidden, fault.PermissionDenied)
		a.wantMessage(t, "environment production does not accept releases triggered by branch_push", "allowed_triggers: tag, manual")
		if a.Details["rule"] != "allowed_triggers" || a.Details["actual"] != "branch_push" {
			t.Errorf("details = %v", a.Details)
		}
	})
	t.Run("production without approval", func(t *testing.T) {
		a := e.deploy(alice, tag.ID, "production").wantError(t, http.StatusForbidden, fault.PermissionDenied)
		a.wantMessage(t, "production requires an active approval of api release 3", "forge approve acme/mono/api/3 production")
		if a.Details["rule"] != "requires_approval" {
			t.Errorf("details = %v", a.Details)
		}
	})
	t.Run("the approver deploys their own approval", func(t *testing.T) {
		own := e.tagRelease("api", sha("c4"), "api/v1.1.0")
		erin := e.token("erin", identity.RoleDeveloper, identity.RoleApprover)
		e.send(e.request(http.MethodPost, "/v1/approvals", erin, endpoints.ApproveRequest{ReleaseID: own.ID, Environment: "production", Justification: "mine"})).
			want(t, http.StatusCreated)
		a := e.send(e.request(http.MethodPost, "/v1/deployments", erin, endpoints.DeployRequest{ReleaseID: own.ID, Environment: "production"})).
			wantError(t, http.StatusForbidden, fault.PermissionDenied)
		a.wantMessage(t, "erin approved this release for production and cannot also deploy it")
		if a.Details["rule"] != "separation_of_duties" {
			t.Errorf("details = %v", a.Details)
		}
		// Someone else may deploy on the strength of erin's approval.
		e.deploy(alice, own.ID, "production").want(t, http.StatusCreated)
	})
}

func TestProductionDeploymentWithApproval(t *testing.T) {
	e := newEnv(t)
	tag := e.tagRelease("api", sha("d1"), "api/v2.0.0")
	other := e.tagRelease("api", sha("d2"), "api/v2.0.1")

	ap := decode[release.Approval](t, e.approve(bob, tag.ID, "production").want(t, http.StatusCreated))
	d := decode[endpoints.DeploymentResponse](t, e.deploy(alice, tag.ID, "production").want(t, http.StatusCreated))
	if d.ApprovalID == nil || *d.ApprovalID != ap.ID {
		t.Errorf("deployment approval_id = %v, want %s", d.ApprovalID, ap.ID)
	}
	// An explicit approval must be for this release and environment.
	e.do(http.MethodPost, "/v1/deployments", alice, endpoints.DeployRequest{ReleaseID: other.ID, Environment: "production", ApprovalID: ap.ID}).
		wantError(t, http.StatusForbidden, fault.PermissionDenied).wantMessage(t, "is for another release or environment")
	explicit := decode[endpoints.DeploymentResponse](t, e.do(http.MethodPost, "/v1/deployments", carol,
		endpoints.DeployRequest{ReleaseID: tag.ID, Environment: "production", ApprovalID: ap.ID}).want(t, http.StatusCreated))
	if explicit.ApprovalID == nil || *explicit.ApprovalID != ap.ID {
		t.Errorf("explicit approval_id = %v", explicit.ApprovalID)
	}
	// Once expired, the approval no longer allows deployments.
	e.clock.Advance(24 * time.Hour)
	e.deploy(alice, tag.ID, "production").wantError(t, http.StatusForbidden, fault.PermissionDenied).wantMessage(t, "requires an active approval")
	e.do(http.MethodPost, "/v1/deployments", alice, endpoints.DeployRequest{ReleaseID: tag.ID, Environment: "production", ApprovalID: ap.ID}).
		wantError(t, http.StatusForbidden, fault.PermissionDenied).wantMessage(t, "approval "+ap.ID+" is expired")
}

func TestApprovals(t *testing.T) {
	e := newEnv(t)
	tag := e.tagRelease("api", sha("e1"), "api/v3.0.0")
	base := "/v1/approvals/" + tag.ID + "/production"

	e.do(http.MethodGet, base, alice, nil).wantError(t, http.StatusNotFound, fault.NotFound).
		wantMessage(t, "release "+tag.ID+" has no approval for production")

	r := e.approve(bob, tag.ID, "production").want(t, http.StatusCreated)
	obj := object(t, r)
	id, _ := obj["approval_id"].(string)
	if id == "" || obj["expires_at"] != at(start.Add(24*time.Hour)) {
		t.Errorf("approval = %s, want expires_at %s", r.body, at(start.Add(24*time.Hour)))
	}
	if obj["approver"] != bob || obj["status"] != "active" || obj["release_id"] != tag.ID || obj["environment"] != "production" ||
		obj["justification"] != "CHG-1234 reviewed" || obj["approved_at"] != at(start) {
		t.Errorf("approval = %s", r.body)
	}

	got := object(t, e.do(http.MethodGet, base, alice, nil).want(t, http.StatusOK))
	if got["approval_id"] != id || got["approver"] != bob || got["approved_at"] != at(start) || got["status"] != "active" {
		t.Errorf("approval status = %v", got)
	}
	e.clock.Advance(24*time.Hour - time.Second)
	if got := object(t, e.do(http.MethodGet, base, ci, nil).want(t, http.StatusOK)); got["status"] != "active" {
		t.Errorf("a second before expiry: %v", got["status"])
	}
	e.clock.Advance(time.Second)
	if got := object(t, e.do(http.MethodGet, base, ci, nil).want(t, http.StatusOK)); got["status"] != "expired" {
		t.Errorf("at expiry: status %v, want expired", got["status"])
	}
	// An expired approval cannot be revoked.
	e.do(http.MethodPost, "/v1/approvals/"+id+"/revoke", bob, nil).wantError(t, http.StatusConflict, fault.Conflict).
		wantMessage(t, "approval "+id+" is already expired")

	// Refusals of approving.
	for _, who := range []string{alice, carol, ci} {
		e.approve(who, tag.ID, "production").wantError(t, http.StatusForbidden, fault.PermissionDenied).
			wantMessage(t, "approve needs one of the roles approver")
	}
	e.do(http.MethodPost, "/v1/approvals", bob, endpoints.ApproveRequest{ReleaseID: tag.ID, Environment: "production", Justification: "  "}).
		wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, "justification")
	e.approve(bob, tag.ID, "qa").wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, "environment")
	e.approve(bob, "no-such-release", "production").wantError(t, http.StatusNotFound, fault.NotFound)
}

func TestRevokeApproval(t *testing.T) {
	e := newEnv(t)
	tag := e.tagRelease("api", sha("f1"), "api/v4.0.0")
	id := object(t, e.approve(bob, tag.ID, "production").want(t, http.StatusCreated))["approval_id"].(string)
	path := "/v1/approvals/" + id + "/revoke"

	for _, who := range []string{alice, ci} {
		e.do(http.MethodPost, path, who, nil).wantError(t, http.StatusForbidden, fault.PermissionDenied).
			wantMessage(t, "revoking an approval needs the approver or operator role")
	}
	r := object(t, e.do(http.MethodPost, path, carol, nil).want(t, http.StatusOK))
	if r["approval_id"] != id || r["status"] != "revoked" {
		t.Errorf("revoked = %v", r)
	}
	if got := object(t, e.do(http.MethodGet, "/v1/approvals/"+tag.ID+"/production", alice, nil).want(t, http.StatusOK)); got["status"] != "revoked" {
		t.Errorf("status after revoke = %v", got["status"])
	}
	e.do(http.MethodPost, path, bob, nil).wantError(t, http.StatusConflict, fault.Conflict).wantMessage(t, "is already revoked")
	e.do(http.MethodPost, "/v1/approvals/no-such-approval/revoke", bob, nil).wantError(t, http.StatusNotFound, fault.NotFound)
	// A revoked approval does not allow deployments.
	e.deploy(alice, tag.ID, "production").wantError(t, http.StatusForbidden, fault.PermissionDenied).wantMessage(t, "requires an active approval")
}

func TestRollback(t *testing.T) {
	e := newEnv(t)
	body := endpoints.RollbackRequest{Environment: "dev", Repository: "acme/mono", Project: "api"}
	e.do(http.MethodPost, "/v1/rollbacks", alice, body).wantError(t, http.StatusNotFound, fault.NotFound).
		wantMessage(t, "acme/mono/api has no active deployment in dev to roll back")

	one := e.branchRelease("api", sha("a9"), "main")
	two := e.branchRelease("api", sha("b9"), "main")
	first := decode[endpoints.DeploymentResponse](t, e.deploy(alice, one.ID, "dev").want(t, http.StatusCreated))
	e.do(http.MethodPost, "/v1/rollbacks", alice, body).wantError(t, http.StatusConflict, fault.Conflict).
		wantMessage(t, "has had no other release in dev to roll back to")

	e.clock.Advance(time.Minute)
	second := decode[endpoints.DeploymentResponse](t, e.deploy(alice, two.ID, "dev").want(t, http.StatusCreated))
	e.clock.Advance(time.Minute)
	r := e.do(http.MethodPost, "/v1/rollbacks", carol, body).want(t, http.StatusCreated)
	rb := decode[endpoints.DeploymentResponse](t, r)
	if rb.ReleaseID != one.ID || rb.ReleaseNumber != 1 || rb.DeployedBy != carol || rb.ID == first.ID || rb.ID != rb.DeploymentID {
		t.Errorf("rollback = %s", r.body)
	}
	if rb.Previous == nil || rb.Previous.DeploymentID != second.ID || rb.Previous.ReleaseID != two.ID || rb.Previous.ReleaseNumber != 2 {
		t.Errorf("previous = %+v, want deployment %s of release 2", rb.Previous, second.ID)
	}
	cur := decode[endpoints.DeploymentResponse](t, e.do(http.MethodGet, "/v1/deployments/dev/acme/mono/api", alice, nil).want(t, http.StatusOK))
	if cur.ID != rb.ID || cur.ReleaseNumber != 1 {
		t.Errorf("current after rollback = %+v", cur)
	}

	// Rollbacks follow the same policy: a service account may not roll
	// back production, nor an approver staging.
	e.do(http.MethodPost, "/v1/rollbacks", ci, endpoints.RollbackRequest{Environment: "production", Repository: "acme/mono", Project: "api"}).
		wantError(t, http.StatusForbidden, fault.PermissionDenied)
	e.do(http.MethodPost, "/v1/rollbacks", bob, endpoints.RollbackRequest{Environment: "staging", Repository: "acme/mono", Project: "api"}).
		wantError(t, http.StatusForbidden, fault.PermissionDenied)
	e.do(http.MethodPost, "/v1/rollbacks", alice, endpoints.RollbackRequest{Environment: "qa", Repository: "acme/mono", Project: "api"}).
		wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, "environment")
}

func TestDeploymentRateLimit(t *testing.T) {
	e := newEnv(t)
	rel := e.branchRelease("api", sha("1c"), "main")
	for i := range 10 {
		if r := e.deploy(alice, rel.ID, "dev"); r.status != http.StatusCreated {
			t.Fatalf("deployment %d: %s", i+1, r)
		}
	}
	r := e.deploy(alice, rel.ID, "dev")
	a := r.wantError(t, http.StatusTooManyRequests, fault.RateLimited)
	a.wantMessage(t, "rate limit of 10 deployments to dev per minute reached; retry in 6 s")
	if got := r.header.Get("Retry-After"); got != "6" {
		t.Errorf("Retry-After = %q, want 6", got)
	}
	if a.Details["retry_after_seconds"] != float64(6) || a.Details["limit_per_minute"] != float64(10) {
		t.Errorf("details = %v", a.Details)
	}
	// The limit is per environment.
	e.deploy(alice, rel.ID, "staging").want(t, http.StatusCreated)
	// After the wait, one more fits.
	e.clock.Advance(6 * time.Second)
	e.deploy(alice, rel.ID, "dev").want(t, http.StatusCreated)
	e.deploy(alice, rel.ID, "dev").wantError(t, http.StatusTooManyRequests, fault.RateLimited)
}

func TestListEnvironments(t *testing.T) {
	e := newEnv(t)
	got := decode[endpoints.EnvironmentList](t, e.do(http.MethodGet, "/v1/environments", alice, nil).want(t, http.StatusOK))
	var names []string
	for _, env := range got.Environments {
		names = append(names, env.Name)
	}
	if strings.Join(names, ",") != "dev,production,staging" || !got.Environments[0].Policy.AutoDeploy || !got.Environments[1].Policy.RequiresApproval {
		t.Errorf("environments = %+v", got)
	}
}
