package forgeapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/pipeline"
)

func TestNewEngineRejectsIncompleteArgoFlags(t *testing.T) {
	full := ArgoOptions{Server: "https://argo:2746", Namespace: "forge", DispatcherImage: "forge/dispatcher:v1", DispatcherSecret: "forge-dispatcher-env"}
	tests := map[string]struct {
		kind   string
		change func(*ArgoOptions)
		want   string
	}{
		"unknown engine":     {"local", func(*ArgoOptions) {}, `--engine must be none or argo, got "local"`},
		"nothing given":      {"argo", func(a *ArgoOptions) { *a = ArgoOptions{} }, "--argo-server, --argo-namespace, --dispatcher-image, --dispatcher-secret"},
		"no secret":          {"argo", func(a *ArgoOptions) { a.DispatcherSecret = "" }, "needs --dispatcher-secret"},
		"missing token":      {"argo", func(a *ArgoOptions) { a.TokenFile = filepath.Join(t.TempDir(), "nope") }, "--argo-token-file"},
		"server not a URL":   {"argo", func(a *ArgoOptions) { a.Server = "argo:2746" }, "ServerURL"},
		"bad secret name":    {"argo", func(a *ArgoOptions) { a.DispatcherSecret = "Forge_Env" }, "not a Kubernetes Secret name"},
		"empty token file":   {"argo", func(a *ArgoOptions) { a.TokenFile = writeFile(t, "  \n") }, "is empty"},
		"engine name typo":   {"Argo", func(*ArgoOptions) {}, "--engine must be none or argo"},
		"server whitespace":  {"argo", func(a *ArgoOptions) { a.Server = " " }, "needs --argo-server"},
		"template and image": {"argo", func(a *ArgoOptions) { a.WorkflowTemplate = "forge-run" }, "drop --dispatcher-image, --dispatcher-secret"},
		"template no server": {"argo", func(a *ArgoOptions) {
			*a = ArgoOptions{Namespace: "forge", WorkflowTemplate: "forge-run"}
		}, "needs --argo-server"},
	}
	for name, tt := range tests {
		a := full
		tt.change(&a)
		e, err := NewEngine(tt.kind, a)
		if !fault.Is(err, fault.Validation) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want a Validation error with %q", name, err, tt.want)
		}
		if e != nil {
			t.Errorf("%s: an engine came back with the error: %#v", name, e)
		}
	}
	if e, err := NewEngine(EngineArgo, ArgoOptions{Server: "https://argo:2746", Namespace: "forge", WorkflowTemplate: "forge-run"}); e == nil || err != nil {
		t.Errorf("a workflow template alone: %v, %v; want an engine", e, err)
	}
	for _, kind := range []string{"", EngineNone} {
		if e, err := NewEngine(kind, ArgoOptions{}); e != nil || err != nil {
			t.Errorf("NewEngine(%q) = %v, %v; want no engine", kind, e, err)
		}
	}
}

// TestArgoEngineFromFlagsStartsWorkflowWithSecretAndToken checks the
// engine against an httptest server standing in for the Argo Server (no
// Argo runs here): the token file's token is sent, and the workflow takes
// its credentials from the Secret, not from its spec.
func TestArgoEngineFromFlagsStartsWorkflowWithSecretAndToken(t *testing.T) {
	var auth string
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		body, _ = io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/workflows/forge" {
			http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusNotFound)
			return
		}
		_, _ = w.Write([]byte(`{"metadata":{"name":"forge-run-run-1"}}`))
	}))
	defer srv.Close()
	e, err := NewEngine(EngineArgo, ArgoOptions{Server: srv.URL, Namespace: "forge", TokenFile: writeFile(t, "tok-123\n"),
		DispatcherImage: "forge/dispatcher:v1", ServiceAccount: "forge-dispatcher", DispatcherSecret: "forge-dispatcher-env"})
	if err != nil {
		t.Fatal(err)
	}
	name, err := e.Start(context.Background(), &pipeline.Run{ID: "run-1", Repository: "acme/mono", CommitSHA: strings.Repeat("a", 40)})
	if err != nil || name != "forge-run-run-1" {
		t.Fatalf("Start = %q, %v", name, err)
	}
	if auth != "Bearer tok-123" {
		t.Errorf("Authorization = %q, want the token file's token", auth)
	}
	var req struct {
		Workflow struct {
			Spec struct {
				ServiceAccountName string `json:"serviceAccountName"`
				Templates          []struct {
					Container *struct {
						Image   string `json:"image"`
						EnvFrom []struct {
							SecretRef struct {
								Name string `json:"name"`
							} `json:"secretRef"`
						} `json:"envFrom"`
					} `json:"container"`
				} `json:"templates"`
			} `json:"spec"`
		} `json:"workflow"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatalf("create request: %v\n%s", err, body)
	}
	found := false
	for _, tpl := range req.Workflow.Spec.Templates {
		if c := tpl.Container; c != nil {
			found = found || c.Image == "forge/dispatcher:v1" && len(c.EnvFrom) == 1 && c.EnvFrom[0].SecretRef.Name == "forge-dispatcher-env"
		}
	}
	if !found || req.Workflow.Spec.ServiceAccountName != "forge-dispatcher" {
		t.Errorf("the workflow does not run the dispatcher image with the secret as its environment:\n%s", body)
	}
	if strings.Contains(string(body), "FORGE_DATABASE") || strings.Contains(string(body), "tok-123") {
		t.Errorf("the workflow spec carries a credential:\n%s", body)
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
