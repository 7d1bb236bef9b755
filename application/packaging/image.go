package packaging

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/catalyst-forge/forge/application/signing"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/oci"
	"github.com/catalyst-forge/forge/ports"
)

// Media types, annotations and the artifact type of Release OCI images.
const (
	ArtifactTypeRelease      = "application/vnd.forge.release.v1"
	MediaTypeReleaseMeta     = "application/vnd.forge.release.metadata.v1+json"
	MediaTypeReleaseResource = "application/vnd.forge.release.resources.v1+tar"
	AnnotationLayerType      = "org.catalyst-forge.layer.type"
	// ResourcesFile is the file of the resources layer holding the YAML
	// stream.
	ResourcesFile = "resources.yaml"
)

// Release is what a Release OCI image records.
type Release struct {
	Repository string    `json:"repository"` // owner/name
	Project    string    `json:"project"`
	Number     int       `json:"number"`
	Aliases    []string  `json:"aliases"`
	Trigger    Trigger   `json:"trigger"`
	Source     Source    `json:"source"`
	Artifacts  []Tracked `json:"artifacts"`
	// Resources is the rendered YAML stream (rendering.YAML).
	Resources []byte `json:"-"`
	// Summary counts the resources by kind and names them.
	Summary []ResourceKind `json:"resources"`
}

// Trigger is what made the release: a branch push or a tag.
type Trigger struct {
	Type   string `json:"type"` // branch, tag or manual
	Branch string `json:"branch,omitempty"`
	Tag    string `json:"tag,omitempty"`
}

// Source is the commit released.
type Source struct {
	Commit  string    `json:"commit"`
	Time    time.Time `json:"time"`
	Author  string    `json:"author,omitempty"`
	Message string    `json:"message,omitempty"`
}

// Tracked is an artifact of the release and its tracking image.
type Tracked struct {
	Name           string `json:"name"`
	Type           string `json:"type"`
	TrackingURI    string `json:"trackingUri"`
	TrackingDigest string `json:"trackingDigest"`
}

// ResourceKind is one kind of resource in the release.
type ResourceKind struct {
	Kind  string   `json:"kind"`
	Count int      `json:"count"`
	Names []string `json:"names"`
}

// Summarize counts resources (apiVersion, kind, metadata.name each) by
// kind, sorted.
func Summarize(resources []map[string]any) []ResourceKind {
	byKind := map[string]*ResourceKind{}
	for _, r := range resources {
		kind, _ := r["kind"].(string)
		meta, _ := r["metadata"].(map[string]any)
		name, _ := meta["name"].(string)
		k, ok := byKind[kind]
		if !ok {
			k = &ResourceKind{Kind: kind}
			byKind[kind] = k
		}
		k.Count++
		k.Names = append(k.Names, name)
	}
	out := make([]ResourceKind, 0, len(byKind))
	for _, k := range byKind {
		slices.Sort(k.Names)
		out = append(out, *k)
	}
	slices.SortFunc(out, func(a, b ResourceKind) int { return strings.Compare(a.Kind, b.Kind) })
	return out
}

// Image is a built Release OCI image: its blobs and manifest.
type Image struct {
	Blobs    []ports.Blob
	Manifest ports.RawManifest
	Digest   oci.Digest
}

// Build makes the image of r. A project without deployment resources
// still gets a release (its artifacts are released), whose resources.yaml
// is empty. Errors: Validation (a release without a repository, project,
// commit or commit time).
func Build(r Release) (*Image, error) {
	if len(r.Source.Commit) != 40 || r.Source.Time.IsZero() || r.Project == "" || r.Repository == "" {
		return nil, fault.New(fault.Validation, "a release image needs its repository, project, commit and commit time")
	}
	r.Aliases = slices.Sorted(slices.Values(r.Aliases))
	slices.SortFunc(r.Artifacts, func(a, b Tracked) int { return strings.Compare(a.Name, b.Name) })
	r.Source.Time = r.Source.Time.UTC()
	meta, err := json.Marshal(r)
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "writing the release's metadata")
	}
	resources, err := tarOf(map[string][]byte{ResourcesFile: r.Resources}, r.Source.Time)
	if err != nil {
		return nil, err
	}
	empty := ports.BytesBlob(oci.MediaTypeEmptyJSON, []byte("{}"))
	metaBlob := ports.BytesBlob(MediaTypeReleaseMeta, meta)
	metaBlob.Annotations = map[string]string{AnnotationLayerType: "metadata"}
	resBlob := ports.BytesBlob(MediaTypeReleaseResource, resources)
	resBlob.Annotations = map[string]string{AnnotationLayerType: "resources"}
	manifest, err := json.Marshal(oci.Manifest{SchemaVersion: 2, MediaType: oci.MediaTypeImageManifest, ArtifactType: ArtifactTypeRelease,
		Config: empty.Descriptor, Layers: []oci.Descriptor{metaBlob.Descriptor, resBlob.Descriptor},
		Annotations: map[string]string{
			"org.opencontainers.image.created":  r.Source.Time.Format(time.RFC3339),
			"org.opencontainers.image.revision": r.Source.Commit,
			"org.opencontainers.image.source":   r.Repository,
			"org.opencontainers.image.title":    r.Project,
			"org.opencontainers.image.version":  fmt.Sprint(r.Number),
		}})
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "writing the release's manifest")
	}
	return &Image{Blobs: []ports.Blob{empty, metaBlob, resBlob},
		Manifest: ports.RawManifest{MediaType: oci.MediaTypeImageManifest, Bytes: manifest}, Digest: oci.DigestOf(manifest)}, nil
}

// tarOf writes files into a tar with sorted names, root ownership, mode
// 0644 and the given time, so equal contents give equal bytes.
func tarOf(files map[string][]byte, when time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		h := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(files[name])), ModTime: when, Typeflag: tar.TypeReg,
			Uname: "root", Gname: "root", Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fault.Wrap(fault.Internal, err, "writing %s", name)
		}
		if _, err := tw.Write(files[name]); err != nil {
			return nil, fault.Wrap(fault.Internal, err, "writing %s", name)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fault.Wrap(fault.Internal, err, "closing the resources layer")
	}
	return buf.Bytes(), nil
}

// Reference is where the release image of a project's commit goes:
// [release-registry]/[repository]/[project]:[commit-sha].
func Reference(registry, repository, project, commit string) string {
	return strings.TrimSuffix(registry, "/") + "/" + repository + "/" + project + ":" + commit
}

// Push puts the image at ref unless it is there already (present), and
// signs it when signer is set. Errors: those of the registry.
func Push(ctx context.Context, reg ports.Registry, ref string, img *Image, signer *signing.Signer) (present bool, err error) {
	repo, err := repositoryOf(ref)
	if err != nil {
		return false, err
	}
	d, err := reg.Resolve(ctx, ref)
	switch {
	case err == nil && d.Digest == img.Digest:
		present = true
	case err != nil && !fault.Is(err, fault.NotFound):
		return false, err
	case err == nil:
		return false, fault.New(fault.Conflict, "%s holds another release image (%s); a release never changes", ref, d.Digest)
	default:
		for _, b := range img.Blobs {
			if err := reg.PushBlob(ctx, repo, b); err != nil {
				return false, err
			}
		}
		if _, err := reg.PushManifest(ctx, ref, img.Manifest); err != nil {
			return false, err
		}
	}
	if signer != nil {
		if err := signer.SignImage(ctx, reg, repo, img.Digest); err != nil {
			return present, fmt.Errorf("signing %s: %w", ref, err)
		}
	}
	return present, nil
}
