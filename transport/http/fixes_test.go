package httptransport_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/transport/endpoints"
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
	e.do(http.MethodPost, "/v1/deployments", alice, endpoints.DeployRequest{ReleaseID: rel.ID, Environment: "staging"}).want(t, http.StatusCreated)

	a := e.do(http.MethodPost, "/v1/releases", ci, endpoints.CreateReleaseRequest{Repository: "acme/mono", Project: "api", CommitSHA: sha("a2"),
		Trigger: &endpoints.ReleaseTriggerRequest{Type: "branch_push"}}).wantError(t, http.StatusUnprocessableEntity, fault.Validation)
	a.wantField(t, "trigger.branch")
}

func TestContentTypeIsParsed(t *testing.T) {
	e := newEnv(t)
	e.registerRepo("acme/mono")
	for ct, want := range map[string]int{
		"Application/JSON; charset=utf-8": http.StatusCreated,
		"application/jsonp":               http.StatusUnprocessableEntity,
	} {
		req := e.request(http.MethodPost, "/v1/runs", e.as(ci), endpoints.CreateRunRequest{Repository: "acme/mono", CommitSHA: sha(map[bool]string{true: "c1", false: "c2"}[strings.HasPrefix(ct, "A")])})
		req.Header.Set("Content-Type", ct)
		if r := e.send(req); r.status != want {
			t.Errorf("Content-Type %q: %s, want %d", ct, r, want)
		}
	}
}

// TestEveryAnswerIsTheErrorFormat checks that paths the mux would redirect
// (dot segments, empty segments, "/v1") and paths outside the API answer
// the spec's JSON error body, never a redirect or plain text.
func TestEveryAnswerIsTheErrorFormat(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		method, path string
		token        bool
		status       int
		code         string
	}{
		{"GET", "/v1/runs/../runs", true, 404, "not_found"},
		{"GET", "/v1/runs/./x", true, 404, "not_found"},
		{"GET", "/v1//runs", true, 404, "not_found"},
		{"GET", "/v1/releases/acme/mono/api/..", true, 404, "not_found"},
		{"GET", "/v1/releases/acme/mono/api/%2e%2e", true, 404, "not_found"},
		{"GET", "/v1/releases/acme/mono/%2E/1", true, 404, "not_found"},
		{"POST", "/v1/runs/..", true, 404, "not_found"},
		{"GET", "/healthz/..", false, 404, "not_found"},
		{"GET", "/v1/../healthz", false, 404, "not_found"},
		{"GET", "/v1", true, 404, "not_found"},
		{"GET", "/v1", false, 401, "authentication_required"},
		{"GET", "/v1/", true, 404, "not_found"},
		{"GET", "/", false, 404, "not_found"},
		{"GET", "/favicon.ico", false, 404, "not_found"},
		{"POST", "/healthz", false, 405, "method_not_allowed"},
		{"DELETE", "/readyz", false, 405, "method_not_allowed"},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			req := httptest.NewRequest(c.method, c.path, nil)
			if c.token {
				req.Header.Set("Authorization", "Bearer "+e.as(alice))
			}
			rec := httptest.NewRecorder()
			e.handler.ServeHTTP(rec, req)
			if ct := rec.Header().Get("Content-Type"); rec.Code != c.status || !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("%d %q %s; want %d with the JSON error body", rec.Code, ct, rec.Body, c.status)
			}
			var eb endpoints.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error.Code != c.code || eb.Error.Message == "" {
				t.Errorf("body %s; want code %s", rec.Body, c.code)
			}
		})
	}
	// The canonical paths still work.
	e.do(http.MethodGet, "/v1/runs", alice, nil).want(t, http.StatusOK)
	e.do(http.MethodGet, "/healthz", "", nil).want(t, http.StatusOK)
}

// TestRepositoryNamesIgnoreCase checks that a repository name is one
// repository whatever its case, wherever it enters: registration, runs,
// releases, deployments, rollbacks, path segments and query filters.
func TestRepositoryNamesIgnoreCase(t *testing.T) {
	e := newEnv(t)
	first := decode[repository.Repository](t, e.do(http.MethodPost, "/v1/repositories", carol,
		endpoints.RegisterRepositoryRequest{Repository: "ACME/Mono"}).want(t, http.StatusCreated))
	if first.Name != "acme/mono" {
		t.Errorf("registered as %q, want acme/mono", first.Name)
	}
	again := decode[repository.Repository](t, e.do(http.MethodPost, "/v1/repositories", carol,
		endpoints.RegisterRepositoryRequest{Repository: "acme/mono"}).want(t, http.StatusOK))
	if again.ID != first.ID {
		t.Errorf("acme/mono registered separately from ACME/Mono: %+v, %+v", again, first)
	}
	if l := decode[endpoints.RepositoryList](t, e.do(http.MethodGet, "/v1/repositories", alice, nil).want(t, http.StatusOK)); l.Total != 1 {
		t.Errorf("repositories = %+v", l)
	}

	run := e.do(http.MethodPost, "/v1/runs", ci, endpoints.CreateRunRequest{Repository: "Acme/MONO", CommitSHA: sha("d1"), Branch: "main"}).want(t, http.StatusCreated)
	if obj := object(t, run); obj["repository"] != "acme/mono" {
		t.Errorf("run repository = %v", obj["repository"])
	}
	e.do(http.MethodPost, "/v1/runs", ci, endpoints.CreateRunRequest{Repository: "acme/mono", CommitSHA: sha("d1"), Branch: "main"}).want(t, http.StatusOK)
	if l := decode[endpoints.RunList](t, e.do(http.MethodGet, "/v1/runs?repository=ACME/mono", alice, nil).want(t, http.StatusOK)); l.Total != 1 {
		t.Errorf("runs of ACME/mono = %d, want 1", l.Total)
	}

	rel := decode[endpoints.ReleaseResponse](t, e.do(http.MethodPost, "/v1/releases", ci, endpoints.CreateReleaseRequest{
		Repository: "ACME/Mono", Project: "api", CommitSHA: sha("d2")}).want(t, http.StatusCreated))
	if rel.Repository != "acme/mono" || rel.CanonicalID != "acme/mono/api/"+sha("d2") {
		t.Errorf("release = %+v", rel)
	}
	e.do(http.MethodPost, "/v1/releases", ci, endpoints.CreateReleaseRequest{Repository: "acme/mono", Project: "api", CommitSHA: sha("d2")}).want(t, http.StatusOK)
	e.do(http.MethodGet, "/v1/releases/ACME/Mono/api/1", alice, nil).want(t, http.StatusOK)
	if l := decode[endpoints.ReleaseList](t, e.do(http.MethodGet, "/v1/releases/Acme/Mono/api", alice, nil).want(t, http.StatusOK)); l.Total != 1 {
		t.Errorf("releases of Acme/Mono = %d", l.Total)
	}

	e.do(http.MethodPost, "/v1/deployments", alice, endpoints.DeployRequest{ReleaseID: rel.ID, Environment: "dev"}).want(t, http.StatusCreated)
	e.do(http.MethodGet, "/v1/deployments/dev/ACME/MONO/api", alice, nil).want(t, http.StatusOK)
	// A rollback needs an earlier release: the answer must be about that, not an unknown repository.
	e.do(http.MethodPost, "/v1/rollbacks", alice, endpoints.RollbackRequest{Environment: "dev", Repository: "ACME/Mono", Project: "api"}).
		wantError(t, http.StatusConflict, fault.Conflict).wantMessage(t, "acme/mono/api has had no other release in dev to roll back to")
}

// TestQueryParametersAreChecked checks that a misspelt, repeated or
// malformed query parameter is a 422 naming it, not silently ignored (a
// misspelt filter used to list every run).
func TestQueryParametersAreChecked(t *testing.T) {
	e := newEnv(t)
	e.registerRepo("acme/mono")
	e.createRun("acme/mono", sha("a1"), "main")
	for path, field := range map[string]string{
		"/v1/runs?repo=acme/other":                         "repo",
		"/v1/runs?branch=main&branch=dev":                  "branch",
		"/v1/runs?%zz=1":                                   "query",
		"/v1/runs?a=1;b=2":                                 "query",
		"/v1/runs/" + uuidLike + "?verbose=1":              "verbose",
		"/v1/repositories?page=2":                          "page",
		"/v1/releases/acme/mono/api?limit=1&sort=asc":      "sort",
		"/v1/releases/acme/mono/api/1?x=":                  "x",
		"/v1/steps/" + uuidLike + "/logs?follow=yes":       "follow",
		"/v1/deployments/dev/acme/mono/api?environment=qa": "environment",
	} {
		a := e.do(http.MethodGet, path, alice, nil).wantError(t, http.StatusUnprocessableEntity, fault.Validation)
		a.wantField(t, field)
	}
	e.do(http.MethodGet, "/v1/runs?repo=acme/other", alice, nil).wantError(t, http.StatusUnprocessableEntity, fault.Validation).
		wantMessage(t, `unknown query parameter "repo"; this route takes repository, branch, commit_sha, status, limit, offset`)
	if l := decode[endpoints.RunList](t, e.do(http.MethodGet, "/v1/runs?repository=acme/mono&branch=main&limit=5&offset=0", alice, nil).want(t, http.StatusOK)); l.Total != 1 {
		t.Errorf("runs = %+v", l)
	}
}

const uuidLike = "00000000-0000-4000-8000-000000000000"

// TestBodyKeysAreExact checks that a key given twice, or in another case
// than the field's name, is a 422 naming it: encoding/json kept the last
// of two keys and matched names case-insensitively, so
// {"repository":"acme/mono","Repository":"acme/other"} created a release
// of acme/other.
func TestBodyKeysAreExact(t *testing.T) {
	e := newEnv(t)
	e.registerRepo("acme/mono")
	e.registerRepo("acme/other")
	body := func(extra string) string {
		return `{"repository":"acme/mono","project":"api","commit_sha":"` + sha("b1") + `"` + extra + `}`
	}
	for extra, field := range map[string]string{
		`,"repository":"acme/other"`:                                                    "repository",
		`,"Repository":"acme/other"`:                                                    "Repository",
		`,"trigger":{"type":"tag","tag":"v1","tag":"v2"}`:                               "trigger.tag",
		`,"trigger":{"Type":"tag","tag":"v1"}`:                                          "trigger.Type",
		`,"artifacts":[{"name":"a","type":"binary","tracking_oci_uri":"x","NAME":"b"}]`: "artifacts[0].NAME",
	} {
		a := e.do(http.MethodPost, "/v1/releases", ci, body(extra)).wantError(t, http.StatusUnprocessableEntity, fault.Validation)
		a.wantField(t, field)
	}
	e.do(http.MethodPost, "/v1/releases", ci, `{"REPOSITORY":"acme/mono","project":"api","commit_sha":"`+sha("b1")+`"}`).
		wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantMessage(t, `unknown field "REPOSITORY" (field names are case-sensitive: repository)`)
	e.do(http.MethodPost, "/v1/repositories", carol, `{"repository":"acme/x","limits":{"Runs_Per_Minute":5}}`).
		wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, "limits.Runs_Per_Minute")
	if _, n, _ := e.mem.ListReleases(context.Background(), "acme/other", "api", ports.Page{}); n != 0 {
		t.Errorf("%d releases of acme/other were created", n)
	}
	e.do(http.MethodPost, "/v1/releases", ci, body(`,"trigger":{"type":"tag","tag":"v1"}`)).want(t, http.StatusCreated)
}

// TestReadAddressesAreValidated checks that a filter or path name that
// nothing can match is a 422 naming it, not an empty list or a 404 that
// reads as "nothing there" (filters match exactly: a short commit prefix
// listed no runs).
func TestReadAddressesAreValidated(t *testing.T) {
	e := newEnv(t)
	for path, field := range map[string]string{
		"/v1/runs?commit_sha=abc1234":                            "commit_sha",
		"/v1/runs?repository=acme":                               "repository",
		"/v1/releases/acme/mono/Not_Kebab/1":                     "project",
		"/v1/releases/acme/mono./api":                            "repository",
		"/v1/deployments/dev/acme/mono/Not_Kebab":                "project",
		"/v1/deployments/dev/-acme/mono/api":                     "repository",
		"/v1/releases/acme/" + strings.Repeat("m", 101) + "/api": "repository",
	} {
		e.do(http.MethodGet, path, alice, nil).wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, field)
	}
	e.do(http.MethodGet, "/v1/runs?commit_sha="+sha("ab")+"&repository=acme/mono", alice, nil).want(t, http.StatusOK)
	e.do(http.MethodGet, "/v1/releases/acme/mono/api", alice, nil).want(t, http.StatusOK)
}
