package httptransport_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/adapters/memory/memstore"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/transport/endpoints"
	httptransport "github.com/catalyst-forge/forge/transport/http"
)

// same fails the test unless the client's answer equals what a raw GET of
// path decodes to.
func same[T any](t *testing.T, e *env, who, path string, got T) {
	t.Helper()
	want := decode[T](t, e.do(http.MethodGet, path, who, nil).want(t, http.StatusOK))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("client and GET %s differ:\nclient: %+v\nraw:    %+v", path, got, want)
	}
}

// faultOf returns err as a *fault.Error, failing the test when it is not one.
func faultOf(t *testing.T, err error) *fault.Error {
	t.Helper()
	var fe *fault.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *fault.Error", err, err)
	}
	return fe
}

// TestClient runs every Client method against the server once and checks
// it returns what the server answers.
func TestClient(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	op, ciC, dev, appr := e.client(carol), e.client(ci), e.client(alice), e.client(bob)

	if err := dev.Health(ctx); err != nil {
		t.Fatalf("Health: %v", err)
	}

	repo, created, err := op.RegisterRepository(ctx, endpoints.RegisterRepositoryRequest{Repository: "acme/mono"})
	if err != nil || !created || repo.Name != "acme/mono" || repo.CreatedBy != carol {
		t.Fatalf("RegisterRepository = %+v, %v, %v", repo, created, err)
	}
	again, created, err := op.RegisterRepository(ctx, endpoints.RegisterRepositoryRequest{Repository: "acme/mono"})
	if err != nil || created || again.ID != repo.ID {
		t.Fatalf("RegisterRepository again = %+v, %v, %v", again, created, err)
	}
	repos, err := dev.ListRepositories(ctx, ports.Page{Limit: 5})
	if err != nil || repos.Total != 1 || repos.Limit != 5 || !reflect.DeepEqual(repos.Repositories, []repository.Repository{*repo}) {
		t.Fatalf("ListRepositories = %+v, %v", repos, err)
	}
	same(t, e, alice, "/v1/repositories?limit=5", *repos)

	run, created, err := ciC.CreateRun(ctx, endpoints.CreateRunRequest{Repository: "acme/mono", Branch: "main", CommitSHA: sha("c1")})
	if err != nil || !created || run.Status != pipeline.StatusPending || run.TriggeredBy != ci {
		t.Fatalf("CreateRun = %+v, %v, %v", run, created, err)
	}
	runAgain, created, err := ciC.CreateRun(ctx, endpoints.CreateRunRequest{Repository: "acme/mono", Branch: "main", CommitSHA: sha("c1")})
	if err != nil || created || runAgain.ID != run.ID {
		t.Fatalf("CreateRun again = %+v, %v, %v", runAgain, created, err)
	}
	phases := addPlan(t, e, run.ID)
	startRun(t, e, run.ID)
	got, err := dev.GetRun(ctx, run.ID)
	if err != nil || got.ID != run.ID || len(got.Phases) != 2 || len(got.Phases[0].Tasks[0].Steps) != 2 {
		t.Fatalf("GetRun = %+v, %v", got, err)
	}
	same(t, e, alice, "/v1/runs/"+run.ID, *got)

	task, err := ciC.UpdateTaskStatus(ctx, phases[0].Tasks[0].ID, endpoints.TaskStatusRequest{Status: "running"})
	if err != nil || task.Status != pipeline.StatusRunning || task.ID != phases[0].Tasks[0].ID {
		t.Fatalf("UpdateTaskStatus = %+v, %v", task, err)
	}
	if _, err := ciC.UpdateStepStatus(ctx, phases[0].Tasks[0].Steps[0].ID, endpoints.StepStatusRequest{Status: "running"}); err != nil {
		t.Fatal(err)
	}
	zero := 0
	step, err := ciC.UpdateStepStatus(ctx, phases[0].Tasks[0].Steps[0].ID, endpoints.StepStatusRequest{Status: "success", ExitCode: &zero, LogsS3Key: "logs/unit.log"})
	if err != nil || step.Status != pipeline.StatusSuccess || step.ExitCode == nil || *step.ExitCode != 0 || step.LogsKey != "logs/unit.log" {
		t.Fatalf("UpdateStepStatus = %+v, %v", step, err)
	}
	got, _ = dev.GetRun(ctx, run.ID)
	if !reflect.DeepEqual(got.Phases[0].Tasks[0].Steps[0], *step) {
		t.Errorf("the run's step %+v, UpdateStepStatus returned %+v", got.Phases[0].Tasks[0].Steps[0], *step)
	}
	if !reflect.DeepEqual(got.Phases[0].Tasks[0].Status, task.Status) {
		t.Errorf("the run's task %+v, UpdateTaskStatus returned %+v", got.Phases[0].Tasks[0], *task)
	}

	list, err := dev.ListRuns(ctx, ports.RunFilter{Repository: "acme/mono", Branch: "main", CommitSHA: sha("c1"), Status: pipeline.StatusRunning}, ports.Page{Limit: 3, Offset: 0})
	if err != nil || list.Total != 1 || len(list.Runs) != 1 || list.Runs[0].ID != run.ID || list.Limit != 3 {
		t.Fatalf("ListRuns = %+v, %v", list, err)
	}
	same(t, e, alice, "/v1/runs?repository=acme/mono&branch=main&commit_sha="+sha("c1")+"&status=running&limit=3", *list)

	if err := dev.CancelRun(ctx, run.ID); err != nil {
		t.Fatalf("CancelRun: %v", err)
	}
	if got, _ := dev.GetRun(ctx, run.ID); got.Status != pipeline.StatusCancelled {
		t.Errorf("after CancelRun: %s", got.Status)
	}

	rel, created, err := ciC.CreateRelease(ctx, endpoints.CreateReleaseRequest{PipelineRunID: run.ID, Repository: "acme/mono", Project: "api", CommitSHA: sha("c1"),
		Artifacts: []endpoints.ReleaseArtifactRequest{{Name: "api", Type: "container", TrackingOCIURI: "t/api", PrimaryPublishedURI: "p/api"}}})
	if err != nil || !created || rel.Number != 1 || rel.CanonicalID != "acme/mono/api/"+sha("c1") {
		t.Fatalf("CreateRelease = %+v, %v, %v", rel, created, err)
	}
	relAgain, created, err := ciC.CreateRelease(ctx, endpoints.CreateReleaseRequest{Repository: "acme/mono", Project: "api", CommitSHA: sha("c1")})
	if err != nil || created || relAgain.ID != rel.ID {
		t.Fatalf("CreateRelease again = %+v, %v, %v", relAgain, created, err)
	}
	for _, id := range []string{"main-1", "1", sha("c1")[:7]} {
		r, err := dev.GetRelease(ctx, "acme/mono", "api", id)
		if err != nil || !reflect.DeepEqual(*r, *rel) {
			t.Errorf("GetRelease(%s) = %+v, %v; want %+v", id, r, err, rel)
		}
	}
	r, _ := dev.GetRelease(ctx, "acme/mono", "api", "main-1")
	same(t, e, alice, "/v1/releases/acme/mono/api/main-1", *r)
	rels, err := dev.ListReleases(ctx, "acme/mono", "api", ports.Page{Limit: 10, Offset: 0})
	if err != nil || rels.Total != 1 || !reflect.DeepEqual(rels.Releases, []endpoints.ReleaseResponse{*rel}) {
		t.Fatalf("ListReleases = %+v, %v", rels, err)
	}
	same(t, e, alice, "/v1/releases/acme/mono/api?limit=10", *rels)

	d1, err := dev.Deploy(ctx, endpoints.DeployRequest{ReleaseID: rel.ID, Environment: "dev"})
	if err != nil || d1.ReleaseID != rel.ID || d1.DeploymentID != d1.ID || d1.DeployedBy != alice {
		t.Fatalf("Deploy = %+v, %v", d1, err)
	}
	cur, err := appr.CurrentDeployment(ctx, "dev", "acme/mono", "api")
	if err != nil || !reflect.DeepEqual(*cur, *d1) {
		t.Fatalf("CurrentDeployment = %+v, %v; want %+v", cur, err, d1)
	}
	same(t, e, bob, "/v1/deployments/dev/acme/mono/api", *cur)

	tag, _, err := ciC.CreateRelease(ctx, endpoints.CreateReleaseRequest{Repository: "acme/mono", Project: "api", CommitSHA: sha("c2"),
		Trigger: &endpoints.ReleaseTriggerRequest{Type: "tag", Tag: "api/v1.0.0"}})
	if err != nil {
		t.Fatal(err)
	}
	ap, err := appr.Approve(ctx, endpoints.ApproveRequest{ReleaseID: tag.ID, Environment: "production", Justification: "CHG-1"})
	if err != nil || ap.ID == "" || ap.Approver != bob || ap.Status != release.ApprovalActive || ap.ExpiresAt == nil || !ap.ExpiresAt.Equal(start.Add(release.DefaultApprovalTTL)) {
		t.Fatalf("Approve = %+v, %v", ap, err)
	}
	gotAp, err := dev.GetApproval(ctx, tag.ID, "production")
	if err != nil || !reflect.DeepEqual(*gotAp, *ap) {
		t.Fatalf("GetApproval = %+v, %v; want %+v", gotAp, err, ap)
	}
	same(t, e, alice, "/v1/approvals/"+tag.ID+"/production", *gotAp)
	prod, err := dev.Deploy(ctx, endpoints.DeployRequest{ReleaseID: tag.ID, Environment: "production"})
	if err != nil || prod.ApprovalID == nil || *prod.ApprovalID != ap.ID {
		t.Fatalf("production Deploy = %+v, %v", prod, err)
	}
	revoked, err := appr.RevokeApproval(ctx, ap.ID)
	if err != nil || revoked.ID != ap.ID || revoked.Status != release.ApprovalRevoked {
		t.Fatalf("RevokeApproval = %+v, %v", revoked, err)
	}

	d2, err := dev.Deploy(ctx, endpoints.DeployRequest{ReleaseID: tag.ID, Environment: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	rb, err := dev.Rollback(ctx, endpoints.RollbackRequest{Environment: "dev", Repository: "acme/mono", Project: "api"})
	if err != nil || rb.ReleaseID != rel.ID || rb.Previous == nil || rb.Previous.DeploymentID != d2.ID || rb.Previous.ReleaseNumber != 2 ||
		rb.RollbackOf == nil || *rb.RollbackOf != d2.ID {
		t.Fatalf("Rollback = %+v, %v", rb, err)
	}
	cur, _ = dev.CurrentDeployment(ctx, "dev", "acme/mono", "api")
	if cur.ID != rb.ID || cur.RollbackOf == nil || *cur.RollbackOf != d2.ID {
		t.Errorf("current after Rollback = %+v", cur)
	}
	// Back on release 2, "to" names the release to roll back to; a newer
	// one is a conflict.
	d3, err := dev.Deploy(ctx, endpoints.DeployRequest{ReleaseID: tag.ID, Environment: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	to, err := dev.Rollback(ctx, endpoints.RollbackRequest{Environment: "dev", Repository: "acme/mono", Project: "api", To: "1"})
	if err != nil || to.ReleaseID != rel.ID || to.Previous == nil || to.Previous.DeploymentID != d3.ID {
		t.Fatalf("Rollback to 1 = %+v, %v", to, err)
	}
	if _, err := dev.Rollback(ctx, endpoints.RollbackRequest{Environment: "dev", Repository: "acme/mono", Project: "api", To: "2"}); !fault.Is(err, fault.Conflict) {
		t.Errorf("Rollback to the newer release 2 = %v; want a conflict", err)
	}
}

// TestClientErrors checks that an API error comes back as a *fault.Error
// with the kind, message and details the server answered.
func TestClientErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.registerRepo("acme/mono")
	dev, ciC := e.client(alice), e.client(ci)

	raw := e.do(http.MethodGet, "/v1/runs/no-such-run", alice, nil).wantError(t, http.StatusNotFound, fault.NotFound)
	_, err := dev.GetRun(ctx, "no-such-run")
	if fe := faultOf(t, err); fe.Kind != fault.NotFound || fe.Message != raw.Message || fe.Err != nil {
		t.Errorf("GetRun of nothing = %+v, want not_found %q", fe, raw.Message)
	}

	_, _, err = dev.CreateRun(ctx, endpoints.CreateRunRequest{Repository: "acme/mono", CommitSHA: sha("e1")})
	if fe := faultOf(t, err); fe.Kind != fault.PermissionDenied || fe.Message != "create-run needs one of the roles service-account" ||
		fe.Details["permission"] != "create-run" {
		t.Errorf("CreateRun as a developer = %+v", fe)
	}

	_, _, err = ciC.CreateRun(ctx, endpoints.CreateRunRequest{Repository: "acme/mono", CommitSHA: "abc"})
	if fe := faultOf(t, err); fe.Kind != fault.Validation || fe.Details["field"] != "commit_sha" || !strings.Contains(fe.Message, "commit_sha must be a full commit SHA") {
		t.Errorf("CreateRun with a short SHA = %+v", fe)
	}

	run, _, err := ciC.CreateRun(ctx, endpoints.CreateRunRequest{Repository: "acme/mono", CommitSHA: sha("e2")})
	if err != nil {
		t.Fatal(err)
	}
	if err := dev.CancelRun(ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	if fe := faultOf(t, dev.CancelRun(ctx, run.ID)); fe.Kind != fault.Conflict || !strings.Contains(fe.Message, "has already finished") {
		t.Errorf("CancelRun twice = %+v", fe)
	}

	bad := &httptransport.Client{BaseURL: e.URL, Token: "not-a-token"}
	_, err = bad.ListRepositories(ctx, ports.Page{})
	if fe := faultOf(t, err); fe.Kind != fault.Unauthenticated || !strings.Contains(fe.Message, "oidc:") {
		t.Errorf("a bad token = %+v", fe)
	}
	none := &httptransport.Client{BaseURL: e.URL}
	if _, err := none.ListRepositories(ctx, ports.Page{}); fault.KindOf(err) != fault.Unauthenticated {
		t.Errorf("no token = %v", err)
	}

	rel := e.branchRelease("api", sha("e3"), "main")
	for range 10 {
		if _, err := dev.Deploy(ctx, endpoints.DeployRequest{ReleaseID: rel.ID, Environment: "dev"}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = dev.Deploy(ctx, endpoints.DeployRequest{ReleaseID: rel.ID, Environment: "dev"})
	if fe := faultOf(t, err); fe.Kind != fault.RateLimited || fe.Details["retry_after_seconds"] != float64(6) {
		t.Errorf("the 11th deployment = %+v", fe)
	}
	_, err = dev.Deploy(ctx, endpoints.DeployRequest{ReleaseID: rel.ID, Environment: "production"})
	if fe := faultOf(t, err); fe.Kind != fault.PermissionDenied || !strings.Contains(fe.Message, "does not accept releases triggered by branch_push") {
		t.Errorf("production from a branch = %+v", fe)
	}

	// Mistakes caught before any request.
	if _, err := dev.GetRelease(ctx, "mono", "api", "1"); fault.KindOf(err) != fault.Validation {
		t.Errorf("GetRelease of a bad repository = %v", err)
	}
	if _, err := dev.ListReleases(ctx, "a/b/c", "api", ports.Page{}); fault.KindOf(err) != fault.Validation {
		t.Errorf("ListReleases of a bad repository = %v", err)
	}
	if _, err := dev.CurrentDeployment(ctx, "dev", "", "api"); fault.KindOf(err) != fault.Validation {
		t.Errorf("CurrentDeployment of no repository = %v", err)
	}
	if _, err := (&httptransport.Client{}).ListRepositories(ctx, ports.Page{}); fault.KindOf(err) != fault.Validation ||
		!strings.Contains(err.Error(), "no server address") {
		t.Errorf("no server address = %v", err)
	}
}

func TestClientInternalAndUnreachable(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(o *options) {
		o.wrapStore = func(s *memstore.Store) ports.Store { return brokenStore{s} }
	})
	_, err := e.client(alice).ListRepositories(ctx, ports.Page{})
	if fe := faultOf(t, err); fe.Kind != fault.Internal || fe.Message != "internal error; the server log has the details" || strings.Contains(fe.Error(), "hunter2") {
		t.Errorf("internal error = %+v", fe)
	}

	// A server that has gone away: unavailable, naming the address.
	gone := httptest.NewServer(http.NotFoundHandler())
	url := gone.URL
	gone.Close()
	c := &httptransport.Client{BaseURL: url, Token: "x"}
	_, err = c.ListRepositories(ctx, ports.Page{})
	if fe := faultOf(t, err); fe.Kind != fault.Unavailable || !strings.Contains(fe.Message, "cannot reach the forge API at "+url) {
		t.Errorf("unreachable = %+v", fe)
	}
	if err := c.Health(ctx); fault.KindOf(err) != fault.Unavailable {
		t.Errorf("Health of an unreachable server = %v", err)
	}

	// An answer that is not the API's: the kind comes from the status.
	teapot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "upstream timed out", http.StatusServiceUnavailable)
	}))
	defer teapot.Close()
	_, err = (&httptransport.Client{BaseURL: teapot.URL, Token: "x"}).ListRepositories(ctx, ports.Page{})
	if fe := faultOf(t, err); fe.Kind != fault.Unavailable || !strings.Contains(fe.Message, "server answered 503") || !strings.Contains(fe.Message, "upstream timed out") {
		t.Errorf("a proxy's 503 = %+v", fe)
	}
}
