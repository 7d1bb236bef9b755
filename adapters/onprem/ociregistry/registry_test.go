package ociregistry_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/catalyst-forge/forge/adapters/onprem/ociregistry"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// recorder answers no request: it records where each would have gone, so
// the test sends nothing over any network.
type recorder struct {
	mu   sync.Mutex
	urls []string
}

var errRecorded = errors.New("recorded, not sent")

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.urls = append(r.urls, req.URL.Scheme+"://"+req.URL.Host)
	r.mu.Unlock()
	return nil, errRecorded
}

// TestPlainHTTPOnlyToLoopbackOrInsecure: the client library would speak
// plain HTTP to a private address; this adapter speaks it only to
// loopback hosts and hosts named insecure, and upgrades the rest to TLS.
// The recorder sends nothing: no address here is ever contacted.
func TestPlainHTTPOnlyToLoopbackOrInsecure(t *testing.T) {
	for _, c := range []struct {
		host, want string
		insecure   []string
	}{
		{"10.1.2.3:5000", "https://10.1.2.3:5000", nil},
		{"192.168.1.20", "https://192.168.1.20", nil},
		{"registry.local:5000", "https://registry.local:5000", nil},
		{"10.1.2.3:5000", "http://10.1.2.3:5000", []string{"10.1.2.3:5000"}},
		{"127.0.0.1:5000", "http://127.0.0.1:5000", nil},
		{"localhost:5000", "http://localhost:5000", nil},
		{"[::1]:5000", "http://[::1]:5000", nil},
	} {
		rec := &recorder{}
		cl, err := ociregistry.New(ociregistry.Options{Transport: rec, Insecure: c.insecure, DockerConfig: emptyConfig(t)})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = cl.Resolve(context.Background(), c.host+"/team/app:v1")
		if len(rec.urls) == 0 {
			t.Fatalf("%s: no request", c.host)
		}
		// TLS is always tried; plain HTTP only where it is allowed, and
		// then it is tried too.
		reached := false
		for _, u := range rec.urls {
			reached = reached || u == c.want
			if strings.HasPrefix(u, "http://") && !strings.HasPrefix(c.want, "http://") {
				t.Errorf("%s (insecure %v): a request went to %s in the clear", c.host, c.insecure, u)
			}
		}
		if !reached {
			t.Errorf("%s (insecure %v): requests went to %v, want %s among them", c.host, c.insecure, rec.urls, c.want)
		}
	}
}

func emptyConfig(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(`{"auths":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// basicAuth puts the in-process registry behind HTTP basic auth, as a
// registry with credentials is.
func basicAuth(user, pass string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func TestCredentials(t *testing.T) {
	srv := httptest.NewServer(basicAuth("robot", "s3cret-pass", registry.New(registry.Logger(log.New(io.Discard, "", 0)))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	blob := ports.BytesBlob("application/octet-stream", []byte("content"))
	ctx := context.Background()

	anonymous, err := ociregistry.New(ociregistry.Options{DockerConfig: emptyConfig(t)})
	if err != nil {
		t.Fatal(err)
	}
	err = anonymous.PushBlob(ctx, host+"/team/app", blob)
	if !fault.Is(err, fault.PermissionDenied) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("without credentials: %v", err)
	}

	wrong, _ := ociregistry.New(ociregistry.Options{Credentials: map[string]ociregistry.Credential{host: {Username: "robot", Password: "wrong-pass"}}})
	if err := wrong.PushBlob(ctx, host+"/team/app", blob); !fault.Is(err, fault.PermissionDenied) || strings.Contains(err.Error(), "wrong-pass") {
		t.Errorf("wrong credentials: %v", err)
	}

	given, _ := ociregistry.New(ociregistry.Options{Credentials: map[string]ociregistry.Credential{host: {Username: "robot", Password: "s3cret-pass"}}})
	if err := given.PushBlob(ctx, host+"/team/app", blob); err != nil {
		t.Errorf("with credentials: %v", err)
	}

	// A credential source (ECR's tokens, say) answers for its hosts; a
	// source that fails fails the request with its error.
	sourced, _ := ociregistry.New(ociregistry.Options{DockerConfig: emptyConfig(t), Sources: []ociregistry.CredentialSource{
		sourceFunc(func(string) (string, string, bool, error) { return "", "", false, nil }),
		sourceFunc(func(h string) (string, string, bool, error) { return "robot", "s3cret-pass", h == host, nil }),
	}})
	if err := sourced.PushBlob(ctx, host+"/team/app", blob); err != nil {
		t.Errorf("with a credential source: %v", err)
	}
	failing, _ := ociregistry.New(ociregistry.Options{DockerConfig: emptyConfig(t), Sources: []ociregistry.CredentialSource{
		sourceFunc(func(string) (string, string, bool, error) {
			return "", "", true, fault.New(fault.PermissionDenied, "the role needs ecr:GetAuthorizationToken")
		}),
	}})
	if err := failing.PushBlob(ctx, host+"/team/app", blob); err == nil || !strings.Contains(err.Error(), "ecr:GetAuthorizationToken") {
		t.Errorf("with a failing credential source: %v", err)
	}

	cfg := filepath.Join(t.TempDir(), "config.json")
	auth := base64.StdEncoding.EncodeToString([]byte("robot:s3cret-pass"))
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `{"auths":{"http://%s":{"auth":%q}}}`, host, auth), 0o600); err != nil {
		t.Fatal(err)
	}
	fromFile, err := ociregistry.New(ociregistry.Options{DockerConfig: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fromFile.Tags(ctx, host+"/team/app"); err != nil {
		t.Errorf("with a docker config: %v", err)
	}

	bad := filepath.Join(t.TempDir(), "config.json")
	_ = os.WriteFile(bad, []byte("not json"), 0o600)
	for _, path := range []string{bad, filepath.Join(t.TempDir(), "missing.json")} {
		if _, err := ociregistry.New(ociregistry.Options{DockerConfig: path}); !fault.Is(err, fault.Validation) {
			t.Errorf("docker config %s: %v", path, err)
		}
	}
}

// TestBlobsThatDoNotMatchTheirDigestAreRefused: a registry (or a proxy on
// the way) that serves other content under a digest is caught by the
// reader, at the end of the blob.
func TestBlobsThatDoNotMatchTheirDigestAreRefused(t *testing.T) {
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:") {
			_, _ = io.WriteString(w, "tampered content")
			return
		}
		inner.ServeHTTP(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	c, err := ociregistry.New(ociregistry.Options{DockerConfig: emptyConfig(t)})
	if err != nil {
		t.Fatal(err)
	}
	b := ports.BytesBlob("application/octet-stream", []byte("the real content"))
	if err := c.PushBlob(context.Background(), host+"/team/app", b); err != nil {
		t.Fatal(err)
	}
	rc, err := c.Blob(context.Background(), host+"/team/app", b.Digest)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("reading a tampered blob: %v", err)
	}
}

// sourceFunc is a CredentialSource from a function of the host.
type sourceFunc func(host string) (string, string, bool, error)

func (f sourceFunc) Credential(_ context.Context, host string) (string, string, bool, error) {
	return f(host)
}
