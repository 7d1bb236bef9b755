package releasing

import (
	"sync"
	"time"

	"github.com/catalyst-forge/forge/domain/release"
)

// DefaultLookupCacheTTL is how long a release found by a name it holds
// for good (a number or a tag) is answered from memory.
const DefaultLookupCacheTTL = time.Second

// lookupCacheSize bounds the releases kept.
const lookupCacheSize = 4096

// lookupCache keeps the answers of release lookups that cannot change
// their release: an identifier that resolved through a numeric or tag
// alias (release.NamedForGood). What can still change is the release's
// record, once: its image digest is set after it is registered. So each
// answer lives for a short time only, and this process's SetImage drops
// the release's answers at once; another API replica's shows within the
// time to live.
type lookupCache struct {
	mu sync.Mutex
	m  map[lookupKey]cachedRelease
}

type lookupKey struct{ repository, project, identifier string }

type cachedRelease struct {
	r     *release.Release
	until time.Time
}

// get returns the release kept for k at now, if any.
func (c *lookupCache) get(k lookupKey, now time.Time) *release.Release {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || !now.Before(e.until) {
		return nil
	}
	return e.r
}

// put keeps r for k until until, making room by dropping an arbitrary
// entry when full.
func (c *lookupCache) put(k lookupKey, r *release.Release, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[lookupKey]cachedRelease{}
	}
	if len(c.m) >= lookupCacheSize {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = cachedRelease{r: r, until: until}
}

// drop forgets every answer of release id.
func (c *lookupCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if e.r.ID == id {
			delete(c.m, k)
		}
	}
}
