package oidcauth_test

import (
	"context"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/catalyst-forge/forge/adapters/onprem/oidcauth"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
)

// now is the verifiers' clock in these tests.
var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

// claimsFor returns valid Keycloak-shaped claims for issuer, changed by
// edits.
func claimsFor(issuer string, edits ...func(map[string]any)) map[string]any {
	c := map[string]any{
		"iss":                issuer,
		"sub":                "7c1e5b9a-2f0d-4a55-9d2e-1f3a0b6c8e21",
		"aud":                "forge",
		"exp":                now.Add(5 * time.Minute).Unix(),
		"iat":                now.Unix(),
		"nbf":                now.Unix(),
		"typ":                "Bearer",
		"azp":                "forge-cli",
		"preferred_username": "ada",
		"name":               "Ada Lovelace",
		"realm_access":       map[string]any{"roles": []string{"developer", "offline_access"}},
	}
	for _, e := range edits {
		e(c)
	}
	return c
}

func set(key string, v any) func(map[string]any) { return func(c map[string]any) { c[key] = v } }
func del(key string) func(map[string]any)        { return func(c map[string]any) { delete(c, key) } }

func newTestVerifier(t *testing.T, p *testProvider, edit func(*oidcauth.Config)) *oidcauth.Verifier {
	t.Helper()
	cfg := oidcauth.Config{Issuer: p.issuer, Audience: "forge", Now: clock, HTTPClient: p.srv.Client()}
	if edit != nil {
		edit(&cfg)
	}
	v, err := oidcauth.NewVerifier(context.Background(), cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

// TestVerifierAgainstHTTPTestOIDCProvider runs the Verifier against an
// httptest server speaking Keycloak's discovery and JWKS wire format (see
// testProvider), with tokens forged by go-jose or built by hand.
func TestVerifierAgainstHTTPTestOIDCProvider(t *testing.T) {
	rsaKey := newRSAKey(t, "rsa-1", jose.RS256)
	ecKey := newECKey(t, "ec-1", jose.ES256, elliptic.P256())
	p := newTestProvider(t, rsaKey, ecKey)
	v := newTestVerifier(t, p, nil)

	stranger := newRSAKey(t, "stranger", jose.RS256)
	p384 := newECKey(t, "ec-384", jose.ES384, elliptic.P384())
	pubDER, err := x509.MarshalPKIXPublicKey(rsaKey.priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	pkcs1PEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(rsaKey.priv.Public().(*rsa.PublicKey))})

	valid := claimsFor(p.issuer)
	developerToken := rsaKey.sign(t, valid)
	operatorClaims := claimsFor(p.issuer, set("realm_access", map[string]any{"roles": []string{"operator"}}))

	ada := &identity.Principal{Subject: "7c1e5b9a-2f0d-4a55-9d2e-1f3a0b6c8e21", Name: "ada", Roles: []identity.Role{identity.RoleDeveloper}}

	cases := []struct {
		name    string
		token   string
		want    *identity.Principal // when the token is accepted
		wantErr string              // what the message must say otherwise
	}{
		// Accepted.
		{name: "RS256", token: developerToken, want: ada},
		{name: "ES256", token: ecKey.sign(t, valid), want: ada},
		{name: "audience as an array", token: rsaKey.sign(t, claimsFor(p.issuer, set("aud", []string{"account", "forge"}))), want: ada},
		{name: "no nbf", token: ecKey.sign(t, claimsFor(p.issuer, del("nbf"))), want: ada},
		{name: "name when there is no preferred_username", token: rsaKey.sign(t, claimsFor(p.issuer, del("preferred_username"))),
			want: &identity.Principal{Subject: ada.Subject, Name: "Ada Lovelace", Roles: ada.Roles}},
		{name: "no name at all", token: rsaKey.sign(t, claimsFor(p.issuer, del("preferred_username"), del("name"))),
			want: &identity.Principal{Subject: ada.Subject, Roles: ada.Roles}},
		{name: "a GitHub token exchanged at Keycloak binds the caller to its repository",
			token: rsaKey.sign(t, claimsFor(p.issuer, set("repository", "Acme/Mono"), set("realm_access", map[string]any{"roles": []string{"service-account"}}))),
			want:  &identity.Principal{Subject: ada.Subject, Name: "ada", Roles: []identity.Role{identity.RoleServiceAccount}, Repository: "acme/mono"}},

		// Not a JWS.
		{name: "empty", token: "", wantErr: "no token"},
		{name: "too long", token: developerToken + strings.Repeat("A", 64<<10), wantErr: "longer than 65536 bytes"},
		{name: "not a JWT", token: "not-a-jwt", wantErr: "compact serialization"},
		{name: "two parts", token: "eyJhbGciOiJSUzI1NiJ9.e30", wantErr: "compact serialization"},
		{name: "five parts (JWE)", token: "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d", wantErr: "compact serialization"},
		{name: "header not base64url", token: "!!!." + b64([]byte("{}")) + ".sig", wantErr: "header is not base64url"},
		{name: "header not JSON", token: b64([]byte("nope")) + "." + b64([]byte("{}")) + ".sig", wantErr: "header is not a JSON object"},
		{name: "signature not base64url", token: replaceSegment(developerToken, 2, "***"), wantErr: "not a well-formed JWS"},

		// Algorithms other than RS256 and ES256.
		{name: "alg none", token: unsignedToken(t, map[string]any{"alg": "none", "kid": "rsa-1"}, operatorClaims), wantErr: `algorithm "none" is not accepted`},
		{name: "alg None", token: unsignedToken(t, map[string]any{"alg": "None", "kid": "rsa-1"}, operatorClaims), wantErr: `algorithm "None" is not accepted`},
		{name: "alg missing", token: unsignedToken(t, map[string]any{"kid": "rsa-1"}, operatorClaims), wantErr: `algorithm "" is not accepted`},
		{name: "HS256 with the RSA public key (PEM) as secret", token: hmacToken(t, "HS256", "rsa-1", pubPEM, operatorClaims), wantErr: `algorithm "HS256" is not accepted`},
		{name: "HS256 with the RSA public key (PKCS#1 PEM) as secret", token: hmacToken(t, "HS256", "rsa-1", pkcs1PEM, operatorClaims), wantErr: `algorithm "HS256" is not accepted`},
		{name: "HS256 with the RSA public key (DER) as secret", token: hmacToken(t, "HS256", "rsa-1", pubDER, operatorClaims), wantErr: `algorithm "HS256" is not accepted`},
		{name: "HS384", token: hmacToken(t, "HS384", "rsa-1", pubPEM, operatorClaims), wantErr: `algorithm "HS384" is not accepted`},
		{name: "HS512", token: hmacToken(t, "HS512", "rsa-1", pubPEM, operatorClaims), wantErr: `algorithm "HS512" is not accepted`},
		{name: "PS256 with the issuer's own RSA key", token: rsaKey.as("rsa-1", jose.PS256).sign(t, valid), wantErr: `algorithm "PS256" is not accepted`},
		{name: "RS384 with the issuer's own RSA key", token: rsaKey.as("rsa-1", jose.RS384).sign(t, valid), wantErr: `algorithm "RS384" is not accepted`},
		{name: "ES384", token: p384.sign(t, valid), wantErr: `algorithm "ES384" is not accepted`},
		{name: "ES256 under the RSA key's kid", token: newECKey(t, "rsa-1", jose.ES256, elliptic.P256()).sign(t, valid), wantErr: "key is for RS256, the token says ES256"},

		// Keys.
		{name: "no kid", token: rsaKey.as("", jose.RS256).sign(t, valid), wantErr: "no kid"},
		{name: "kid not in the JWKS", token: stranger.sign(t, valid), wantErr: `key ID "stranger" is not in the issuer's key set`},
		{name: "encryption key's kid", token: stranger.as("enc-1", jose.RS256).sign(t, valid), wantErr: `key ID "enc-1" is not in the issuer's key set`},
		{name: "known kid, another key", token: stranger.as("rsa-1", jose.RS256).sign(t, operatorClaims), wantErr: `signature does not verify with key "rsa-1"`},
		{name: "tampered payload", token: replaceSegment(developerToken, 1, b64(mustJSON(t, operatorClaims))), wantErr: "signature does not verify"},
		{name: "tampered signature", token: flipSignature(developerToken), wantErr: "signature does not verify"},
		{name: "signature stripped", token: replaceSegment(developerToken, 2, ""), wantErr: "signature does not verify"},
		{name: "payload not JSON", token: rsaKey.sign(t, []byte("hello")), wantErr: "claims are not a valid JSON object"},
		{name: "exp not a number", token: rsaKey.sign(t, claimsFor(p.issuer, set("exp", "tomorrow"))), wantErr: "date claim (exp, nbf or iat) is not a number"},
		{name: "aud not a string", token: rsaKey.sign(t, claimsFor(p.issuer, set("aud", 42))), wantErr: "aud claim is neither a string nor an array"},
		{name: "realm_access not an object", token: rsaKey.sign(t, claimsFor(p.issuer, set("realm_access", "operator"))), wantErr: `claim "realm_access" has the wrong type`},
		{name: "roles not a list", token: rsaKey.sign(t, claimsFor(p.issuer, set("realm_access", map[string]any{"roles": "operator"}))), wantErr: `claim "realm_access.roles" has the wrong type`},

		// Claims.
		{name: "wrong issuer", token: rsaKey.sign(t, claimsFor("https://evil.example/realms/forge")), wantErr: `issuer "https://evil.example/realms/forge" is not`},
		{name: "issuer with a trailing slash", token: rsaKey.sign(t, claimsFor(p.issuer+"/")), wantErr: "issuer"},
		{name: "no issuer", token: rsaKey.sign(t, claimsFor(p.issuer, del("iss"))), wantErr: `issuer "" is not`},
		{name: "wrong audience", token: rsaKey.sign(t, claimsFor(p.issuer, set("aud", "account"))), wantErr: `audience ["account"] does not include "forge"`},
		{name: "audience array without ours", token: ecKey.sign(t, claimsFor(p.issuer, set("aud", []string{"account", "forge-ui"}))), wantErr: `does not include "forge"`},
		{name: "no audience", token: rsaKey.sign(t, claimsFor(p.issuer, del("aud"))), wantErr: `audience [] does not include "forge"`},
		{name: "no exp", token: rsaKey.sign(t, claimsFor(p.issuer, del("exp"))), wantErr: "no exp"},
		{name: "expired an hour ago", token: rsaKey.sign(t, claimsFor(p.issuer, set("exp", now.Add(-time.Hour).Unix()))), wantErr: "token expired at 2026-05-01T11:00:00Z"},
		{name: "not valid for an hour", token: ecKey.sign(t, claimsFor(p.issuer, set("nbf", now.Add(time.Hour).Unix()))), wantErr: "not valid before 2026-05-01T13:00:00Z"},
		{name: "empty sub", token: rsaKey.sign(t, claimsFor(p.issuer, set("sub", ""))), wantErr: "no sub"},
		{name: "no sub", token: ecKey.sign(t, claimsFor(p.issuer, del("sub"))), wantErr: "no sub"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := v.Verify(context.Background(), c.token)
			if c.wantErr != "" {
				if err == nil {
					t.Fatalf("Verify accepted the token as %+v", got)
				}
				t.Log(err)
				assertUnauthenticated(t, err, c.token, c.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			assertPrincipal(t, got, c.want)
		})
	}
}

func assertPrincipal(t *testing.T, got, want *identity.Principal) {
	t.Helper()
	if got.Subject != want.Subject || got.Name != want.Name || !slices.Equal(got.Roles, want.Roles) {
		t.Errorf("principal = %+v, want %+v", got, want)
	}
}

// TestVerifierKeepsPlatformRolesOfRealmAndClient checks the roles read from
// Keycloak's realm_access and resource_access claims.
func TestVerifierKeepsPlatformRolesOfRealmAndClient(t *testing.T) {
	key := newRSAKey(t, "rsa-1", jose.RS256)
	p := newTestProvider(t, key)
	roles := func(list ...string) map[string]any { return map[string]any{"roles": list} }

	cases := []struct {
		name     string
		clientID string
		realm    any // realm_access, omitted when nil
		clients  any // resource_access, omitted when nil
		want     []identity.Role
	}{
		{name: "no roles at all"},
		{name: "realm roles, Keycloak defaults dropped",
			realm: roles("default-roles-forge", "offline_access", "uma_authorization", "developer"),
			want:  []identity.Role{identity.RoleDeveloper}},
		{name: "roles of the audience client; other clients ignored",
			clients: map[string]any{"forge": roles("operator", "approver"), "account": roles("manage-account"), "other-app": roles("service-account")},
			want:    []identity.Role{identity.RoleApprover, identity.RoleOperator}},
		{name: "realm and client merged, deduplicated, in identity.Roles order",
			realm:   roles("service-account", "operator", "developer", "developer"),
			clients: map[string]any{"forge": roles("developer", "approver", "operator")},
			want:    identity.Roles},
		{name: "ClientID other than the audience", clientID: "forge-api",
			clients: map[string]any{"forge": roles("operator"), "forge-api": roles("approver")},
			want:    []identity.Role{identity.RoleApprover}},
		{name: "unknown and differently spelled roles dropped",
			realm:   roles("admin", "Developer", "OPERATOR", " approver"),
			clients: map[string]any{"forge": roles("superuser")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newTestVerifier(t, p, func(cfg *oidcauth.Config) { cfg.ClientID = c.clientID })
			claims := claimsFor(p.issuer, del("realm_access"))
			if c.realm != nil {
				claims["realm_access"] = c.realm
			}
			if c.clients != nil {
				claims["resource_access"] = c.clients
			}
			token := key.sign(t, claims)
			got, err := v.Verify(context.Background(), token)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !slices.Equal(got.Roles, c.want) {
				t.Errorf("roles = %v, want %v", got.Roles, c.want)
			}
		})
	}
}

// TestVerifierClockSkew checks exp and nbf at and around the clock skew.
func TestVerifierClockSkew(t *testing.T) {
	key := newECKey(t, "ec-1", jose.ES256, elliptic.P256())
	p := newTestProvider(t, key)
	cases := []struct {
		name    string
		skew    time.Duration // zero: the default, 30s
		exp     time.Duration // relative to now
		nbf     time.Duration
		wantErr string
	}{
		{name: "expired 10s ago, 30s skew", exp: -10 * time.Second},
		{name: "expired 60s ago, 30s skew", exp: -60 * time.Second, wantErr: "token expired"},
		{name: "expired exactly 30s ago, 30s skew", exp: -30 * time.Second, wantErr: "token expired"},
		{name: "expired 29s ago, 30s skew", exp: -29 * time.Second},
		{name: "expired 10s ago, 5s skew", skew: 5 * time.Second, exp: -10 * time.Second, wantErr: "token expired"},
		{name: "expired 10s ago, 2m skew", skew: 2 * time.Minute, exp: -10 * time.Second},
		{name: "valid 10s from now, 30s skew", exp: time.Hour, nbf: 10 * time.Second},
		{name: "valid 30s from now, 30s skew", exp: time.Hour, nbf: 30 * time.Second},
		{name: "valid 60s from now, 30s skew", exp: time.Hour, nbf: 60 * time.Second, wantErr: "not valid before"},
		{name: "valid 10s from now, 5s skew", skew: 5 * time.Second, exp: time.Hour, nbf: 10 * time.Second, wantErr: "not valid before"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newTestVerifier(t, p, func(cfg *oidcauth.Config) { cfg.ClockSkew = c.skew })
			token := key.sign(t, claimsFor(p.issuer, set("exp", now.Add(c.exp).Unix()), set("nbf", now.Add(c.nbf).Unix())))
			_, err := v.Verify(context.Background(), token)
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Verify accepted the token")
			}
			assertUnauthenticated(t, err, token, c.wantErr)
		})
	}
}

// TestVerifierRefreshesKeySetOnKeyRotation switches the provider to a new
// key, as Keycloak does on rotation, and checks that the verifier fetches
// the JWKS again when it meets the new kid, and only then.
func TestVerifierRefreshesKeySetOnKeyRotation(t *testing.T) {
	oldKey := newRSAKey(t, "rsa-1", jose.RS256)
	newKey := newECKey(t, "ec-2", jose.ES256, elliptic.P256())
	p := newTestProvider(t, oldKey)
	v := newTestVerifier(t, p, nil)
	ctx := context.Background()
	oldToken, newToken := oldKey.sign(t, claimsFor(p.issuer)), newKey.sign(t, claimsFor(p.issuer))

	hits := func(want int32) {
		t.Helper()
		if got := p.jwksHits.Load(); got != want {
			t.Fatalf("JWKS fetched %d times, want %d", got, want)
		}
	}
	hits(1) // NewVerifier loads the key set
	if _, err := v.Verify(ctx, oldToken); err != nil {
		t.Fatalf("old key before rotation: %v", err)
	}
	hits(1) // a known kid is served from the cache

	p.publish(t, newKey)
	if _, err := v.Verify(ctx, newToken); err != nil {
		t.Fatalf("new key after rotation: %v", err)
	}
	hits(2) // the unknown kid caused one refresh
	if _, err := v.Verify(ctx, newToken); err != nil {
		t.Fatalf("new key again: %v", err)
	}
	hits(2)

	_, err := v.Verify(ctx, oldToken)
	assertUnauthenticated(t, err, oldToken, `key ID "rsa-1" is not in the issuer's key set`)
	hits(3) // one refresh for the retired kid, then rejected

	stranger := newRSAKey(t, "stranger", jose.RS256).sign(t, claimsFor(p.issuer))
	for range 3 {
		_, err = v.Verify(ctx, stranger)
		assertUnauthenticated(t, err, stranger, `key ID "stranger" is not in the issuer's key set`)
	}
	hits(6) // one refresh per token naming an unknown kid, never more
}

// TestVerifierWhenTheJWKSIsDown checks that a token naming an unknown kid is
// refused, and a cached one still accepted, while the JWKS cannot be
// fetched, and that the verifier recovers once it can.
func TestVerifierWhenTheJWKSIsDown(t *testing.T) {
	key := newRSAKey(t, "rsa-1", jose.RS256)
	next := newRSAKey(t, "rsa-2", jose.RS256)
	p := newTestProvider(t, key)
	v := newTestVerifier(t, p, nil)
	ctx := context.Background()

	p.setJWKSFailing(true)
	if _, err := v.Verify(ctx, key.sign(t, claimsFor(p.issuer))); err != nil {
		t.Fatalf("cached key while the JWKS is down: %v", err)
	}
	token := next.sign(t, claimsFor(p.issuer))
	_, err := v.Verify(ctx, token)
	assertUnauthenticated(t, err, token, "key set is unavailable")

	p.setJWKSFailing(false)
	p.publish(t, key, next)
	if _, err := v.Verify(ctx, token); err != nil {
		t.Fatalf("after the JWKS recovered: %v", err)
	}
}

// TestVerifierConcurrentUse verifies tokens from many goroutines while the
// key set rotates; run with -race.
func TestVerifierConcurrentUse(t *testing.T) {
	rsaKey := newRSAKey(t, "rsa-1", jose.RS256)
	ecKey := newECKey(t, "ec-1", jose.ES256, elliptic.P256())
	p := newTestProvider(t, rsaKey)
	v := newTestVerifier(t, p, nil)
	p.publish(t, rsaKey, ecKey)
	tokens := []string{rsaKey.sign(t, claimsFor(p.issuer)), ecKey.sign(t, claimsFor(p.issuer))}
	bad := newRSAKey(t, "stranger", jose.RS256).sign(t, claimsFor(p.issuer))

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 32 {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), tokens[i%2]); err != nil {
				errs <- err
			}
			if _, err := v.Verify(context.Background(), bad); !fault.Is(err, fault.Unauthenticated) {
				errs <- fmt.Errorf("stranger's token: %v", err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestNewVerifierRejectsBadConfigAndDiscovery checks NewVerifier's errors.
func TestNewVerifierRejectsBadConfigAndDiscovery(t *testing.T) {
	key := newRSAKey(t, "rsa-1", jose.RS256)
	p := newTestProvider(t, key)
	emptyJWKS := newTestProvider(t) // publishes only keys a verifier must skip
	down := newTestProvider(t, key)
	down.setJWKSFailing(true)

	cases := []struct {
		name string
		cfg  oidcauth.Config
		want fault.Kind
		says string
	}{
		{name: "no issuer", cfg: oidcauth.Config{Audience: "forge"}, want: fault.Validation, says: "issuer is required"},
		{name: "issuer not http(s)", cfg: oidcauth.Config{Issuer: "ftp://idp/realms/forge", Audience: "forge"}, want: fault.Validation, says: "not an http(s) URL"},
		{name: "no audience", cfg: oidcauth.Config{Issuer: p.issuer}, want: fault.Validation, says: "audience is required"},
		{name: "negative skew", cfg: oidcauth.Config{Issuer: p.issuer, Audience: "forge", ClockSkew: -time.Second}, want: fault.Validation, says: "negative"},
		{name: "discovery names another issuer", cfg: oidcauth.Config{Issuer: p.issuer + "/", Audience: "forge"}, want: fault.Validation, says: "must match exactly"},
		{name: "no discovery document", cfg: oidcauth.Config{Issuer: p.srv.URL + "/realms/other", Audience: "forge"}, want: fault.Unavailable, says: "404"},
		{name: "JWKS without a signing key", cfg: oidcauth.Config{Issuer: emptyJWKS.issuer, Audience: "forge"}, want: fault.Unavailable, says: "no RSA or EC signing key"},
		{name: "JWKS down", cfg: oidcauth.Config{Issuer: down.issuer, Audience: "forge"}, want: fault.Unavailable, says: "500"},
		{name: "issuer unreachable", cfg: oidcauth.Config{Issuer: "http://127.0.0.1:1/realms/forge", Audience: "forge"}, want: fault.Unavailable, says: "discovering"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := oidcauth.NewVerifier(context.Background(), c.cfg)
			if err == nil {
				t.Fatal("NewVerifier succeeded")
			}
			if got := fault.KindOf(err); got != c.want {
				t.Errorf("kind = %s, want %s (%v)", got, c.want, err)
			}
			if msg := err.Error(); !strings.Contains(msg, c.says) {
				t.Errorf("error %q does not say %q", msg, c.says)
			}
		})
	}
}

// TestVerifierBoundsValuesQuotedFromTheToken checks that values copied from
// a hostile token into an error message are cut short.
func TestVerifierBoundsValuesQuotedFromTheToken(t *testing.T) {
	key := newRSAKey(t, "rsa-1", jose.RS256)
	p := newTestProvider(t, key)
	v := newTestVerifier(t, p, nil)
	long := strings.Repeat("A", 5000)
	cases := []struct{ name, token string }{
		{name: "alg", token: unsignedToken(t, map[string]any{"alg": long, "kid": "rsa-1"}, claimsFor(p.issuer))},
		{name: "kid", token: key.as(long, jose.RS256).sign(t, claimsFor(p.issuer))},
		{name: "iss", token: key.sign(t, claimsFor(long))},
		{name: "aud", token: key.sign(t, claimsFor(p.issuer, set("aud", slices.Repeat([]string{long}, 8))))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), c.token)
			assertUnauthenticated(t, err, c.token, "…")
			if n := len(err.Error()); n > 600 {
				t.Errorf("message is %d bytes long: %q", n, err)
			}
		})
	}
}
