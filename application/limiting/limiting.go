// Package limiting enforces request rates (spec 06, API rate limits) with
// token buckets kept in memory: each key holds up to its per-minute limit
// and refills continuously. It is in the application layer.
package limiting

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
)

// Limiter tracks one bucket per key. It is safe for concurrent use.
type Limiter struct {
	now     func() time.Time
	mu      sync.Mutex
	buckets map[string]*bucket
	sweeps  int
}

type bucket struct {
	tokens float64
	last   time.Time
}

// New returns a limiter reading time from now (time.Now when nil).
func New(now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{now: now, buckets: map[string]*bucket{}}
}

// Allow takes one token from key's bucket, which holds perMinute tokens.
// When the bucket is empty it returns a fault.RateLimited error whose
// details carry retry_after_seconds. A limit of zero or less allows all.
func (l *Limiter) Allow(key string, perMinute int, what string) error {
	if perMinute <= 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	capacity := float64(perMinute)
	rate := capacity / 60 // tokens per second
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: capacity, last: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(capacity, b.tokens+elapsed*rate)
		b.last = now
	}
	l.sweep(now)
	if b.tokens >= 1 {
		b.tokens--
		return nil
	}
	wait := int(math.Ceil((1 - b.tokens) / rate))
	return &fault.Error{Kind: fault.RateLimited,
		Message: fmt.Sprintf("rate limit of %d %s per minute reached; retry in %d s", perMinute, what, wait),
		Details: map[string]any{"retry_after_seconds": wait, "limit_per_minute": perMinute}}
}

// sweep drops buckets idle for over two minutes (they are full again),
// every thousand calls, so that memory stays bounded by active keys.
func (l *Limiter) sweep(now time.Time) {
	l.sweeps++
	if l.sweeps%1000 != 0 {
		return
	}
	for k, b := range l.buckets {
		if now.Sub(b.last) > 2*time.Minute {
			delete(l.buckets, k)
		}
	}
}
