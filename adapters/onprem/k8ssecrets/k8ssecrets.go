// Package k8ssecrets is the "kubernetes" secret provider: a reference
// {provider: "kubernetes", namespace: "ci", secretName: "npm", key: "token"}
// resolves to one key of a Kubernetes Secret, read through client-go's
// typed core/v1 client with the worker's service account (in a pod) or a
// kubeconfig. Only namespaces the operator allows are read, so that a
// repository cannot name the platform's own Secrets. It is in the adapters
// layer (adapters/onprem) and implements ports.SecretProvider.
package k8ssecrets

import (
	"context"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// Config configures the provider.
type Config struct {
	// Namespaces are those whose Secrets builds may read; none allows
	// none.
	Namespaces []string
	// Kubeconfig is a kubeconfig file; empty means the pod's own service
	// account (in-cluster), or KUBECONFIG when not in a pod.
	Kubeconfig string
	// REST, when set, is used as it is (tests, embedding).
	REST *rest.Config
}

// Provider is the Kubernetes Secrets provider.
type Provider struct {
	namespaces []string
	rest       *rest.Config
	client     *corev1.CoreV1Client
}

var _ ports.SecretProvider = (*Provider)(nil)

// New returns the provider; the cluster is contacted only to resolve a
// secret. Errors: Validation (a kubeconfig that cannot be read).
func New(cfg Config) (*Provider, error) {
	p := &Provider{namespaces: cfg.Namespaces, rest: cfg.REST}
	if p.rest == nil && len(cfg.Namespaces) > 0 {
		var err error
		if cfg.Kubeconfig == "" {
			p.rest, err = rest.InClusterConfig()
			if err != nil {
				p.rest, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(clientcmd.NewDefaultClientConfigLoadingRules(), nil).ClientConfig()
			}
		} else {
			p.rest, err = clientcmd.BuildConfigFromFlags("", cfg.Kubeconfig)
		}
		if err != nil {
			return nil, fault.New(fault.Validation, "kubernetes secrets: no cluster configuration (not in a pod, and no kubeconfig)")
		}
	}
	if p.rest != nil {
		c, err := corev1.NewForConfig(p.rest)
		if err != nil {
			return nil, fault.New(fault.Validation, "kubernetes secrets: the cluster configuration cannot be used")
		}
		p.client = c
	}
	return p, nil
}

// Name is "kubernetes".
func (p *Provider) Name() string { return "kubernetes" }

// Schema: the Secret's namespace and name, and the key to read.
func (p *Provider) Schema() string {
	return `namespace: =~"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", secretName: =~"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", key: =~"^[-._a-zA-Z0-9]+$"`
}

// Resolve returns the key of the Secret. Errors: Validation,
// PermissionDenied (a namespace builds may not read, or RBAC refused),
// NotFound (no such Secret or key), Unavailable, the context's error.
func (p *Provider) Resolve(ctx context.Context, cfg map[string]any) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	for k := range cfg {
		if !slices.Contains([]string{"namespace", "secretName", "key"}, k) {
			return "", fault.New(fault.Validation, "kubernetes secret: field %s is not allowed (namespace, secretName, key)", k)
		}
	}
	ns, _ := cfg["namespace"].(string)
	name, _ := cfg["secretName"].(string)
	key, _ := cfg["key"].(string)
	for field, v := range map[string]string{"namespace": ns, "secretName": name, "key": key} {
		if v == "" {
			return "", fault.New(fault.Validation, "kubernetes secret: field %s is required", field)
		}
	}
	if !slices.Contains(p.namespaces, ns) {
		allowed := "none; see --secret-k8s-namespace"
		if len(p.namespaces) > 0 {
			allowed = strings.Join(p.namespaces, ", ")
		}
		return "", fault.New(fault.PermissionDenied, "kubernetes secret %s/%s: namespace %s is not one builds may read (allowed: %s)", ns, name, ns, allowed)
	}
	if p.client == nil {
		return "", fault.New(fault.Unavailable, "kubernetes secret %s/%s: this worker has no cluster to read it from", ns, name)
	}
	s, err := p.client.Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		switch {
		case apierrors.IsNotFound(err):
			return "", fault.New(fault.NotFound, "kubernetes secret %s/%s does not exist", ns, name)
		case apierrors.IsForbidden(err), apierrors.IsUnauthorized(err):
			return "", fault.New(fault.PermissionDenied, "kubernetes secret %s/%s: the worker's service account may not read it", ns, name)
		}
		return "", fault.New(fault.Unavailable, "kubernetes secret %s/%s: the cluster cannot be reached", ns, name)
	}
	if v, ok := s.Data[key]; ok {
		return string(v), nil
	}
	if v, ok := s.StringData[key]; ok {
		return v, nil
	}
	return "", fault.New(fault.NotFound, "kubernetes secret %s/%s has no key %s", ns, name, key)
}

// String names the provider's reach, for logs.
func (p *Provider) String() string { return fmt.Sprintf("kubernetes secrets in %v", p.namespaces) }
