package ecrauth_test

// The tests run the source against an httptest server that speaks ECR's
// AWS JSON 1.1 protocol (X-Amz-Target AmazonEC2ContainerRegistry_V20150921
// .GetAuthorizationToken, SigV4-signed): the protocol boundary, since AWS
// cannot be reached from here.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/catalyst-forge/forge/adapters/aws/ecrauth"
	"github.com/catalyst-forge/forge/domain/fault"
)

// ecrStandIn answers GetAuthorizationToken with a new password each time,
// valid until expires, and refuses the account "denied".
type ecrStandIn struct {
	mu      sync.Mutex
	calls   []string // the region each request was signed for
	expires time.Time
	deny    bool
}

var scope = regexp.MustCompile(`Credential=AKIDTEST/\d{8}/([a-z0-9-]+)/ecr/aws4_request`)

func (s *ecrStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Header.Get("X-Amz-Target") != "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken" ||
		r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"__type":"UnknownOperationException","message":"target %q"}`, r.Header.Get("X-Amz-Target"))
		return
	}
	m := scope.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"__type":"InvalidSignatureException","message":"not signed"}`)
		return
	}
	s.calls = append(s.calls, m[1])
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if s.deny {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"AccessDeniedException","message":"User is not authorized to perform: ecr:GetAuthorizationToken"}`)
		return
	}
	tok := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("AWS:password-%d", len(s.calls))))
	_ = json.NewEncoder(w).Encode(map[string]any{"authorizationData": []map[string]any{{
		"authorizationToken": tok, "expiresAt": float64(s.expires.Unix()),
		"proxyEndpoint": "https://123456789012.dkr.ecr." + m[1] + ".amazonaws.com"}}})
}

func TestECRTokensAreFetchedPerRegionAndKeptUntilTheyExpire(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	standIn := &ecrStandIn{expires: now.Add(12 * time.Hour)}
	srv := httptest.NewServer(standIn)
	defer srv.Close()
	src, err := ecrauth.New(context.Background(), ecrauth.Config{Endpoint: srv.URL, AccessKeyID: "AKIDTEST", SecretAccessKey: "x",
		MaxAttempts: 1, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	get := func(host string) (string, string, bool) {
		t.Helper()
		u, p, ok, err := src.Credential(ctx, host)
		if err != nil {
			t.Fatal(err)
		}
		return u, p, ok
	}
	if _, _, ok := get("harbor.example.com"); ok {
		t.Error("a host that is not ECR's got an ECR credential")
	}
	if u, p, ok := get("123456789012.dkr.ecr.eu-west-1.amazonaws.com"); !ok || u != "AWS" || p != "password-1" {
		t.Errorf("credential = %q %q %v", u, p, ok)
	}
	if _, p, _ := get("210987654321.dkr.ecr.eu-west-1.amazonaws.com"); p != "password-1" {
		t.Errorf("another account in the same region asked again: %q", p)
	}
	if _, p, _ := get("123456789012.dkr.ecr.us-east-2.amazonaws.com"); p != "password-2" {
		t.Errorf("another region: %q", p)
	}
	now = now.Add(11*time.Hour + 56*time.Minute) // within five minutes of the expiry
	if _, p, _ := get("123456789012.dkr.ecr.eu-west-1.amazonaws.com"); p != "password-3" {
		t.Errorf("a token about to expire was kept: %q", p)
	}
	if got := strings.Join(standIn.calls, ","); got != "eu-west-1,us-east-2,eu-west-1" {
		t.Errorf("GetAuthorizationToken signed for %s", got)
	}

	standIn.deny = true
	_, _, ok, err := src.Credential(ctx, "123456789012.dkr.ecr.ap-south-1.amazonaws.com")
	if !ok || !fault.Is(err, fault.PermissionDenied) || !strings.Contains(err.Error(), "needs ecr:GetAuthorizationToken") {
		t.Errorf("access denied: %v, %v", ok, err)
	}
}

func TestRegionOfECRHosts(t *testing.T) {
	for host, want := range map[string]string{
		"123456789012.dkr.ecr.us-east-1.amazonaws.com":          "us-east-1",
		"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com": "us-gov-west-1",
		"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn":      "cn-north-1",
		"12345.dkr.ecr.us-east-1.amazonaws.com":                 "",
		"public.ecr.aws":                                        "",
		"123456789012.dkr.ecr.us-east-1.amazonaws.com.evil":     "",
	} {
		if got, _ := ecrauth.Region(host); got != want {
			t.Errorf("Region(%s) = %q, want %q", host, got, want)
		}
	}
}
