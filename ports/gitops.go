package ports

import (
	"context"
	"time"
)

// GitOps writes deployments to the GitOps repository (spec 01, GitOps
// Repository Structure): each change is one file, committed on the
// repository's branch and pushed. Safe for concurrent use, and several
// instances (workers) may push to one remote at once: a push the remote
// refuses because it moved is replayed on its new head.
type GitOps interface {
	// Apply writes change.Content to change.Path and pushes one commit
	// with change.Message, returning its SHA. A file that holds exactly
	// that content already is not committed again: Apply returns the head
	// commit and changed=false (a retried deployment makes one commit).
	// When the remote moved meanwhile, the change is replayed on its new
	// head and pushed again, with backoff, until ctx ends. Errors:
	// Validation (a path outside the repository, an empty message),
	// PermissionDenied (the remote refused the credentials), Unavailable
	// (the remote cannot be reached, or kept moving until ctx ended).
	Apply(ctx context.Context, change GitOpsChange) (commit string, changed bool, err error)
	// Read returns the file at path on the branch's head, and that head.
	// Errors: NotFound (no such file, or an empty repository),
	// Validation, PermissionDenied, Unavailable.
	Read(ctx context.Context, path string) (content []byte, commit string, err error)
}

// GitOpsChange is one file written by one commit.
type GitOpsChange struct {
	// Path is slash-separated, relative to the repository's root.
	Path    string
	Content []byte
	Message string
	// Author is who the commit names, "Name <email>" or a bare name; the
	// committer is the platform.
	Author string
	When   time.Time
}
