package publishing_test

import (
	"archive/tar"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/application/publishing"
	"github.com/catalyst-forge/forge/domain/artifact"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/oci"
)

// moduleArchive is a .tar.gz of a CUE module.
func moduleArchive(t *testing.T, schema string) []byte {
	files := map[string]string{
		"cue.mod/module.cue": "module: \"example.com/schemas@v0\"\nlanguage: version: \"v0.9.0\"\n",
		"service.cue":        "package schemas\n\n#Service: {name: string, port: " + schema + "}\n",
	}
	return tgz(t, []tar.Header{{Name: "cue.mod/module.cue", Typeflag: tar.TypeReg}, {Name: "service.cue", Typeflag: tar.TypeReg}}, files)
}

func TestCUEPublisher(t *testing.T) {
	write := func(b []byte) func(string) int {
		return func(staging string) int {
			_ = os.WriteFile(filepath.Join(staging, "module.tar.gz"), b, 0o644)
			return 0
		}
	}
	f := newFixture(t, producers{
		"module":  write(moduleArchive(t, "int")),
		"changed": write(moduleArchive(t, "int & >0")),
		"nomod":   write(tgz(t, []tar.Header{{Name: "x.cue", Typeflag: tar.TypeReg}}, map[string]string{"x.cue": "package x\n"})),
	})
	ctx := context.Background()
	build := func(run string, projectCfg map[string]any) artifact.Publication {
		r := request("schemas", config.Artifact{Type: config.ArtifactArchive, Producer: config.Producer{Script: &config.ScriptProducer{Run: run}},
			Publishers: map[string]map[string]any{"modules": projectCfg}})
		r.Publishers["modules"] = config.Publisher{Type: "cue", Settings: map[string]any{"registry": "registry.test", "namespace": "cue"}}
		out, err := f.svc.Build(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return out.Publishers["modules"]
	}
	pub := build("module", map[string]any{"version": "v0.1.0"})
	if pub.Status != artifact.Published || pub.Fields["module"] != "example.com/schemas" || pub.Fields["registry"] != "registry.test/cue" {
		t.Fatalf("cue = %+v", pub)
	}
	raw, _, err := f.reg.Manifest(ctx, "registry.test/cue/example.com/schemas:v0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	var m oci.Manifest
	_ = json.Unmarshal(raw.Bytes, &m)
	if m.Config.MediaType != publishing.MediaTypeCUEModule || len(m.Layers) != 2 || m.Layers[0].MediaType != "application/zip" || m.Layers[1].MediaType != publishing.MediaTypeCUEModuleFile {
		t.Errorf("module manifest = %s", raw.Bytes)
	}
	if pub = build("module", map[string]any{"version": "v0.1.0"}); pub.Status != artifact.Present {
		t.Errorf("the same module again = %+v", pub)
	}
	for _, c := range []struct {
		run     string
		cfg     map[string]any
		wantErr string
	}{
		{"changed", map[string]any{"version": "v0.1.0"}, "module example.com/schemas@v0.1.0 exists with other content"},
		{"module", map[string]any{}, "need version"},
		{"module", map[string]any{"version": "v1.0.0"}, "module example.com/schemas@v0 version v1.0.0"},
		{"nomod", map[string]any{"version": "v0.1.0"}, "holds no cue.mod/module.cue"},
	} {
		if pub := build(c.run, c.cfg); pub.Status != artifact.Failed || !strings.Contains(pub.Error, c.wantErr) {
			t.Errorf("%s %v: %+v, want %q", c.run, c.cfg, pub, c.wantErr)
		}
	}
}
