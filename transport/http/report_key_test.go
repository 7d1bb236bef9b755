package httptransport_test

import (
	"net/http"
	"testing"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

// TestStatusesNeedTheirRunsReportKey: with a report secret, a service
// account's token is not enough to report a run's statuses: the report
// must carry that run's key, which only the run's jobs hold. Another
// run's key, or none, is refused, and nothing changes.
func TestStatusesNeedTheirRunsReportKey(t *testing.T) {
	secret := []byte("a report secret of 32 bytes.....")
	e := newEnv(t, func(o *options) { o.reportSecret = secret })
	e.registerRepo("acme/mono")
	id := e.createRun("acme/mono", sha("a1"), "main")["id"].(string)
	other := e.createRun("acme/mono", sha("b2"), "main")["id"].(string)
	var task pipeline.Task
	for _, ph := range addPlan(t, e, id) {
		if ph.Name == "test" {
			task = ph.Tasks[0]
		}
	}
	startRun(t, e, id, 1)
	report := func(path, key, body string) reply {
		req := e.request(http.MethodPut, path, e.as(ci), body)
		if key != "" {
			req.Header.Set(endpoints.ReportKeyHeader, key)
		}
		return e.send(req)
	}
	taskPath := "/v1/tasks/" + task.ID + "/status"
	stepPath := "/v1/steps/" + task.Steps[0].ID + "/status"
	report(taskPath, "", `{"status":"running"}`).wantError(t, http.StatusForbidden, fault.PermissionDenied).
		wantMessage(t, "reported by its workers, with the report key of their job")
	report(taskPath, pipeline.ReportKey(secret, other), `{"status":"running"}`).wantError(t, http.StatusForbidden, fault.PermissionDenied).
		wantMessage(t, "not that of run "+id)
	report(stepPath, pipeline.ReportKey([]byte("another platform's secret......"), id), `{"status":"running"}`).wantError(t, http.StatusForbidden, fault.PermissionDenied)

	key := pipeline.ReportKey(secret, id)
	report(taskPath, key, `{"status":"running"}`).want(t, http.StatusOK)
	report(stepPath, key, `{"status":"running"}`).want(t, http.StatusOK)
	report(stepPath, pipeline.ReportKey(secret, other), `{"status":"success","exit_code":0}`).wantError(t, http.StatusForbidden, fault.PermissionDenied)
	report(stepPath, key, `{"status":"failed","exit_code":1}`).want(t, http.StatusOK)

	run := decode[pipeline.Run](t, e.do(http.MethodGet, "/v1/runs/"+id, alice, nil).want(t, http.StatusOK))
	for _, ph := range run.Phases {
		for _, tk := range ph.Tasks {
			for _, s := range tk.Steps {
				if s.ID == task.Steps[0].ID && s.Status != pipeline.StatusFailed {
					t.Errorf("the step is %s; its worker's failure must be what stays", s.Status)
				}
			}
		}
	}
}
