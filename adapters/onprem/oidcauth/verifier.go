package oidcauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
	"github.com/catalyst-forge/forge/ports"
)

// DefaultClockSkew is how far the clocks of the issuer and of this process
// may disagree before exp and nbf are enforced.
const DefaultClockSkew = 30 * time.Second

// allowedAlgs are the only signature algorithms a token may use. Keycloak
// signs with RS256 by default and can be switched to ES256; the development
// issuer signs with ES256. Everything else — none, the HMAC family (which
// would let anyone holding the public key forge tokens), RSA-PSS, other
// curves — is refused before any key is looked at.
var allowedAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}

// maxTokenBytes bounds the size of a token. Keycloak's tokens are a few
// kilobytes even with many roles; anything much larger is not parsed.
const maxTokenBytes = 64 << 10

// Config says which tokens a Verifier accepts.
type Config struct {
	// Issuer is the issuer URL, exactly as in the tokens' iss claim and in
	// the discovery document (for Keycloak: https://host/realms/<realm>).
	Issuer string
	// Audience must be one of the values of the tokens' aud claim. (Keycloak
	// puts a client there through an audience mapper.)
	Audience string
	// ClientID is the Keycloak client whose resource_access roles count as
	// platform roles. It defaults to Audience.
	ClientID string
	// ClockSkew is the tolerance applied to exp and nbf; zero means
	// DefaultClockSkew.
	ClockSkew time.Duration
	// Now returns the current time; nil means time.Now. Tests set it.
	Now func() time.Time
	// HTTPClient fetches the discovery document and the JWKS; nil means a
	// client with a 10-second timeout.
	HTTPClient *http.Client
}

// Verifier checks bearer tokens issued by one OIDC issuer for one audience.
// It is safe for concurrent use.
type Verifier struct {
	issuer   string
	audience string
	clientID string
	skew     time.Duration
	now      func() time.Time
	keys     keySet
	verified verifiedCache
}

var _ ports.TokenVerifier = (*Verifier)(nil)

// NewVerifier discovers the issuer's configuration
// (/.well-known/openid-configuration), loads the key set at its jwks_uri and
// returns a Verifier that refreshes that key set whenever a token names a key
// ID it does not know. It returns fault.Validation when cfg is incomplete or
// the discovery document names another issuer, and fault.Unavailable when the
// discovery document or the key set cannot be fetched. ctx bounds only these
// first requests.
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	cfg, err := completeConfig(cfg)
	if err != nil {
		return nil, err
	}
	jwksURL, err := discover(ctx, cfg.HTTPClient, cfg.Issuer)
	if err != nil {
		return nil, err
	}
	keys := newRemoteKeySet(jwksURL, cfg.HTTPClient)
	if err := keys.load(ctx); err != nil {
		return nil, err
	}
	return newVerifier(cfg, keys), nil
}

// completeConfig checks cfg and fills in its defaults.
func completeConfig(cfg Config) (Config, error) {
	if cfg.Issuer == "" {
		return cfg, fault.New(fault.Validation, "oidc: issuer is required")
	}
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return cfg, fault.New(fault.Validation, "oidc: issuer %q is not an http(s) URL", cfg.Issuer)
	}
	if cfg.Audience == "" {
		return cfg, fault.New(fault.Validation, "oidc: audience is required")
	}
	if cfg.ClockSkew < 0 {
		return cfg, fault.New(fault.Validation, "oidc: clock skew %s is negative", cfg.ClockSkew)
	}
	return withDefaults(cfg), nil
}

// withDefaults fills in the optional fields of cfg.
func withDefaults(cfg Config) Config {
	if cfg.ClientID == "" {
		cfg.ClientID = cfg.Audience
	}
	if cfg.ClockSkew <= 0 {
		cfg.ClockSkew = DefaultClockSkew
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return cfg
}

// newVerifier is the one constructor behind NewVerifier and
// DevIssuer.Verifier: only the key set differs between them.
func newVerifier(cfg Config, keys keySet) *Verifier {
	return &Verifier{
		issuer:   cfg.Issuer,
		audience: cfg.Audience,
		clientID: cfg.ClientID,
		skew:     cfg.ClockSkew,
		now:      cfg.Now,
		keys:     keys,
	}
}

// header is the part of a JWS protected header read before verification.
type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// claims are the claims read from a verified token. Keycloak puts realm
// roles in realm_access and client roles in resource_access.<client>.
type claims struct {
	jwt.Claims
	PreferredUsername string `json:"preferred_username"`
	Name              string `json:"name"`
	// Repository is the repository claim of a GitHub Actions OIDC token,
	// kept by Keycloak's token exchange: it binds the caller to that
	// repository.
	Repository  string `json:"repository"`
	RealmAccess struct {
		Roles []string `json:"roles"`
	} `json:"realm_access"`
	ResourceAccess map[string]struct {
		Roles []string `json:"roles"`
	} `json:"resource_access"`
}

// Verify checks the token's signature (RS256 or ES256, with a key of the
// issuer's key set), issuer, audience, expiry, not-before time and subject,
// and returns the principal with its platform roles. Every failure is
// fault.Unauthenticated, including a key set that cannot be refreshed when
// the token names an unknown key; the message says what was wrong and never
// contains the token.
func (v *Verifier) Verify(ctx context.Context, token string) (*identity.Principal, error) {
	// A token whose signature was verified moments ago is not verified
	// again (an ES256/RS256 check costs more than the rest of a typical
	// request); its time-based claims are checked on every use.
	c, kid, ok := v.verified.get(token, v.now())
	if !ok || !v.keys.holds(kid) {
		payload, err := v.verifySignature(ctx, token)
		if err != nil {
			return nil, err
		}
		c = &claims{}
		if err := json.Unmarshal(payload, c); err != nil {
			return nil, claimsError(err)
		}
		if err := v.checkClaims(c); err != nil {
			return nil, err
		}
		v.verified.put(token, tokenKID(token), c, v.now())
	} else if err := v.checkClaims(c); err != nil {
		return nil, err
	}
	name := c.PreferredUsername
	if name == "" {
		name = c.Name
	}
	return &identity.Principal{Subject: c.Subject, Name: name, Roles: v.roles(c), Repository: strings.ToLower(c.Repository)}, nil
}

// verifySignature checks the token's structure, algorithm and key, and
// returns the payload once the signature is verified.
func (v *Verifier) verifySignature(ctx context.Context, token string) ([]byte, error) {
	if token == "" {
		return nil, unauthenticated("no token")
	}
	if len(token) > maxTokenBytes {
		return nil, unauthenticated("token is longer than %d bytes", maxTokenBytes)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, unauthenticated("token is not a JWS in compact serialization (want 3 dot-separated parts, got %d)", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, unauthenticated("token header is not base64url")
	}
	var h header
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, unauthenticated("token header is not a JSON object")
	}
	alg := jose.SignatureAlgorithm(h.Alg)
	if !slices.Contains(allowedAlgs, alg) {
		return nil, unauthenticated("token algorithm %s is not accepted (only RS256 and ES256 are)", quote(h.Alg))
	}
	if h.Kid == "" {
		return nil, unauthenticated("token header has no kid (key ID)")
	}
	jws, err := jose.ParseSignedCompact(token, allowedAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, unauthenticated("token is not a well-formed JWS")
	}
	// The header read above only explains failures; what counts is the
	// header go-jose verifies with, and the two must agree.
	if p := jws.Signatures[0].Protected; p.Algorithm != h.Alg || p.KeyID != h.Kid {
		return nil, unauthenticated("token header is ambiguous")
	}
	key, err := v.keys.key(ctx, h.Kid)
	if errors.Is(err, errUnknownKey) {
		return nil, unauthenticated("token key ID %s is not in the issuer's key set", quote(h.Kid))
	}
	if err != nil {
		return nil, fault.Wrap(fault.Unauthenticated, err, "oidc: cannot check the token: the issuer's key set is unavailable")
	}
	if err := keyFits(key, alg); err != nil {
		return nil, unauthenticated("token key ID %s: %v", quote(h.Kid), err)
	}
	payload, err := jws.Verify(key.Key)
	if err != nil {
		return nil, unauthenticated("token signature does not verify with key %s", quote(h.Kid))
	}
	return payload, nil
}

// keyFits reports why key cannot verify a signature made with alg, or nil.
// go-jose refuses most mismatches too; checking here gives a clear message
// and does not depend on it.
func keyFits(key *jose.JSONWebKey, alg jose.SignatureAlgorithm) error {
	if key.Algorithm != "" && key.Algorithm != string(alg) {
		return errors.New("the key is for " + key.Algorithm + ", the token says " + string(alg))
	}
	switch k := key.Key.(type) {
	case *rsa.PublicKey:
		if alg != jose.RS256 {
			return errors.New("an RSA key cannot verify " + string(alg))
		}
	case *ecdsa.PublicKey:
		if alg != jose.ES256 || k.Curve != elliptic.P256() {
			return errors.New("an EC key on " + k.Curve.Params().Name + " cannot verify " + string(alg))
		}
	default:
		return errors.New("unsupported key type")
	}
	return nil
}

// claimsError says which claim of a verified token could not be read. The
// JSON errors name fields and types, never values.
func claimsError(err error) error {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return unauthenticated("token claim %s has the wrong type", quote(typeErr.Field))
	case errors.Is(err, jwt.ErrUnmarshalNumericDate):
		return unauthenticated("token date claim (exp, nbf or iat) is not a number")
	case errors.Is(err, jwt.ErrUnmarshalAudience):
		return unauthenticated("token aud claim is neither a string nor an array of strings")
	default:
		return unauthenticated("token claims are not a valid JSON object")
	}
}

// checkClaims checks the registered claims of a verified token.
func (v *Verifier) checkClaims(c *claims) error {
	if c.Issuer != v.issuer {
		return unauthenticated("token issuer %s is not %q", quote(c.Issuer), v.issuer)
	}
	if !slices.Contains(c.Audience, v.audience) {
		return unauthenticated("token audience %s does not include %q", quoteAll(c.Audience), v.audience)
	}
	now := v.now()
	if c.Expiry == nil {
		return unauthenticated("token has no exp (expiry) claim")
	}
	if exp := c.Expiry.Time(); !now.Before(exp.Add(v.skew)) {
		return unauthenticated("token expired at %s (now %s, clock skew %s)", exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), v.skew)
	}
	if c.NotBefore != nil {
		if nbf := c.NotBefore.Time(); now.Add(v.skew).Before(nbf) {
			return unauthenticated("token is not valid before %s (now %s, clock skew %s)", nbf.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), v.skew)
		}
	}
	if c.Subject == "" {
		return unauthenticated("token has no sub (subject) claim")
	}
	return nil
}

// roles returns the platform roles among the realm roles and the roles of
// the configured client, deduplicated and in identity.Roles order. Roles of
// other clients and roles the platform does not know are dropped.
func (v *Verifier) roles(c *claims) []identity.Role {
	granted := map[identity.Role]bool{}
	for _, r := range c.RealmAccess.Roles {
		granted[identity.Role(r)] = true
	}
	for _, r := range c.ResourceAccess[v.clientID].Roles {
		granted[identity.Role(r)] = true
	}
	var out []identity.Role
	for _, r := range identity.Roles {
		if granted[r] {
			out = append(out, r)
		}
	}
	return out
}

// unauthenticated returns a fault.Unauthenticated error. Callers must never
// pass the token, only values they have checked or quoted with quote.
func unauthenticated(format string, args ...any) error {
	return fault.New(fault.Unauthenticated, "oidc: "+format, args...)
}

// maxQuoted bounds how much of a value taken from a token goes into an
// error message, so a hostile token cannot fill logs.
const maxQuoted = 64

// quote returns s quoted for an error message, shortened to maxQuoted bytes.
func quote(s string) string {
	if len(s) > maxQuoted {
		return strconv.Quote(strings.ToValidUTF8(s[:maxQuoted], "")) + "…"
	}
	return strconv.Quote(s)
}

// quoteAll quotes the first few values of list for an error message.
func quoteAll(list []string) string {
	const most = 5
	var out []string
	for i, s := range list {
		if i == most {
			out = append(out, "…")
			break
		}
		out = append(out, quote(s))
	}
	return "[" + strings.Join(out, " ") + "]"
}

// tokenKID reads the kid of a token whose signature has been verified.
func tokenKID(token string) string {
	head, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var h struct {
		Kid string `json:"kid"`
	}
	_ = json.Unmarshal(raw, &h)
	return h.Kid
}
