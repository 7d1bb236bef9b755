package httptransport_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/onprem/oidcauth"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
)

// v1Routes are every authenticated route of the API, with a body where
// the route takes one.
var v1Routes = []struct {
	method, path string
	body         any
}{
	{http.MethodPost, "/v1/runs", `{}`},
	{http.MethodGet, "/v1/runs/some-id", nil},
	{http.MethodGet, "/v1/runs", nil},
	{http.MethodDelete, "/v1/runs/some-id", nil},
	{http.MethodPut, "/v1/tasks/some-id/status", `{"status":"running"}`},
	{http.MethodPut, "/v1/steps/some-id/status", `{"status":"running"}`},
	{http.MethodPost, "/v1/releases", `{}`},
	{http.MethodGet, "/v1/releases/acme/mono/api/1", nil},
	{http.MethodGet, "/v1/releases/acme/mono/api", nil},
	{http.MethodPost, "/v1/deployments", `{}`},
	{http.MethodGet, "/v1/deployments/dev/acme/mono/api", nil},
	{http.MethodPost, "/v1/rollbacks", `{}`},
	{http.MethodPost, "/v1/approvals", `{}`},
	{http.MethodGet, "/v1/approvals/some-release/production", nil},
	{http.MethodPost, "/v1/approvals/some-id/revoke", nil},
	{http.MethodPost, "/v1/repositories", `{}`},
	{http.MethodGet, "/v1/repositories", nil},
}

// wantUnauthenticated checks a 401 answer: the spec's body, the
// WWW-Authenticate challenge, and no trace of the token.
func wantUnauthenticated(t *testing.T, r reply, token string) apiError {
	t.Helper()
	a := r.wantError(t, http.StatusUnauthorized, fault.Unauthenticated)
	if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="forge"` {
		t.Errorf("WWW-Authenticate = %q, want %q", got, `Bearer realm="forge"`)
	}
	if token != "" {
		for _, part := range append([]string{token}, strings.Split(token, ".")...) {
			if len(part) >= 8 && strings.Contains(string(r.body), part) {
				t.Errorf("the answer echoes the token (%q): %s", part, r.body)
			}
		}
	}
	return a
}

func TestEveryV1RouteNeedsAToken(t *testing.T) {
	e := newEnv(t)
	for _, rt := range v1Routes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			r := e.send(e.request(rt.method, rt.path, "", rt.body))
			wantUnauthenticated(t, r, "").wantMessage(t, "missing Authorization header")
		})
	}
}

func b64(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(data)
}

func TestAuthenticationFailures(t *testing.T) {
	e := newEnv(t)
	valid := e.token("mallory", identity.RoleOperator)
	parts := strings.Split(valid, ".")

	other, err := oidcauth.LoadOrCreateDevKey(filepath.Join(t.TempDir(), "other-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.Token("mallory", []identity.Role{identity.RoleOperator}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	claims := map[string]any{
		"iss": oidcauth.DevIssuerURL, "sub": "mallory", "aud": []string{oidcauth.DevAudience},
		"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(),
		"realm_access": map[string]any{"roles": []string{"operator"}},
	}
	algNone := b64(map[string]any{"alg": "none", "typ": "JWT", "kid": e.issuer.KeyID()}) + "." + b64(claims) + "."
	// The payload of a valid token swapped for another: the signature no
	// longer matches.
	tampered := parts[0] + "." + b64(claims) + "." + parts[2]

	cases := []struct {
		name, header, token, message string
	}{
		{"no header", "", "", "missing Authorization header"},
		{"basic scheme", "Basic x", "", "must be 'Bearer <token>'"},
		{"basic scheme with a real token", "Basic " + valid, valid, "must be 'Bearer <token>'"},
		{"scheme only", "Bearer", "", "must be 'Bearer <token>'"},
		{"empty bearer", "Bearer    ", "", ""},
		{"malformed token", "Bearer not-a-jwt", "not-a-jwt", "not a JWS"},
		{"three garbage parts", "Bearer aaaaaaaa.bbbbbbbb.cccccccc", "aaaaaaaa.bbbbbbbb.cccccccc", "oidc: token header"},
		{"token of another dev key", "Bearer " + foreign, foreign, "is not in the issuer's key set"},
		{"alg none", "Bearer " + algNone, algNone, `token algorithm "none" is not accepted`},
		{"tampered payload", "Bearer " + tampered, tampered, "signature does not verify"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := e.request(http.MethodGet, "/v1/runs", "", nil)
			if c.header != "" {
				req.Header.Set("Authorization", c.header)
			}
			a := wantUnauthenticated(t, e.send(req), c.token)
			if c.message != "" {
				a.wantMessage(t, c.message)
			}
		})
	}
	logs := e.logs.String()
	for _, tok := range []string{valid, foreign, algNone, tampered, parts[2]} {
		if strings.Contains(logs, tok) {
			t.Errorf("the server log holds a token")
		}
	}
}

func TestExpiredAndNotYetValidTokens(t *testing.T) {
	t.Run("expired", func(t *testing.T) {
		// The verifier's clock is two hours ahead: a token minted for a
		// minute has long expired (beyond the 30 s of skew).
		e := newEnv(t, func(o *options) {
			o.verifierOpts = []oidcauth.Option{oidcauth.WithClock(func() time.Time { return time.Now().Add(2 * time.Hour) })}
		})
		tok, err := e.issuer.Token(alice, []identity.Role{identity.RoleDeveloper}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		r := e.send(e.request(http.MethodGet, "/v1/runs", tok, nil))
		wantUnauthenticated(t, r, tok).wantMessage(t, "oidc: token expired at")
	})
	t.Run("within the clock skew", func(t *testing.T) {
		e := newEnv(t, func(o *options) {
			o.verifierOpts = []oidcauth.Option{oidcauth.WithClock(func() time.Time { return time.Now().Add(time.Minute + 10*time.Second) })}
		})
		tok, err := e.issuer.Token(alice, []identity.Role{identity.RoleDeveloper}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		e.send(e.request(http.MethodGet, "/v1/runs", tok, nil)).want(t, http.StatusOK)
	})
	t.Run("not yet valid", func(t *testing.T) {
		e := newEnv(t, func(o *options) {
			o.verifierOpts = []oidcauth.Option{oidcauth.WithClock(func() time.Time { return time.Now().Add(-time.Hour) })}
		})
		tok := e.token(alice, identity.RoleDeveloper)
		r := e.send(e.request(http.MethodGet, "/v1/runs", tok, nil))
		wantUnauthenticated(t, r, tok).wantMessage(t, "oidc: token is not valid before")
	})
}

func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	e := newEnv(t)
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		req := e.request(http.MethodGet, "/v1/repositories", "", nil)
		req.Header.Set("Authorization", scheme+" "+e.as(alice))
		e.send(req).want(t, http.StatusOK)
	}
}

// TestTokenWithoutPlatformRoles: a valid token is authenticated, but a
// caller with no platform role may not even read.
func TestTokenWithoutPlatformRoles(t *testing.T) {
	e := newEnv(t)
	tok := e.token("nobody")
	a := e.send(e.request(http.MethodGet, "/v1/runs", tok, nil)).wantError(t, http.StatusForbidden, fault.PermissionDenied)
	a.wantMessage(t, "read needs one of the roles developer, approver, operator, service-account")
	if r := e.send(e.request(http.MethodGet, "/v1/runs", tok, nil)); r.header.Get("WWW-Authenticate") != "" {
		t.Errorf("a 403 carries WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
	}
}
