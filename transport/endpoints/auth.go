package endpoints

import (
	"context"
	"strings"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/ports"
)

type principalKey struct{}

// WithPrincipal returns ctx carrying the authenticated caller.
func WithPrincipal(ctx context.Context, p *identity.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the caller that authenticated the request, or nil.
func PrincipalFrom(ctx context.Context) *identity.Principal {
	p, _ := ctx.Value(principalKey{}).(*identity.Principal)
	return p
}

// AuthorizationHeader is the header, over HTTP and NATS alike, that
// carries the caller's bearer token: "Bearer <token>".
const AuthorizationHeader = "Authorization"

// ReportKeyHeader carries a run's report key with a task or step status
// (see pipeline.ReportKey), over HTTP and NATS alike.
const ReportKeyHeader = "X-Forge-Report-Key"

// TraceHeader names, in every answer, the trace ID the server logged the
// request under (the caller's traceparent's, or a new one).
const TraceHeader = "X-Forge-Trace-Id"

// Authenticate verifies the value of an Authorization header and returns
// the caller. A missing or malformed header, or a token v refuses, is
// unauthenticated, with a message that says what to send.
func Authenticate(ctx context.Context, v ports.TokenVerifier, header string) (*identity.Principal, error) {
	scheme, token, ok := strings.Cut(header, " ")
	if header == "" {
		return nil, fault.New(fault.Unauthenticated, "missing Authorization header: send 'Authorization: Bearer <token>'")
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return nil, fault.New(fault.Unauthenticated, "the Authorization header must be 'Bearer <token>'")
	}
	p, err := v.Verify(ctx, strings.TrimSpace(token))
	if err != nil {
		if !fault.Is(err, fault.Unauthenticated) {
			err = &fault.Error{Kind: fault.Unauthenticated, Message: "the token could not be verified", Err: err}
		}
		return nil, err
	}
	return p, nil
}
