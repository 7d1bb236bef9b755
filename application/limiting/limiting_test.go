package limiting

import (
	"testing"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
)

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := New(func() time.Time { return now })
	for i := range 10 {
		if err := l.Allow("env:prod", 10, "deployments"); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	err := l.Allow("env:prod", 10, "deployments")
	fe, ok := err.(*fault.Error)
	if !ok || fe.Kind != fault.RateLimited || fe.Details["retry_after_seconds"] != 6 {
		t.Fatalf("11th call = %#v, want rate limited with retry after 6 s", err)
	}
	if err := l.Allow("env:dev", 10, "deployments"); err != nil {
		t.Errorf("another key is limited: %v", err)
	}
	now = now.Add(6 * time.Second) // one token back
	if err := l.Allow("env:prod", 10, "deployments"); err != nil {
		t.Errorf("after refill: %v", err)
	}
	if err := l.Allow("env:prod", 10, "deployments"); err == nil {
		t.Error("second call after one refill allowed")
	}
	now = now.Add(time.Hour) // full, never above capacity
	for i := range 10 {
		if err := l.Allow("env:prod", 10, "deployments"); err != nil {
			t.Fatalf("after an hour, call %d: %v", i+1, err)
		}
	}
	if l.Allow("env:prod", 10, "deployments") == nil {
		t.Error("bucket grew beyond its capacity")
	}
	if err := l.Allow("x", 0, "things"); err != nil {
		t.Errorf("zero limit: %v", err)
	}
}
