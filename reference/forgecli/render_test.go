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
