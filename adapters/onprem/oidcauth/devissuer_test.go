package oidcauth_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/onprem/oidcauth"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
)

func loadDevKey(t *testing.T, path string) *oidcauth.DevIssuer {
	t.Helper()
	d, err := oidcauth.LoadOrCreateDevKey(path)
	if err != nil {
		t.Fatalf("LoadOrCreateDevKey: %v", err)
	}
	return d
}

func devToken(t *testing.T, d *oidcauth.DevIssuer, subject string, ttl time.Duration, roles ...identity.Role) string {
	t.Helper()
	token, err := d.Token(subject, roles, ttl)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return token
}

func TestLoadOrCreateDevKeyCreatesPrivateFileAndReusesIt(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "state", "keys", "dev-issuer.pem")

	first := loadDevKey(t, path)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("key file mode = %o, want 600", mode)
	}
	for _, dir := range []string{filepath.Join(root, "state"), filepath.Join(root, "state", "keys")} {
		info, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if mode := info.Mode().Perm(); mode != 0o700 {
			t.Errorf("directory %s mode = %o, want 700", dir, mode)
		}
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("key directory holds %d entries, want only the key (no temporary file left)", len(entries))
	}
	written, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(written, []byte("-----BEGIN PRIVATE KEY-----\n")) {
		t.Errorf("key file is not a PKCS#8 PEM:\n%s", written)
	}

	second := loadDevKey(t, path)
	if second.KeyID() != first.KeyID() {
		t.Errorf("second load has key ID %s, want the first's %s", second.KeyID(), first.KeyID())
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, written) {
		t.Error("second load rewrote the key file")
	}
	token := devToken(t, first, "ada", time.Hour, identity.RoleDeveloper)
	if _, err := second.Verifier().Verify(context.Background(), token); err != nil {
		t.Errorf("a token of the first load does not verify with the second: %v", err)
	}
}

// TestLoadOrCreateDevKeyReadsExistingKey writes a key by hand and checks the
// issuer uses it, with the RFC 7638 thumbprint as key ID.
func TestLoadOrCreateDevKeyReadsExistingKey(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dev.pem")
	content := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}

	d := loadDevKey(t, path)
	// RFC 7638: SHA-256 over the required members in lexicographic order.
	coord := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	pub, err := key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	canonical := fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}`, coord(pub[1:33]), coord(pub[33:]))
	sum := sha256.Sum256([]byte(canonical))
	if want := coord(sum[:]); d.KeyID() != want {
		t.Errorf("KeyID = %s, want the RFC 7638 thumbprint %s", d.KeyID(), want)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, content) {
		t.Error("LoadOrCreateDevKey changed an existing key file")
	}
}

func TestLoadOrCreateDevKeyRejectsOtherContent(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	sec1, err := x509.MarshalECPrivateKey(p256)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		content []byte
		says    string
	}{
		{name: "empty file", content: nil, says: "not a PEM file"},
		{name: "garbage", content: []byte("hello\n"), says: "not a PEM file"},
		{name: "RSA key", content: pkcs8(rsaKey), says: "not an EC P-256 private key"},
		{name: "P-384 key", content: pkcs8(p384), says: "not an EC P-256 private key"},
		{name: "SEC1 instead of PKCS#8", content: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), says: `"EC PRIVATE KEY", want "PRIVATE KEY" (PKCS#8)`},
		{name: "PKCS#8 label, broken body", content: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("junk")}), says: "not a PKCS#8 private key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "dev.pem")
			if err := os.WriteFile(path, c.content, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := oidcauth.LoadOrCreateDevKey(path)
			if !fault.Is(err, fault.Validation) || !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), path) {
				t.Errorf("error = %v, want a validation error naming %s and saying %q", err, path, c.says)
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, c.content) {
				t.Error("LoadOrCreateDevKey overwrote a file it could not read")
			}
		})
	}
}

// TestLoadOrCreateDevKeyConcurrentCreators starts several creators on the
// same missing path: exactly one key must win and every caller must get it.
func TestLoadOrCreateDevKeyConcurrentCreators(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "dev.pem")
	const n = 8
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			d, err := oidcauth.LoadOrCreateDevKey(path)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = d.KeyID()
		})
	}
	wg.Wait()
	final := loadDevKey(t, path).KeyID()
	for i, id := range ids {
		if id != final {
			t.Errorf("creator %d got key %s, but the file holds %s", i, id, final)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("key directory holds %d entries, want 1", len(entries))
	}
}

func TestDevIssuerTokenVerifiesThroughVerifier(t *testing.T) {
	d := loadDevKey(t, filepath.Join(t.TempDir(), "dev.pem"))
	token := devToken(t, d, "ada", time.Hour, identity.RoleOperator, identity.RoleDeveloper, identity.RoleDeveloper)

	got, err := d.Verifier().Verify(context.Background(), token)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	assertPrincipal(t, got, &identity.Principal{Subject: "ada", Name: "ada", Roles: []identity.Role{identity.RoleDeveloper, identity.RoleOperator}})

	// The wire format: an ES256 JWS naming the key, with Keycloak-shaped claims.
	parts := strings.Split(token, ".")
	var header map[string]any
	decodeSegment(t, parts[0], &header)
	if header["alg"] != "ES256" || header["kid"] != d.KeyID() || header["typ"] != "JWT" {
		t.Errorf("header = %v, want alg ES256, kid %s, typ JWT", header, d.KeyID())
	}
	var claims map[string]any
	decodeSegment(t, parts[1], &claims)
	if claims["iss"] != oidcauth.DevIssuerURL || claims["aud"] != oidcauth.DevAudience || claims["sub"] != "ada" {
		t.Errorf("claims = %v, want iss %s, aud %s, sub ada", claims, oidcauth.DevIssuerURL, oidcauth.DevAudience)
	}
	for _, name := range []string{"exp", "iat", "nbf", "jti"} {
		if _, ok := claims[name]; !ok {
			t.Errorf("claims have no %s: %v", name, claims)
		}
	}
	if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat != 3600 {
		t.Errorf("exp - iat = %v, want 3600", exp-iat)
	}
	realm, _ := claims["realm_access"].(map[string]any)
	if fmt.Sprint(realm["roles"]) != "[operator developer developer]" {
		t.Errorf("realm_access = %v", claims["realm_access"])
	}
}

func decodeSegment(t *testing.T, seg string, v any) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatal(err)
	}
}

func TestDevIssuerVerifierRejects(t *testing.T) {
	dir := t.TempDir()
	d := loadDevKey(t, filepath.Join(dir, "a.pem"))
	other := loadDevKey(t, filepath.Join(dir, "b.pem"))
	token := devToken(t, d, "ada", time.Hour, identity.RoleApprover)
	later := func(after time.Duration) func() time.Time {
		return func() time.Time { return time.Now().Add(after) }
	}
	cases := []struct {
		name     string
		verifier *oidcauth.Verifier
		token    string
		says     string
	}{
		{name: "a token of another dev key", verifier: other.Verifier(), token: token, says: fmt.Sprintf("key ID %q is not in the issuer's key set", d.KeyID())},
		{name: "expired", verifier: d.Verifier(oidcauth.WithClock(later(2 * time.Hour))), token: token, says: "token expired"},
		{name: "expired beyond a small skew", verifier: d.Verifier(oidcauth.WithClock(later(time.Hour+20*time.Second)), oidcauth.WithClockSkew(5*time.Second)), token: token, says: "token expired"},
		{name: "not valid yet", verifier: d.Verifier(oidcauth.WithClock(later(-time.Hour))), token: token, says: "not valid before"},
		{name: "tampered", verifier: d.Verifier(), token: flipSignature(token), says: "signature does not verify"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.verifier.Verify(context.Background(), c.token)
			if err == nil {
				t.Fatal("Verify accepted the token")
			}
			assertUnauthenticated(t, err, c.token, c.says)
		})
	}

	// Within the default skew of 30s, a token that has just expired passes.
	if _, err := d.Verifier(oidcauth.WithClock(later(time.Hour+10*time.Second))).Verify(context.Background(), token); err != nil {
		t.Errorf("token expired 10s ago with 30s skew: %v", err)
	}
}

func TestDevIssuerTokenRejectsBadInput(t *testing.T) {
	d := loadDevKey(t, filepath.Join(t.TempDir(), "dev.pem"))
	cases := []struct {
		name    string
		subject string
		roles   []identity.Role
		ttl     time.Duration
		says    string
	}{
		{name: "empty subject", ttl: time.Hour, says: "subject is empty"},
		{name: "zero lifetime", subject: "ada", says: "not positive"},
		{name: "negative lifetime", subject: "ada", ttl: -time.Minute, says: "not positive"},
		{name: "unknown role", subject: "ada", ttl: time.Hour, roles: []identity.Role{"admin"}, says: `"admin" is not a platform role`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := d.Token(c.subject, c.roles, c.ttl)
			if !fault.Is(err, fault.Validation) || !strings.Contains(err.Error(), c.says) {
				t.Errorf("error = %v, want a validation error saying %q", err, c.says)
			}
		})
	}
}

func TestDevIssuerDiscoveryHandlerServesOIDCWireFormat(t *testing.T) {
	d := loadDevKey(t, filepath.Join(t.TempDir(), "dev.pem"))
	mux := http.NewServeMux()
	mux.Handle("/", d.DiscoveryHandler())
	mux.Handle("/auth/dev/", http.StripPrefix("/auth/dev", d.DiscoveryHandler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	get := func(path string) (int, []byte) {
		t.Helper()
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, body
	}
	for _, prefix := range []string{"", "/auth/dev"} {
		t.Run("mounted at "+prefix+"/", func(t *testing.T) {
			status, body := get(prefix + "/.well-known/openid-configuration")
			var doc struct {
				Issuer  string   `json:"issuer"`
				JWKSURI string   `json:"jwks_uri"`
				Algs    []string `json:"id_token_signing_alg_values_supported"`
			}
			if err := json.Unmarshal(body, &doc); status != http.StatusOK || err != nil {
				t.Fatalf("discovery: %d %s (%v)", status, body, err)
			}
			if doc.Issuer != oidcauth.DevIssuerURL || doc.JWKSURI != srv.URL+prefix+"/jwks.json" || !slices.Equal(doc.Algs, []string{"ES256"}) {
				t.Errorf("discovery document = %+v", doc)
			}

			status, body = get(prefix + "/jwks.json")
			var set struct {
				Keys []map[string]any `json:"keys"`
			}
			if err := json.Unmarshal(body, &set); status != http.StatusOK || err != nil || len(set.Keys) != 1 {
				t.Fatalf("jwks: %d %s (%v)", status, body, err)
			}
			k := set.Keys[0]
			if k["kty"] != "EC" || k["crv"] != "P-256" || k["kid"] != d.KeyID() || k["alg"] != "ES256" || k["use"] != "sig" {
				t.Errorf("JWK = %v", k)
			}
			if _, private := k["d"]; private {
				t.Error("the JWKS publishes the private key")
			}
		})
	}
	if status, _ := get("/nothing-here"); status != http.StatusNotFound {
		t.Errorf("unknown path: %d, want 404", status)
	}
	resp, err := srv.Client().Post(srv.URL+"/jwks.json", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}
}

// handlerTransport serves HTTP requests with a handler in-process, so that
// a client can reach the fixed DevIssuerURL. It fills in what a server
// would (Host, RequestURI) before calling the handler.
type handlerTransport struct{ h http.Handler }

func (tr handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Host, r.RequestURI = r.URL.Host, r.URL.RequestURI()
	rec := httptest.NewRecorder()
	tr.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// TestNewVerifierAgainstDevIssuerDiscovery checks that an OIDC client
// (NewVerifier, with its discovery and remote JWKS) accepts development
// tokens through the dev issuer's discovery handler.
func TestNewVerifierAgainstDevIssuerDiscovery(t *testing.T) {
	d := loadDevKey(t, filepath.Join(t.TempDir(), "dev.pem"))
	mux := http.NewServeMux()
	mux.Handle("forge.local/dev/", http.StripPrefix("/dev", d.DiscoveryHandler()))
	v, err := oidcauth.NewVerifier(context.Background(), oidcauth.Config{
		Issuer:     oidcauth.DevIssuerURL,
		Audience:   oidcauth.DevAudience,
		HTTPClient: &http.Client{Transport: handlerTransport{mux}},
	})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	got, err := v.Verify(context.Background(), devToken(t, d, "svc-ci", 10*time.Minute, identity.RoleServiceAccount))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	assertPrincipal(t, got, &identity.Principal{Subject: "svc-ci", Name: "svc-ci", Roles: []identity.Role{identity.RoleServiceAccount}})

	other := loadDevKey(t, filepath.Join(t.TempDir(), "other.pem"))
	token := devToken(t, other, "mallory", time.Hour, identity.RoleOperator)
	_, err = v.Verify(context.Background(), token)
	assertUnauthenticated(t, err, token, "is not in the issuer's key set")
}
