package oci_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/domain/oci"
)

func TestDigest(t *testing.T) {
	d := oci.DigestOf([]byte("hello"))
	if d != "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" {
		t.Errorf("DigestOf = %s", d)
	}
	if got, err := oci.ParseDigest(string(d)); err != nil || got != d || d.Hex() != strings.TrimPrefix(string(d), "sha256:") {
		t.Errorf("ParseDigest = %s, %v", got, err)
	}
	for _, bad := range []string{"", "sha256:", "sha512:" + d.Hex(), "sha256:" + strings.ToUpper(d.Hex()), "sha256:" + d.Hex()[:63] + "g", string(d) + "0"} {
		if _, err := oci.ParseDigest(bad); err == nil || !strings.Contains(err.Error(), "is not a sha256 digest") {
			t.Errorf("ParseDigest(%q) = %v", bad, err)
		}
	}
}

func TestManifestJSON(t *testing.T) {
	cfg := oci.DescriptorOf(oci.MediaTypeEmptyJSON, []byte("{}"))
	m := oci.Manifest{SchemaVersion: 2, MediaType: oci.MediaTypeImageManifest, ArtifactType: "application/vnd.example", Config: cfg, Layers: []oci.Descriptor{}}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.example","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`
	if string(b) != want {
		t.Errorf("manifest =\n%s\nwant\n%s", b, want)
	}
	if !oci.IsManifest(oci.MediaTypeImageIndex) || oci.IsManifest(oci.MediaTypeLayerGzip) || !oci.IsIndex(oci.MediaTypeDockerManifestList) || oci.IsIndex(oci.MediaTypeImageManifest) {
		t.Error("IsManifest / IsIndex")
	}
}
