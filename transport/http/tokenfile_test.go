package httptransport_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
	httptransport "github.com/catalyst-forge/forge/transport/http"
)

// TestTokenFileIsReadAgainWhenItChanges: a rotated token file (a mounted
// service account token) is picked up without restarting the client.
func TestTokenFileIsReadAgainWhenItChanges(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("first\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &httptransport.Client{BaseURL: srv.URL, TokenFile: file}
	ctx := context.Background()
	if err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("second"), 0o600); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Second)
	if err := os.Chtimes(file, later, later); err != nil {
		t.Fatal(err)
	}
	if err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(seen) != 2 || seen[0] != "Bearer first" || seen[1] != "Bearer second" {
		t.Errorf("Authorization headers = %q", seen)
	}
	mu.Unlock()
	_ = os.Remove(file)
	if err := c.Health(ctx); !fault.Is(err, fault.Unauthenticated) {
		t.Errorf("a missing token file = %v", err)
	}
}
