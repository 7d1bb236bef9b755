package packaging

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/oci"
	"github.com/catalyst-forge/forge/ports"
)

// Limits of what Read accepts: a release's metadata is a few kilobytes,
// its resources at most a few megabytes; a layer claiming more is not
// fetched.
const (
	MaxMetadataSize  = 4 << 20
	MaxResourcesSize = 64 << 20
)

// Inspected is a Release OCI image read back from its registry.
type Inspected struct {
	// Reference is where it was read, Digest its manifest's digest.
	Reference string     `json:"reference"`
	Digest    oci.Digest `json:"digest"`
	// Annotations are the manifest's (created, revision, source, title,
	// version).
	Annotations map[string]string `json:"annotations"`
	// Release is the metadata layer; Release.Resources the YAML stream
	// of the resources layer.
	Release Release `json:"release"`
}

// Read fetches the Release OCI image at ref (a tag or a digest) and checks
// that it is one: an image manifest of artifact type ArtifactTypeRelease
// whose two layers are the metadata and resources layers of spec 01 (media
// types and layer-type annotations), a metadata layer naming a project,
// a number and a commit, and a resources layer that is a tar holding only
// the regular file resources.yaml. Sizes are checked against
// MaxMetadataSize and MaxResourcesSize before anything is fetched.
// Errors: Validation (not a Release OCI image, saying why), and those of
// the registry (NotFound, PermissionDenied, Unavailable).
func Read(ctx context.Context, reg ports.Registry, ref string) (*Inspected, error) {
	repo, err := repositoryOf(ref)
	if err != nil {
		return nil, err
	}
	raw, desc, err := reg.Manifest(ctx, ref)
	if err != nil {
		return nil, err
	}
	notRelease := func(format string, args ...any) error {
		return fault.New(fault.Validation, "%s is not a Release OCI image: %s", ref, fmt.Sprintf(format, args...))
	}
	var m oci.Manifest
	if err := json.Unmarshal(raw.Bytes, &m); err != nil {
		return nil, notRelease("its manifest is not JSON (%v)", err)
	}
	switch {
	case raw.MediaType != oci.MediaTypeImageManifest && m.MediaType != oci.MediaTypeImageManifest:
		return nil, notRelease("its manifest is %s, not an OCI image manifest", orUnset(raw.MediaType))
	case m.ArtifactType != ArtifactTypeRelease:
		return nil, notRelease("its artifact type is %s, not %s", orUnset(m.ArtifactType), ArtifactTypeRelease)
	case len(m.Layers) != 2:
		return nil, notRelease("it has %d layers, not the metadata and resources layers", len(m.Layers))
	}
	metaDesc, resDesc := m.Layers[0], m.Layers[1]
	for _, l := range []struct {
		d         oci.Descriptor
		mediaType string
		kind      string
		limit     int64
	}{{metaDesc, MediaTypeReleaseMeta, "metadata", MaxMetadataSize}, {resDesc, MediaTypeReleaseResource, "resources", MaxResourcesSize}} {
		switch {
		case l.d.MediaType != l.mediaType:
			return nil, notRelease("its %s layer is %s, not %s", l.kind, orUnset(l.d.MediaType), l.mediaType)
		case l.d.Annotations[AnnotationLayerType] != l.kind:
			return nil, notRelease("its %s layer is annotated %s=%s", l.kind, AnnotationLayerType, orUnset(l.d.Annotations[AnnotationLayerType]))
		case l.d.Size < 0 || l.d.Size > l.limit:
			return nil, notRelease("its %s layer is %d bytes, over the limit of %d", l.kind, l.d.Size, l.limit)
		}
	}
	meta, err := readBlob(ctx, reg, repo, metaDesc)
	if err != nil {
		return nil, err
	}
	out := &Inspected{Reference: ref, Digest: desc.Digest, Annotations: m.Annotations}
	if err := json.Unmarshal(meta, &out.Release); err != nil {
		return nil, notRelease("its metadata is not a release's (%v)", err)
	}
	if r := out.Release; r.Project == "" || r.Number <= 0 || len(r.Source.Commit) != 40 {
		return nil, notRelease("its metadata names no project, release number or commit")
	}
	layer, err := readBlob(ctx, reg, repo, resDesc)
	if err != nil {
		return nil, err
	}
	if out.Release.Resources, err = untarResources(layer); err != nil {
		return nil, notRelease("%v", err)
	}
	return out, nil
}

// readBlob reads a layer whose size was checked, refusing more bytes than
// its descriptor says (the registry checks the digest).
func readBlob(ctx context.Context, reg ports.Registry, repo string, d oci.Descriptor) ([]byte, error) {
	rc, err := reg.Blob(ctx, repo, d.Digest)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, d.Size+1))
	if err != nil {
		return nil, fault.Wrap(fault.Unavailable, err, "reading layer %s of %s", d.Digest, repo)
	}
	if int64(len(b)) != d.Size {
		return nil, fault.New(fault.Validation, "layer %s of %s is %d bytes, its descriptor says %d", d.Digest, repo, len(b), d.Size)
	}
	return b, nil
}

// untarResources returns resources.yaml from the resources layer, which
// must hold that regular file alone: a link, a directory, a device or any
// other file is refused, so nothing a release carries is ever written
// anywhere but where its reader chooses.
func untarResources(layer []byte) ([]byte, error) {
	tr := tar.NewReader(bytes.NewReader(layer))
	var found []byte
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("its resources layer is not a tar (%v)", err)
		}
		switch {
		case h.Name != ResourcesFile:
			return nil, fmt.Errorf("its resources layer holds %q; a release holds only %s", h.Name, ResourcesFile)
		case h.Typeflag != tar.TypeReg:
			return nil, fmt.Errorf("its %s is not a regular file (tar type %q)", ResourcesFile, h.Typeflag)
		case found != nil:
			return nil, fmt.Errorf("its resources layer holds %s twice", ResourcesFile)
		case h.Size > MaxResourcesSize:
			return nil, fmt.Errorf("its %s is %d bytes, over the limit of %d", ResourcesFile, h.Size, MaxResourcesSize)
		}
		if found, err = io.ReadAll(tr); err != nil {
			return nil, fmt.Errorf("its %s cannot be read (%v)", ResourcesFile, err)
		}
	}
	if found == nil {
		return nil, fmt.Errorf("its resources layer has no %s", ResourcesFile)
	}
	return found, nil
}

// repositoryOf is the repository of an image reference: what precedes
// its digest or its tag.
func repositoryOf(ref string) (string, error) {
	if repo, _, ok := strings.Cut(ref, "@"); ok {
		return repo, nil
	}
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return "", fault.New(fault.Validation, "%q is not an image reference (REGISTRY/REPOSITORY:TAG or @DIGEST)", ref)
	}
	return ref[:i], nil
}

func orUnset(s string) string {
	if s == "" {
		return "unset"
	}
	return s
}
