package httptransport

import (
	"context"
	"net/http"
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

// authenticate wraps next so that every request carries a verified bearer
// token; the principal goes into the request's context. A missing or bad
// token is answered 401 before next runs.
func authenticate(v ports.TokenVerifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		scheme, token, ok := strings.Cut(h, " ")
		if h == "" {
			encodeError(r.Context(), fault.New(fault.Unauthenticated, "missing Authorization header: send 'Authorization: Bearer <token>'"), w)
			return
		}
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			encodeError(r.Context(), fault.New(fault.Unauthenticated, "the Authorization header must be 'Bearer <token>'"), w)
			return
		}
		p, err := v.Verify(r.Context(), strings.TrimSpace(token))
		if err != nil {
			if !fault.Is(err, fault.Unauthenticated) {
				err = &fault.Error{Kind: fault.Unauthenticated, Message: "the token could not be verified", Err: err}
			}
			encodeError(r.Context(), err, w)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}
