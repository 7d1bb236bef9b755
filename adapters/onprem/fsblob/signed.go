package fsblob

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"github.com/catalyst-forge/forge/ports"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/catalyst-forge/forge/domain/fault"
)

// SignedPath is the path under which signed links name their key; the
// API mounts SignedHandler there.
const SignedPath = "/v1/objects/"

// secretFile holds the signing key in the store's directory, hex-encoded.
const secretFile = "signing.key"

// PresignGet returns a link to the object at key, served by SignedHandler
// at the base URL of WithSigning, that works for ttl (rounded up to the
// second). It does not check that the object exists.
func (s *Store) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if err := ports.ValidateObjectKey(key); err != nil {
		return "", err
	}
	if ttl <= 0 {
		return "", fault.New(fault.Validation, "fsblob: link lifetime %v is not positive", ttl)
	}
	if err := ctx.Err(); err != nil {
		return "", fault.Wrap(fault.Unavailable, err, "fsblob: presign %q", key)
	}
	if s.baseURL == "" {
		return "", fault.New(fault.Unavailable, "fsblob: signed links need the base URL of the API (fsblob.WithSigning)")
	}
	end := s.clock.Now().Add(ttl)
	expires := end.Unix()
	if end.Nanosecond() > 0 {
		expires++
	}
	return s.baseURL + SignedPath + escapeKey(key) +
		"?expires=" + strconv.FormatInt(expires, 10) +
		"&sig=" + hex.EncodeToString(s.sign(key, expires)), nil
}

// SignedHandler serves the links of PresignGet: GET and HEAD of
// /v1/objects/{key...}?expires=…&sig=…. It answers 403 for a link whose
// signature does not match or that has expired, 404 for a missing object,
// and otherwise streams the object with its content type, length and
// modification time (ranges and conditional requests included). It needs
// no other authentication: the signature is the authorisation. It reads
// the whole request path, so mount it without stripping the prefix:
//
//	mux.Handle(fsblob.SignedPath, store.SignedHandler())
func (s *Store) SignedHandler() http.Handler {
	return http.HandlerFunc(s.serveSigned)
}

func (s *Store) serveSigned(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	escaped, ok := strings.CutPrefix(r.URL.EscapedPath(), SignedPath)
	if !ok {
		http.NotFound(w, r)
		return
	}
	key, err := url.PathUnescape(escaped)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	expires, err := strconv.ParseInt(q.Get("expires"), 10, 64)
	sig, herr := hex.DecodeString(q.Get("sig"))
	if err != nil || herr != nil || !hmac.Equal(sig, s.sign(key, expires)) {
		http.Error(w, "forbidden: the link's signature does not match", http.StatusForbidden)
		return
	}
	if !s.clock.Now().Before(time.Unix(expires, 0)) {
		http.Error(w, "forbidden: the link has expired", http.StatusForbidden)
		return
	}
	if ports.ValidateObjectKey(key) != nil {
		http.NotFound(w, r)
		return
	}
	o, err := s.open(key)
	if err != nil {
		if fault.Is(err, fault.NotFound) {
			http.NotFound(w, r)
			return
		}
		http.Error(w, "the object cannot be read", http.StatusInternalServerError)
		return
	}
	defer func() { _ = o.f.Close() }()
	h := w.Header()
	h.Set("Content-Type", o.info.ContentType)
	// The content is the users', served from the API's origin: never
	// let a browser sniff it or run it as a page of that origin.
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox")
	h.Set("Cache-Control", "private, no-cache")
	http.ServeContent(w, r, "", o.info.ModTime, io.NewSectionReader(o.f, o.dataOffset, o.info.Size))
}

// sign returns the HMAC-SHA256 of key and expires. The NUL between them
// cannot be part of a key, so no two pairs sign the same message.
func (s *Store) sign(key string, expires int64) []byte {
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte("fsblob-v1\x00"))
	mac.Write([]byte(key))
	mac.Write([]byte{0})
	mac.Write([]byte(strconv.FormatInt(expires, 10)))
	return mac.Sum(nil)
}

// escapeKey escapes each segment of key for a URL path.
func escapeKey(key string) string {
	segs := strings.Split(key, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return strings.Join(segs, "/")
}

// loadSecret reads the signing key of the store in dir, making a random
// one on first use. Creation is a link of a complete file, so processes
// racing to make it all end up with the same key.
func loadSecret(dir string) ([]byte, error) {
	p := filepath.Join(dir, secretFile)
	for range 3 {
		secret, err := readSecret(p)
		if !errors.Is(err, fs.ErrNotExist) {
			return secret, err
		}
		if err := createSecret(dir, p); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fault.Wrap(fault.Unavailable, err, "fsblob: creating the signing key %s", p)
		}
	}
	return nil, fault.New(fault.Unavailable, "fsblob: the signing key %s keeps disappearing", p)
}

func readSecret(p string) ([]byte, error) {
	fi, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fault.Wrap(fault.Unavailable, err, "fsblob: reading the signing key %s", p)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fault.New(fault.Internal, "fsblob: the signing key %s is readable by others (mode %v); run chmod 600 on it", p, fi.Mode().Perm())
	}
	b, err := os.ReadFile(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fault.Wrap(fault.Unavailable, err, "fsblob: reading the signing key %s", p)
	}
	secret, err := hex.DecodeString(string(bytes.TrimSpace(b)))
	if err != nil || len(secret) < 16 {
		return nil, fault.New(fault.Internal, "fsblob: the signing key %s is not 16 or more hex-encoded bytes; delete it to make a new one (links made with it stop working)", p)
	}
	return secret, nil
}

func createSecret(dir, p string) error {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	tmp := filepath.Join(dir, "."+secretFile+"."+randomHex(8)+tempSuffix)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp) }()
	_, err = f.WriteString(hex.EncodeToString(secret) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Link(tmp, p)
}
