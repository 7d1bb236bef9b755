package httptransport_test

import (
	"net/http"
	"testing"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

// TestStatusReportsMoveOnlyForward drives the status routes with a
// service-account token as a careless (or hostile) client would: a step
// cannot be set to success ahead of its worker, nor work started in a
// phase group that has not begun or in a run that has ended; the worker's
// own pending → running → failed reports are recorded, and a terminal
// status, once set, stays.
func TestStatusReportsMoveOnlyForward(t *testing.T) {
	e := newEnv(t)
	e.registerRepo("acme/mono")
	id := e.createRun("acme/mono", sha("f9"), "main")["id"].(string)
	var publish, test pipeline.Phase // group 2, group 1
	for _, ph := range addPlan(t, e, id) {
		if ph.Name == "publish" {
			publish = ph
		} else {
			test = ph
		}
	}
	startRun(t, e, id, 1)
	stepPath := func(s pipeline.Step) string { return "/v1/steps/" + s.ID + "/status" }
	taskPath := func(tk pipeline.Task) string { return "/v1/tasks/" + tk.ID + "/status" }
	var api, web pipeline.Task
	for _, tk := range test.Tasks {
		if tk.ProjectName == "api" {
			api = tk
		} else {
			web = tk
		}
	}
	unit, lint := api.Steps[0], api.Steps[1]

	// Ahead of time: success of a step nobody started, whatever its group.
	e.do(http.MethodPut, stepPath(unit), ci, `{"status":"success","exit_code":0}`).wantError(t, http.StatusConflict, fault.Conflict).
		wantMessage(t, "has not started")
	e.do(http.MethodPut, stepPath(publish.Tasks[0].Steps[0]), ci, `{"status":"success","exit_code":0}`).wantError(t, http.StatusConflict, fault.Conflict)
	e.do(http.MethodPut, taskPath(api), ci, `{"status":"success"}`).wantError(t, http.StatusConflict, fault.Conflict)
	// Work in a group that has not begun, or a step of a task not started.
	e.do(http.MethodPut, taskPath(publish.Tasks[0]), ci, `{"status":"running"}`).wantError(t, http.StatusConflict, fault.Conflict).
		wantMessage(t, "phase publish is pending")
	e.do(http.MethodPut, stepPath(unit), ci, `{"status":"running"}`).wantError(t, http.StatusConflict, fault.Conflict).
		wantMessage(t, "its task is pending")

	// The worker's reports go through, and its failure is what stays.
	e.do(http.MethodPut, taskPath(api), ci, `{"status":"running"}`).want(t, http.StatusOK)
	e.do(http.MethodPut, stepPath(unit), ci, `{"status":"running"}`).want(t, http.StatusOK)
	e.do(http.MethodPut, stepPath(unit), ci, `{"status":"failed","exit_code":2}`).want(t, http.StatusOK)
	e.do(http.MethodPut, stepPath(unit), ci, `{"status":"success","exit_code":0}`).wantError(t, http.StatusConflict, fault.Conflict)
	e.do(http.MethodPut, stepPath(unit), ci, `{"status":"running"}`).wantError(t, http.StatusConflict, fault.Conflict)
	e.do(http.MethodPut, taskPath(api), ci, endpoints.TaskStatusRequest{Status: "failed", Error: "step unit failed with exit code 2"}).want(t, http.StatusOK)
	e.do(http.MethodPut, taskPath(api), ci, `{"status":"success"}`).wantError(t, http.StatusConflict, fault.Conflict)
	// A pending step of a running task may be skipped, not finished.
	e.do(http.MethodPut, stepPath(lint), ci, `{"status":"skipped"}`).want(t, http.StatusOK)

	// Once the run has ended, nothing more starts.
	e.do(http.MethodDelete, "/v1/runs/"+id, alice, nil).want(t, http.StatusNoContent)
	e.do(http.MethodPut, taskPath(web), ci, `{"status":"running"}`).wantError(t, http.StatusConflict, fault.Conflict).
		wantMessage(t, "the run is cancelled")

	run := decode[pipeline.Run](t, e.do(http.MethodGet, "/v1/runs/"+id, alice, nil).want(t, http.StatusOK))
	for _, ph := range run.Phases {
		for _, tk := range ph.Tasks {
			for _, s := range tk.Steps {
				if s.ID == unit.ID && (s.Status != pipeline.StatusFailed || s.ExitCode == nil || *s.ExitCode != 2) {
					t.Errorf("the failed step is recorded %s exit %v", s.Status, s.ExitCode)
				}
			}
		}
	}
}
