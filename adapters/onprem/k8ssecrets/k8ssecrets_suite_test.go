package k8ssecrets_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"

	"github.com/catalyst-forge/forge/adapters/onprem/k8ssecrets"
	"github.com/catalyst-forge/forge/conformance/secretprovidertest"
	"github.com/catalyst-forge/forge/ports"
)

func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "k8ssecrets: SecretProvider conformance (Kubernetes API stand-in)")
}

// Kubernetes cannot run here: the provider's real client-go client talks
// to an httptest server speaking the Kubernetes API for Secrets (GET
// /api/v1/namespaces/{ns}/secrets/{name}, Status objects for errors): the
// protocol boundary.
var _ = secretprovidertest.Describe("k8ssecrets (Kubernetes API stand-in)", func() (ports.SecretProvider, secretprovidertest.Secrets, func()) {
	k := newAPIServer()
	p, err := k8ssecrets.New(k8ssecrets.Config{Namespaces: []string{"ci"}, REST: &rest.Config{Host: k.srv.URL, BearerToken: "sa-token"}})
	Expect(err).NotTo(HaveOccurred())
	return p, k, k.srv.Close
})

// apiServer holds Secrets by namespace/name; only requests with the
// service account's token may read, and never the "kube-system" ones.
type apiServer struct {
	srv     *httptest.Server
	mu      sync.Mutex
	secrets map[string]map[string]string
	n       atomic.Int64
}

func newAPIServer() *apiServer {
	k := &apiServer{secrets: map[string]map[string]string{}}
	k.srv = httptest.NewServer(http.HandlerFunc(k.serve))
	return k
}

func status(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": msg, "reason": reason, "code": code})
}

func (k *apiServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer sa-token" {
		status(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
		return
	}
	var ns, name string
	if _, err := fmt.Sscanf(strings.ReplaceAll(r.URL.Path, "/", " "), " api v1 namespaces %s secrets %s", &ns, &name); err != nil || r.Method != http.MethodGet {
		status(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
		return
	}
	if ns == "kube-system" {
		status(w, http.StatusForbidden, "Forbidden", `secrets is forbidden: User "system:serviceaccount:forge:worker" cannot get resource "secrets"`)
		return
	}
	k.mu.Lock()
	data, ok := k.secrets[ns+"/"+name]
	k.mu.Unlock()
	if !ok {
		status(w, http.StatusNotFound, "NotFound", fmt.Sprintf(`secrets %q not found`, name))
		return
	}
	enc := map[string]string{}
	for key, v := range data {
		enc[key] = base64.StdEncoding.EncodeToString([]byte(v))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata": map[string]any{"name": name, "namespace": ns}, "data": enc})
}

func (k *apiServer) put(ns string, data map[string]string) string {
	name := fmt.Sprintf("secret-%d", k.n.Add(1))
	k.mu.Lock()
	k.secrets[ns+"/"+name] = data
	k.mu.Unlock()
	return name
}

func (k *apiServer) Put(value string) map[string]any {
	return map[string]any{"namespace": "ci", "secretName": k.put("ci", map[string]string{"value": value}), "key": "value"}
}

func (k *apiServer) PutFields(fields map[string]string, key string) (map[string]any, bool) {
	return map[string]any{"namespace": "ci", "secretName": k.put("ci", fields), "key": key}, true
}

func (k *apiServer) Missing() map[string]any {
	return map[string]any{"namespace": "ci", "secretName": "never-created", "key": "value"}
}

func (k *apiServer) Invalid() (map[string]any, string) {
	return map[string]any{"namespace": "ci", "key": "value"}, "secretName"
}
