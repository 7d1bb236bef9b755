package httptransport_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/onprem/fsblob"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/pipeline"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

// logEnv is a server whose runs service reads logs from a filesystem
// object store, with one run holding one step.
func logEnv(t *testing.T) (*env, ports.ObjectStore, pipeline.Step) {
	t.Helper()
	objects, err := fsblob.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { objects.Close() })
	e := newEnv(t, func(o *options) { o.objects = objects })
	e.registerRepo("acme/mono")
	run := e.createRun("acme/mono", sha("10"), "main")
	phases, err := e.mem.AddPhases(context.Background(), run["id"].(string), []pipeline.Phase{{Name: "test", GroupNumber: 1, Status: pipeline.StatusPending,
		Tasks: []pipeline.Task{{ProjectName: "api", ProjectPath: "api", Status: pipeline.StatusRunning,
			Steps: []pipeline.Step{{Name: "unit", Action: "script", Status: pipeline.StatusPending}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	startRun(t, e, run["id"].(string)) // its worker reports the step below
	return e, objects, phases[0].Tasks[0].Steps[0]
}

func TestStepLogs(t *testing.T) {
	e, objects, step := logEnv(t)
	ctx := context.Background()
	path := "/v1/steps/" + step.ID + "/logs"

	// No log yet: not found, with the step's state.
	a := e.do(http.MethodGet, path, alice, nil).wantError(t, http.StatusNotFound, fault.NotFound)
	a.wantMessage(t, "has no log yet (it is pending)")

	key := "pipeline-runs/r/logs/test/api/unit.log"
	if _, err := objects.Put(ctx, key, strings.NewReader("line 1\nline 2\n"), ports.PutOptions{ContentType: "text/plain"}); err != nil {
		t.Fatal(err)
	}
	e.do(http.MethodPut, "/v1/steps/"+step.ID+"/status", ci, endpoints.StepStatusRequest{Status: "running", LogsS3Key: key}).want(t, http.StatusOK)

	r := e.do(http.MethodGet, path, alice, nil)
	if r.status != http.StatusOK || string(r.body) != "line 1\nline 2\n" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Errorf("log = %d %q (%s)", r.status, r.body, r.header.Get("Content-Type"))
	}
	r = e.do(http.MethodGet, path+"?offset=7", alice, nil)
	if r.status != http.StatusOK || string(r.body) != "line 2\n" {
		t.Errorf("log from offset 7 = %d %q", r.status, r.body)
	}
	e.do(http.MethodGet, path+"?offset=-1", alice, nil).wantError(t, http.StatusUnprocessableEntity, fault.Validation)
	e.do(http.MethodGet, path, "", nil).wantError(t, http.StatusUnauthorized, fault.Unauthenticated)

	// Following: the log grows, then the step ends; the client gets all of it.
	c := e.client(alice)
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		_, err := c.StepLogs(ctx, step.ID, 0, true, &out)
		done <- err
	}()
	time.Sleep(700 * time.Millisecond)
	if _, err := objects.Put(ctx, key, strings.NewReader("line 1\nline 2\nline 3\n"), ports.PutOptions{ContentType: "text/plain"}); err != nil {
		t.Fatal(err)
	}
	zero := 0
	e.do(http.MethodPut, "/v1/steps/"+step.ID+"/status", ci, endpoints.StepStatusRequest{Status: "success", ExitCode: &zero}).want(t, http.StatusOK)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("following did not end after the step finished")
	}
	if out.String() != "line 1\nline 2\nline 3\n" {
		t.Errorf("followed log = %q", out.String())
	}
}

func TestStepLogsWithoutObjectStore(t *testing.T) {
	e := newEnv(t)
	e.do(http.MethodGet, "/v1/steps/x/logs", alice, nil).wantError(t, http.StatusServiceUnavailable, fault.Unavailable)
}
