package argoengine

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
)

// argoStandIn is an httptest stand-in of the Argo Server's workflow API:
// it checks what a real server would require of a request and answers the
// way Argo does (grpc-gateway statuses, {"code": N, "message": "..."}).
type argoStandIn struct {
	t      *testing.T
	mu     sync.Mutex
	stored map[string]bool
	// phases are the status.phase of stored workflows ("" until set).
	phases map[string]string
	// templates are the WorkflowTemplates in the namespace, by name, as
	// WorkflowTemplate renders them; expanded are the specs of workflows
	// created from one, as Argo runs them: the template's spec with the
	// workflow's arguments put in its {{workflow.parameters.*}}.
	templates map[string][]byte
	expanded  map[string]json.RawMessage
	// answer, when set, replaces the normal answer with this status.
	answer int
	body   string
}

// expand is what Argo runs for a workflow that references a template.
func (a *argoStandIn) expand(spec json.RawMessage) (json.RawMessage, int, string) {
	var ref struct {
		WorkflowTemplateRef *struct {
			Name string `json:"name"`
		} `json:"workflowTemplateRef"`
		Arguments struct {
			Parameters []struct{ Name, Value string } `json:"parameters"`
		} `json:"arguments"`
	}
	if err := json.Unmarshal(spec, &ref); err != nil || ref.WorkflowTemplateRef == nil {
		return spec, 0, ""
	}
	tmpl, ok := a.templates[ref.WorkflowTemplateRef.Name]
	if !ok {
		return nil, http.StatusBadRequest, `{"code":3,"message":"workflowtemplates.argoproj.io \"` + ref.WorkflowTemplateRef.Name + `\" not found"}`
	}
	var wt struct {
		Spec map[string]json.RawMessage `json:"spec"`
	}
	if err := json.Unmarshal(tmpl, &wt); err != nil {
		a.t.Fatal(err)
	}
	declared := map[string]bool{}
	var args struct {
		Parameters []struct{ Name string } `json:"parameters"`
	}
	_ = json.Unmarshal(wt.Spec["arguments"], &args)
	for _, p := range args.Parameters {
		declared[p.Name] = true
	}
	delete(wt.Spec, "arguments")
	out, _ := json.Marshal(wt.Spec)
	text := string(out)
	for _, p := range ref.Arguments.Parameters {
		if !declared[p.Name] {
			return nil, http.StatusBadRequest, `{"code":3,"message":"spec.arguments.` + p.Name + ` is not a parameter of the template"}`
		}
		text = strings.ReplaceAll(text, "{{workflow.parameters."+p.Name+"}}", p.Value)
	}
	if strings.Contains(text, "{{workflow.parameters.") {
		return nil, http.StatusBadRequest, `{"code":3,"message":"a template parameter has no value"}`
	}
	return json.RawMessage(text), 0, ""
}

func (a *argoStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.t.Helper()
	if got := r.Header.Get("Authorization"); got != "Bearer s3cr3t-token-value" {
		a.t.Errorf("Authorization = %q, want the bearer token", got)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		a.t.Errorf("Content-Type = %q, want application/json", got)
	}
	w.Header().Set("Content-Type", "application/json")
	if a.answer != 0 {
		w.WriteHeader(a.answer)
		io.WriteString(w, a.body)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/workflows/forge":
		var req struct {
			Workflow *struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Metadata   struct {
					Name string `json:"name"`
				} `json:"metadata"`
				Spec json.RawMessage `json:"spec"`
			} `json:"workflow"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Workflow == nil {
			a.t.Errorf("create body is not {\"workflow\": {...}}: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		wf := req.Workflow
		if wf.APIVersion != "argoproj.io/v1alpha1" || wf.Kind != "Workflow" || len(wf.Spec) == 0 {
			a.t.Errorf("create body holds %s %s, want an argoproj.io/v1alpha1 Workflow with a spec", wf.APIVersion, wf.Kind)
		}
		name := wf.Metadata.Name
		spec, status, body := a.expand(wf.Spec)
		if status != 0 {
			w.WriteHeader(status)
			io.WriteString(w, body)
			return
		}
		if a.stored[name] {
			w.WriteHeader(http.StatusConflict)
			io.WriteString(w, `{"code":6,"message":"workflows.argoproj.io \"`+name+`\" already exists"}`)
			return
		}
		a.stored[name] = true
		a.expanded[name] = spec
		io.WriteString(w, `{"metadata":{"name":"`+name+`","namespace":"forge","uid":"5b1e"},"spec":{},"status":{}}`)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/v1/workflows/forge/"):
		name := strings.TrimPrefix(r.URL.Path, "/api/v1/workflows/forge/")
		if !a.stored[name] {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"code":5,"message":"workflows.argoproj.io \"`+name+`\" not found"}`)
			return
		}
		io.WriteString(w, `{"metadata":{"name":"`+name+`"},"spec":{},"status":{"phase":"`+a.phases[name]+`"}}`)
	case r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/terminate"):
		name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v1/workflows/forge/"), "/terminate")
		var req struct{ Name, Namespace string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Name != name || req.Namespace != "forge" {
			a.t.Errorf("terminate body = %+v (%v), want name %q, namespace forge", req, err, name)
		}
		if !a.stored[name] {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"code":5,"message":"workflows.argoproj.io \"`+name+`\" not found"}`)
			return
		}
		io.WriteString(w, `{"metadata":{"name":"`+name+`"},"spec":{"shutdown":"Terminate"}}`)
	default:
		a.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		w.WriteHeader(http.StatusNotFound)
	}
}

func startStandIn(t *testing.T) (*argoStandIn, *Engine) {
	t.Helper()
	argo := &argoStandIn{t: t, stored: map[string]bool{}, phases: map[string]string{},
		templates: map[string][]byte{}, expanded: map[string]json.RawMessage{}}
	srv := httptest.NewServer(argo)
	t.Cleanup(srv.Close)
	return argo, newTestEngine(t, srv.URL)
}

const testRunID = "0192f7c4-3b1a-7c9e-9a4b-5d6e7f8a9b0c"

func TestStartAgainstHTTPTestArgoServer(t *testing.T) {
	ctx := context.Background()
	want := "forge-run-" + testRunID

	t.Run("creates the workflow, then finds it on a second start", func(t *testing.T) {
		_, e := startStandIn(t)
		for i := range 2 {
			name, err := e.Start(ctx, testRun(testRunID))
			if err != nil || name != want {
				t.Fatalf("start %d: got %q, %v; want %q", i+1, name, err, want)
			}
		}
	})

	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		t.Run("token refused "+http.StatusText(status), func(t *testing.T) {
			argo, e := startStandIn(t)
			argo.answer = status
			argo.body = `{"code":16,"message":"token not valid: s3cr3t-token-value"}`
			_, err := e.Start(ctx, testRun(testRunID))
			if !fault.Is(err, fault.Unavailable) {
				t.Fatalf("got %v, want Unavailable", err)
			}
			msg := err.Error()
			if strings.Contains(msg, "s3cr3t-token-value") {
				t.Errorf("error shows the token: %s", msg)
			}
			if !strings.Contains(msg, "refused the token") || !strings.Contains(msg, "127.0.0.1") {
				t.Errorf("error should name the server and the refused token: %s", msg)
			}
		})
	}

	t.Run("rejected workflow is Validation with the server's message", func(t *testing.T) {
		argo, e := startStandIn(t)
		argo.answer = http.StatusBadRequest
		argo.body = `{"code":3,"message":"templates.dispatch: image is invalid"}`
		_, err := e.Start(ctx, testRun(testRunID))
		if !fault.Is(err, fault.Validation) || !strings.Contains(err.Error(), "image is invalid") {
			t.Fatalf("got %v, want Validation with the server's message", err)
		}
	})

	t.Run("server error is Unavailable", func(t *testing.T) {
		argo, e := startStandIn(t)
		argo.answer = http.StatusInternalServerError
		argo.body = `{"code":2,"message":"etcd leader changed"}`
		_, err := e.Start(ctx, testRun(testRunID))
		if !fault.Is(err, fault.Unavailable) {
			t.Fatalf("got %v, want Unavailable", err)
		}
	})

	t.Run("unreachable server is Unavailable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		e := newTestEngine(t, url)
		_, err := e.Start(ctx, testRun(testRunID))
		if !fault.Is(err, fault.Unavailable) {
			t.Fatalf("got %v, want Unavailable", err)
		}
		if strings.Contains(err.Error(), "s3cr3t-token-value") {
			t.Errorf("error shows the token: %s", err)
		}
	})
}

// TestRetryAgainstHTTPTestArgoServer: a reopened run gets a workflow of
// its own beside the one that failed, the same one when retried twice,
// and another when reopened again; the name stays a DNS label.
func TestRetryAgainstHTTPTestArgoServer(t *testing.T) {
	ctx := context.Background()
	argo, e := startStandIn(t)
	run := testRun(testRunID)
	first, err := e.Start(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	run.StartedAt = run.StartedAt.Add(time.Hour) // reopened
	retry, err := e.Retry(ctx, run)
	if err != nil || retry == first || !strings.HasPrefix(retry, first+"-retry-") {
		t.Fatalf("retry = %q, %v; want a workflow of its own named after %s", retry, err, first)
	}
	if again, err := e.Retry(ctx, run); err != nil || again != retry {
		t.Fatalf("second retry of one reopening = %q, %v; want %q", again, err, retry)
	}
	run.StartedAt = run.StartedAt.Add(time.Hour) // reopened again
	if later, err := e.Retry(ctx, run); err != nil || later == retry {
		t.Fatalf("retry after another reopening = %q, %v; want a new workflow", later, err)
	}
	if n := len(argo.stored); n != 3 {
		t.Errorf("argo holds %d workflows, want the first and two retries", n)
	}
	long := testRun(strings.Repeat("a", 80))
	if name := RetryWorkflowName(long); len(name) > maxNameLen || !strings.Contains(name, "-retry-") {
		t.Errorf("retry name of a long run ID = %q (%d characters), want at most %d", name, len(name), maxNameLen)
	}
}

func TestCancelAgainstHTTPTestArgoServer(t *testing.T) {
	ctx := context.Background()

	t.Run("terminates a started workflow", func(t *testing.T) {
		_, e := startStandIn(t)
		run := testRun(testRunID)
		name, err := e.Start(ctx, run)
		if err != nil {
			t.Fatal(err)
		}
		run.ArgoWorkflowName = name
		if err := e.Cancel(ctx, run); err != nil {
			t.Fatalf("Cancel: %v", err)
		}
	})

	t.Run("unknown workflow (404) is not an error", func(t *testing.T) {
		_, e := startStandIn(t)
		if err := e.Cancel(ctx, testRun("never-started")); err != nil {
			t.Fatalf("Cancel: %v", err)
		}
	})

	t.Run("finished workflow is not an error", func(t *testing.T) {
		argo, e := startStandIn(t)
		argo.answer = http.StatusInternalServerError
		argo.body = `{"code":2,"message":"cannot shutdown a completed workflow: workflow: \"forge-run-x\", namespace: \"forge\""}`
		if err := e.Cancel(ctx, testRun("x")); err != nil {
			t.Fatalf("Cancel: %v", err)
		}
	})

	t.Run("server error is Unavailable", func(t *testing.T) {
		argo, e := startStandIn(t)
		argo.answer = http.StatusServiceUnavailable
		if err := e.Cancel(ctx, testRun(testRunID)); !fault.Is(err, fault.Unavailable) {
			t.Fatalf("got %v, want Unavailable", err)
		}
	})

	t.Run("token refused is Unavailable without the token", func(t *testing.T) {
		argo, e := startStandIn(t)
		argo.answer = http.StatusUnauthorized
		err := e.Cancel(ctx, testRun(testRunID))
		if !fault.Is(err, fault.Unavailable) || strings.Contains(err.Error(), "s3cr3t-token-value") {
			t.Fatalf("got %v, want Unavailable without the token", err)
		}
	})
}

func TestActiveAgainstHTTPTestArgoServer(t *testing.T) {
	ctx := context.Background()
	argo, e := startStandIn(t)
	run := testRun(testRunID)
	if active, err := e.Active(ctx, run); err != nil || active {
		t.Errorf("a workflow never started: active = %v, %v", active, err)
	}
	name, err := e.Start(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	run.ArgoWorkflowName = name
	for phase, want := range map[string]bool{"": true, "Pending": true, "Running": true, "Succeeded": false, "Failed": false, "Error": false} {
		argo.mu.Lock()
		argo.phases[name] = phase
		argo.mu.Unlock()
		if active, err := e.Active(ctx, run); err != nil || active != want {
			t.Errorf("phase %q: active = %v, %v; want %v", phase, active, err, want)
		}
	}
	argo.answer = http.StatusServiceUnavailable
	if _, err := e.Active(ctx, run); !fault.Is(err, fault.Unavailable) {
		t.Errorf("server down: %v", err)
	}
}

// TestStartFromAWorkflowTemplate: with Config.WorkflowTemplate a run's
// workflow references the template WorkflowTemplate makes, and what Argo
// runs from the two is, field for field, the inline workflow of the same
// run; a template Argo does not have refuses the run.
func TestStartFromAWorkflowTemplate(t *testing.T) {
	ctx := context.Background()
	argo, inline := startStandIn(t)
	cfg := testConfig(inline.server.String())
	tmpl, err := WorkflowTemplate("forge-run", cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.WorkflowTemplate = "forge-run"
	cfg.DispatcherImage, cfg.ServiceAccount, cfg.Env, cfg.EnvFromSecret = "", "", nil, ""
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := e.Start(ctx, testRun(testRunID)); !fault.Is(err, fault.Validation) || !strings.Contains(err.Error(), "forge-run") {
		t.Errorf("a template Argo does not have: %v, want a Validation error naming it", err)
	}
	argo.templates["forge-run"] = tmpl
	name, err := e.Start(ctx, testRun(testRunID))
	if err != nil || name != "forge-run-"+testRunID {
		t.Fatalf("Start: %q, %v", name, err)
	}
	fromTemplate := argo.expanded[name]

	argo.stored = map[string]bool{}
	if _, err := inline.Start(ctx, testRun(testRunID)); err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(fromTemplate, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(argo.expanded[name], &b); err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("the workflow run from the template differs from the inline one:\n%s\n%s", ja, jb)
	}
}
