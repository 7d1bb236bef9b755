package ports

import (
	"bytes"
	"context"
	"io"

	"github.com/catalyst-forge/forge/domain/oci"
)

// Registry stores and fetches OCI content (images, artifacts, signatures)
// in registries that speak the OCI Distribution API: Harbor, Docker
// Registry, ECR, GHCR. A repository is written with its registry host
// ("registry.example.com/team/app"); a reference is a repository with a
// tag (":v1") or a digest ("@sha256:..."). Content is pushed blob by blob,
// then the manifest that names them, so that manifests keep the exact
// bytes (and digest) their builder gave them. Safe for concurrent use.
type Registry interface {
	// PushBlob uploads a blob to the repository unless it is there
	// already. Errors: Validation (a bad repository name, content that
	// does not match its digest or size), PermissionDenied, Unavailable,
	// the context's error. Idempotent.
	PushBlob(ctx context.Context, repository string, b Blob) error
	// PushManifest uploads a manifest or index under ref, a tag or its
	// own digest, and returns its descriptor. Every blob and manifest it
	// names must be in the repository. Errors: Validation (a bad
	// reference, a digest in ref that is not the manifest's, a manifest
	// the registry refuses, one naming content it lacks),
	// PermissionDenied, Unavailable, the context's error. Idempotent.
	PushManifest(ctx context.Context, ref string, m RawManifest) (oci.Descriptor, error)
	// Manifest returns the manifest at ref, with the exact bytes the
	// registry holds, checked against its digest. Errors: Validation (a
	// bad reference), NotFound, PermissionDenied, Unavailable.
	Manifest(ctx context.Context, ref string) (RawManifest, oci.Descriptor, error)
	// Resolve returns the descriptor of the manifest at ref without
	// fetching it. Errors: as Manifest.
	Resolve(ctx context.Context, ref string) (oci.Descriptor, error)
	// Blob opens a blob of the repository; the reader fails if the
	// content does not match the digest. Errors: Validation, NotFound,
	// PermissionDenied, Unavailable.
	Blob(ctx context.Context, repository string, digest oci.Digest) (io.ReadCloser, error)
	// Tags lists the repository's tags, sorted. A repository that does
	// not exist has none. Errors: Validation, PermissionDenied,
	// Unavailable.
	Tags(ctx context.Context, repository string) ([]string, error)
}

// Blob is content to push: its descriptor and a way to read it, which may
// be called more than once (a push that is retried reads it again).
type Blob struct {
	oci.Descriptor
	Open func() (io.ReadCloser, error)
}

// BytesBlob is content held in memory.
func BytesBlob(mediaType string, b []byte) Blob {
	return Blob{Descriptor: oci.DescriptorOf(mediaType, b), Open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}}
}

// RawManifest is a manifest or index as bytes, with its media type.
type RawManifest struct {
	MediaType string
	Bytes     []byte
}
