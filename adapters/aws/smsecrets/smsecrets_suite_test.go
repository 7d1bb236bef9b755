package smsecrets_test

import (
	"context"
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

	"github.com/catalyst-forge/forge/adapters/aws/smsecrets"
	"github.com/catalyst-forge/forge/conformance/secretprovidertest"
	"github.com/catalyst-forge/forge/ports"
)

func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "smsecrets: SecretProvider conformance (Secrets Manager JSON protocol stand-in)")
}

// AWS cannot be reached from these machines: the provider runs against an
// httptest server speaking the Secrets Manager JSON 1.1 protocol
// (X-Amz-Target: secretsmanager.GetSecretValue), the protocol boundary.
var _ = secretprovidertest.Describe("smsecrets (Secrets Manager protocol stand-in)", func() (ports.SecretProvider, secretprovidertest.Secrets, func()) {
	sm := newStandIn()
	p, err := smsecrets.New(context.Background(), smsecrets.Config{
		Region: "eu-west-1", Endpoint: sm.srv.URL, AccessKeyID: "AKIDTEST", SecretAccessKey: "test-secret", MaxAttempts: 1,
	})
	Expect(err).NotTo(HaveOccurred())
	return p, sm, sm.srv.Close
})

// standIn is a Secrets Manager that holds secrets in a map.
type standIn struct {
	srv     *httptest.Server
	mu      sync.Mutex
	secrets map[string]string
	n       atomic.Int64
	// regions records the region each request was signed for.
	regions []string
}

func newStandIn() *standIn {
	s := &standIn{secrets: map[string]string{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func (s *standIn) serve(w http.ResponseWriter, r *http.Request) {
	fail := func(code int, typ, msg string) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Errortype", typ)
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "Message": msg})
	}
	if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" ||
		!strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json-1.1") || !strings.Contains(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") {
		fail(400, "InvalidRequestException", "not a signed GetSecretValue request")
		return
	}
	var in struct{ SecretId string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		fail(400, "InvalidParameterException", "bad body")
		return
	}
	s.mu.Lock()
	v, ok := s.secrets[in.SecretId]
	if auth := r.Header.Get("Authorization"); strings.Contains(auth, "/secretsmanager/") {
		cred := auth[strings.Index(auth, "Credential=")+len("Credential="):]
		if parts := strings.Split(cred, "/"); len(parts) > 2 {
			s.regions = append(s.regions, parts[2])
		}
	}
	s.mu.Unlock()
	switch {
	case strings.HasPrefix(in.SecretId, "denied/"):
		fail(400, "AccessDeniedException", "User is not authorized")
	case !ok:
		fail(400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
	default:
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(map[string]any{"ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:" + in.SecretId, "Name": in.SecretId, "SecretString": v, "VersionId": "v1"})
	}
}

func (s *standIn) put(value string) string {
	name := fmt.Sprintf("ci/secret-%d", s.n.Add(1))
	s.mu.Lock()
	s.secrets[name] = value
	s.mu.Unlock()
	return name
}

func (s *standIn) Put(value string) map[string]any { return map[string]any{"secretName": s.put(value)} }

func (s *standIn) PutFields(fields map[string]string, key string) (map[string]any, bool) {
	b, _ := json.Marshal(fields)
	return map[string]any{"path": s.put(string(b)), "key": key}, true
}

func (s *standIn) Missing() map[string]any { return map[string]any{"secretName": "ci/never-created"} }

func (s *standIn) Invalid() (map[string]any, string) {
	return map[string]any{"region": "eu-west-1"}, "secretName"
}
