package publishing_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/memory/memregistry"
	"github.com/catalyst-forge/forge/application/publishing"
	"github.com/catalyst-forge/forge/application/signing"
	"github.com/catalyst-forge/forge/domain/artifact"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/oci"
	"github.com/catalyst-forge/forge/ports"
)

// producers is a step executor whose scripts are Go functions: a script
// producer's run names one, and it writes into the staging directory.
type producers map[string]func(staging string) int

func (p producers) Execute(_ context.Context, req ports.StepRequest) (ports.StepResult, error) {
	f, ok := p[req.Run]
	if !ok {
		return ports.StepResult{}, fault.New(fault.Validation, "no script %q", req.Run)
	}
	return ports.StepResult{ExitCode: f(req.Env["FORGE_STAGING_DIR"])}, nil
}

// writeLayout writes a one-layer OCI image layout to dir.
func writeLayout(t *testing.T, dir, content string) oci.Digest {
	t.Helper()
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		t.Fatal(err)
	}
	put := func(mediaType string, b []byte) oci.Descriptor {
		d := oci.DescriptorOf(mediaType, b)
		if err := os.WriteFile(filepath.Join(blobs, d.Digest.Hex()), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return d
	}
	layer := put(oci.MediaTypeLayer, tarOf(t, map[string]string{"hello.txt": content}))
	cfg := put(oci.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["`+string(layer.Digest)+`"]}}`))
	m, _ := json.Marshal(oci.Manifest{SchemaVersion: 2, MediaType: oci.MediaTypeImageManifest, Config: cfg, Layers: []oci.Descriptor{layer}})
	md := put(oci.MediaTypeImageManifest, m)
	idx, _ := json.Marshal(oci.Index{SchemaVersion: 2, Manifests: []oci.Descriptor{md}})
	if err := os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	return md.Digest
}

func tarOf(t *testing.T, files map[string]string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, content := range files {
		_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), ModTime: time.Unix(0, 0)})
		_, _ = tw.Write([]byte(content))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type fixture struct {
	reg     *memregistry.Registry
	svc     *publishing.Service
	signer  *signing.Signer
	refused map[string]bool
}

func newFixture(t *testing.T, p producers) *fixture {
	priv, _, err := signing.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := signing.NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{reg: memregistry.New(), signer: signer, refused: map[string]bool{}}
	f.svc = &publishing.Service{Steps: p, Signer: signer, Tracking: "tracking.test/forge",
		Registry: func(_ context.Context, host string, _ *config.SecretRef) (ports.Registry, error) {
			if f.refused[host] {
				return nil, fault.New(fault.PermissionDenied, "%s refused the credentials", host)
			}
			return f.reg, nil
		}}
	return f
}

var commitTime = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func request(name string, a config.Artifact) publishing.Request {
	return publishing.Request{RunID: "run-1", Repository: "acme/mono", CommitSHA: strings.Repeat("c", 40), CommitTime: commitTime,
		Dir: "/nonexistent", Project: "hello", ProjectPath: "services/hello", Name: name, Artifact: a,
		Publishers: map[string]config.Publisher{
			"docker": {Type: "docker", Settings: map[string]any{"registry": "registry.test", "namespace": "team"}},
			"mirror": {Type: "docker", Settings: map[string]any{"registry": "mirror.test"}},
		}}
}

func TestContainerPublishedTrackedAndSigned(t *testing.T) {
	var want oci.Digest
	f := newFixture(t, producers{"build": func(staging string) int {
		want = writeLayout(t, filepath.Join(staging, "image"), "hello")
		return 0
	}})
	ctx := context.Background()
	req := request("web", config.Artifact{Type: config.ArtifactContainer, Producer: config.Producer{Script: &config.ScriptProducer{Run: "build"}},
		Publishers: map[string]map[string]any{"docker": {"tags": []any{"latest", "v1"}}, "mirror": {}}})
	out, err := f.svc.Build(ctx, req)
	if err != nil || out.Failure() != "" {
		t.Fatalf("Build = %+v, %v", out, err)
	}
	if out.Producer["digest"] != string(want) || out.Producer["layers"] != 1 {
		t.Errorf("producer output = %v", out.Producer)
	}
	docker := out.Publishers["docker"]
	if docker.Status != artifact.Published || docker.Fields["uri"] != "registry.test/team/web@"+string(want) || docker.Fields["tag"] != "latest" || docker.Fields["repository"] != "team/web" {
		t.Errorf("docker = %+v", docker)
	}
	for _, ref := range []string{"registry.test/team/web:latest", "registry.test/team/web:v1", "mirror.test/web:sha-" + req.CommitSHA} {
		if d, err := f.reg.Resolve(ctx, ref); err != nil || d.Digest != want {
			t.Errorf("%s: %v, %v; want %s", ref, d.Digest, err, want)
		}
	}

	// The tracking image: the three layers of spec 01, and a signature.
	repo := "tracking.test/forge/acme/mono/hello/web"
	if out.Tracking == nil || out.Tracking.URI != repo+":sha-"+req.CommitSHA {
		t.Fatalf("tracking = %+v", out.Tracking)
	}
	raw, _, err := f.reg.Manifest(ctx, out.Tracking.URI)
	if err != nil {
		t.Fatal(err)
	}
	var m oci.Manifest
	_ = json.Unmarshal(raw.Bytes, &m)
	var kinds []string
	for _, l := range m.Layers {
		kinds = append(kinds, l.MediaType+"="+l.Annotations[publishing.AnnotationLayerType])
	}
	if got := strings.Join(kinds, " "); got != "application/vnd.forge.artifact.metadata.v1+json=metadata application/spdx+json=sbom application/vnd.in-toto+json=attestation" {
		t.Errorf("layers: %s", got)
	}
	var statement struct {
		Subject []struct {
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
		PredicateType string `json:"predicateType"`
	}
	_ = json.Unmarshal(blob(t, f.reg, repo, m.Layers[2].Digest), &statement)
	if len(statement.Subject) != 1 || "sha256:"+statement.Subject[0].Digest["sha256"] != string(want) || statement.PredicateType != "https://slsa.dev/provenance/v1" {
		t.Errorf("attestation = %+v", statement)
	}
	var meta map[string]any
	_ = json.Unmarshal(blob(t, f.reg, repo, m.Layers[0].Digest), &meta)
	if pubs, _ := meta["publishers"].(map[string]any); len(pubs) != 2 || m.Annotations["org.opencontainers.image.created"] != "2026-11-30T12:00:00Z" {
		t.Errorf("metadata = %v, annotations %v", meta, m.Annotations)
	}
	sigTag := repo + ":" + signing.SignatureTag(oci.Digest(out.Tracking.Digest))
	sig, _, err := f.reg.Manifest(ctx, sigTag)
	if err != nil {
		t.Fatalf("no signature at %s: %v", sigTag, err)
	}

	// Again: nothing new is pushed, the same tracking image and the same
	// signature are found.
	again, err := f.svc.Build(ctx, req)
	if err != nil || again.Publishers["docker"].Status != artifact.Present || again.Publishers["mirror"].Status != artifact.Present {
		t.Fatalf("second Build = %+v, %v", again.Publishers, err)
	}
	if again.Tracking.Digest != out.Tracking.Digest {
		t.Errorf("tracking digest changed: %s then %s", out.Tracking.Digest, again.Tracking.Digest)
	}
	if sig2, _, _ := f.reg.Manifest(ctx, sigTag); !bytes.Equal(sig2.Bytes, sig.Bytes) {
		t.Error("the signature was pushed again")
	}
}

func blob(t *testing.T, reg ports.Registry, repo string, d oci.Digest) []byte {
	t.Helper()
	rc, err := reg.Blob(context.Background(), repo, d)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(rc)
	return buf.Bytes()
}

func TestBinaryAndArchive(t *testing.T) {
	f := newFixture(t, producers{
		"bin": func(staging string) int {
			exe, _ := os.Executable()
			b, _ := os.ReadFile(exe)
			_ = os.WriteFile(filepath.Join(staging, "hello"), b, 0o755)
			return 0
		},
		"tgz": func(staging string) int {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			_, _ = zw.Write(tarOf(t, map[string]string{"a": "1", "b": "2", "c": "3"}))
			_ = zw.Close()
			_ = os.WriteFile(filepath.Join(staging, "site.tar.gz"), buf.Bytes(), 0o644)
			return 0
		},
		"two": func(staging string) int {
			_ = os.WriteFile(filepath.Join(staging, "a"), nil, 0o644)
			_ = os.WriteFile(filepath.Join(staging, "b"), nil, 0o644)
			return 0
		},
	})
	ctx := context.Background()
	out, err := f.svc.Build(ctx, request("cli", config.Artifact{Type: config.ArtifactBinary, Producer: config.Producer{Script: &config.ScriptProducer{Run: "bin"}}}))
	if err != nil || out.Failure() != "" {
		t.Fatalf("binary: %+v, %v", out, err)
	}
	if out.Producer["executable"] != "hello" || out.Producer["os"] != "linux" || out.Producer["arch"] == "" || out.Tracking == nil {
		t.Errorf("binary output = %v (tracking %v)", out.Producer, out.Tracking)
	}
	out, err = f.svc.Build(ctx, request("site", config.Artifact{Type: config.ArtifactArchive, Producer: config.Producer{Script: &config.ScriptProducer{Run: "tgz"}}}))
	if err != nil || out.Producer["format"] != "tar.gz" || out.Producer["entries"] != 3 {
		t.Errorf("archive output = %v, %v", out.Producer, err)
	}
	out, _ = f.svc.Build(ctx, request("two", config.Artifact{Type: config.ArtifactBinary, Producer: config.Producer{Script: &config.ScriptProducer{Run: "two"}}}))
	if !strings.Contains(out.Error, "exactly one file in $FORGE_STAGING_DIR, and left 2 (a, b)") {
		t.Errorf("two files: %q", out.Error)
	}
}

func TestFailures(t *testing.T) {
	f := newFixture(t, producers{
		"fail":   func(string) int { return 3 },
		"nolay":  func(string) int { return 0 },
		"image":  func(staging string) int { writeLayout(t, filepath.Join(staging, "image"), "x"); return 0 },
		"binary": func(staging string) int { _ = os.WriteFile(filepath.Join(staging, "x"), []byte("x"), 0o644); return 0 },
	})
	ctx := context.Background()
	script := func(run string) config.Producer { return config.Producer{Script: &config.ScriptProducer{Run: run}} }

	out, _ := f.svc.Build(ctx, request("web", config.Artifact{Type: config.ArtifactContainer, Producer: script("fail"), Publishers: map[string]map[string]any{"docker": {}}}))
	if out.Failure() != "artifact web of hello failed: its script producer exited with code 3" || len(out.Publishers) != 0 || out.Tracking != nil {
		t.Errorf("failing producer: %q %+v", out.Failure(), out)
	}
	out, _ = f.svc.Build(ctx, request("web", config.Artifact{Type: config.ArtifactContainer, Producer: script("nolay")}))
	if !strings.Contains(out.Error, "must leave an OCI image layout in $FORGE_STAGING_DIR/image") {
		t.Errorf("no layout: %q", out.Error)
	}
	out, _ = f.svc.Build(ctx, request("x", config.Artifact{Type: config.ArtifactBinary, Producer: script("binary"), Publishers: map[string]map[string]any{"docker": {}}}))
	if got := out.Failure(); got != "artifact x of hello failed to publish (publisher docker: docker publishes container artifacts, and x is a binary)" {
		t.Errorf("docker of a binary: %q", got)
	}

	// One publisher refused: it fails, the other publishes; a retry with
	// the outcome runs only the one that failed.
	f.refused["mirror.test"] = true
	req := request("web", config.Artifact{Type: config.ArtifactContainer, Producer: script("image"), Publishers: map[string]map[string]any{"docker": {}, "mirror": {}}})
	out, _ = f.svc.Build(ctx, req)
	if out.Publishers["docker"].Status != artifact.Published || out.Publishers["mirror"].Status != artifact.Failed ||
		out.Failure() != "artifact web of hello failed to publish (publisher mirror: mirror.test refused the credentials)" {
		t.Errorf("partial failure: %q %+v", out.Failure(), out.Publishers)
	}
	f.refused["mirror.test"] = false
	f.refused["registry.test"] = true // were docker published again, it would fail now
	req.Previous = &out
	retry, _ := f.svc.Build(ctx, req)
	if retry.Failure() != "" || retry.Publishers["mirror"].Status != artifact.Published || retry.Publishers["docker"].Status != artifact.Published {
		t.Errorf("retry: %q %+v", retry.Failure(), retry.Publishers)
	}

	bad := request("x", config.Artifact{Type: config.ArtifactContainer, Producer: script("image"), Publishers: map[string]map[string]any{"docker": {"tags": []any{"bad tag"}}, "nowhere": {}}})
	out, _ = f.svc.Build(ctx, bad)
	if !strings.Contains(out.Publishers["docker"].Error, `tag bad tag is not a valid image tag`) || out.Publishers["nowhere"].Error != `the repository defines no publisher "nowhere"` {
		t.Errorf("bad configuration: %+v", out.Publishers)
	}
}

func TestSameInputsSameTrackingImage(t *testing.T) {
	var digests []string
	for range 2 {
		f := newFixture(t, producers{"image": func(staging string) int { writeLayout(t, filepath.Join(staging, "image"), "same"); return 0 }})
		out, err := f.svc.Build(context.Background(), request("web", config.Artifact{Type: config.ArtifactContainer,
			Producer: config.Producer{Script: &config.ScriptProducer{Run: "image"}}, Publishers: map[string]map[string]any{"docker": {}}}))
		if err != nil || out.Tracking == nil {
			t.Fatalf("%+v, %v", out, err)
		}
		digests = append(digests, out.Tracking.Digest)
	}
	if digests[0] != digests[1] {
		t.Errorf("two builds of the same commit gave tracking images %s and %s", digests[0], digests[1])
	}
}

func TestCancelled(t *testing.T) {
	f := newFixture(t, producers{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.svc.Steps = cancelledSteps{}
	_, err := f.svc.Build(ctx, request("web", config.Artifact{Type: config.ArtifactContainer, Producer: config.Producer{Script: &config.ScriptProducer{Run: "x"}}}))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Build = %v", err)
	}
}

type cancelledSteps struct{}

func (cancelledSteps) Execute(context.Context, ports.StepRequest) (ports.StepResult, error) {
	return ports.StepResult{ExitCode: -1, Cancelled: true}, nil
}

// commands records the scripts a producer ran.
type commands struct{ runs []string }

func (c *commands) Execute(_ context.Context, req ports.StepRequest) (ports.StepResult, error) {
	c.runs = append(c.runs, req.Run)
	_ = os.WriteFile(filepath.Join(req.Env["FORGE_STAGING_DIR"], "app"), []byte("binary"), 0o755)
	return ports.StepResult{}, nil
}

func TestEarthlyProducer(t *testing.T) {
	f := newFixture(t, producers{})
	rec := &commands{}
	f.svc.Steps = rec
	out, err := f.svc.Build(context.Background(), request("cli", config.Artifact{Type: config.ArtifactBinary,
		Producer: config.Producer{Earthly: &config.EarthlyProducer{Target: "./cmd+build", Args: []string{"--VERSION=it's 1"}}}}))
	if err != nil || out.Failure() != "" || out.Producer["executable"] != "app" {
		t.Fatalf("%+v %v", out, err)
	}
	if want := `exec earthly --ci --artifact './cmd+build/*' "$FORGE_STAGING_DIR/" '--VERSION=it'\''s 1'`; len(rec.runs) != 1 || rec.runs[0] != want {
		t.Errorf("ran %q, want %q", rec.runs, want)
	}
	out, _ = f.svc.Build(context.Background(), request("cli", config.Artifact{Type: config.ArtifactBinary,
		Producer: config.Producer{Earthly: &config.EarthlyProducer{Target: "build; rm -rf /"}}}))
	if !strings.Contains(out.Error, `earthly target "build; rm -rf /" is not a target reference`) || len(rec.runs) != 1 {
		t.Errorf("a bad target: %q after %d runs", out.Error, len(rec.runs))
	}
}
