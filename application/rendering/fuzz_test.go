package rendering_test

import (
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/catalyst-forge/forge/application/cueconfig"
	"github.com/catalyst-forge/forge/application/rendering"
)

// FuzzArtifactReference puts any text in an @artifact() attribute, loads
// the project and renders it: the loader refuses the reference with a
// problem, or the renderer fills it, or says why it cannot; nothing
// panics, and a filled reference holds exactly the output it names.
func FuzzArtifactReference(f *testing.F) {
	for _, seed := range []string{"image.uri", "image.publishers.docker.uri", "image", ".uri", "image.", "a.b.c.d.e", "ima ge.uri", "image.\x00", `image."quoted"`, "image..uri"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		project := "package project\n\nname: \"web\"\n" +
			"artifacts: image: {type: \"container\", producer: script: run: \"true\"}\n" +
			"deployment: resources: [{apiVersion: \"v1\", kind: \"ConfigMap\", metadata: name: \"x\", data: v: @artifact(" + strconv.Quote(ref) + ")}]\n"
		fsys := fstest.MapFS{".forge/repo.cue": {Data: []byte(repoCUE)}, "svc/.forge/project.cue": {Data: []byte(project)}}
		l := cueconfig.NewLoader()
		rc, ps := l.LoadRepo(fsys)
		if len(ps) > 0 {
			t.Fatalf("repo: %v", ps)
		}
		p, ps := l.LoadProject(fsys, "svc", rc)
		if len(ps) > 0 || p == nil {
			return // refused with a problem: fine
		}
		outputs := rendering.Outputs{"image": {"uri": "u", "publishers": map[string]any{"docker": map[string]any{"uri": "d"}}}}
		res, err := rendering.Render(p, outputs, rendering.Options{})
		if err != nil {
			if !strings.Contains(err.Error(), "@artifact(") {
				t.Fatalf("an error that names no reference: %v", err)
			}
			return
		}
		got := res.Resources[0]["data"].(map[string]any)["v"]
		want := map[string]any{"image.uri": "u", "image.publishers.docker.uri": "d"}[ref]
		if got != want && !(want == nil && got != nil) {
			t.Fatalf("@artifact(%q) rendered %v, want %v", ref, got, want)
		}
	})
}
