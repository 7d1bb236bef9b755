package oidcauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/catalyst-forge/forge/domain/fault"
)

// errUnknownKey means that no key of the key set has the token's key ID,
// even after the key set was refreshed.
var errUnknownKey = errors.New("unknown key ID")

// keySet finds the public key a token names in its kid header.
type keySet interface {
	// key returns the key with ID kid, or errUnknownKey. Any other error
	// means the key set could not be fetched.
	key(ctx context.Context, kid string) (*jose.JSONWebKey, error)
	// holds reports whether the keys in memory include kid, without fetching.
	holds(kid string) bool
}

// staticKeySet is a fixed set of keys, as the development issuer uses.
type staticKeySet map[string]*jose.JSONWebKey

func (s staticKeySet) key(_ context.Context, kid string) (*jose.JSONWebKey, error) {
	if k, ok := s[kid]; ok {
		return k, nil
	}
	return nil, errUnknownKey
}

func (s staticKeySet) holds(kid string) bool { return s[kid] != nil }

// maxJWKSBytes bounds the size of a key set document.
const maxJWKSBytes = 1 << 20

// remoteKeySet is the key set published at an issuer's jwks_uri. It keeps
// the keys in memory and fetches the set again when a token names a key ID
// it does not hold (OIDC Core 10.1, key rotation); concurrent misses share
// one fetch.
type remoteKeySet struct {
	url    string
	client *http.Client

	// fetching holds a token while a fetch is in flight.
	fetching chan struct{}

	mu   sync.RWMutex
	keys map[string]*jose.JSONWebKey
	gen  uint64 // counts successful fetches
}

func newRemoteKeySet(url string, client *http.Client) *remoteKeySet {
	return &remoteKeySet{url: url, client: client, fetching: make(chan struct{}, 1)}
}

func (r *remoteKeySet) cached(kid string) (*jose.JSONWebKey, uint64) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.keys[kid], r.gen
}

func (r *remoteKeySet) holds(kid string) bool {
	k, _ := r.cached(kid)
	return k != nil
}

func (r *remoteKeySet) key(ctx context.Context, kid string) (*jose.JSONWebKey, error) {
	k, gen := r.cached(kid)
	if k != nil {
		return k, nil
	}
	select {
	case r.fetching <- struct{}{}:
		defer func() { <-r.fetching }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	k, now := r.cached(kid)
	if k != nil {
		return k, nil
	}
	if now == gen {
		// Nobody refreshed the set while this caller waited: refresh it.
		if err := r.load(ctx); err != nil {
			return nil, err
		}
		k, _ = r.cached(kid)
	}
	if k == nil {
		return nil, errUnknownKey
	}
	return k, nil
}

// load fetches the key set and replaces the cached keys. It returns
// fault.Unavailable when the set cannot be fetched or holds no signing key.
func (r *remoteKeySet) load(ctx context.Context) error {
	body, err := get(ctx, r.client, r.url, "application/jwk-set+json, application/json", maxJWKSBytes)
	if err != nil {
		return fault.Wrap(fault.Unavailable, err, "oidc: fetching key set")
	}
	keys, err := parseJWKS(body)
	if err != nil {
		return fault.Wrap(fault.Unavailable, err, "oidc: key set %s", r.url)
	}
	r.mu.Lock()
	r.keys = keys
	r.gen++
	r.mu.Unlock()
	return nil
}

// parseJWKS returns the signing keys of a JWK Set by key ID. Keys that
// cannot verify a token are skipped, as RFC 7517 section 5 asks: keys of
// types or curves go-jose does not know, encryption keys (use "enc"),
// symmetric keys, and keys without a kid (tokens must name their key).
func parseJWKS(body []byte) (map[string]*jose.JSONWebKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("not a JWK Set: %w", err)
	}
	keys := map[string]*jose.JSONWebKey{}
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			continue
		}
		if (k.Use != "" && k.Use != "sig") || k.KeyID == "" {
			continue
		}
		if !k.IsPublic() {
			k = k.Public() // a private key published by mistake; keep its public half
		}
		switch k.Key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey:
		default:
			continue
		}
		if _, dup := keys[k.KeyID]; !dup {
			keys[k.KeyID] = &k
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("no RSA or EC signing key with a kid")
	}
	return keys, nil
}

// maxDiscoveryBytes bounds the size of a discovery document.
const maxDiscoveryBytes = 1 << 20

// discover fetches the issuer's discovery document (OpenID Connect
// Discovery 1.0, section 4) and returns its jwks_uri. The document must name
// the issuer exactly as configured, since tokens are checked against it.
func discover(ctx context.Context, client *http.Client, issuer string) (string, error) {
	wellKnown := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	body, err := get(ctx, client, wellKnown, "application/json", maxDiscoveryBytes)
	if err != nil {
		return "", fault.Wrap(fault.Unavailable, err, "oidc: discovering %s", issuer)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fault.Wrap(fault.Unavailable, err, "oidc: discovery document %s is not JSON", wellKnown)
	}
	if doc.Issuer != issuer {
		return "", fault.New(fault.Validation, "oidc: discovery document %s names issuer %q, want %q (they must match exactly)", wellKnown, doc.Issuer, issuer)
	}
	u, err := url.Parse(doc.JWKSURI)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fault.New(fault.Unavailable, "oidc: discovery document %s has no usable jwks_uri (%q)", wellKnown, doc.JWKSURI)
	}
	return doc.JWKSURI, nil
}

// get fetches url and returns its body, at most limit bytes of it.
func get(ctx context.Context, client *http.Client, url, accept string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("GET %s: response larger than %d bytes", url, limit)
	}
	return body, nil
}
