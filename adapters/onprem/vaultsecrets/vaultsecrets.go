// Package vaultsecrets is the "vault" secret provider: a reference
// {provider: "vault", path: "ci/npm", key?: "token", version?: 3, mount?: "secret"}
// resolves to a field of a secret of HashiCorp Vault's KV version 2
// engine, read through github.com/hashicorp/vault/api. The worker
// authenticates with a token or with Vault's Kubernetes auth method (its
// service account's token exchanged for a Vault token, again when that
// one expires). It is in the adapters layer (adapters/onprem) and
// implements ports.SecretProvider.
package vaultsecrets

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	vault "github.com/hashicorp/vault/api"

	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// DefaultServiceAccountToken is where Kubernetes mounts a pod's token.
const DefaultServiceAccountToken = "/var/run/secrets/kubernetes.io/serviceaccount/token"

// Config configures the provider.
type Config struct {
	// Address is Vault's URL (default: VAULT_ADDR).
	Address string
	// Token authenticates directly (default: VAULT_TOKEN) unless Role is
	// set.
	Token string
	// Role, when set, logs in with the Kubernetes auth method mounted at
	// KubernetesMount (default "kubernetes") with the service account
	// token in ServiceAccountToken (default DefaultServiceAccountToken).
	Role, KubernetesMount, ServiceAccountToken string
	// Mount is the KV v2 engine's mount when a reference names none
	// (default "secret").
	Mount string
}

// Provider is the Vault provider.
type Provider struct {
	cfg    Config
	client *vault.Client

	mu       sync.Mutex
	loggedIn bool
}

var _ ports.SecretProvider = (*Provider)(nil)

// New returns the provider; nothing is contacted until a secret is
// resolved. Errors: Validation (a bad address).
func New(cfg Config) (*Provider, error) {
	vc := vault.DefaultConfig()
	if cfg.Address != "" {
		vc.Address = cfg.Address
	}
	vc.MaxRetries = 2
	client, err := vault.NewClient(vc)
	if err != nil {
		return nil, fault.New(fault.Validation, "vault: %s is not a usable address", vc.Address)
	}
	client.ClearNamespace()
	if cfg.Role == "" && cfg.Token != "" {
		client.SetToken(cfg.Token)
	}
	if cfg.Mount == "" {
		cfg.Mount = "secret"
	}
	if cfg.KubernetesMount == "" {
		cfg.KubernetesMount = "kubernetes"
	}
	if cfg.ServiceAccountToken == "" {
		cfg.ServiceAccountToken = DefaultServiceAccountToken
	}
	return &Provider{cfg: cfg, client: client}, nil
}

// Name is "vault".
func (p *Provider) Name() string { return "vault" }

// Schema: the secret's path, and optionally the field, version and mount.
func (p *Provider) Schema() string {
	return `path: string & =~"^[^/].*[^/]$|^[^/]$", key?: string & != "", version?: int & >0, mount?: string & =~"^[A-Za-z0-9_./-]+$"`
}

// Resolve returns the field key of the secret at path (its only field
// when key is not given). Errors: Validation, NotFound (no such secret,
// version or key; a deleted version), PermissionDenied, Unavailable, the
// context's error.
func (p *Provider) Resolve(ctx context.Context, cfg map[string]any) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	for k := range cfg {
		if !slices.Contains([]string{"path", "key", "version", "mount"}, k) {
			return "", fault.New(fault.Validation, "vault secret: field %s is not allowed (path, key, version, mount)", k)
		}
	}
	path, _ := cfg["path"].(string)
	path = strings.Trim(path, "/")
	if path == "" {
		return "", fault.New(fault.Validation, "vault secret: field path is required")
	}
	mount := p.cfg.Mount
	if m, ok := cfg["mount"].(string); ok && m != "" {
		mount = strings.Trim(m, "/")
	}
	version, err := versionOf(cfg["version"])
	if err != nil {
		return "", err
	}
	if err := p.login(ctx, false); err != nil {
		return "", err
	}
	secret, err := p.read(ctx, mount, path, version)
	if err != nil && fault.Is(err, fault.PermissionDenied) && p.cfg.Role != "" {
		// The Vault token may have expired: log in again, once.
		if err := p.login(ctx, true); err != nil {
			return "", err
		}
		secret, err = p.read(ctx, mount, path, version)
	}
	if err != nil {
		return "", err
	}
	where := mount + "/" + path
	if secret.Data == nil {
		return "", fault.New(fault.NotFound, "vault secret %s: that version is deleted", where)
	}
	key, hasKey := cfg["key"].(string)
	if !hasKey {
		if len(secret.Data) != 1 {
			return "", fault.New(fault.Validation, "vault secret %s has %d fields: give key to choose one", where, len(secret.Data))
		}
		for k := range secret.Data {
			key = k
		}
	}
	v, ok := secret.Data[key]
	if !ok {
		return "", fault.New(fault.NotFound, "vault secret %s has no key %s", where, key)
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, _ := json.Marshal(v)
	return string(b), nil
}

func versionOf(v any) (int, error) {
	switch n := v.(type) {
	case nil:
		return 0, nil
	case int:
		if n > 0 {
			return n, nil
		}
	case int64:
		if n > 0 {
			return int(n), nil
		}
	case float64:
		if n == float64(int(n)) && n > 0 {
			return int(n), nil
		}
	case json.Number:
		if i, err := strconv.Atoi(string(n)); err == nil && i > 0 {
			return i, nil
		}
	case string:
		if i, err := strconv.Atoi(n); err == nil && i > 0 {
			return i, nil
		}
	}
	return 0, fault.New(fault.Validation, "vault secret: field version must be a positive whole number")
}

func (p *Provider) read(ctx context.Context, mount, path string, version int) (*vault.KVSecret, error) {
	kv := p.client.KVv2(mount)
	var s *vault.KVSecret
	var err error
	if version > 0 {
		s, err = kv.GetVersion(ctx, path, version)
	} else {
		s, err = kv.Get(ctx, path)
	}
	if err != nil {
		return nil, translate(ctx, err, mount+"/"+path)
	}
	return s, nil
}

// login exchanges the service account's token for a Vault token, when
// the provider uses the Kubernetes auth method and has not yet (or again
// when again is set).
func (p *Provider) login(ctx context.Context, again bool) error {
	if p.cfg.Role == "" {
		if p.client.Token() == "" {
			return fault.New(fault.PermissionDenied, "vault: this worker has no Vault token and no Kubernetes role to log in with")
		}
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.loggedIn && !again {
		return nil
	}
	jwt, err := os.ReadFile(p.cfg.ServiceAccountToken)
	if err != nil {
		return fault.New(fault.Unavailable, "vault: the service account token %s cannot be read", p.cfg.ServiceAccountToken)
	}
	s, err := p.client.Logical().WriteWithContext(ctx, "auth/"+strings.Trim(p.cfg.KubernetesMount, "/")+"/login",
		map[string]any{"role": p.cfg.Role, "jwt": strings.TrimSpace(string(jwt))})
	if err != nil {
		return translate(ctx, err, "auth/"+p.cfg.KubernetesMount+" login as role "+p.cfg.Role)
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return fault.New(fault.Unavailable, "vault: logging in as role %s gave no token", p.cfg.Role)
	}
	p.client.SetToken(s.Auth.ClientToken)
	p.loggedIn = true
	return nil
}

// translate maps the client's errors to faults without Vault's own
// messages (which may echo request data).
func translate(ctx context.Context, err error, what string) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, vault.ErrSecretNotFound) {
		return fault.New(fault.NotFound, "vault secret %s does not exist", what)
	}
	var re *vault.ResponseError
	if errors.As(err, &re) {
		switch re.StatusCode {
		case http.StatusNotFound:
			return fault.New(fault.NotFound, "vault secret %s does not exist", what)
		case http.StatusForbidden, http.StatusUnauthorized:
			return fault.New(fault.PermissionDenied, "vault: %s: permission denied", what)
		case http.StatusBadRequest:
			return fault.New(fault.Validation, "vault: %s: Vault refused the request", what)
		}
		return fault.New(fault.Unavailable, "vault: %s: Vault answered %d", what, re.StatusCode)
	}
	return fault.New(fault.Unavailable, "vault: %s: Vault cannot be reached", what)
}
