package packaging_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/adapters/memory/memregistry"
	"github.com/catalyst-forge/forge/application/packaging"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/oci"
	"github.com/catalyst-forge/forge/ports"
)

// TestReadGivesBackWhatWasPushed: a pushed release image reads back, by
// tag and by digest, as the release it was built from.
func TestReadGivesBackWhatWasPushed(t *testing.T) {
	reg := memregistry.New()
	ctx := context.Background()
	img, err := packaging.Build(release())
	if err != nil {
		t.Fatal(err)
	}
	ref := packaging.Reference("releases.test", "acme/mono", "api", strings.Repeat("c", 40))
	if _, err := packaging.Push(ctx, reg, ref, img, nil); err != nil {
		t.Fatal(err)
	}
	for _, at := range []string{ref, "releases.test/acme/mono/api@" + string(img.Digest)} {
		got, err := packaging.Read(ctx, reg, at)
		if err != nil {
			t.Fatalf("%s: %v", at, err)
		}
		want := release()
		if got.Digest != img.Digest || got.Release.Number != 3 || strings.Join(got.Release.Aliases, ",") != "3,main-3" ||
			got.Release.Source.Message != "ship it" || !got.Release.Source.Time.Equal(want.Source.Time) ||
			string(got.Release.Resources) != string(want.Resources) || len(got.Release.Summary) != 3 ||
			got.Release.Artifacts[0].TrackingURI != want.Artifacts[0].TrackingURI || got.Annotations["org.opencontainers.image.version"] != "3" {
			t.Errorf("%s read back as %+v", at, got)
		}
	}
	if _, err := packaging.Read(ctx, reg, "releases.test/acme/mono/api:"+strings.Repeat("d", 40)); !fault.Is(err, fault.NotFound) {
		t.Errorf("a tag that is not there: %v", err)
	}
	if _, err := packaging.Read(ctx, reg, "releases.test/acme/mono/api"); !fault.Is(err, fault.Validation) || !strings.Contains(err.Error(), "not an image reference") {
		t.Errorf("a reference without tag or digest: %v", err)
	}
}

// forged pushes an image whose manifest and layers are edited from a
// release image's, and returns its reference.
func forged(t *testing.T, reg ports.Registry, tag string, edit func(m *oci.Manifest, blobs map[string]ports.Blob)) string {
	t.Helper()
	img, err := packaging.Build(release())
	if err != nil {
		t.Fatal(err)
	}
	var m oci.Manifest
	_ = json.Unmarshal(img.Manifest.Bytes, &m)
	blobs := map[string]ports.Blob{}
	for _, b := range img.Blobs {
		blobs[string(b.Digest)] = b
	}
	edit(&m, blobs)
	ctx := context.Background()
	for _, b := range blobs {
		if err := reg.PushBlob(ctx, "releases.test/acme/mono/api", b); err != nil {
			t.Fatal(err)
		}
	}
	raw, _ := json.Marshal(m)
	ref := "releases.test/acme/mono/api:" + tag
	if _, err := reg.PushManifest(ctx, ref, ports.RawManifest{MediaType: oci.MediaTypeImageManifest, Bytes: raw}); err != nil {
		t.Fatal(err)
	}
	return ref
}

// resourcesLayer replaces the resources layer with a tar of entries.
func resourcesLayer(entries ...*tar.Header) func(*oci.Manifest, map[string]ports.Blob) {
	return func(m *oci.Manifest, blobs map[string]ports.Blob) {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, h := range entries {
			_ = tw.WriteHeader(h)
			if h.Typeflag == tar.TypeReg {
				_, _ = tw.Write(bytes.Repeat([]byte("a"), int(h.Size)))
			}
		}
		_ = tw.Close()
		b := ports.BytesBlob(packaging.MediaTypeReleaseResource, buf.Bytes())
		b.Annotations = m.Layers[1].Annotations
		m.Layers[1] = b.Descriptor
		blobs[string(b.Digest)] = b
	}
}

// TestReadRefusesWhatIsNotAReleaseImage: each way an image can fail to be
// a Release OCI image is refused, saying which.
func TestReadRefusesWhatIsNotAReleaseImage(t *testing.T) {
	reg := memregistry.New()
	ctx := context.Background()
	hdr := func(h tar.Header) *tar.Header { return &h }
	cases := []struct {
		name string
		edit func(*oci.Manifest, map[string]ports.Blob)
		want string
	}{
		{"tracking image", func(m *oci.Manifest, _ map[string]ports.Blob) {
			m.ArtifactType = "application/vnd.forge.tracking.v1"
		}, "its artifact type is application/vnd.forge.tracking.v1"},
		{"one layer", func(m *oci.Manifest, _ map[string]ports.Blob) { m.Layers = m.Layers[:1] }, "it has 1 layers"},
		{"swapped layers", func(m *oci.Manifest, _ map[string]ports.Blob) { m.Layers[0], m.Layers[1] = m.Layers[1], m.Layers[0] },
			"its metadata layer is application/vnd.forge.release.resources.v1+tar"},
		{"unannotated", func(m *oci.Manifest, _ map[string]ports.Blob) { m.Layers[1].Annotations = nil },
			"its resources layer is annotated org.catalyst-forge.layer.type=unset"},
		{"huge metadata", func(m *oci.Manifest, _ map[string]ports.Blob) { m.Layers[0].Size = packaging.MaxMetadataSize + 1 },
			"its metadata layer is 4194305 bytes, over the limit"},
		{"symlink", resourcesLayer(hdr(tar.Header{Name: packaging.ResourcesFile, Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"})),
			"is not a regular file"},
		{"escaping path", resourcesLayer(hdr(tar.Header{Name: "../../x", Typeflag: tar.TypeReg, Size: 1, Mode: 0o644})),
			`holds "../../x"; a release holds only resources.yaml`},
		{"extra file", resourcesLayer(hdr(tar.Header{Name: packaging.ResourcesFile, Typeflag: tar.TypeReg, Size: 2, Mode: 0o644}),
			hdr(tar.Header{Name: "run.sh", Typeflag: tar.TypeReg, Size: 2, Mode: 0o755})),
			`holds "run.sh"`},
		{"twice", resourcesLayer(hdr(tar.Header{Name: packaging.ResourcesFile, Typeflag: tar.TypeReg, Size: 2, Mode: 0o644}),
			hdr(tar.Header{Name: packaging.ResourcesFile, Typeflag: tar.TypeReg, Size: 2, Mode: 0o644})),
			"holds resources.yaml twice"},
		{"empty tar", resourcesLayer(), "has no resources.yaml"},
	}
	for i, c := range cases {
		ref := forged(t, reg, "case"+string(rune('a'+i)), c.edit)
		_, err := packaging.Read(ctx, reg, ref)
		if !fault.Is(err, fault.Validation) || !strings.Contains(err.Error(), "is not a Release OCI image") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want Validation saying %q", c.name, err, c.want)
		}
	}
}
