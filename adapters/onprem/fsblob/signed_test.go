package fsblob

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// signedFixture is a store with a fixed clock, its handler mounted where
// the API mounts it, and one object.
type signedFixture struct {
	store *Store
	srv   *httptest.Server
	now   time.Time
}

func newSignedFixture(t *testing.T) *signedFixture {
	t.Helper()
	f := &signedFixture{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	mux := http.NewServeMux()
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	s, err := New(t.TempDir(), WithSigning([]byte("0123456789abcdef0123456789abcdef"), f.srv.URL+"/"),
		WithClock(func() time.Time { return f.now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	mux.Handle(SignedPath, s.SignedHandler())
	f.store = s
	for key, content := range map[string]string{"logs/run 1/step+1.log": "hello, world", "logs/other.log": "other"} {
		if _, err := s.Put(context.Background(), key, strings.NewReader(content), ports.PutOptions{ContentType: "text/plain"}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *signedFixture) link(t *testing.T, key string, ttl time.Duration) string {
	t.Helper()
	u, err := f.store.PresignGet(context.Background(), key, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func do(t *testing.T, method, u string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestPresignGetLinkShape(t *testing.T) {
	f := newSignedFixture(t)
	u := f.link(t, "logs/run 1/step+1.log", 90*time.Second+time.Millisecond)
	want := f.srv.URL + "/v1/objects/logs/run%201/step+1.log?expires=" + strconv.FormatInt(f.now.Unix()+91, 10) + "&sig="
	if !strings.HasPrefix(u, want) {
		t.Errorf("link = %s, want it to start with %s (expiry rounded up to the second)", u, want)
	}
	if sig := u[len(want):]; len(sig) != 64 {
		t.Errorf("sig %q is not a hex HMAC-SHA256", sig)
	}
}

func TestSignedLinkServesTheObject(t *testing.T) {
	f := newSignedFixture(t)
	u := f.link(t, "logs/run 1/step+1.log", time.Minute)

	resp, body := do(t, http.MethodGet, u, nil)
	if resp.StatusCode != http.StatusOK || body != "hello, world" {
		t.Fatalf("GET = %d %q", resp.StatusCode, body)
	}
	for k, v := range map[string]string{
		"Content-Type":            "text/plain",
		"Content-Length":          "12",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "sandbox",
	} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if resp.Header.Get("Last-Modified") == "" {
		t.Error("no Last-Modified")
	}

	resp, body = do(t, http.MethodHead, u, nil)
	if resp.StatusCode != http.StatusOK || body != "" || resp.Header.Get("Content-Length") != "12" {
		t.Errorf("HEAD = %d %q, Content-Length %q", resp.StatusCode, body, resp.Header.Get("Content-Length"))
	}

	resp, body = do(t, http.MethodGet, u, http.Header{"Range": {"bytes=7-"}})
	if resp.StatusCode != http.StatusPartialContent || body != "world" {
		t.Errorf("GET of a range = %d %q", resp.StatusCode, body)
	}

	resp, _ = do(t, http.MethodPost, u, nil)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST = %d, want 405", resp.StatusCode)
	}
}

func TestSignedLinkRefusesTampering(t *testing.T) {
	f := newSignedFixture(t)
	u := f.link(t, "logs/run 1/step+1.log", time.Minute)
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := parsed.Query()
	expires, sig := q.Get("expires"), q.Get("sig")
	later := strconv.FormatInt(f.now.Unix()+3600, 10)
	flipped := "0" + sig[1:]
	if sig[0] == '0' {
		flipped = "1" + sig[1:]
	}
	base := f.srv.URL + SignedPath
	tests := map[string]string{
		"another key":          base + "logs/other.log?expires=" + expires + "&sig=" + sig,
		"a key with a suffix":  base + "logs/run%201/step+1.log.bak?expires=" + expires + "&sig=" + sig,
		"a later expiry":       base + "logs/run%201/step+1.log?expires=" + later + "&sig=" + sig,
		"a changed signature":  base + "logs/run%201/step+1.log?expires=" + expires + "&sig=" + flipped,
		"a short signature":    base + "logs/run%201/step+1.log?expires=" + expires + "&sig=" + sig[:32],
		"no signature":         base + "logs/run%201/step+1.log?expires=" + expires,
		"no expiry":            base + "logs/run%201/step+1.log?sig=" + sig,
		"a signature not hex":  base + "logs/run%201/step+1.log?expires=" + expires + "&sig=zz" + sig[2:],
		"no query at all":      base + "logs/run%201/step+1.log",
		"an escaped separator": base + "logs%2Frun%201%2Fstep+1.log.x?expires=" + expires + "&sig=" + sig,
	}
	for name, link := range tests {
		resp, body := do(t, http.MethodGet, link, nil)
		if resp.StatusCode != http.StatusForbidden || strings.Contains(body, "hello") || strings.Contains(body, "other") {
			t.Errorf("%s: %d %q, want 403", name, resp.StatusCode, body)
		}
	}
	// The untouched link still works, and an escaped separator names the
	// same key.
	if resp, body := do(t, http.MethodGet, u, nil); resp.StatusCode != http.StatusOK || body != "hello, world" {
		t.Errorf("the untouched link: %d %q", resp.StatusCode, body)
	}
	escaped := base + "logs%2Frun%201%2Fstep+1.log?expires=" + expires + "&sig=" + sig
	if resp, body := do(t, http.MethodGet, escaped, nil); resp.StatusCode != http.StatusOK || body != "hello, world" {
		t.Errorf("the link with escaped slashes: %d %q", resp.StatusCode, body)
	}
}

func TestSignedLinkExpires(t *testing.T) {
	f := newSignedFixture(t)
	u := f.link(t, "logs/other.log", 10*time.Second)
	f.now = f.now.Add(9 * time.Second)
	if resp, _ := do(t, http.MethodGet, u, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("after 9s of 10: %d, want 200", resp.StatusCode)
	}
	f.now = f.now.Add(time.Second)
	if resp, body := do(t, http.MethodGet, u, nil); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "expired") {
		t.Errorf("after 10s of 10: %d %q, want 403 expired", resp.StatusCode, body)
	}
}

func TestSignedLinkToAMissingObject(t *testing.T) {
	f := newSignedFixture(t)
	u := f.link(t, "logs/other.log", time.Minute)
	if err := f.store.Delete(context.Background(), "logs/other.log"); err != nil {
		t.Fatal(err)
	}
	if resp, _ := do(t, http.MethodGet, u, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET of a deleted object = %d, want 404", resp.StatusCode)
	}
	if resp, _ := do(t, http.MethodGet, f.srv.URL+"/v1/other", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET outside the signed path = %d, want 404", resp.StatusCode)
	}
}

func TestSignedLinkIsBoundToTheSecret(t *testing.T) {
	f := newSignedFixture(t)
	u := f.link(t, "logs/other.log", time.Minute)
	other, err := New(t.TempDir(), WithSigning([]byte("another secret of 32 bytes......"), f.srv.URL), WithClock(func() time.Time { return f.now }))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Close() }()
	rec := httptest.NewRecorder()
	other.SignedHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u, nil))
	if rec.Code != http.StatusForbidden {
		t.Errorf("a link of another store's secret: %d, want 403", rec.Code)
	}
}

func TestPresignGetErrors(t *testing.T) {
	ctx := context.Background()
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	if _, err := s.PresignGet(ctx, "a", time.Minute); !fault.Is(err, fault.Unavailable) || !strings.Contains(err.Error(), "WithSigning") {
		t.Errorf("PresignGet without a base URL = %v, want Unavailable naming WithSigning", err)
	}
	f := newSignedFixture(t)
	for _, ttl := range []time.Duration{0, -time.Second} {
		if _, err := f.store.PresignGet(ctx, "a", ttl); !fault.Is(err, fault.Validation) {
			t.Errorf("PresignGet for %v = %v, want Validation", ttl, err)
		}
	}
}

func TestNewOptions(t *testing.T) {
	for name, opt := range map[string]Option{
		"a short secret":          WithSigning([]byte("short"), "http://forge.test"),
		"a relative base URL":     WithSigning(nil, "forge.test/api"),
		"a base URL with a query": WithSigning(nil, "http://forge.test/?a=b"),
		"an ftp base URL":         WithSigning(nil, "ftp://forge.test"),
	} {
		if _, err := New(t.TempDir(), opt); !fault.Is(err, fault.Validation) {
			t.Errorf("New with %s = %v, want Validation", name, err)
		}
	}
	if _, err := New(""); !fault.Is(err, fault.Validation) {
		t.Errorf("New without a directory = %v, want Validation", err)
	}
}

func TestSigningKeyIsKeptAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	open := func() *Store {
		s, err := New(dir, WithSigning(nil, "http://forge.test"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	first, second := open(), open()
	if string(first.secret) != string(second.secret) || len(first.secret) != 32 {
		t.Errorf("the signing key changed across restarts (%d bytes)", len(first.secret))
	}
	if err := os.Chmod(filepath.Join(dir, secretFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(dir); !fault.Is(err, fault.Internal) || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("New with a world-readable key = %v, want Internal saying chmod 600", err)
	}
	if err := os.WriteFile(filepath.Join(dir, secretFile), []byte("not hex"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(dir); !fault.Is(err, fault.Internal) {
		t.Errorf("New with a corrupt key = %v, want Internal", err)
	}
}
