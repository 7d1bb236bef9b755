package httptransport_test

import (
	"context"
	"net/http"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

func TestCreateRun(t *testing.T) {
	e := newEnv(t)
	e.registerRepo("acme/mono")
	body := endpoints.CreateRunRequest{Repository: "acme/mono", Branch: "main", CommitSHA: sha("a1")}

	first := e.do(http.MethodPost, "/v1/runs", ci, body).want(t, http.StatusCreated)
	run := object(t, first)
	id, _ := run["id"].(string)
	if id == "" || run["status"] != "pending" || run["started_at"] != at(start) {
		t.Errorf("created run = %s", first.body)
	}
	for k, want := range map[string]any{"repository": "acme/mono", "branch": "main", "commit_sha": sha("a1"),
		"triggered_by": ci, "trigger_type": "push", "completed_at": nil} {
		if got := run[k]; got != want {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}

	// The same commit again: the existing run, 200.
	e.clock.Advance(time.Minute)
	again := object(t, e.do(http.MethodPost, "/v1/runs", ci, body).want(t, http.StatusOK))
	if again["id"] != id || again["started_at"] != at(start) {
		t.Errorf("second create = %v, want run %s", again, id)
	}

	// triggered_by and trigger_type are taken from the body when given.
	manual := object(t, e.do(http.MethodPost, "/v1/runs", ci, endpoints.CreateRunRequest{
		Repository: "acme/mono", CommitSHA: sha("a2"), TriggeredBy: "dave", TriggerType: "manual"}).want(t, http.StatusCreated))
	if manual["triggered_by"] != "dave" || manual["trigger_type"] != "manual" || manual["id"] == id {
		t.Errorf("manual run = %v", manual)
	}
}

func TestCreateRunRefusals(t *testing.T) {
	e := newEnv(t)
	e.registerRepo("acme/mono")
	cases := []struct {
		name   string
		body   endpoints.CreateRunRequest
		field  string
		status int
		code   fault.Kind
	}{
		{"unregistered repository", endpoints.CreateRunRequest{Repository: "acme/other", CommitSHA: sha("b1")}, "repository", 422, fault.Validation},
		{"bad repository", endpoints.CreateRunRequest{Repository: "mono", CommitSHA: sha("b1")}, "repository", 422, fault.Validation},
		{"short sha", endpoints.CreateRunRequest{Repository: "acme/mono", CommitSHA: "abc1234"}, "commit_sha", 422, fault.Validation},
		{"bad trigger", endpoints.CreateRunRequest{Repository: "acme/mono", CommitSHA: sha("b1"), TriggerType: "cron"}, "trigger_type", 422, fault.Validation},
		{"bad branch", endpoints.CreateRunRequest{Repository: "acme/mono", CommitSHA: sha("b1"), Branch: "a b"}, "branch", 422, fault.Validation},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.do(http.MethodPost, "/v1/runs", ci, c.body).wantError(t, c.status, c.code).wantField(t, c.field)
		})
	}
	a := e.do(http.MethodPost, "/v1/runs", alice, endpoints.CreateRunRequest{Repository: "acme/mono", CommitSHA: sha("b1")}).
		wantError(t, http.StatusForbidden, fault.PermissionDenied)
	a.wantMessage(t, "create-run needs one of the roles service-account")
}

// addPlan gives a run two phases, the first with two tasks of one and two
// steps, through the store as the orchestrator does.
func addPlan(t *testing.T, e *env, runID string) []pipeline.Phase {
	t.Helper()
	phases, err := e.mem.AddPhases(context.Background(), runID, []pipeline.Phase{
		{Name: "publish", GroupNumber: 2, Status: pipeline.StatusPending, Tasks: []pipeline.Task{
			{ProjectName: "api", ProjectPath: "services/api", Status: pipeline.StatusPending,
				Steps: []pipeline.Step{{Name: "push", Action: "earthly", Target: "+publish", Status: pipeline.StatusPending}}},
		}},
		{Name: "test", GroupNumber: 1, Status: pipeline.StatusPending, Tasks: []pipeline.Task{
			{ProjectName: "web", ProjectPath: "apps/web", Status: pipeline.StatusPending,
				Steps: []pipeline.Step{{Name: "unit", Action: "earthly", Target: "+test", Status: pipeline.StatusPending}}},
			{ProjectName: "api", ProjectPath: "services/api", Status: pipeline.StatusPending,
				Steps: []pipeline.Step{
					{Name: "unit", Action: "earthly", Target: "+test", Status: pipeline.StatusPending},
					{Name: "lint", Action: "script", Target: "lint.sh", Status: pipeline.StatusPending},
				}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return phases
}

func TestGetRunNestsPhasesTasksAndSteps(t *testing.T) {
	e := newEnv(t)
	e.registerRepo("acme/mono")
	id := e.createRun("acme/mono", sha("c1"), "main")["id"].(string)

	// Before a plan, phases is an empty or null list.
	if ph := object(t, e.do(http.MethodGet, "/v1/runs/"+id, alice, nil).want(t, http.StatusOK))["phases"]; ph != nil && len(ph.([]any)) != 0 {
		t.Errorf("phases before the plan = %v", ph)
	}

	phases := addPlan(t, e, id)
	run := object(t, e.do(http.MethodGet, "/v1/runs/"+id, bob, nil).want(t, http.StatusOK))
	if run["id"] != id || run["repository"] != "acme/mono" || run["commit_sha"] != sha("c1") || run["status"] != "pending" {
		t.Errorf("run = %v", run)
	}
	got := run["phases"].([]any)
	if len(got) != 2 {
		t.Fatalf("phases = %v", got)
	}
	test := got[0].(map[string]any)
	if test["name"] != "test" || test["group_number"] != float64(1) || test["status"] != "pending" || test["id"] != phases[0].ID {
		t.Errorf("first phase = %v", test)
	}
	if got[1].(map[string]any)["name"] != "publish" {
		t.Errorf("second phase = %v", got[1])
	}
	tasks := test["tasks"].([]any)
	if len(tasks) != 2 {
		t.Fatalf("tasks of test = %v", tasks)
	}
	api := tasks[0].(map[string]any)
	if api["project_name"] != "api" || api["project_path"] != "services/api" || api["id"] != phases[0].Tasks[0].ID {
		t.Errorf("first task = %v", api)
	}
	if tasks[1].(map[string]any)["project_name"] != "web" {
		t.Errorf("tasks are not by project name: %v", tasks)
	}
	steps := api["steps"].([]any)
	if len(steps) != 2 {
		t.Fatalf("steps = %v", steps)
	}
	unit := steps[0].(map[string]any)
	want := map[string]any{"id": phases[0].Tasks[0].Steps[0].ID, "step_name": "unit", "action": "earthly", "target": "+test",
		"status": "pending", "started_at": nil, "completed_at": nil, "exit_code": nil}
	if !reflect.DeepEqual(unit, want) {
		t.Errorf("step = %v, want %v", unit, want)
	}
	if steps[1].(map[string]any)["step_name"] != "lint" {
		t.Errorf("steps are not in the order they were added: %v", steps)
	}

	e.do(http.MethodGet, "/v1/runs/no-such-run", alice, nil).wantError(t, http.StatusNotFound, fault.NotFound).
		wantMessage(t, `"no-such-run" not found`)
}

func TestListRuns(t *testing.T) {
	e := newEnv(t)
	e.registerRepo("acme/mono")
	e.registerRepo("acme/tools")
	one := e.createRun("acme/mono", sha("d1"), "main")["id"].(string)
	e.clock.Advance(time.Second)
	two := e.createRun("acme/mono", sha("d2"), "main")["id"].(string)
	e.clock.Advance(time.Second)
	three := e.createRun("acme/mono", sha("d3"), "feature/x")["id"].(string)
	e.clock.Advance(time.Second)
	four := e.createRun("acme/tools", sha("d4"), "main")["id"].(string)
	e.do(http.MethodDelete, "/v1/runs/"+three, alice, nil).want(t, http.StatusNoContent)

	ids := func(l endpoints.RunList) []string {
		out := []string{}
		for _, r := range l.Runs {
			out = append(out, r.ID)
		}
		return out
	}
	cases := []struct {
		query              string
		want               []string
		total, limit, offs int
	}{
		{"", []string{four, three, two, one}, 4, 20, 0},
		{"?repository=acme/mono", []string{three, two, one}, 3, 20, 0},
		{"?repository=acme/mono&branch=main", []string{two, one}, 2, 20, 0},
		{"?commit_sha=" + sha("d3"), []string{three}, 1, 20, 0},
		{"?status=cancelled", []string{three}, 1, 20, 0},
		{"?status=pending&repository=acme/mono", []string{two, one}, 2, 20, 0},
		{"?repository=acme/nothing", []string{}, 0, 20, 0},
		{"?limit=2", []string{four, three}, 4, 2, 0},
		{"?limit=2&offset=1", []string{three, two}, 4, 2, 1},
		{"?limit=2&offset=3", []string{one}, 4, 2, 3},
		{"?offset=10", []string{}, 4, 20, 10},
		{"?limit=500", []string{four, three, two, one}, 4, 100, 0},
	}
	for _, c := range cases {
		r := e.do(http.MethodGet, "/v1/runs"+c.query, bob, nil).want(t, http.StatusOK)
		if obj := object(t, r); obj["runs"] == nil {
			t.Errorf("%s: runs is null, want a list: %s", c.query, r.body)
		}
		l := decode[endpoints.RunList](t, r)
		if !reflect.DeepEqual(ids(l), c.want) || l.Total != c.total || l.Limit != c.limit || l.Offset != c.offs {
			t.Errorf("GET /v1/runs%s = %v total %d limit %d offset %d, want %v total %d limit %d offset %d",
				c.query, ids(l), l.Total, l.Limit, l.Offset, c.want, c.total, c.limit, c.offs)
		}
		for _, run := range l.Runs {
			if len(run.Phases) != 0 {
				t.Errorf("a listed run carries phases")
			}
		}
	}
	for _, q := range []struct{ query, field string }{
		{"?status=bogus", "status"}, {"?limit=abc", "limit"}, {"?limit=-1", "limit"}, {"?offset=-1", "offset"}, {"?offset=1.5", "offset"},
	} {
		e.do(http.MethodGet, "/v1/runs"+q.query, alice, nil).wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, q.field)
	}
}

func TestCancelRun(t *testing.T) {
	e := newEnv(t)
	e.registerRepo("acme/mono")
	id := e.createRun("acme/mono", sha("e1"), "main")["id"].(string)
	e.clock.Advance(90 * time.Second)

	r := e.do(http.MethodDelete, "/v1/runs/"+id, alice, nil).want(t, http.StatusNoContent)
	if len(r.body) != 0 {
		t.Errorf("204 with a body: %q", r.body)
	}
	run := object(t, e.do(http.MethodGet, "/v1/runs/"+id, alice, nil).want(t, http.StatusOK))
	if run["status"] != "cancelled" || run["reason"] != "cancelled by alice" || run["completed_at"] != at(start.Add(90*time.Second)) {
		t.Errorf("after cancel: %v", run)
	}
	e.do(http.MethodDelete, "/v1/runs/"+id, carol, nil).wantError(t, http.StatusConflict, fault.Conflict).
		wantMessage(t, "has already finished (cancelled) and cannot be cancelled")
	e.do(http.MethodDelete, "/v1/runs/no-such-run", alice, nil).wantError(t, http.StatusNotFound, fault.NotFound)

	// Every role may cancel.
	for i, who := range []string{bob, carol, ci} {
		other := e.createRun("acme/mono", sha("e2"+string(rune('0'+i))), "main")["id"].(string)
		e.do(http.MethodDelete, "/v1/runs/"+other, who, nil).want(t, http.StatusNoContent)
	}
}

// TestRetryRun: POST /v1/runs/{id}/retry reopens a run that failed in
// its release stage (202, the run running again from now); a second
// retry while it runs is a conflict, and an approver may not retry.
func TestRetryRun(t *testing.T) {
	e := newEnv(t)
	e.registerRepo("acme/mono")
	id := e.createRun("acme/mono", sha("f1"), "main")["id"].(string)
	ctx := context.Background()
	if _, err := e.mem.AddPhases(ctx, id, []pipeline.Phase{{Name: "build", GroupNumber: 1, Status: pipeline.StatusSuccess}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.mem.UpdateRun(ctx, id, func(r *pipeline.Run) error {
		done := start
		r.Status, r.Reason, r.CompletedAt, r.DiscoveryOutput = pipeline.StatusFailed, "release of api failed", &done, []byte(`{"releaseEnabled":true}`)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	e.do(http.MethodPost, "/v1/runs/"+id+"/retry", bob, nil).wantError(t, http.StatusForbidden, fault.PermissionDenied)
	run := object(t, e.do(http.MethodPost, "/v1/runs/"+id+"/retry", alice, nil).want(t, http.StatusAccepted))
	if run["status"] != "running" || run["reason"] != nil && run["reason"] != "" || run["started_at"] != at(start.Add(time.Hour)) {
		t.Errorf("retried run = %v", run)
	}
	e.do(http.MethodPost, "/v1/runs/"+id+"/retry", alice, nil).wantError(t, http.StatusConflict, fault.Conflict).
		wantMessage(t, "only a failed run can be retried")
	e.do(http.MethodPost, "/v1/runs/no-such-run/retry", alice, nil).wantError(t, http.StatusNotFound, fault.NotFound)
}

// startRun marks a run and its phases running, as the orchestrator does
// before workers report on their tasks (only groups are given, or all).
func startRun(t *testing.T, e *env, runID string, groups ...int) {
	t.Helper()
	ctx := context.Background()
	run, err := e.mem.UpdateRun(ctx, runID, func(r *pipeline.Run) error { r.Status = pipeline.StatusRunning; return nil })
	if err != nil {
		t.Fatal(err)
	}
	for _, ph := range run.Phases {
		if len(groups) > 0 && !slices.Contains(groups, ph.GroupNumber) {
			continue
		}
		if _, err := e.mem.UpdatePhase(ctx, ph.ID, func(p *pipeline.Phase) error { p.Status = pipeline.StatusRunning; return nil }); err != nil {
			t.Fatal(err)
		}
	}
}

func TestUpdateTaskStatus(t *testing.T) {
	e := newEnv(t)
	e.registerRepo("acme/mono")
	id := e.createRun("acme/mono", sha("f1"), "main")["id"].(string)
	task := addPlan(t, e, id)[0].Tasks[0]
	startRun(t, e, id)
	path := "/v1/tasks/" + task.ID + "/status"

	got := decode[pipeline.Task](t, e.do(http.MethodPut, path, ci, endpoints.TaskStatusRequest{Status: "running"}).want(t, http.StatusOK))
	if got.ID != task.ID || got.Status != pipeline.StatusRunning || got.StartedAt == nil || !got.StartedAt.Equal(start) || got.CompletedAt != nil {
		t.Errorf("running task = %+v", got)
	}
	e.clock.Advance(time.Minute)
	got = decode[pipeline.Task](t, e.do(http.MethodPut, path, ci, endpoints.TaskStatusRequest{Status: "failed", Error: "unit tests failed"}).want(t, http.StatusOK))
	if got.Status != pipeline.StatusFailed || got.Error != "unit tests failed" || got.CompletedAt == nil || !got.CompletedAt.Equal(start.Add(time.Minute)) {
		t.Errorf("failed task = %+v", got)
	}
	// The same report again changes nothing.
	e.do(http.MethodPut, path, ci, endpoints.TaskStatusRequest{Status: "failed"}).want(t, http.StatusOK)
	// A finished task never changes.
	e.do(http.MethodPut, path, ci, endpoints.TaskStatusRequest{Status: "success"}).wantError(t, http.StatusConflict, fault.Conflict)
	e.do(http.MethodPut, path, ci, endpoints.TaskStatusRequest{Status: "pending"}).wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, "status")
	e.do(http.MethodPut, path, ci, endpoints.TaskStatusRequest{Status: "bogus"}).wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, "status")
	e.do(http.MethodPut, path, alice, endpoints.TaskStatusRequest{Status: "running"}).wantError(t, http.StatusForbidden, fault.PermissionDenied).
		wantMessage(t, "update-status needs one of the roles service-account")
	e.do(http.MethodPut, "/v1/tasks/no-such-task/status", ci, endpoints.TaskStatusRequest{Status: "running"}).wantError(t, http.StatusNotFound, fault.NotFound)
	e.do(http.MethodPut, path, ci, `{"status":"running","extra":1}`).wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, "extra")

	// The run shows what was reported.
	run := decode[pipeline.Run](t, e.do(http.MethodGet, "/v1/runs/"+id, alice, nil).want(t, http.StatusOK))
	if st := run.Phases[0].Tasks[0]; st.Status != pipeline.StatusFailed || st.Error != "unit tests failed" {
		t.Errorf("task in the run = %+v", st)
	}
}

func TestUpdateStepStatus(t *testing.T) {
	e := newEnv(t)
	e.registerRepo("acme/mono")
	id := e.createRun("acme/mono", sha("f2"), "main")["id"].(string)
	step := addPlan(t, e, id)[0].Tasks[0].Steps[0]
	startRun(t, e, id)
	e.do(http.MethodPut, "/v1/tasks/"+step.TaskID+"/status", ci, endpoints.TaskStatusRequest{Status: "running"}).want(t, http.StatusOK)
	path := "/v1/steps/" + step.ID + "/status"

	got := decode[pipeline.Step](t, e.do(http.MethodPut, path, ci, `{"status":"running"}`).want(t, http.StatusOK))
	if got.ID != step.ID || got.Status != pipeline.StatusRunning || got.StartedAt == nil || got.ExitCode != nil {
		t.Errorf("running step = %+v", got)
	}
	e.clock.Advance(time.Minute)
	r := e.do(http.MethodPut, path, ci, `{"status":"success","exit_code":0,"logs_s3_key":"pipeline-runs/x/logs/test/api/unit.log"}`).want(t, http.StatusOK)
	obj := object(t, r)
	if obj["status"] != "success" || obj["exit_code"] != float64(0) || obj["logs_s3_key"] != "pipeline-runs/x/logs/test/api/unit.log" ||
		obj["completed_at"] != at(start.Add(time.Minute)) {
		t.Errorf("successful step = %s", r.body)
	}
	// A repeated success keeps what was recorded; failed after success is a conflict.
	again := decode[pipeline.Step](t, e.do(http.MethodPut, path, ci, `{"status":"success","exit_code":3}`).want(t, http.StatusOK))
	if again.ExitCode == nil || *again.ExitCode != 0 {
		t.Errorf("repeated success changed the exit code: %+v", again)
	}
	e.do(http.MethodPut, path, ci, `{"status":"failed","exit_code":1}`).wantError(t, http.StatusConflict, fault.Conflict)
	e.do(http.MethodPut, path, ci, `{"status":"pending"}`).wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, "status")
	e.do(http.MethodPut, path, ci, `{"status":"done"}`).wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, "status")
	e.do(http.MethodPut, path, ci, `{"status":"running","exit_code":"zero"}`).wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, "exit_code")
	e.do(http.MethodPut, path, ci, `{"status":"running","logs_s3_key":"../../etc/passwd"}`).wantError(t, http.StatusUnprocessableEntity, fault.Validation).wantField(t, "logs_s3_key")
	e.do(http.MethodPut, path, bob, `{"status":"running"}`).wantError(t, http.StatusForbidden, fault.PermissionDenied)
	e.do(http.MethodPut, "/v1/steps/no-such-step/status", ci, `{"status":"running"}`).wantError(t, http.StatusNotFound, fault.NotFound)
}
