package ports

import (
	"context"
	"io"
)

// GitHubReleases publishes files as assets of GitHub releases, over
// GitHub's REST API (github.com or GitHub Enterprise). Safe for
// concurrent use.
type GitHubReleases interface {
	// Release returns the release of tag in owner/repo, creating it (and
	// the tag, at commit) when there is none. Errors: NotFound (no such
	// repository), PermissionDenied, Validation, Unavailable, the
	// context's error. Idempotent.
	Release(ctx context.Context, owner, repo, tag, commit string) (GitHubRelease, error)
	// Upload adds a file of size bytes as the asset name of the release.
	// Errors: Conflict (the release has an asset of that name),
	// PermissionDenied, Validation, Unavailable, the context's error.
	Upload(ctx context.Context, rel GitHubRelease, name string, size int64, content io.Reader) (GitHubAsset, error)
}

// GitHubRelease is a release and its assets.
type GitHubRelease struct {
	ID        int64
	Tag       string
	HTMLURL   string
	UploadURL string
	Assets    []GitHubAsset
}

// GitHubAsset is a file attached to a release.
type GitHubAsset struct {
	Name string
	Size int64
	// Digest is "sha256:<hex>" as GitHub computed it, when it says.
	Digest      string
	DownloadURL string
}
