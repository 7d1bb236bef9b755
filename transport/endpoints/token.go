package endpoints

import (
	"os"
	"strings"
	"sync"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
)

// TokenFile reads a bearer token from a file and reads it again whenever
// the file changes, so that a mounted token that is rotated (a Kubernetes
// projected service account token) keeps working. The clients of every
// transport use it; the zero value is ready. It is safe for concurrent use.
type TokenFile struct {
	mu    sync.Mutex
	token string
	mod   time.Time
}

// Read returns the token in the file at path.
func (t *TokenFile) Read(path string) (string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return "", fault.Wrap(fault.Unauthenticated, err, "reading the token file")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token == "" || !info.ModTime().Equal(t.mod) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fault.Wrap(fault.Unauthenticated, err, "reading the token file")
		}
		t.token, t.mod = strings.TrimSpace(string(b)), info.ModTime()
	}
	return t.token, nil
}
