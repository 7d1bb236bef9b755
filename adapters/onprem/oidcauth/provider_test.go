package oidcauth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/catalyst-forge/forge/domain/fault"
)

// testProvider is an httptest server speaking the wire format of Keycloak's
// OpenID Connect endpoints: the discovery document at
// /realms/forge/.well-known/openid-configuration and the JWKS at
// /realms/forge/protocol/openid-connect/certs. Keycloak itself cannot run on
// these machines; this stands in for it at the protocol boundary.
type testProvider struct {
	srv    *httptest.Server
	issuer string

	mu       sync.Mutex
	keys     []json.RawMessage // the published JWKS entries
	failJWKS bool              // answer the JWKS with 500

	jwksHits atomic.Int32
}

func newTestProvider(t *testing.T, keys ...*signingKey) *testProvider {
	t.Helper()
	p := &testProvider{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /realms/forge/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		base := p.srv.URL + "/realms/forge/protocol/openid-connect"
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                p.issuer,
			"authorization_endpoint":                base + "/auth",
			"token_endpoint":                        base + "/token",
			"userinfo_endpoint":                     base + "/userinfo",
			"jwks_uri":                              base + "/certs",
			"response_types_supported":              []string{"code", "id_token", "code id_token"},
			"subject_types_supported":               []string{"public", "pairwise"},
			"id_token_signing_alg_values_supported": []string{"PS384", "ES384", "RS384", "HS256", "HS512", "ES256", "RS256", "HS384", "ES512", "PS256", "PS512", "RS512"},
		})
	})
	mux.HandleFunc("GET /realms/forge/protocol/openid-connect/certs", func(w http.ResponseWriter, r *http.Request) {
		p.jwksHits.Add(1)
		p.mu.Lock()
		fail, keys := p.failJWKS, p.keys
		p.mu.Unlock()
		if fail {
			http.Error(w, "unavailable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	p.issuer = p.srv.URL + "/realms/forge"
	p.publish(t, keys...)
	return p
}

// publish replaces the published key set with keys, plus what Keycloak
// also publishes and a verifier must skip: an RSA-OAEP encryption key and a
// key of a type go-jose does not know.
func (p *testProvider) publish(t *testing.T, keys ...*signingKey) {
	t.Helper()
	var entries []json.RawMessage
	for _, k := range keys {
		entries = append(entries, mustJSON(t, k.public()))
	}
	enc := newRSAKey(t, "enc-1", jose.RS256).public()
	enc.Use, enc.Algorithm = "enc", "RSA-OAEP"
	entries = append(entries, mustJSON(t, enc),
		json.RawMessage(`{"kty":"OKP","crv":"Ed448","kid":"ed448-1","x":"X9dEm1m0Yf0s54fsYWrUah2hNCSFpw4fig6nXYDpZ3jt8SR2m0bHBhvWeD3x5Q9s0foavq_oJWGA"}`))
	p.mu.Lock()
	p.keys = entries
	p.mu.Unlock()
}

func (p *testProvider) setJWKSFailing(fail bool) {
	p.mu.Lock()
	p.failJWKS = fail
	p.mu.Unlock()
}

// signingKey is a private key with the kid and alg it signs under.
type signingKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

func newRSAKey(t *testing.T, kid string, alg jose.SignatureAlgorithm) *signingKey {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &signingKey{kid: kid, alg: alg, priv: priv}
}

func newECKey(t *testing.T, kid string, alg jose.SignatureAlgorithm, curve elliptic.Curve) *signingKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &signingKey{kid: kid, alg: alg, priv: priv}
}

// public returns the key's JWKS entry.
func (k *signingKey) public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

// as returns a copy of the key that signs with alg under kid.
func (k *signingKey) as(kid string, alg jose.SignatureAlgorithm) *signingKey {
	return &signingKey{kid: kid, alg: alg, priv: k.priv}
}

// sign returns a compact JWS of payload (claims are marshalled to JSON),
// signed by go-jose with the key's alg and kid (no kid header when kid is
// empty).
func (k *signingKey) sign(t *testing.T, payload any) string {
	t.Helper()
	raw, ok := payload.([]byte)
	if !ok {
		raw = mustJSON(t, payload)
	}
	var key any = jose.JSONWebKey{Key: k.priv, KeyID: k.kid}
	if k.kid == "" {
		key = k.priv
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(raw)
	if err != nil {
		t.Fatal(err)
	}
	token, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// b64 is the base64url encoding without padding of JWS.
func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// unsignedToken hand-builds header.payload. for alg "none" and its
// spellings: go-jose refuses to produce such tokens.
func unsignedToken(t *testing.T, header map[string]any, claims any) string {
	t.Helper()
	return b64(mustJSON(t, header)) + "." + b64(mustJSON(t, claims)) + "."
}

// hmacToken hand-builds an HMAC-signed token with secret, as in the
// algorithm-confusion attack where the secret is the issuer's RSA public key.
func hmacToken(t *testing.T, alg, kid string, secret []byte, claims any) string {
	t.Helper()
	var h func() hash.Hash
	switch alg {
	case "HS256":
		h = sha256.New
	case "HS384":
		h = sha512.New384
	case "HS512":
		h = sha512.New
	default:
		t.Fatalf("hmacToken: %s", alg)
	}
	input := b64(mustJSON(t, map[string]any{"alg": alg, "kid": kid, "typ": "JWT"})) + "." + b64(mustJSON(t, claims))
	mac := hmac.New(h, secret)
	mac.Write([]byte(input))
	return input + "." + b64(mac.Sum(nil))
}

// replaceSegment returns token with its i-th dot-separated segment replaced.
func replaceSegment(token string, i int, segment string) string {
	parts := strings.Split(token, ".")
	parts[i] = segment
	return strings.Join(parts, ".")
}

// flipSignature changes one character in the middle of the signature, so
// that the decoded bytes really differ (the last character may only carry
// padding bits).
func flipSignature(token string) string {
	parts := strings.Split(token, ".")
	sig := []byte(parts[2])
	mid := len(sig) / 2
	if sig[mid] == 'A' {
		sig[mid] = 'B'
	} else {
		sig[mid] = 'A'
	}
	parts[2] = string(sig)
	return strings.Join(parts, ".")
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// assertUnauthenticated fails unless err is a *fault.Error of kind
// Unauthenticated whose message contains want and contains neither the
// token nor any of its segments.
func assertUnauthenticated(t *testing.T, err error, token, want string) {
	t.Helper()
	var fe *fault.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error = %v (%T), want *fault.Error", err, err)
	}
	if fe.Kind != fault.Unauthenticated {
		t.Errorf("kind = %s, want %s (%v)", fe.Kind, fault.Unauthenticated, err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	assertTokenAbsent(t, err, token)
}

// assertTokenAbsent fails if err's message contains the token or one of its
// non-trivial segments.
func assertTokenAbsent(t *testing.T, err error, token string) {
	t.Helper()
	msg := err.Error()
	if token != "" && strings.Contains(msg, token) {
		t.Errorf("error message contains the token: %q", msg)
	}
	for _, seg := range strings.Split(token, ".") {
		if len(seg) >= 16 && strings.Contains(msg, seg) {
			t.Errorf("error message contains a token segment %q: %q", seg, msg)
		}
	}
}
