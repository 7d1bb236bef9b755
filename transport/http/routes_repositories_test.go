package httptransport_test

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/repository"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

func TestRegisterRepository(t *testing.T) {
	e := newEnv(t)
	r := e.do(http.MethodPost, "/v1/repositories", carol, endpoints.RegisterRepositoryRequest{Repository: "acme/mono"}).want(t, http.StatusCreated)
	obj := object(t, r)
	want := map[string]any{"id": obj["id"], "repository": "acme/mono", "created_at": at(start), "created_by": carol,
		"limits": map[string]any{"max_concurrent_runs": float64(1000), "runs_per_minute": float64(100)}}
	if obj["id"] == "" || !reflect.DeepEqual(obj, want) {
		t.Errorf("registration = %s", r.body)
	}

	// Registering again returns the registration, 200, unchanged.
	e.clock.Advance(time.Hour)
	again := e.do(http.MethodPost, "/v1/repositories", carol, endpoints.RegisterRepositoryRequest{Repository: "acme/mono",
		Limits: &repository.Limits{RunsPerMinute: 5}}).want(t, http.StatusOK)
	if got := object(t, again); !reflect.DeepEqual(got, want) {
		t.Errorf("second registration = %s", again.body)
	}

	limited := decode[repository.Repository](t, e.do(http.MethodPost, "/v1/repositories", carol, `{"repository":"acme/tools","limits":{"runs_per_minute":5}}`).
		want(t, http.StatusCreated))
	if limited.Limits != (repository.Limits{MaxConcurrentRuns: 1000, RunsPerMinute: 5}) {
		t.Errorf("limits = %+v", limited.Limits)
	}

	for _, who := range []string{alice, bob, ci} {
		e.do(http.MethodPost, "/v1/repositories", who, endpoints.RegisterRepositoryRequest{Repository: "acme/x"}).
			wantError(t, http.StatusForbidden, fault.PermissionDenied).wantMessage(t, "register-repository needs one of the roles operator")
	}
	e.do(http.MethodPost, "/v1/repositories", carol, endpoints.RegisterRepositoryRequest{Repository: "no-slash"}).
		wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, "repository")
	e.do(http.MethodPost, "/v1/repositories", carol, `{"repository":"acme/y","limits":{"runs_per_minute":-1}}`).
		wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, "limits.runs_per_minute")
	e.do(http.MethodPost, "/v1/repositories", carol, `{"repository":"acme/y","limits":{"max_concurrent_runs":9999999999}}`).
		wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, "limits.max_concurrent_runs")
}

func TestListRepositories(t *testing.T) {
	e := newEnv(t)
	empty := e.do(http.MethodGet, "/v1/repositories", alice, nil).want(t, http.StatusOK)
	if obj := object(t, empty); !reflect.DeepEqual(obj["repositories"], []any{}) || obj["total"] != float64(0) || obj["limit"] != float64(20) {
		t.Errorf("empty list = %s", empty.body)
	}
	for _, name := range []string{"zeta/one", "acme/mono", "acme/tools", "beta/app"} {
		e.registerRepo(name)
	}
	names := func(l endpoints.RepositoryList) []string {
		out := []string{}
		for _, r := range l.Repositories {
			out = append(out, r.Name)
		}
		return out
	}
	cases := []struct {
		query                string
		want                 []string
		total, limit, offset int
	}{
		{"", []string{"acme/mono", "acme/tools", "beta/app", "zeta/one"}, 4, 20, 0},
		{"?limit=2", []string{"acme/mono", "acme/tools"}, 4, 2, 0},
		{"?limit=2&offset=3", []string{"zeta/one"}, 4, 2, 3},
		{"?offset=9", []string{}, 4, 20, 9},
	}
	for _, who := range []string{alice, bob, carol, ci} {
		for _, c := range cases {
			l := decode[endpoints.RepositoryList](t, e.do(http.MethodGet, "/v1/repositories"+c.query, who, nil).want(t, http.StatusOK))
			if !reflect.DeepEqual(names(l), c.want) || l.Total != c.total || l.Limit != c.limit || l.Offset != c.offset {
				t.Errorf("%s: list%s = %v total %d limit %d offset %d", who, c.query, names(l), l.Total, l.Limit, l.Offset)
			}
		}
	}
	e.do(http.MethodGet, "/v1/repositories?offset=-3", alice, nil).wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, "offset")
}
