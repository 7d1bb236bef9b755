package oidcauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
)

// The issuer and audience of the development issuer's tokens. They are
// fixed, so that a token minted by one local installation means the same
// thing to every tool of it; what tells installations apart is the key.
const (
	DevIssuerURL = "https://forge.local/dev"
	DevAudience  = "forge"
)

// The paths DevIssuer.DiscoveryHandler serves, relative to where it is
// mounted.
const (
	discoveryPath = "/.well-known/openid-configuration"
	jwksPath      = "/jwks.json"
)

// DevIssuer is the identity provider of the local profile: it signs ES256
// tokens with a P-256 key kept in a file. Its tokens are checked by the same
// Verifier as Keycloak's, so the local profile exercises the real
// verification path. It is safe for concurrent use.
type DevIssuer struct {
	key *ecdsa.PrivateKey
	pub jose.JSONWebKey // the public key with its kid, alg and use
	now func() time.Time
}

// LoadOrCreateDevKey returns the development issuer whose key is the EC
// P-256 private key (PKCS#8 PEM) at path. When path does not exist, it
// creates a new key there: parent directories with mode 0700, the file with
// mode 0600, written to a temporary file first and then linked into place so
// that neither a reader nor a concurrent creator ever sees a partial file,
// and an existing file is never overwritten. It returns fault.Validation when
// the file holds something else, and fault.Internal when it cannot be read
// or written.
func LoadOrCreateDevKey(path string) (*DevIssuer, error) {
	if path == "" {
		return nil, fault.New(fault.Validation, "dev issuer: key path is empty")
	}
	key, err := readDevKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createDevKey(path)
	}
	if err != nil {
		return nil, err
	}
	return newDevIssuer(key)
}

// readDevKey reads the key at path; the error wraps fs.ErrNotExist when
// there is no file.
func readDevKey(path string) (*ecdsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "dev issuer: reading key %s", path)
	}
	key, err := parseDevKey(data)
	if err != nil {
		return nil, fault.New(fault.Validation, "dev issuer: key %s: %v", path, err)
	}
	return key, nil
}

// parseDevKey decodes a PKCS#8 PEM EC P-256 private key.
func parseDevKey(data []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("not a PEM file")
	}
	if block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("PEM block is %q, want \"PRIVATE KEY\" (PKCS#8)", block.Type)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("not a PKCS#8 private key: %w", err)
	}
	key, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		return nil, errors.New("not an EC P-256 private key")
	}
	return key, nil
}

// createDevKey generates a key and stores it at path without ever replacing
// a file that is already there; if another process created path first, its
// key wins and is returned.
func createDevKey(path string) (*ecdsa.PrivateKey, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fault.Wrap(fault.Internal, err, "dev issuer: creating directory %s", dir)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "dev issuer: generating key")
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "dev issuer: encoding key")
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})

	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "dev issuer: creating key %s", path)
	}
	defer os.Remove(tmp.Name()) // once linked, path keeps the content
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "dev issuer: writing key %s", path)
	}

	// A hard link, unlike a rename, fails when path exists: the no-overwrite
	// rename. Filesystems without hard links fall back to a rename after a
	// last look, which leaves only a tiny race between two creators.
	err = os.Link(tmp.Name(), path)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		if _, statErr := os.Lstat(path); errors.Is(statErr, fs.ErrNotExist) {
			err = os.Rename(tmp.Name(), path)
		} else {
			err = fs.ErrExist
		}
	}
	if errors.Is(err, fs.ErrExist) {
		return readDevKey(path)
	}
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "dev issuer: storing key %s", path)
	}
	if d, err := os.Open(dir); err == nil { // make the new name durable; best effort
		_ = d.Sync()
		_ = d.Close()
	}
	return key, nil
}

// newDevIssuer returns the issuer for key, with its RFC 7638 thumbprint as
// the key ID.
func newDevIssuer(key *ecdsa.PrivateKey) (*DevIssuer, error) {
	pub := jose.JSONWebKey{Key: &key.PublicKey, Algorithm: string(jose.ES256), Use: "sig"}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fault.Wrap(fault.Internal, err, "dev issuer: key thumbprint")
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	return &DevIssuer{key: key, pub: pub, now: time.Now}, nil
}

// KeyID returns the key ID (kid) of the issuer's tokens: the RFC 7638
// SHA-256 thumbprint of its public key.
func (d *DevIssuer) KeyID() string { return d.pub.KeyID }

// devClaims are the claims of a development token beyond the registered
// ones, shaped as Keycloak's.
type devClaims struct {
	PreferredUsername string `json:"preferred_username"`
	Repository        string `json:"repository,omitempty"`
	RealmAccess       struct {
		Roles []string `json:"roles"`
	} `json:"realm_access"`
}

// Token returns a signed ES256 JWT for subject with roles as realm roles,
// valid from now for ttl, issued by DevIssuerURL for DevAudience. It
// returns fault.Validation when subject is empty, ttl is not positive or a
// role is not a platform role.
func (d *DevIssuer) Token(subject string, roles []identity.Role, ttl time.Duration, opts ...TokenOption) (string, error) {
	if subject == "" {
		return "", fault.New(fault.Validation, "dev issuer: subject is empty")
	}
	if ttl <= 0 {
		return "", fault.New(fault.Validation, "dev issuer: token lifetime %s is not positive", ttl)
	}
	extra := devClaims{PreferredUsername: subject, RealmAccess: struct {
		Roles []string `json:"roles"`
	}{Roles: []string{}}}
	for _, r := range roles {
		if !r.Valid() {
			return "", fault.New(fault.Validation, "dev issuer: %q is not a platform role", r)
		}
		extra.RealmAccess.Roles = append(extra.RealmAccess.Roles, string(r))
	}
	for _, o := range opts {
		o(&extra)
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", fault.Wrap(fault.Internal, err, "dev issuer: token ID")
	}
	now := d.now()
	registered := jwt.Claims{
		Issuer:    DevIssuerURL,
		Subject:   subject,
		Audience:  jwt.Audience{DevAudience},
		Expiry:    jwt.NewNumericDate(now.Add(ttl)),
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		ID:        hex.EncodeToString(jti),
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: d.key, KeyID: d.pub.KeyID}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return "", fault.Wrap(fault.Internal, err, "dev issuer: signer")
	}
	token, err := jwt.Signed(signer).Claims(registered).Claims(extra).Serialize()
	if err != nil {
		return "", fault.Wrap(fault.Internal, err, "dev issuer: signing token")
	}
	return token, nil
}

// TokenOption adds a claim to a development token.
type TokenOption func(*devClaims)

// ForRepository gives the token a repository claim, as a GitHub Actions
// token exchanged at Keycloak carries: the caller may act on that
// repository only.
func ForRepository(repo string) TokenOption {
	return func(c *devClaims) { c.Repository = repo }
}

// Option adjusts the Verifier that DevIssuer.Verifier returns.
type Option func(*Config)

// WithClock makes the verifier read the time from now instead of time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *Config) { c.Now = now }
}

// WithClockSkew sets the tolerance applied to exp and nbf; zero or negative
// leaves DefaultClockSkew.
func WithClockSkew(skew time.Duration) Option {
	return func(c *Config) {
		if skew > 0 {
			c.ClockSkew = skew
		}
	}
}

// Verifier returns a Verifier of the development issuer's tokens. It is the
// Verifier that NewVerifier builds, with the same checks, except that its
// key set is this issuer's public key instead of a JWKS fetched over HTTP.
func (d *DevIssuer) Verifier(opts ...Option) *Verifier {
	cfg := Config{}
	for _, opt := range opts {
		opt(&cfg)
	}
	cfg.Issuer, cfg.Audience, cfg.ClientID = DevIssuerURL, DevAudience, DevAudience
	pub := d.pub
	return newVerifier(withDefaults(cfg), staticKeySet{pub.KeyID: &pub})
}

// DiscoveryHandler serves the issuer's OIDC discovery document at
// /.well-known/openid-configuration and its JWKS at /jwks.json, below
// whatever prefix it is mounted at, so that an OIDC client (NewVerifier
// among them) can verify development tokens the standard way. The jwks_uri
// it advertises is built from the request's host and path.
func (d *DevIssuer) DiscoveryHandler() http.Handler {
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{d.pub}})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		switch {
		case strings.HasSuffix(r.URL.Path, discoveryPath):
			doc, _ := json.Marshal(map[string]any{
				"issuer":                                DevIssuerURL,
				"jwks_uri":                              baseURL(r, discoveryPath) + jwksPath,
				"response_types_supported":              []string{"id_token"},
				"subject_types_supported":               []string{"public"},
				"id_token_signing_alg_values_supported": []string{string(jose.ES256)},
				"claims_supported":                      []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "preferred_username", "realm_access"},
			})
			writeJSON(w, doc)
		case strings.HasSuffix(r.URL.Path, jwksPath):
			writeJSON(w, jwks)
		default:
			http.NotFound(w, r)
		}
	})
}

// baseURL returns the URL the request was sent to, without suffix: where
// the handler is mounted, even behind http.StripPrefix.
func baseURL(r *http.Request, suffix string) string {
	path := r.URL.Path
	if r.RequestURI != "" {
		if u, err := url.ParseRequestURI(r.RequestURI); err == nil && u.Path != "" {
			path = u.Path
		}
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	return scheme + "://" + host + strings.TrimSuffix(path, suffix)
}

func writeJSON(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(body)
}
