package httptransport_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/transport/endpoints"
	httptransport "github.com/catalyst-forge/forge/transport/http"
)

// TestRunStatusAlone: what workers poll every two seconds is the run's
// status alone, not the run with every phase, task and step.
func TestRunStatusAlone(t *testing.T) {
	e := newEnv(t)
	e.registerRepo("acme/mono")
	id := e.createRun("acme/mono", sha("c3"), "main")["id"].(string)
	got := decode[endpoints.RunStatusResponse](t, e.do(http.MethodGet, "/v1/runs/"+id+"/status", ci, nil).want(t, http.StatusOK))
	if got.ID != id || got.Status != pipeline.StatusPending {
		t.Errorf("status = %+v", got)
	}
	e.do(http.MethodDelete, "/v1/runs/"+id, alice, nil).want(t, http.StatusNoContent)
	reporter := endpoints.Reporter{Client: &httptransport.Client{BaseURL: e.URL, Token: e.as(ci)}}
	if st, err := reporter.RunStatus(context.Background(), id); err != nil || st != pipeline.StatusCancelled {
		t.Errorf("the reporter's RunStatus = %s, %v", st, err)
	}
	e.do(http.MethodGet, "/v1/runs/00000000-0000-4000-8000-000000000000/status", ci, nil).wantError(t, http.StatusNotFound, fault.NotFound)
	e.do(http.MethodGet, "/v1/runs/"+id+"/status", "", nil).wantError(t, http.StatusUnauthorized, fault.Unauthenticated)
}
