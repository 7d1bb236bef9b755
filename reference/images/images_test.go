package images_test

import (
	"archive/tar"
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/reference/images"
)

// TestImagesAreReproducibleAndRun builds every image twice from the same
// source, pushes them to a registry served by the test, and checks the
// digests are the same; then it runs each image's entrypoint with --help
// from the image's extracted filesystem, as a container would.
func TestImagesAreReproducibleAndRun(t *testing.T) {
	ctx := context.Background()
	base, err := random.Image(512, 1) // stands for a base with git and a shell
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\nnot a real one\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := images.Options{ModuleDir: "../..", Version: "v0.0.0-test", Epoch: time.Unix(1700000000, 0).UTC(), CABundle: ca, WorkerBaseImage: base}
	first, err := images.Build(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	second, err := images.Build(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	pushed, err := images.Push(ctx, first, host+"/forge", "v0.0.0-test", []name.Option{name.Insecure})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range images.Binaries {
		d1, _ := first[b].Digest()
		d2, _ := second[b].Digest()
		if d1 != d2 {
			t.Errorf("%s: two builds of the same source gave %s and %s", b, d1, d2)
		}
		ref, err := name.ParseReference(host+"/forge/"+b+":v0.0.0-test", name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		got, err := remote.Image(ref)
		if err != nil {
			t.Fatalf("pulling %s back: %v", ref, err)
		}
		if d, _ := got.Digest(); d != d1 || !strings.HasSuffix(pushed[b], "@"+d.String()) {
			t.Errorf("%s: pushed %s, the registry has %s", b, pushed[b], d)
		}
		cfg, err := got.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Config.User != "65532:65532" || cfg.Config.Entrypoint[0] != "/usr/local/bin/"+b || cfg.Config.Labels["org.opencontainers.image.version"] != "v0.0.0-test" {
			t.Errorf("%s: config %+v", b, cfg.Config)
		}
		root := extract(t, got)
		help, err := exec.Command(filepath.Join(root, "usr/local/bin", b), "--help").CombinedOutput()
		if err != nil || !strings.Contains(string(help), b) {
			t.Errorf("%s --help from its image: %v\n%s", b, err, help)
		}
		if ca, err := os.ReadFile(filepath.Join(root, "etc/ssl/certs/ca-certificates.crt")); err != nil || !strings.Contains(string(ca), "not a real one") {
			t.Errorf("%s: the CA bundle is not in the image (%v)", b, err)
		}
	}
	// forge-worker is laid on its base: the base's layer comes first.
	baseLayers, _ := base.Layers()
	workerLayers, _ := first["forge-worker"].Layers()
	bd, _ := baseLayers[0].Digest()
	wd, _ := workerLayers[0].Digest()
	if len(workerLayers) != 2 || bd != wd {
		t.Errorf("forge-worker has %d layers, the first %s; want the base's %s and its own", len(workerLayers), wd, bd)
	}
	if apiLayers, _ := first["forge-api"].Layers(); len(apiLayers) != 1 {
		t.Errorf("forge-api has %d layers; want one, FROM scratch", len(apiLayers))
	}
}

// extract writes an image's filesystem to a new directory.
func extract(t *testing.T, img v1.Image) string {
	t.Helper()
	root := t.TempDir()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return root
		}
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(root, filepath.Clean("/"+h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(path, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o777)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, tr); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
}

func TestTheWorkerNeedsABase(t *testing.T) {
	_, err := images.Build(context.Background(), images.Options{ModuleDir: "../..", Binaries: []string{"forge-worker"}, CABundle: "/dev/null"})
	if !fault.Is(err, fault.Validation) || !strings.Contains(err.Error(), "git and the steps' shell") {
		t.Errorf("a worker image without a base: %v", err)
	}
	_, err = images.Build(context.Background(), images.Options{ModuleDir: "../..", Binaries: []string{"forge"}, CABundle: "/dev/null"})
	if !fault.Is(err, fault.Validation) {
		t.Errorf("an image of a binary that has none: %v", err)
	}
}
