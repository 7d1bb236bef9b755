package publishflags_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cuelabs.dev/go/oci/ociregistry/ociclient"
	"cuelang.org/go/mod/modregistry"
	"cuelang.org/go/mod/module"

	"github.com/catalyst-forge/forge/domain/artifact"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/reference/internal/ocitest"
	"github.com/catalyst-forge/forge/reference/publishflags"
	"github.com/catalyst-forge/forge/reference/secretflags"
)

// TestCUEModuleFetchedByCUE publishes a CUE module with the cue publisher
// to a real registry and fetches it back with CUE's own module registry
// client (what `cue mod get` uses), which checks the manifest, the media
// types and the zip.
func TestCUEModuleFetchedByCUE(t *testing.T) {
	host := ocitest.Registry(t)

	dir := t.TempDir()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, content := range map[string]string{
		"cue.mod/module.cue": "module: \"example.com/schemas@v0\"\nlanguage: version: \"v0.9.0\"\n",
		"service.cue":        "package schemas\n\n#Service: {name: string, port: int}\n",
	} {
		_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg})
		_, _ = tw.Write([]byte(content))
	}
	_ = tw.Close()
	_ = zw.Close()
	if err := os.WriteFile(filepath.Join(dir, "schemas.tar.gz"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	secrets, err := secretflags.Registry(context.Background(), secretflags.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := publishflags.Service(publishflags.Options{Tracking: host + "/tracking"}, noProducer{}, secrets)
	if err != nil {
		t.Fatal(err)
	}
	req := request(dir, "schemas")
	req.Artifact = config.Artifact{Type: config.ArtifactArchive, Producer: config.Producer{Script: &config.ScriptProducer{Run: "true", Output: "schemas.tar.gz"}},
		Publishers: map[string]map[string]any{"modules": {"version": "v0.3.1"}}}
	req.Publishers = map[string]config.Publisher{"modules": {Type: "cue", Settings: map[string]any{"registry": host}}}
	out, err := svc.Build(context.Background(), req)
	if err != nil || out.Publishers["modules"].Status != artifact.Published {
		t.Fatalf("%v %+v", err, out.Publishers)
	}

	oc, err := ociclient.New(host, &ociclient.Options{Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	client := modregistry.NewClient(oc)
	mv, _ := module.NewVersion("example.com/schemas@v0", "v0.3.1")
	m, err := client.GetModule(context.Background(), mv)
	if err != nil {
		t.Fatalf("CUE cannot fetch the module: %v", err)
	}
	rc, err := m.GetZip(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, " "); !strings.Contains(got, "cue.mod/module.cue") || !strings.Contains(got, "service.cue") {
		t.Errorf("the module zip holds %s", got)
	}
	versions, err := client.ModuleVersions(context.Background(), "example.com/schemas@v0")
	if err != nil || strings.Join(versions, ",") != "v0.3.1" {
		t.Errorf("versions CUE sees = %v, %v", versions, err)
	}
}
