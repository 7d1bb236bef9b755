package vaultsecrets_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/adapters/onprem/vaultsecrets"
	"github.com/catalyst-forge/forge/domain/fault"
)

// TestVersionsKeysAndLogins, against the Vault HTTP API stand-in.
func TestVersionsKeysAndLogins(t *testing.T) {
	v := newStandIn()
	defer v.srv.Close()
	p, err := vaultsecrets.New(vaultsecrets.Config{Address: v.srv.URL, Token: v.token})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v.secrets["ci/db"] = []map[string]any{{"password": "one"}, nil, {"password": "three", "user": "app"}}
	for _, c := range []struct {
		cfg        map[string]any
		want, kind string
	}{
		{map[string]any{"path": "ci/db", "key": "password"}, "three", ""},
		{map[string]any{"path": "ci/db", "version": 1}, "one", ""},
		{map[string]any{"path": "ci/db", "version": "1"}, "one", ""},
		{map[string]any{"path": "/ci/db/", "key": "user"}, "app", ""},
		{map[string]any{"path": "ci/db"}, "has 2 fields: give key to choose one", string(fault.Validation)},
		{map[string]any{"path": "ci/db", "version": 2}, "that version is deleted", string(fault.NotFound)},
		{map[string]any{"path": "ci/db", "version": 9}, "does not exist", string(fault.NotFound)},
		{map[string]any{"path": "ci/db", "version": -1}, "field version must be a positive whole number", string(fault.Validation)},
		{map[string]any{"path": "ci/db", "mount": "kv"}, "does not exist", string(fault.NotFound)},
		{map[string]any{"path": "ci/db", "region": "x"}, "field region is not allowed", string(fault.Validation)},
	} {
		got, err := p.Resolve(ctx, c.cfg)
		if c.kind == "" {
			if err != nil || got != c.want {
				t.Errorf("%v: %q, %v; want %q", c.cfg, got, err, c.want)
			}
			continue
		}
		if string(fault.KindOf(err)) != c.kind || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v (%s), want %s %q", c.cfg, err, fault.KindOf(err), c.kind, c.want)
		}
	}

	noToken, _ := vaultsecrets.New(vaultsecrets.Config{Address: v.srv.URL, Token: "wrong"})
	if _, err := noToken.Resolve(ctx, map[string]any{"path": "ci/db", "key": "password"}); !fault.Is(err, fault.PermissionDenied) {
		t.Errorf("a wrong token: %v", err)
	}
}

// TestKubernetesLoginAgainWhenTheTokenExpires: a Vault token that stops
// working is replaced by logging in again, once.
func TestKubernetesLoginAgainWhenTheTokenExpires(t *testing.T) {
	v := newStandIn()
	defer v.srv.Close()
	jwt := t.TempDir() + "/token"
	if err := writeFile(jwt, v.serviceAccountJWT); err != nil {
		t.Fatal(err)
	}
	p, _ := vaultsecrets.New(vaultsecrets.Config{Address: v.srv.URL, Role: "forge-worker", ServiceAccountToken: jwt})
	v.secrets["ci/x"] = []map[string]any{{"value": "v"}}
	ctx := context.Background()
	if got, err := p.Resolve(ctx, map[string]any{"path": "ci/x"}); err != nil || got != "v" {
		t.Fatalf("%q %v", got, err)
	}
	v.mu.Lock()
	for tok := range v.tokens {
		if strings.HasPrefix(tok, "k8s-token-") {
			delete(v.tokens, tok) // expired
		}
	}
	v.mu.Unlock()
	if got, err := p.Resolve(ctx, map[string]any{"path": "ci/x"}); err != nil || got != "v" || v.logins.Load() != 2 {
		t.Errorf("after expiry: %q %v, %d logins", got, err, v.logins.Load())
	}
	badRole, _ := vaultsecrets.New(vaultsecrets.Config{Address: v.srv.URL, Role: "other", ServiceAccountToken: jwt})
	if _, err := badRole.Resolve(ctx, map[string]any{"path": "ci/x"}); !fault.Is(err, fault.PermissionDenied) {
		t.Errorf("a role Vault refuses: %v", err)
	}
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }
