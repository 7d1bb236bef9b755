package packaging_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/memory/memregistry"
	"github.com/catalyst-forge/forge/application/packaging"
	"github.com/catalyst-forge/forge/application/signing"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/oci"
)

var resources = []map[string]any{
	{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "api"}},
	{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": "api"}},
	{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "b"}},
	{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "a"}},
}

func release() packaging.Release {
	return packaging.Release{Repository: "acme/mono", Project: "api", Number: 3, Aliases: []string{"main-3", "3"},
		Trigger:   packaging.Trigger{Type: "branch", Branch: "main"},
		Source:    packaging.Source{Commit: strings.Repeat("c", 40), Time: time.Date(2026, 11, 30, 12, 0, 0, 0, time.FixedZone("CET", 3600)), Author: "Ada", Message: "ship it"},
		Artifacts: []packaging.Tracked{{Name: "image", Type: "container", TrackingURI: "t/acme/mono/api/image:sha-c", TrackingDigest: "sha256:t"}},
		Resources: []byte("apiVersion: apps/v1\nkind: Deployment\n"), Summary: packaging.Summarize(resources)}
}

func TestBuildIsDeterministic(t *testing.T) {
	a, err := packaging.Build(release())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := packaging.Build(release())
	if a.Digest != b.Digest || !bytes.Equal(a.Manifest.Bytes, b.Manifest.Bytes) {
		t.Errorf("two builds of the same release: %s and %s", a.Digest, b.Digest)
	}
	r := release()
	r.Aliases = []string{"3", "main-3"} // another order, the same release
	if c, _ := packaging.Build(r); c.Digest != a.Digest {
		t.Error("the order of the aliases changed the image")
	}
	r.Number = 4
	if c, _ := packaging.Build(r); c.Digest == a.Digest {
		t.Error("another release number gave the same image")
	}

	var m oci.Manifest
	_ = json.Unmarshal(a.Manifest.Bytes, &m)
	if m.ArtifactType != packaging.ArtifactTypeRelease || len(m.Layers) != 2 ||
		m.Layers[0].MediaType != packaging.MediaTypeReleaseMeta || m.Layers[0].Annotations[packaging.AnnotationLayerType] != "metadata" ||
		m.Layers[1].MediaType != packaging.MediaTypeReleaseResource || m.Layers[1].Annotations[packaging.AnnotationLayerType] != "resources" ||
		m.Annotations["org.opencontainers.image.created"] != "2026-11-30T11:00:00Z" || m.Annotations["org.opencontainers.image.version"] != "3" {
		t.Errorf("manifest = %s", a.Manifest.Bytes)
	}
	var meta map[string]any
	_ = json.Unmarshal(content(t, a, m.Layers[0].Digest), &meta)
	summary, _ := json.Marshal(meta["resources"])
	if string(summary) != `[{"count":2,"kind":"ConfigMap","names":["a","b"]},{"count":1,"kind":"Deployment","names":["api"]},{"count":1,"kind":"Service","names":["api"]}]` ||
		meta["number"] != float64(3) || strings.Join(toStrings(meta["aliases"]), ",") != "3,main-3" {
		t.Errorf("metadata = %v", meta)
	}
	tr := tar.NewReader(bytes.NewReader(content(t, a, m.Layers[1].Digest)))
	h, err := tr.Next()
	if err != nil || h.Name != packaging.ResourcesFile || h.Uid != 0 || h.Mode != 0o644 || !h.ModTime.Equal(release().Source.Time) {
		t.Fatalf("resources entry = %+v, %v", h, err)
	}
	if b, _ := io.ReadAll(tr); string(b) != "apiVersion: apps/v1\nkind: Deployment\n" {
		t.Errorf("resources.yaml = %q", b)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func content(t *testing.T, img *packaging.Image, d oci.Digest) []byte {
	for _, b := range img.Blobs {
		if b.Digest == d {
			rc, _ := b.Open()
			defer rc.Close()
			out, _ := io.ReadAll(rc)
			return out
		}
	}
	t.Fatalf("no blob %s", d)
	return nil
}

func TestBuildRefusals(t *testing.T) {
	for name, edit := range map[string]func(*packaging.Release){
		"no commit":  func(r *packaging.Release) { r.Source.Commit = "" },
		"no time":    func(r *packaging.Release) { r.Source.Time = time.Time{} },
		"no project": func(r *packaging.Release) { r.Project = "" },
	} {
		r := release()
		edit(&r)
		if _, err := packaging.Build(r); !fault.Is(err, fault.Validation) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A project without deployment resources is still released: its
// resources layer holds an empty resources.yaml.
func TestBuildWithoutResources(t *testing.T) {
	r := release()
	r.Resources = nil
	img, err := packaging.Build(r)
	if err != nil {
		t.Fatal(err)
	}
	var m oci.Manifest
	if err := json.Unmarshal(img.Manifest.Bytes, &m); err != nil || len(m.Layers) != 2 {
		t.Fatalf("manifest %s: %v", img.Manifest.Bytes, err)
	}
	tr := tar.NewReader(bytes.NewReader(content(t, img, m.Layers[1].Digest)))
	h, err := tr.Next()
	if err != nil || h.Name != packaging.ResourcesFile || h.Size != 0 {
		t.Fatalf("resources layer: %+v %v", h, err)
	}
}

func TestPush(t *testing.T) {
	reg := memregistry.New()
	priv, _, _ := signing.GenerateKey()
	signer, _ := signing.NewSigner(priv)
	img, _ := packaging.Build(release())
	ref := packaging.Reference("releases.test/", "acme/mono", "api", strings.Repeat("c", 40))
	ctx := context.Background()
	if present, err := packaging.Push(ctx, reg, ref, img, signer); err != nil || present {
		t.Fatalf("first push: %v %v", present, err)
	}
	if d, err := reg.Resolve(ctx, ref); err != nil || d.Digest != img.Digest {
		t.Errorf("%s = %v %v", ref, d.Digest, err)
	}
	sigRef := "releases.test/acme/mono/api:" + signing.SignatureTag(img.Digest)
	sig, _, err := reg.Manifest(ctx, sigRef)
	if err != nil {
		t.Fatalf("no signature: %v", err)
	}
	if present, err := packaging.Push(ctx, reg, ref, img, signer); err != nil || !present {
		t.Errorf("second push: %v %v", present, err)
	}
	if again, _, _ := reg.Manifest(ctx, sigRef); !bytes.Equal(again.Bytes, sig.Bytes) {
		t.Error("the signature was pushed again")
	}
	r := release()
	r.Number = 9
	other, _ := packaging.Build(r)
	if _, err := packaging.Push(ctx, reg, ref, other, nil); !fault.Is(err, fault.Conflict) || !strings.Contains(err.Error(), "a release never changes") {
		t.Errorf("another image under the same commit: %v", err)
	}
}
