package rendering_test

import (
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/catalyst-forge/forge/application/cueconfig"
	"github.com/catalyst-forge/forge/application/rendering"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/fault"
)

const repoCUE = `package repo

forgeVersion: "v1.0.0"
tagging: strategy: "monorepo"
phases: build: group: 1
publishers: docker: {type: "docker", registry: "registry.example.com"}
`

const projectCUE = `package project

name: "web"
artifacts: image: {
	type: "container"
	producer: script: run: "sh image.sh"
	publishers: docker: {}
}
deployment: resources: [{
	apiVersion: "apps/v1"
	kind:       "Deployment"
	metadata: name: "web"
	spec: {
		replicas: 2
		template: spec: containers: [{
			name:  "web"
			image: @artifact("image.publishers.docker.uri")
		}]
	}
}, {
	apiVersion: "v1"
	kind:       "ConfigMap"
	metadata: name: "web-build"
	data: {
		digest: @artifact("image.digest")
		"image-size": @artifact("image.size")
	}
}]
`

func load(t *testing.T, project string) *config.Project {
	t.Helper()
	fsys := fstest.MapFS{
		".forge/repo.cue":        {Data: []byte(repoCUE)},
		"svc/.forge/project.cue": {Data: []byte(project)},
	}
	l := cueconfig.NewLoader()
	rc, ps := l.LoadRepo(fsys)
	if len(ps) > 0 {
		t.Fatalf("repo: %v", ps)
	}
	p, ps := l.LoadProject(fsys, "svc", rc)
	if len(ps) > 0 {
		t.Fatalf("project: %v", ps)
	}
	return p
}

var outputs = rendering.Outputs{"image": {
	"digest": "sha256:aaaa", "size": float64(1048576),
	"publishers": map[string]any{"docker": map[string]any{"uri": "registry.example.com/web@sha256:aaaa"}},
}}

const want = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  template:
    spec:
      containers:
        - image: registry.example.com/web@sha256:aaaa
          name: web
---
apiVersion: v1
data:
  digest: sha256:aaaa
  image-size: 1048576
kind: ConfigMap
metadata:
  name: web-build
`

func TestRender(t *testing.T) {
	p := load(t, projectCUE)
	res, err := rendering.Render(p, outputs, rendering.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := rendering.YAML(res.Resources)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != want {
		t.Errorf("YAML =\n%s\nwant\n%s", out, want)
	}
	again, _ := rendering.Render(p, outputs, rendering.Options{})
	if b, _ := rendering.YAML(again.Resources); string(b) != string(out) {
		t.Error("rendering twice gave other bytes")
	}
	if p.Deployment.Resources[1].(map[string]any)["data"].(map[string]any)["digest"] != nil {
		t.Error("rendering changed the project's own resources")
	}
}

func TestRenderRefusals(t *testing.T) {
	p := load(t, projectCUE)
	for _, c := range []struct {
		name    string
		outputs rendering.Outputs
		want    []string
	}{
		{"no outputs", nil, []string{`svc/.forge/project.cue:17:11: `, `@artifact("image.publishers.docker.uri"): no artifact outputs were given`}},
		{"other artifact", rendering.Outputs{"cli": {}}, []string{"there is no output of artifact image (outputs of cli)"}},
		{"missing field", rendering.Outputs{"image": {"digest": "sha256:a", "publishers": map[string]any{}}},
			[]string{`@artifact("image.size"): artifact image has no output size (it has digest, publishers)`,
				`@artifact("image.publishers.docker.uri"): artifact image has no output publishers.docker (it has nothing there)`}},
	} {
		_, err := rendering.Render(p, c.outputs, rendering.Options{})
		if !fault.Is(err, fault.Validation) {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v\nwant it to contain %q", c.name, err, w)
			}
		}
	}
}

func TestPlaceholders(t *testing.T) {
	p := load(t, projectCUE)
	res, err := rendering.Render(p, nil, rendering.Options{Placeholders: true})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := rendering.YAML(res.Resources)
	if len(res.Unresolved) != 3 || !strings.Contains(string(out), "image: <@artifact image.publishers.docker.uri>") {
		t.Errorf("%d unresolved; YAML:\n%s", len(res.Unresolved), out)
	}
}

// TestParseYAMLReadsBackWhatYAMLWrote: the stream YAML writes parses back
// into the same resources, numbers kept whole; a document that is not a
// mapping is refused naming it.
func TestParseYAMLReadsBackWhatYAMLWrote(t *testing.T) {
	in := []map[string]any{
		{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "api"}, "spec": map[string]any{"replicas": 2}},
		{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": "api"}},
	}
	b, err := rendering.YAML(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := rendering.ParseYAML(b)
	if err != nil || !reflect.DeepEqual(out, in) {
		t.Fatalf("parsed back %#v, %v; want %#v", out, err, in)
	}
	if out, err := rendering.ParseYAML(nil); err != nil || len(out) != 0 {
		t.Errorf("empty stream = %v, %v", out, err)
	}
	if _, err := rendering.ParseYAML([]byte("kind: A\n---\n- a list\n")); !fault.Is(err, fault.Validation) || !strings.Contains(err.Error(), "document 2") {
		t.Errorf("a list document: %v", err)
	}
}
