package httptransport

import (
	"net/http"

	"github.com/catalyst-forge/forge/ports"
	"github.com/catalyst-forge/forge/transport/endpoints"
)

// authenticate wraps next so that every request carries a verified bearer
// token; the principal goes into the request's context. A missing or bad
// token is answered 401 before next runs.
func authenticate(v ports.TokenVerifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := endpoints.Authenticate(r.Context(), v, r.Header.Get(endpoints.AuthorizationHeader))
		if err != nil {
			encodeError(r.Context(), err, w)
			return
		}
		next.ServeHTTP(w, r.WithContext(endpoints.WithPrincipal(r.Context(), p)))
	})
}
