package httptransport_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

// TestRequestLinesCarryTheTraceAndWhatTheRequestConcerns: a request's log
// line has the caller's trace ID (from its traceparent) or a new one, which
// the answer names, and the run, repository or project the endpoint
// worked on.
func TestRequestLinesCarryTheTraceAndWhatTheRequestConcerns(t *testing.T) {
	e := newEnv(t)
	e.registerRepo("acme/mono")
	trace := ports.NewTraceID()
	req := e.request(http.MethodPost, "/v1/runs", e.as(ci), endpoints.CreateRunRequest{Repository: "ACME/mono", Branch: "main", CommitSHA: sha("e1")})
	req.Header.Set(ports.TraceparentHeader, ports.Traceparent(trace))
	r := e.send(req).want(t, http.StatusCreated)
	if got := r.header.Get(endpoints.TraceHeader); got != trace {
		t.Errorf("the answer names trace %q, want the caller's %q", got, trace)
	}
	runID := object(t, r)["id"].(string)
	fresh := e.do(http.MethodGet, "/v1/runs/"+runID, alice, nil).want(t, http.StatusOK).header.Get(endpoints.TraceHeader)
	if len(fresh) != 32 || fresh == trace {
		t.Errorf("a request without traceparent got trace %q; want a new one", fresh)
	}
	found := map[string]map[string]any{}
	for _, l := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		var line map[string]any
		if json.Unmarshal([]byte(l), &line) == nil && line["msg"] == "request" {
			found[line["method"].(string)+" "+line["path"].(string)] = line
		}
	}
	created := found["POST /v1/runs"]
	if created["trace_id"] != trace || created["run_id"] != runID || created["repository"] != "acme/mono" {
		t.Errorf("the line of POST /v1/runs = %v", created)
	}
	got := found["GET /v1/runs/"+runID]
	if got["trace_id"] != fresh || got["run_id"] != runID {
		t.Errorf("the line of GET /v1/runs/{id} = %v", got)
	}
}
