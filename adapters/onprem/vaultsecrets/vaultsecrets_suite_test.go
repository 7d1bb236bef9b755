package vaultsecrets_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/catalyst-forge/forge/adapters/onprem/vaultsecrets"
	"github.com/catalyst-forge/forge/conformance/secretprovidertest"
	"github.com/catalyst-forge/forge/ports"
)

func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "vaultsecrets: SecretProvider conformance (Vault HTTP API stand-in)")
}

// Vault cannot run here: the provider runs against an httptest server
// speaking Vault's HTTP API for the KV v2 engine and the Kubernetes auth
// method, the protocol boundary. Both ways of logging in are covered.
var _ = secretprovidertest.Describe("vaultsecrets with a token (Vault HTTP API stand-in)", func() (ports.SecretProvider, secretprovidertest.Secrets, func()) {
	v := newStandIn()
	p, err := vaultsecrets.New(vaultsecrets.Config{Address: v.srv.URL, Token: v.token})
	Expect(err).NotTo(HaveOccurred())
	return p, v, v.srv.Close
})

var _ = secretprovidertest.Describe("vaultsecrets with Kubernetes auth (Vault HTTP API stand-in)", func() (ports.SecretProvider, secretprovidertest.Secrets, func()) {
	v := newStandIn()
	jwt := filepath.Join(GinkgoT().TempDir(), "token")
	Expect(os.WriteFile(jwt, []byte(v.serviceAccountJWT+"\n"), 0o600)).To(Succeed())
	p, err := vaultsecrets.New(vaultsecrets.Config{Address: v.srv.URL, Role: "forge-worker", ServiceAccountToken: jwt})
	Expect(err).NotTo(HaveOccurred())
	return p, v, v.srv.Close
})

// standIn is a Vault with one KV v2 engine at "secret", versioned
// secrets, token auth and the Kubernetes auth method.
type standIn struct {
	srv               *httptest.Server
	token             string
	serviceAccountJWT string
	mu                sync.Mutex
	// secrets maps a path to its versions (version i+1 at index i); a
	// nil version is deleted.
	secrets map[string][]map[string]any
	tokens  map[string]bool
	logins  atomic.Int64
	n       atomic.Int64
}

func newStandIn() *standIn {
	v := &standIn{token: "root-token-for-tests", serviceAccountJWT: "eyJhbGciOiJSUzI1NiJ9.sa.sig",
		secrets: map[string][]map[string]any{}, tokens: map[string]bool{"root-token-for-tests": true}}
	v.srv = httptest.NewServer(http.HandlerFunc(v.serve))
	return v
}

func (v *standIn) fail(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []string{msg}})
}

func (v *standIn) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPut || r.Method == http.MethodPost {
		if r.URL.Path == "/v1/auth/kubernetes/login" {
			var in struct{ Role, JWT string }
			_ = json.NewDecoder(r.Body).Decode(&in)
			if in.Role != "forge-worker" || in.JWT != v.serviceAccountJWT {
				v.fail(w, http.StatusForbidden, "permission denied")
				return
			}
			tok := fmt.Sprintf("k8s-token-%d", v.logins.Add(1))
			v.mu.Lock()
			v.tokens[tok] = true
			v.mu.Unlock()
			_ = json.NewEncoder(w).Encode(map[string]any{"auth": map[string]any{"client_token": tok, "lease_duration": 3600, "renewable": true}})
			return
		}
		v.fail(w, http.StatusMethodNotAllowed, "unsupported")
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.tokens[r.Header.Get("X-Vault-Token")] {
		v.fail(w, http.StatusForbidden, "permission denied")
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/v1/secret/data/")
	if !ok || r.Method != http.MethodGet {
		v.fail(w, http.StatusNotFound, "no handler for route")
		return
	}
	versions := v.secrets[path]
	n := len(versions)
	if q := r.URL.Query().Get("version"); q != "" {
		n, _ = strconv.Atoi(q)
	}
	if n < 1 || n > len(versions) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"errors":[]}`))
		return
	}
	data := versions[n-1]
	meta := map[string]any{"version": n, "created_time": "2026-11-30T12:00:00Z", "deletion_time": "", "destroyed": false}
	if data == nil {
		meta["deletion_time"] = "2026-12-01T12:00:00Z"
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"data": data, "metadata": meta}})
}

func (v *standIn) put(data map[string]any) string {
	path := fmt.Sprintf("ci/secret-%d", v.n.Add(1))
	v.mu.Lock()
	v.secrets[path] = append(v.secrets[path], data)
	v.mu.Unlock()
	return path
}

func (v *standIn) Put(value string) map[string]any {
	return map[string]any{"path": v.put(map[string]any{"value": value})}
}

func (v *standIn) PutFields(fields map[string]string, key string) (map[string]any, bool) {
	data := map[string]any{}
	for k, x := range fields {
		data[k] = x
	}
	return map[string]any{"path": v.put(data), "key": key}, true
}

func (v *standIn) Missing() map[string]any { return map[string]any{"path": "ci/never-written"} }

func (v *standIn) Invalid() (map[string]any, string) { return map[string]any{"key": "token"}, "path" }
