package oidcauth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// Bounds of the cache of verified tokens.
const (
	maxVerified = 4096
	verifiedTTL = 5 * time.Minute // a rotated-out key stops counting within this
)

// verifiedCache remembers the claims of tokens whose signature verified,
// keyed by the token's SHA-256 (the token itself is never kept), with the
// key ID that signed them. Entries last verifiedTTL, and count only while
// the key set in memory still holds that key, so a key rotated out of the
// issuer's set stops being trusted at the next refresh. When the cache is
// full it starts over. The zero value is ready to use.
type verifiedCache struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]verifiedEntry
}

type verifiedEntry struct {
	claims *claims
	kid    string
	until  time.Time
}

func (c *verifiedCache) get(token string, now time.Time) (*claims, string, bool) {
	key := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !now.Before(e.until) {
		return nil, "", false
	}
	return e.claims, e.kid, true
}

func (c *verifiedCache) put(token, kid string, cl *claims, now time.Time) {
	key := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxVerified {
		c.entries = make(map[[sha256.Size]byte]verifiedEntry, 64)
	}
	c.entries[key] = verifiedEntry{claims: cl, kid: kid, until: now.Add(verifiedTTL)}
}
