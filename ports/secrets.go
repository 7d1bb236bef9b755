package ports

import "context"

// SecretProvider resolves the secret references of one provider type
// ({provider: "aws", secretName: ...}) to their values, at the point of
// use (spec 01, Secret Management Patterns). A value is never stored,
// logged or put in an error. Safe for concurrent use.
type SecretProvider interface {
	// Name is the provider field that selects this provider ("aws",
	// "vault", "env", "file").
	Name() string
	// Schema is a CUE struct body listing the fields a reference of this
	// provider may hold, without provider and env, e.g.
	// `secretName: string, region?: string`. The registry closes it, so a
	// field it does not list is refused.
	Schema() string
	// Resolve returns the value cfg names; cfg holds the reference's fields
	// without provider and env, already checked against Schema. Errors:
	// Validation (a field the provider cannot use), NotFound (no such
	// secret, or no such key in it), PermissionDenied (the provider may not
	// hand this secret to builds), Unavailable (the store cannot be
	// reached), or the context's error. Idempotent.
	Resolve(ctx context.Context, cfg map[string]any) (string, error)
}
