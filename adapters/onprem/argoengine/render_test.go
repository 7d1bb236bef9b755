package argoengine

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/pipeline"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func testConfig(serverURL string) Config {
	return Config{
		ServerURL:       serverURL,
		Namespace:       "forge",
		Token:           "s3cr3t-token-value",
		DispatcherImage: "forge.io/platform/dispatcher:v1.0.0",
		ServiceAccount:  "forge-dispatcher",
		EnvFromSecret:   "forge-dispatcher-env",
		Env: map[string]string{
			"NATS_URL":     "nats://nats:4222",
			"FORGE_SERVER": "http://forge-api:8080",
			"FORGE_RUN_ID": "overridden by the run",
		},
	}
}

func testRun(id string) *pipeline.Run {
	return &pipeline.Run{
		ID:         id,
		Repository: "github.com/catalyst-forge/example",
		Branch:     "main",
		CommitSHA:  "4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39",
	}
}

func newTestEngine(t *testing.T, serverURL string) *Engine {
	t.Helper()
	e, err := New(testConfig(serverURL))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("rendered workflow differs from %s (run go test -update if the change is intended)\ngot:\n%s", path, got)
	}
}

func TestRenderMatchesGoldenManifest(t *testing.T) {
	tests := []struct {
		golden string
		runID  string
	}{
		{"workflow-run.golden.json", "0192f7c4-3b1a-7c9e-9a4b-5d6e7f8a9b0c"},
		{"workflow-uppercase-run-id.golden.json", "Run-01J9Z8QK7M"},
	}
	e := newTestEngine(t, "https://argo.example.com:2746")
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			got, err := e.Render(testRun(tt.runID))
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			checkGolden(t, tt.golden, got)
			again, _ := e.Render(testRun(tt.runID))
			if !bytes.Equal(got, again) {
				t.Error("two renders of the same run differ")
			}
			if !json.Valid(got) {
				t.Error("render is not valid JSON")
			}
		})
	}
}

// TestWorkflowTemplateMatchesGoldenManifest pins the WorkflowTemplate and
// the workflow that references it.
func TestWorkflowTemplateMatchesGoldenManifest(t *testing.T) {
	cfg := testConfig("https://argo.example.com:2746")
	got, err := WorkflowTemplate("forge-run", cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "workflowtemplate.golden.json", got)
	cfg.WorkflowTemplate = "forge-run"
	cfg.DispatcherImage, cfg.ServiceAccount, cfg.Env, cfg.EnvFromSecret = "", "", nil, ""
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, err = e.Render(testRun("0192f7c4-3b1a-7c9e-9a4b-5d6e7f8a9b0c"))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "workflow-from-template.golden.json", got)
	for name, c := range map[string]Config{
		"bad name":   testConfig(""),
		"no image":   {Namespace: "forge"},
		"bad secret": {Namespace: "forge", DispatcherImage: "d", EnvFromSecret: "A"},
	} {
		n := "forge-run"
		if name == "bad name" {
			n = "Forge_Run"
		}
		if _, err := WorkflowTemplate(n, c); !fault.Is(err, fault.Validation) {
			t.Errorf("%s: %v, want a Validation error", name, err)
		}
	}
}

func TestRenderRejectsUnrenderableRuns(t *testing.T) {
	e := newTestEngine(t, "https://argo.example.com:2746")
	for name, run := range map[string]*pipeline.Run{
		"nil run":             nil,
		"empty id":            testRun(""),
		"template expression": testRun("a{{workflow.name}}"),
	} {
		if _, err := e.Render(run); !fault.Is(err, fault.Validation) {
			t.Errorf("%s: got %v, want a Validation error", name, err)
		}
	}
}

func TestWorkflowNameIsDNSSafeAndDistinct(t *testing.T) {
	long := strings.Repeat("x", 80)
	tests := []struct {
		runID, want string
	}{
		{"0192f7c4-3b1a-7c9e-9a4b-5d6e7f8a9b0c", "forge-run-0192f7c4-3b1a-7c9e-9a4b-5d6e7f8a9b0c"},
		{"Run-01J9Z8QK7M", "forge-run-run-01j9z8qk7m"},
	}
	for _, tt := range tests {
		if got := WorkflowName(tt.runID); got != tt.want {
			t.Errorf("WorkflowName(%q) = %q, want %q", tt.runID, got, tt.want)
		}
	}
	seen := map[string]string{}
	for _, id := range []string{"a_b", "a.b", long, long + "y", "-x-", "ÄÖ"} {
		name := WorkflowName(id)
		if len(name) > 63 {
			t.Errorf("WorkflowName(%q) = %q: longer than 63", id, name)
		}
		for i, r := range name {
			ok := (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || (r == '-' && i > 0 && i < len(name)-1)
			if !ok {
				t.Errorf("WorkflowName(%q) = %q: not DNS-safe at %d", id, name, i)
				break
			}
		}
		if other, dup := seen[name]; dup {
			t.Errorf("WorkflowName(%q) = WorkflowName(%q) = %q", id, other, name)
		}
		seen[name] = id
	}
}

func TestNewRejectsIncompleteConfig(t *testing.T) {
	for name, change := range map[string]func(*Config){
		"no server url":        func(c *Config) { c.ServerURL = "" },
		"server url not http":  func(c *Config) { c.ServerURL = "argo:2746" },
		"no namespace":         func(c *Config) { c.Namespace = "" },
		"no dispatcher image":  func(c *Config) { c.DispatcherImage = "" },
		"secret name upper":    func(c *Config) { c.EnvFromSecret = "Forge-Env" },
		"secret name expr":     func(c *Config) { c.EnvFromSecret = "{{workflow.name}}" },
		"secret name too long": func(c *Config) { c.EnvFromSecret = strings.Repeat("a", 254) },
		"template and image":   func(c *Config) { c.WorkflowTemplate = "forge-run" },
		"template name upper": func(c *Config) {
			c.WorkflowTemplate, c.DispatcherImage, c.ServiceAccount, c.Env, c.EnvFromSecret = "Forge-Run", "", "", nil, ""
		},
	} {
		cfg := testConfig("https://argo.example.com:2746")
		change(&cfg)
		if _, err := New(cfg); !fault.Is(err, fault.Validation) {
			t.Errorf("%s: got %v, want a Validation error", name, err)
		}
	}
}

func TestRenderLeavesEnvFromOutWithoutSecret(t *testing.T) {
	cfg := testConfig("https://argo.example.com:2746")
	cfg.EnvFromSecret = ""
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.Render(testRun("0192f7c4-3b1a-7c9e-9a4b-5d6e7f8a9b0c"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(got, []byte("envFrom")) || bytes.Contains(got, []byte("secretRef")) {
		t.Errorf("a workflow without EnvFromSecret has an envFrom:\n%s", got)
	}
	with, _ := newTestEngine(t, "https://argo.example.com:2746").Render(testRun("0192f7c4-3b1a-7c9e-9a4b-5d6e7f8a9b0c"))
	var wf struct {
		Spec struct {
			Templates []struct {
				Container *struct {
					EnvFrom []struct {
						SecretRef struct {
							Name string `json:"name"`
						} `json:"secretRef"`
					} `json:"envFrom"`
				} `json:"container"`
			} `json:"templates"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(with, &wf); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tpl := range wf.Spec.Templates {
		if tpl.Container != nil {
			for _, ef := range tpl.Container.EnvFrom {
				names = append(names, ef.SecretRef.Name)
			}
		}
	}
	if len(names) != 1 || names[0] != "forge-dispatcher-env" {
		t.Errorf("envFrom secrets of the dispatch container = %v, want [forge-dispatcher-env]", names)
	}
}
