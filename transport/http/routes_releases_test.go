package httptransport_test

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/release"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

func aliasesOf(r endpoints.ReleaseResponse) map[string]release.AliasType {
	out := map[string]release.AliasType{}
	for _, a := range r.Aliases {
		out[a.Alias] = a.Type
	}
	return out
}

func TestCreateRelease(t *testing.T) {
	e := newEnv(t)
	e.registerRepo("acme/mono")
	req := endpoints.CreateReleaseRequest{
		Repository: "acme/mono", Project: "api", CommitSHA: sha("1a"), OCIDigest: "sha256:" + sha("99") + sha("99")[:24],
		Artifacts: []endpoints.ReleaseArtifactRequest{{Name: "api-server", Type: "container",
			TrackingOCIURI: "tracking.io/acme/mono/api/api-server:sha-" + sha("1a"), PrimaryPublishedURI: "ecr.aws/acme/api:v1"}},
	}
	r := e.do(http.MethodPost, "/v1/releases", ci, req).want(t, http.StatusCreated)
	obj := object(t, r)
	rel := decode[endpoints.ReleaseResponse](t, r)
	if rel.ID == "" || rel.Number != 1 || obj["release_number"] != float64(1) {
		t.Errorf("release = %s", r.body)
	}
	if want := "acme/mono/api/" + sha("1a"); rel.CanonicalID != want || obj["canonical_id"] != want {
		t.Errorf("canonical_id = %q, want %q", rel.CanonicalID, want)
	}
	if want := "localhost:5000/acme/mono/api:" + sha("1a"); rel.OCIURI != want {
		t.Errorf("oci_uri = %q, want %q", rel.OCIURI, want)
	}
	if rel.CreatedBy != ci || !rel.CreatedAt.Equal(start) || rel.OCIDigest != req.OCIDigest || rel.PipelineRunID != nil {
		t.Errorf("release = %s", r.body)
	}
	if rel.Trigger == nil || rel.Trigger.Type != release.TriggerManual || rel.Trigger.TriggeredBy != ci {
		t.Errorf("trigger = %+v, want manual by %s", rel.Trigger, ci)
	}
	if !reflect.DeepEqual(aliasesOf(rel), map[string]release.AliasType{"1": release.AliasNumeric}) {
		t.Errorf("aliases = %+v", rel.Aliases)
	}
	if len(rel.Artifacts) != 1 {
		t.Fatalf("artifacts = %+v", rel.Artifacts)
	}
	art := obj["artifacts"].([]any)[0].(map[string]any)
	if art["artifact_name"] != "api-server" || art["artifact_type"] != "container" || art["primary_published_uri"] != "ecr.aws/acme/api:v1" ||
		art["tracking_oci_uri"] != req.Artifacts[0].TrackingOCIURI || art["id"] == "" {
		t.Errorf("artifact = %v", art)
	}

	// The same triplet again: 200 with the same release, whatever else the body says.
	e.clock.Advance(time.Hour)
	req.Artifacts = nil
	again := decode[endpoints.ReleaseResponse](t, e.do(http.MethodPost, "/v1/releases", ci, req).want(t, http.StatusOK))
	if again.ID != rel.ID || again.Number != 1 || len(again.Artifacts) != 1 || !again.CreatedAt.Equal(start) {
		t.Errorf("second create = %+v, want release %s", again, rel.ID)
	}

	// A tag trigger gives a tag alias without the project prefix; a branch
	// trigger gives <branch>-<number>.
	tag := e.tagRelease("api", sha("2a"), "api/v1.2.3")
	if tag.Number != 2 || !reflect.DeepEqual(aliasesOf(tag), map[string]release.AliasType{"2": release.AliasNumeric, "v1.2.3": release.AliasTag}) {
		t.Errorf("tag release = %+v", tag)
	}
	branch := e.branchRelease("api", sha("3a"), "main")
	if branch.Number != 3 || !reflect.DeepEqual(aliasesOf(branch), map[string]release.AliasType{"3": release.AliasNumeric, "main-3": release.AliasBranch}) {
		t.Errorf("branch release = %+v", branch)
	}
	if branch.Trigger == nil || branch.Trigger.Type != release.TriggerBranchPush || branch.Trigger.Branch != "main" {
		t.Errorf("branch trigger = %+v", branch.Trigger)
	}
	// Numbers are per project.
	if other := e.tagRelease("web", sha("2a"), "web/v0.1.0"); other.Number != 1 || other.CanonicalID != "acme/mono/web/"+sha("2a") {
		t.Errorf("first release of web = %+v", other)
	}
}

func TestCreateReleaseFromRun(t *testing.T) {
	e := newEnv(t)
	e.registerRepo("acme/mono")
	runID := e.createRun("acme/mono", sha("4a"), "develop")["id"].(string)
	rel := e.createRelease(endpoints.CreateReleaseRequest{PipelineRunID: runID, Repository: "acme/mono", Project: "api", CommitSHA: sha("4a")})
	if rel.PipelineRunID == nil || *rel.PipelineRunID != runID {
		t.Errorf("pipeline_run_id = %v, want %s", rel.PipelineRunID, runID)
	}
	if rel.Trigger == nil || rel.Trigger.Type != release.TriggerBranchPush || rel.Trigger.Branch != "develop" {
		t.Errorf("trigger = %+v", rel.Trigger)
	}
	if aliasesOf(rel)["develop-1"] != release.AliasBranch {
		t.Errorf("aliases = %+v", rel.Aliases)
	}
	e.do(http.MethodPost, "/v1/releases", ci, endpoints.CreateReleaseRequest{PipelineRunID: "no-such-run", Repository: "acme/mono", Project: "api", CommitSHA: sha("4b")}).
		wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, "pipeline_run_id")
	e.do(http.MethodPost, "/v1/releases", ci, endpoints.CreateReleaseRequest{PipelineRunID: runID, Repository: "acme/mono", Project: "api", CommitSHA: sha("4b")}).
		wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, "pipeline_run_id")
}

// A run's release is registered before its image exists; the worker
// then records the image's digest, once, and the run lists the release.
func TestReleaseImageIsRecordedOnceAndTheRunListsIt(t *testing.T) {
	e := newEnv(t)
	e.registerRepo("acme/mono")
	runID := e.createRun("acme/mono", sha("6a"), "main")["id"].(string)
	rel := e.createRelease(endpoints.CreateReleaseRequest{PipelineRunID: runID, Repository: "acme/mono", Project: "api", CommitSHA: sha("6a")})
	if rel.OCIDigest != "" {
		t.Fatalf("a release registered without an image has digest %q", rel.OCIDigest)
	}
	digest := "sha256:" + sha("d1") + sha("d1")[:24]
	path := "/v1/releases/" + rel.ID + "/image"
	got := decode[endpoints.ReleaseResponse](t, e.do(http.MethodPut, path, ci, endpoints.SetReleaseImageRequest{OCIDigest: digest}).want(t, http.StatusOK))
	if got.ID != rel.ID || got.OCIDigest != digest || got.Number != 1 {
		t.Errorf("after PUT: %+v", got)
	}
	// The same digest again (a retried job) is accepted; another is not.
	e.do(http.MethodPut, path, ci, endpoints.SetReleaseImageRequest{OCIDigest: digest}).want(t, http.StatusOK)
	e.do(http.MethodPut, path, ci, endpoints.SetReleaseImageRequest{OCIDigest: "sha256:" + sha("d2") + sha("d2")[:24]}).
		wantError(t, http.StatusConflict, fault.Conflict)
	e.do(http.MethodPut, path, ci, endpoints.SetReleaseImageRequest{OCIDigest: "latest"}).
		wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, "oci_digest")
	e.do(http.MethodPut, path, alice, endpoints.SetReleaseImageRequest{OCIDigest: digest}).
		wantError(t, http.StatusForbidden, fault.PermissionDenied)
	e.do(http.MethodPut, "/v1/releases/"+sha("00")[:8]+"-0000-4000-8000-000000000000/image", ci, endpoints.SetReleaseImageRequest{OCIDigest: digest}).
		wantError(t, http.StatusNotFound, fault.NotFound)

	run := decode[endpoints.RunResponse](t, e.do(http.MethodGet, "/v1/runs/"+runID, alice, nil).want(t, http.StatusOK))
	if run.ID != runID || len(run.Releases) != 1 || run.Releases[0].ID != rel.ID || run.Releases[0].OCIDigest != digest ||
		run.Releases[0].CanonicalID != "acme/mono/api/"+sha("6a") {
		t.Errorf("GET run lists releases %+v", run.Releases)
	}
	other := e.createRun("acme/mono", sha("6b"), "main")["id"].(string)
	if r := object(t, e.do(http.MethodGet, "/v1/runs/"+other, alice, nil).want(t, http.StatusOK)); len(r["releases"].([]any)) != 0 {
		t.Errorf("a run without releases lists %v", r["releases"])
	}
}

func TestCreateReleaseRefusals(t *testing.T) {
	e := newEnv(t)
	e.registerRepo("acme/mono")
	good := endpoints.CreateReleaseRequest{Repository: "acme/mono", Project: "api", CommitSHA: sha("5a")}
	cases := []struct {
		name  string
		edit  func(*endpoints.CreateReleaseRequest)
		field string
	}{
		{"bad repository", func(r *endpoints.CreateReleaseRequest) { r.Repository = "acme" }, "repository"},
		{"bad project", func(r *endpoints.CreateReleaseRequest) { r.Project = "Not_Kebab" }, "project"},
		{"bad sha", func(r *endpoints.CreateReleaseRequest) { r.CommitSHA = "ABC" }, "commit_sha"},
		{"artifact without a name", func(r *endpoints.CreateReleaseRequest) {
			r.Artifacts = []endpoints.ReleaseArtifactRequest{{Type: "container", TrackingOCIURI: "x"}}
		}, "artifacts[0].name"},
		{"artifact of a bad type", func(r *endpoints.CreateReleaseRequest) {
			r.Artifacts = []endpoints.ReleaseArtifactRequest{{Name: "a", Type: "tarball", TrackingOCIURI: "x"}}
		}, "artifacts[0].type"},
		{"artifact listed twice", func(r *endpoints.CreateReleaseRequest) {
			a := endpoints.ReleaseArtifactRequest{Name: "a", Type: "binary", TrackingOCIURI: "x"}
			r.Artifacts = []endpoints.ReleaseArtifactRequest{a, a}
		}, "artifacts[1].name"},
		{"bad trigger", func(r *endpoints.CreateReleaseRequest) {
			r.Trigger = &endpoints.ReleaseTriggerRequest{Type: "cron"}
		}, "trigger.type"},
		{"tag trigger without a tag", func(r *endpoints.CreateReleaseRequest) {
			r.Trigger = &endpoints.ReleaseTriggerRequest{Type: "tag"}
		}, "trigger.tag"},
		{"unregistered repository", func(r *endpoints.CreateReleaseRequest) { r.Repository = "acme/never-registered" }, "repository"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := good
			c.edit(&req)
			e.do(http.MethodPost, "/v1/releases", ci, req).wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, c.field)
		})
	}
	for _, who := range []string{alice, bob, carol} {
		e.do(http.MethodPost, "/v1/releases", who, good).wantError(t, http.StatusForbidden, fault.PermissionDenied).
			wantMessage(t, "create-release needs one of the roles service-account")
	}
	// A tag alias taken by another release of the project is a conflict.
	e.tagRelease("api", sha("6a"), "v2.0.0")
	e.do(http.MethodPost, "/v1/releases", ci, endpoints.CreateReleaseRequest{Repository: "acme/mono", Project: "api", CommitSHA: sha("6b"),
		Trigger: &endpoints.ReleaseTriggerRequest{Type: "tag", Tag: "v2.0.0"}}).wantError(t, http.StatusConflict, fault.Conflict).
		wantMessage(t, `alias "v2.0.0" already names release 1`)
}

func TestGetRelease(t *testing.T) {
	e := newEnv(t)
	first := e.tagRelease("api", sha("abcdef11"), "api/v1.0.0")
	second := e.branchRelease("api", sha("abcdef12"), "main")
	third := e.tagRelease("api", sha("12345673"), "v1.1.0")
	web := e.tagRelease("web", sha("fedcba94"), "web/v1.0.0")

	cases := []struct {
		id   string
		want endpoints.ReleaseResponse
	}{
		{"v1.0.0", first},
		{"main-2", second},
		{"v1.1.0", third},
		{"1", first},
		{"2", second},
		{"3", third},
		{"1234567", third},
		{third.CommitSHA, third},
		{"abcdef11", first},
		{"abcdef12", second},
	}
	for _, c := range cases {
		for _, who := range []string{alice, ci} {
			r := e.do(http.MethodGet, "/v1/releases/acme/mono/api/"+c.id, who, nil).want(t, http.StatusOK)
			got := decode[endpoints.ReleaseResponse](t, r)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("GET .../api/%s = release %d %s, want %d %s", c.id, got.Number, got.ID, c.want.Number, c.want.ID)
			}
		}
	}
	if got := decode[endpoints.ReleaseResponse](t, e.do(http.MethodGet, "/v1/releases/acme/mono/web/1", bob, nil).want(t, http.StatusOK)); got.ID != web.ID {
		t.Errorf("web 1 = %+v", got)
	}

	// An ambiguous prefix: 409 naming the candidates.
	a := e.do(http.MethodGet, "/v1/releases/acme/mono/api/abcdef1", alice, nil).wantError(t, http.StatusConflict, fault.Conflict)
	a.wantMessage(t, `commit prefix "abcdef1" matches 2 releases`)
	if got := a.Details["candidates"]; !reflect.DeepEqual(got, []any{first.CommitSHA, second.CommitSHA}) {
		t.Errorf("details.candidates = %v, want the two commits", got)
	}

	for _, id := range []string{"v9.9.9", "4", "0", "abcdef", "9999999", "main-1"} {
		e.do(http.MethodGet, "/v1/releases/acme/mono/api/"+id, alice, nil).wantError(t, http.StatusNotFound, fault.NotFound).
			wantMessage(t, "no release matches")
	}
	e.do(http.MethodGet, "/v1/releases/acme/mono/nothing/1", alice, nil).wantError(t, http.StatusNotFound, fault.NotFound)
	e.do(http.MethodGet, "/v1/releases/acme/other/api/1", alice, nil).wantError(t, http.StatusNotFound, fault.NotFound)
}

func TestListReleases(t *testing.T) {
	e := newEnv(t)
	var all []endpoints.ReleaseResponse
	for i, c := range []string{"a", "b", "c", "d", "e"} {
		all = append(all, e.tagRelease("api", sha(c+"7"), "v1."+string(rune('0'+i))+".0"))
		e.clock.Advance(time.Minute)
	}
	e.tagRelease("web", sha("f7"), "v1")

	numbers := func(l endpoints.ReleaseList) []int {
		out := []int{}
		for _, r := range l.Releases {
			out = append(out, r.Number)
		}
		return out
	}
	cases := []struct {
		query                string
		want                 []int
		total, limit, offset int
	}{
		{"", []int{5, 4, 3, 2, 1}, 5, 20, 0},
		{"?limit=2", []int{5, 4}, 5, 2, 0},
		{"?limit=2&offset=2", []int{3, 2}, 5, 2, 2},
		{"?limit=2&offset=4", []int{1}, 5, 2, 4},
		{"?offset=5", []int{}, 5, 20, 5},
		{"?limit=1000", []int{5, 4, 3, 2, 1}, 5, 100, 0},
	}
	for _, c := range cases {
		r := e.do(http.MethodGet, "/v1/releases/acme/mono/api"+c.query, alice, nil).want(t, http.StatusOK)
		l := decode[endpoints.ReleaseList](t, r)
		if !reflect.DeepEqual(numbers(l), c.want) || l.Total != c.total || l.Limit != c.limit || l.Offset != c.offset {
			t.Errorf("list%s = %v total %d limit %d offset %d, want %v total %d limit %d offset %d",
				c.query, numbers(l), l.Total, l.Limit, l.Offset, c.want, c.total, c.limit, c.offset)
		}
	}
	l := decode[endpoints.ReleaseList](t, e.do(http.MethodGet, "/v1/releases/acme/mono/api?limit=1", alice, nil).want(t, http.StatusOK))
	if !reflect.DeepEqual(l.Releases[0], all[4]) {
		t.Errorf("listed release %+v, want %+v", l.Releases[0], all[4])
	}
	if l.Releases[0].CanonicalID != "acme/mono/api/"+sha("e7") {
		t.Errorf("listed canonical_id = %q", l.Releases[0].CanonicalID)
	}
	empty := e.do(http.MethodGet, "/v1/releases/acme/mono/nothing", alice, nil).want(t, http.StatusOK)
	if obj := object(t, empty); !reflect.DeepEqual(obj["releases"], []any{}) || obj["total"] != float64(0) {
		t.Errorf("empty list = %s", empty.body)
	}
	e.do(http.MethodGet, "/v1/releases/acme/mono/api?limit=x", alice, nil).wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, "limit")
}

// TestTagLikeABranchAliasBlocksNothing checks issue 13's case: a release
// tagged "main-3" used to make the third release of main a 409 for good.
// Now both exist; "main-3" names the tag's release, and the branch's
// release stays reachable by its number.
func TestTagLikeABranchAliasBlocksNothing(t *testing.T) {
	e := newEnv(t)
	tag := e.tagRelease("api", sha("71"), "main-3")
	e.branchRelease("api", sha("72"), "main")
	third := e.branchRelease("api", sha("73"), "main")
	if aliasesOf(third)["main-3"] != release.AliasBranch || third.Number != 3 {
		t.Fatalf("third release = %+v", third)
	}
	e.branchRelease("api", sha("74"), "main")
	got := decode[endpoints.ReleaseResponse](t, e.do(http.MethodGet, "/v1/releases/acme/mono/api/main-3", alice, nil).want(t, http.StatusOK))
	if got.ID != tag.ID {
		t.Errorf("main-3 = release %d, want the tag's release %d", got.Number, tag.Number)
	}
	got = decode[endpoints.ReleaseResponse](t, e.do(http.MethodGet, "/v1/releases/acme/mono/api/3", alice, nil).want(t, http.StatusOK))
	if got.ID != third.ID {
		t.Errorf("3 = release %d", got.Number)
	}
}
