package httptransport_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/onprem/oidcauth"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

// TestATokenBoundToARepositoryActsOnItAlone: a service account's token
// that carries a repository claim (a GitHub Actions token exchanged at
// Keycloak) creates runs and releases of that repository only, and
// cancels only its runs.
func TestATokenBoundToARepositoryActsOnItAlone(t *testing.T) {
	e := newEnv(t)
	e.registerRepo("acme/mono")
	e.registerRepo("acme/other")
	bound, err := e.issuer.Token("github-acme-mono", []identity.Role{identity.RoleServiceAccount}, time.Hour, oidcauth.ForRepository("ACME/Mono"))
	if err != nil {
		t.Fatal(err)
	}
	send := func(method, path string, body any) reply {
		return e.send(e.request(method, path, bound, body))
	}
	run := object(t, send(http.MethodPost, "/v1/runs", endpoints.CreateRunRequest{Repository: "acme/mono", Branch: "main", CommitSHA: sha("b1")}).
		want(t, http.StatusCreated))
	send(http.MethodPost, "/v1/runs", endpoints.CreateRunRequest{Repository: "acme/other", Branch: "main", CommitSHA: sha("b2")}).
		wantError(t, http.StatusForbidden, fault.PermissionDenied).wantMessage(t, "this token may act on repository acme/mono only, not acme/other")
	send(http.MethodPost, "/v1/releases", endpoints.CreateReleaseRequest{Repository: "acme/mono", Project: "api", CommitSHA: sha("b1")}).
		want(t, http.StatusCreated)
	send(http.MethodPost, "/v1/releases", endpoints.CreateReleaseRequest{Repository: "acme/other", Project: "api", CommitSHA: sha("b2")}).
		wantError(t, http.StatusForbidden, fault.PermissionDenied)

	other := e.createRun("acme/other", sha("b3"), "main")["id"].(string)
	send(http.MethodDelete, "/v1/runs/"+other, nil).wantError(t, http.StatusForbidden, fault.PermissionDenied)
	send(http.MethodPost, "/v1/runs/"+other+"/retry", nil).wantError(t, http.StatusForbidden, fault.PermissionDenied)
	send(http.MethodDelete, "/v1/runs/"+run["id"].(string), nil).want(t, http.StatusNoContent)
	// An unbound service account still acts on any repository.
	e.do(http.MethodPost, "/v1/runs", ci, endpoints.CreateRunRequest{Repository: "acme/other", Branch: "main", CommitSHA: sha("b4")}).
		want(t, http.StatusCreated)
}
