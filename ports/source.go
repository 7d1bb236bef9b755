package ports

import (
	"context"
	"time"
)

// SourceCache checks commits out into per-job workspaces, keeping what it
// fetched so the next checkout of the same repository is fast. Safe for
// concurrent use, including several checkouts of one repository at once.
type SourceCache interface {
	// Checkout makes a directory holding the files of commit (a full SHA)
	// of the repository at remote. Errors: Validation (a bad request),
	// NotFound (the commit does not exist at the remote), Unavailable (the
	// remote cannot be reached).
	Checkout(ctx context.Context, req CheckoutRequest) (*Workspace, error)
}

// CheckoutRequest names what to check out.
type CheckoutRequest struct {
	// Repository is the cache key, owner/name.
	Repository string
	// Remote is where to fetch from: a URL git understands.
	Remote string
	// Commit is the full commit SHA.
	Commit string
	// JobID names the workspace, for logs and for cleaning up after a crash.
	JobID string
}

// Workspace is a checked-out commit. Remove it when the job is done.
type Workspace struct {
	// Dir is the directory of the checkout.
	Dir string
	// Commit is the checked-out commit.
	Commit string
	// CommitTime is the commit's committer time: the build time of what
	// is built from it, so that a rebuild gives the same bytes.
	CommitTime time.Time
	// Author is the commit's author, "Name <email>", and Message its
	// message: what a release records of its source.
	Author  string
	Message string
	// CacheHit says whether the commit was already in the cache.
	CacheHit bool
	// Remove deletes the workspace; calling it again does nothing.
	Remove func(ctx context.Context) error
}
