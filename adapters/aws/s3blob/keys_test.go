package s3blob

import (
	"context"
	"github.com/catalyst-forge/forge/ports"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
)

func TestValidateKey(t *testing.T) {
	valid := []string{
		"a", "pipeline-runs/r1/logs/test/api/unit.log", ".hidden/..dots/...", "a..b/c.",
		"ünï/日本/ключ with spaces+%41", strings.Repeat("k", 1024),
	}
	invalid := []string{
		"", "/a", "/", "a/", "a//b", "a/./b", ".", "a/..", "../etc/passwd", `a\b`, "a\x00b",
		strings.Repeat("k", 1025), strings.Repeat("ab/", 341) + "cd",
	}
	for _, k := range valid {
		if err := ports.ValidateObjectKey(k); err != nil {
			t.Errorf("ports.ValidateObjectKey(%.40q) = %v, want nil", k, err)
		}
	}
	for _, k := range invalid {
		if err := ports.ValidateObjectKey(k); !fault.Is(err, fault.Validation) {
			t.Errorf("ports.ValidateObjectKey(%.40q) = %v, want Validation", k, err)
		}
	}
}

func TestCheckKeyCountsThePrefix(t *testing.T) {
	s := &Store{prefix: strings.Repeat("p", 23) + "/"}
	if err := s.checkKey(strings.Repeat("k", 1000)); err != nil {
		t.Errorf("1000 bytes under a 24-byte prefix: %v", err)
	}
	err := s.checkKey(strings.Repeat("k", 1001))
	if !fault.Is(err, fault.Validation) || !strings.Contains(err.Error(), "1025 bytes") {
		t.Errorf("1001 bytes under a 24-byte prefix = %v, want Validation about 1025 bytes", err)
	}
}

func TestConfigValidation(t *testing.T) {
	ok := Config{Bucket: "b", Endpoint: "http://127.0.0.1:7070", AccessKeyID: "a", SecretAccessKey: "s"}
	tests := map[string]func(*Config){
		"no bucket":            func(c *Config) { c.Bucket = "" },
		"a key ID only":        func(c *Config) { c.SecretAccessKey = "" },
		"a secret only":        func(c *Config) { c.AccessKeyID = "" },
		"a small part size":    func(c *Config) { c.PartSize = 1 << 20 },
		"negative attempts":    func(c *Config) { c.MaxAttempts = -1 },
		"a prefix with ..":     func(c *Config) { c.Prefix = "a/../b" },
		"a leading slash":      func(c *Config) { c.Prefix = "/forge" },
		"an endpoint not http": func(c *Config) { c.Endpoint = "s3.example.com" },
	}
	for name, change := range tests {
		cfg := ok
		change(&cfg)
		if _, err := New(context.Background(), cfg); !fault.Is(err, fault.Validation) {
			t.Errorf("New with %s = %v, want Validation", name, err)
		}
	}
}

func TestPresignGetOffline(t *testing.T) {
	// Presigning is local: no server is needed to sign a link.
	srv := fakeS3(t, errorReply(500, "InternalError"))
	s := fakeStore(t, srv.URL)
	ctx := context.Background()
	link, err := s.PresignGet(ctx, "reports/a b+c.txt", 90*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.EscapedPath() != "/bucket/p/reports/a%20b%2Bc.txt" || q.Get("X-Amz-Expires") != "90" || q.Get("X-Amz-Signature") == "" {
		t.Errorf("link %s: path %s, expires %q", link, u.EscapedPath(), q.Get("X-Amz-Expires"))
	}
	if strings.Contains(link, "fake-secret-value") {
		t.Errorf("the link shows the secret: %s", link)
	}
	for _, ttl := range []time.Duration{0, 500 * time.Millisecond, 8 * 24 * time.Hour} {
		if _, err := s.PresignGet(ctx, "k", ttl); !fault.Is(err, fault.Validation) {
			t.Errorf("PresignGet for %v = %v, want Validation", ttl, err)
		}
	}
}
