package ports

import (
	"context"

	"github.com/catalyst-forge/forge/domain/identity"
)

// TokenVerifier checks a bearer token and says who presented it.
type TokenVerifier interface {
	// Verify checks the token's signature, issuer, audience and validity
	// period and returns the principal with its platform roles. Any failure
	// is fault.Unauthenticated with a message that says what was wrong
	// (never the token itself). Safe for concurrent use.
	Verify(ctx context.Context, token string) (*identity.Principal, error)
}
