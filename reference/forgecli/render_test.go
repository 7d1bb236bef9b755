package forgecli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRenderWithPlaceholders(t *testing.T) {
	r := forge(t, "render", filepath.Join(exampleDir, "services", "hello-api"))
	r.wantCode(t, 0)
	if !strings.Contains(r.stdout, "image: <@artifact image.publishers.registry.uri>") || !strings.Contains(r.stdout, "kind: Deployment") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, `project.cue:62:11: @artifact("image.publishers.registry.uri") has no output`) {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestRenderWithArtifacts(t *testing.T) {
	outputs := filepath.Join(t.TempDir(), "outputs.json")
	doc := `{"image": {"digest": "sha256:abc", "size": 1048576, "publishers": {"registry": {"uri": "localhost:5000/examples/image@sha256:abc"}}}}`
	if err := os.WriteFile(outputs, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(exampleDir, "services", "hello-api")
	r := forge(t, "render", dir, "--artifacts", outputs)
	r.wantCode(t, 0)
	if !strings.Contains(r.stdout, "image: localhost:5000/examples/image@sha256:abc") || r.stderr != "" {
		t.Errorf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	r = forge(t, "render", dir, "--artifacts", outputs, "--output", "json")
	r.wantCode(t, 0)
	var resources []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &resources); err != nil || len(resources) != 1 || resources[0]["kind"] != "Deployment" {
		t.Errorf("json: %v %s", err, r.stdout)
	}

	missing := filepath.Join(t.TempDir(), "missing.json")
	_ = os.WriteFile(missing, []byte(`{"image": {"digest": "sha256:abc", "publishers": {}}}`), 0o644)
	r = forge(t, "render", dir, "--artifacts", missing)
	r.wantCode(t, 1)
	if !strings.Contains(r.stderr, `project.cue:62:11: @artifact("image.publishers.registry.uri"): artifact image has no output publishers.registry (it has nothing there)`) {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestRenderRefusals(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	_ = os.WriteFile(bad, []byte(`[1, 2]`), 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"render", exampleDir}, 1, "is not a project: it has no .forge/project.cue"},
		{[]string{"render", filepath.Join(exampleDir, "services", "hello-api"), "--artifacts", bad}, 1, "not a JSON object of artifact outputs"},
		{[]string{"render", filepath.Join(exampleDir, "services", "hello-api"), "--output", "toml"}, 2, `--output "toml" is not supported (use yaml or json)`},
	} {
		r := forge(t, c.args...)
		r.wantCode(t, c.code)
		if !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: stderr %q, want %q", c.args, r.stderr, c.want)
		}
	}
}

// TestRenderRefusesInfrastructureReferencesItCannotResolve: spec 08's
// references are checked at release time: one that reads an XR the
// release does not declare, and a cross-namespace form other than
// outputs/, are refused with the resource and the line; the forms of
// spec 08's example pass.
func TestRenderRefusesInfrastructureReferencesItCannotResolve(t *testing.T) {
	root := t.TempDir()
	repoCue, err := os.ReadFile(filepath.Join(exampleDir, ".forge", "repo.cue"))
	if err != nil {
		t.Fatal(err)
	}
	for path, content := range map[string]string{
		".forge/repo.cue": string(repoCue),
		"apps/web/.forge/project.cue": `package project

name: "web"

ci: phases: test: unit: {action: "script", run: "true"}

deployment: resources: [{
	apiVersion: "storage.example.org/v1alpha1"
	kind:       "Bucket"
	metadata: name: "assets"
	spec: {}
}, {
	apiVersion: "forge.io/v1"
	kind:       "Secrets"
	metadata: name: "myapp-secrets"
	spec: secrets: [{name: "database", path: "myapp/database"}]
}, {
	apiVersion: "forge.io/v1"
	kind:       "Deployment"
	metadata: name: "myapp-web"
	spec: containers: [{
		name:  "web"
		image: "example.com/web:1"
		env: {
			DB_PASSWORD: source:    "secrets/myapp-secrets/database/password"
			BUCKET_ARN: source:     "outputs/assets/arn"
			S3_KEY: source:         "connections/assets/accessKeyId"
			SHARED_BUCKET: source:  "backend-repo-storage::outputs/shared-assets/arn"
			PLATFORM_API: source:   "platform::outputs/shared-config/api-endpoint"
			CACHE_URL: source:      "outputs/cache/url"
			PLATFORM_TOKEN: source: "platform::secrets/tokens/api/token"
		}
	}]
}]
`,
	} {
		full := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := forge(t, "render", filepath.Join(root, "apps", "web"))
	r.wantCode(t, 1)
	for _, want := range []string{
		`project.cue:30:28: deployment.resources[2].spec.containers[0].env.CACHE_URL.source (Deployment myapp-web): "outputs/cache/url" reads XR "cache", which this release does not declare (its resources: assets, myapp-secrets, myapp-web)`,
		`project.cue:31:28: deployment.resources[2].spec.containers[0].env.PLATFORM_TOKEN.source (Deployment myapp-web): "platform::secrets/tokens/api/token": only outputs/ may be read across namespaces`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr has no\n  %s\nstderr:\n%s", want, r.stderr)
		}
	}
	if strings.Count(r.stderr, "project.cue:") != 2 {
		t.Errorf("the valid references were refused too:\n%s", r.stderr)
	}
}
