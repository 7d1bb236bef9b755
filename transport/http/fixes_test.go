package httptransport_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/domain/fault"
	httptransport "github.com/catalyst-forge/forge/transport/http"
)

// TestUnknownRoutesAnswerTheErrorBody checks that requests no route takes
// get the API's JSON error body, not the mux's plain text.
func TestUnknownRoutesAnswerTheErrorBody(t *testing.T) {
	e := newEnv(t)
	a := e.do(http.MethodGet, "/v1/nope", alice, nil).wantError(t, http.StatusNotFound, fault.NotFound)
	a.wantMessage(t, "no API route GET /v1/nope")
	r := e.do(http.MethodPatch, "/v1/runs", alice, nil)
	if r.status != http.StatusMethodNotAllowed || !strings.Contains(string(r.body), `"code":"method_not_allowed"`) {
		t.Fatalf("PATCH /v1/runs = %s", r)
	}
	if allow := r.header.Get("Allow"); allow != "GET, POST" {
		t.Errorf("Allow = %q, want GET, POST", allow)
	}
}

// TestErrorAnswersKeepCausesOut checks that a wrapped cause (which may name
// hosts or queries) reaches the log but not the caller.
func TestErrorAnswersKeepCausesOut(t *testing.T) {
	e := newEnv(t, func(o *options) {
		o.ready = func(context.Context) error {
			return fault.Wrap(fault.Unavailable, errors.New("dial tcp 10.0.0.5:5432: connect: connection refused"), "the database is unavailable")
		}
	})
	r := e.do(http.MethodGet, "/readyz", "", nil)
	a := r.wantError(t, http.StatusServiceUnavailable, fault.Unavailable)
	a.wantMessage(t, "the database is unavailable")
	if strings.Contains(string(r.body), "10.0.0.5") {
		t.Errorf("the answer holds the cause: %s", r.body)
	}
	if !strings.Contains(e.logs.String(), "10.0.0.5") {
		t.Errorf("the log lacks the cause: %s", e.logs.String())
	}
}

// TestReleasesFromBranchesWithSlashes checks that release/* and feature/*
// branches give aliases without slashes, and that a branch push names its branch.
func TestReleasesFromBranchesWithSlashes(t *testing.T) {
	e := newEnv(t)
	rel := e.branchRelease("api", sha("a1"), "release/2.0")
	var aliases []string
	for _, a := range rel.Aliases {
		aliases = append(aliases, a.Alias)
	}
	if strings.Join(aliases, ",") != "1,release-2.0-1" {
		t.Fatalf("aliases = %v", aliases)
	}
	e.do(http.MethodGet, "/v1/releases/acme/mono/api/release-2.0-1", alice, nil).want(t, http.StatusOK)
	e.do(http.MethodPost, "/v1/deployments", alice, httptransport.DeployRequest{ReleaseID: rel.ID, Environment: "staging"}).want(t, http.StatusCreated)

	a := e.do(http.MethodPost, "/v1/releases", ci, httptransport.CreateReleaseRequest{Repository: "acme/mono", Project: "api", CommitSHA: sha("a2"),
		Trigger: &httptransport.ReleaseTriggerRequest{Type: "branch_push"}}).wantError(t, http.StatusUnprocessableEntity, fault.Validation)
	a.wantField(t, "trigger.branch")
}

func TestContentTypeIsParsed(t *testing.T) {
	e := newEnv(t)
	e.registerRepo("acme/mono")
	for ct, want := range map[string]int{
		"Application/JSON; charset=utf-8": http.StatusCreated,
		"application/jsonp":               http.StatusUnprocessableEntity,
	} {
		req := e.request(http.MethodPost, "/v1/runs", e.as(ci), httptransport.CreateRunRequest{Repository: "acme/mono", CommitSHA: sha(map[bool]string{true: "c1", false: "c2"}[strings.HasPrefix(ct, "A")])})
		req.Header.Set("Content-Type", ct)
		if r := e.send(req); r.status != want {
			t.Errorf("Content-Type %q: %s, want %d", ct, r, want)
		}
	}
}
