package k8ssecrets_test

import (
	"context"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/catalyst-forge/forge/adapters/onprem/k8ssecrets"
	"github.com/catalyst-forge/forge/domain/fault"
)

// TestOnlyAllowedNamespaces, against the Kubernetes API stand-in: a
// repository cannot name a namespace the operator did not allow, and
// RBAC's refusal is PermissionDenied.
func TestOnlyAllowedNamespaces(t *testing.T) {
	k := newAPIServer()
	defer k.srv.Close()
	k.put("forge", map[string]string{"token": "worker-token-value"})
	ctx := context.Background()
	p, err := k8ssecrets.New(k8ssecrets.Config{Namespaces: []string{"ci", "kube-system"}, REST: &rest.Config{Host: k.srv.URL, BearerToken: "sa-token"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ns, want string
	}{
		{"forge", "namespace forge is not one builds may read (allowed: ci, kube-system)"},
		{"kube-system", "the worker's service account may not read it"},
	} {
		_, err := p.Resolve(ctx, map[string]any{"namespace": c.ns, "secretName": "secret-1", "key": "token"})
		if !fault.Is(err, fault.PermissionDenied) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "value") {
			t.Errorf("%s: %v, want %q", c.ns, err, c.want)
		}
	}
	none, err := k8ssecrets.New(k8ssecrets.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := none.Resolve(ctx, map[string]any{"namespace": "ci", "secretName": "x", "key": "y"}); !fault.Is(err, fault.PermissionDenied) || !strings.Contains(err.Error(), "--secret-k8s-namespace") {
		t.Errorf("no namespaces allowed: %v", err)
	}
}
