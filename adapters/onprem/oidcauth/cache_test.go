package oidcauth

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/domain/identity"
)

// TestCachedTokensStillExpire checks that a token served from the cache of
// verified tokens is still refused once it expires, and that the cache
// never holds the token itself.
func TestCachedTokensStillExpire(t *testing.T) {
	issuer, err := LoadOrCreateDevKey(filepath.Join(t.TempDir(), "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	v := issuer.Verifier(WithClock(func() time.Time { return now }))
	tok, err := issuer.Token("alice", []identity.Role{identity.RoleDeveloper}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second call is a cache hit
		p, err := v.Verify(context.Background(), tok)
		if err != nil || p.Subject != "alice" || !p.Has(identity.RoleDeveloper) {
			t.Fatalf("Verify = %+v, %v", p, err)
		}
	}
	if len(v.verified.entries) != 1 {
		t.Fatalf("cache holds %d entries, want 1", len(v.verified.entries))
	}
	for key := range v.verified.entries {
		if string(key[:]) == tok {
			t.Fatal("the cache keeps the token itself")
		}
	}
	now = now.Add(2 * time.Minute) // past exp and the 30 s skew
	if _, err := v.Verify(context.Background(), tok); !fault.Is(err, fault.Unauthenticated) {
		t.Fatalf("expired cached token = %v, want unauthenticated", err)
	}
}
