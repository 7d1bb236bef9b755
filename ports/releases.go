package ports

import (
	"context"

	"github.com/catalyst-forge/forge/domain/release"
)

// ReleaseRegistration is a release a worker registers: the triplet, the
// run that built it and the artifacts it carries. A release without a
// run is a manual one, or, with Tag, a release of that git tag.
type ReleaseRegistration struct {
	PipelineRunID string
	Tag           string
	Repository    string
	Project       string
	CommitSHA     string
	Artifacts     []release.Artifact
}

// ReleaseRegistrar is how a release worker records the releases it makes
// with the platform. A release is registered first (which gives it its
// number and aliases, recorded in its image), then its image is pushed
// to the release's OCI URI and its digest recorded. The API client
// implements it. Safe for concurrent use.
type ReleaseRegistrar interface {
	// RegisterRelease registers the release of a triplet, or returns the
	// one that exists (created=false) with its image digest, if recorded.
	// Errors: Validation, PermissionDenied, Unavailable.
	RegisterRelease(ctx context.Context, r ReleaseRegistration) (got *release.Release, created bool, err error)
	// SetReleaseImage records the digest of the release's pushed image;
	// once set, only the same digest is accepted. Errors: NotFound,
	// Validation, Conflict, Unavailable.
	SetReleaseImage(ctx context.Context, releaseID, digest string) (*release.Release, error)
}
