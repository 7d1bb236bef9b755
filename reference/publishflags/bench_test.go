package publishflags_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/catalyst-forge/forge/application/publishing"
	"github.com/catalyst-forge/forge/domain/artifact"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/oci"
	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/reference/internal/ocitest"
	"github.com/catalyst-forge/forge/reference/publishflags"
	"github.com/catalyst-forge/forge/reference/secretflags"
)

// noProducer is a step executor for a producer whose output is already
// there: the benchmarks measure publishing, not building.
type noProducer struct{}

func (noProducer) Execute(context.Context, ports.StepRequest) (ports.StepResult, error) {
	return ports.StepResult{}, nil
}

// benchRegistry is the registry the benchmarks push to: the one
// FORGE_TEST_REGISTRY names (Debian's docker-registry in .ci/run), else
// an in-process one.
func benchRegistry(b *testing.B) string {
	if host := os.Getenv("FORGE_TEST_REGISTRY"); host != "" {
		return host
	}
	return ocitest.Registry(b)
}

// layout writes an OCI image layout of one uncompressed layer of size
// random bytes under dir/layout.
func layout(b *testing.B, dir string, size int) {
	root := filepath.Join(dir, "layout")
	blobs := filepath.Join(root, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		b.Fatal(err)
	}
	put := func(mediaType string, content []byte) oci.Descriptor {
		d := oci.DescriptorOf(mediaType, content)
		if err := os.WriteFile(filepath.Join(blobs, d.Digest.Hex()), content, 0o644); err != nil {
			b.Fatal(err)
		}
		return d
	}
	data := make([]byte, size)
	_, _ = rand.Read(data)
	l := put(oci.MediaTypeLayer, data)
	cfg := put(oci.MediaTypeImageConfig, []byte(fmt.Sprintf(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[%q]}}`, l.Digest)))
	m, _ := json.Marshal(oci.Manifest{SchemaVersion: 2, MediaType: oci.MediaTypeImageManifest, Config: cfg, Layers: []oci.Descriptor{l}})
	md := put(oci.MediaTypeImageManifest, m)
	idx, _ := json.Marshal(oci.Index{SchemaVersion: 2, Manifests: []oci.Descriptor{md}})
	_ = os.WriteFile(filepath.Join(root, "index.json"), idx, 0o644)
	_ = os.WriteFile(filepath.Join(root, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}

var pushes atomic.Int64

// uniqueName is a repository name never pushed to before, so that every
// push uploads every byte.
func uniqueName(prefix string) string {
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	return fmt.Sprintf("%s-%d-%x", prefix, pushes.Add(1), suffix)
}

func service(b *testing.B, host string) *publishing.Service {
	secrets, err := secretflags.Registry(context.Background(), secretflags.Options{})
	if err != nil {
		b.Fatal(err)
	}
	svc, err := publishflags.Service(publishflags.Options{Tracking: host + "/tracking", Override: host}, noProducer{}, secrets)
	if err != nil {
		b.Fatal(err)
	}
	svc.Tracking = "" // publishing alone, as crane push does
	return svc
}

func request(dir, name string) publishing.Request {
	return publishing.Request{Repository: "bench/mono", CommitSHA: strings.Repeat("b", 40), Dir: dir, Project: "p", ProjectPath: ".", Name: name,
		Artifact: config.Artifact{Type: config.ArtifactContainer, Producer: config.Producer{Script: &config.ScriptProducer{Run: "true", Output: "layout"}},
			Publishers: map[string]map[string]any{"registry": {}}},
		Publishers: map[string]config.Publisher{"registry": {Type: "docker", Settings: map[string]any{"registry": "unused.example"}}}}
}

// BenchmarkPublish50MB pushes a 50 MB image to a registry on loopback,
// each time to a new repository (so every byte is uploaded): with the
// docker publisher, and with `crane push` of the same OCI layout when
// FORGE_BENCH_CRANE names a crane binary (a peer measured in the same
// run; its figure includes starting the process).
func BenchmarkPublish50MB(b *testing.B) {
	host := benchRegistry(b)
	dir := b.TempDir()
	layout(b, dir, 50<<20)
	svc := service(b, host)
	b.Run("forge", func(b *testing.B) {
		b.SetBytes(50 << 20)
		for range b.N {
			out, err := svc.Build(context.Background(), request(dir, uniqueName("forge")))
			if err != nil || out.Failure() != "" || out.Publishers["registry"].Status != artifact.Published {
				b.Fatalf("%v %v %+v", err, out.Failure(), out.Publishers)
			}
		}
	})
	crane := os.Getenv("FORGE_BENCH_CRANE")
	if crane == "" {
		return
	}
	b.Run("crane", func(b *testing.B) {
		b.SetBytes(50 << 20)
		for range b.N {
			cmd := exec.Command(crane, "push", filepath.Join(dir, "layout"), host+"/unused/"+uniqueName("crane"))
			cmd.Env = append(os.Environ(), "HOME="+dir)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("crane push: %v\n%s", err, out)
			}
		}
	})
}

// BenchmarkRepublishUnchanged publishes an image that is already there
// under its tag: the docker publisher finds it present and pushes
// nothing.
func BenchmarkRepublishUnchanged(b *testing.B) {
	host := benchRegistry(b)
	dir := b.TempDir()
	layout(b, dir, 50<<20)
	svc := service(b, host)
	name := fmt.Sprintf("again-%d", os.Getpid())
	if out, err := svc.Build(context.Background(), request(dir, name)); err != nil || out.Failure() != "" {
		b.Fatalf("%v %s", err, out.Failure())
	}
	b.ResetTimer()
	for range b.N {
		out, err := svc.Build(context.Background(), request(dir, name))
		if err != nil || out.Publishers["registry"].Status != artifact.Present {
			b.Fatalf("%v %+v", err, out.Publishers)
		}
	}
}
