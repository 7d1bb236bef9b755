package envsecrets_test

import (
	"context"
	"strings"
	"testing"

	"github.com/catalyst-forge/forge/adapters/onprem/envsecrets"
	"github.com/catalyst-forge/forge/domain/fault"
)

// TestOnlyAllowedVariables reads the real environment: a build gets the
// variables the operator allowed and never the worker's own credentials.
func TestOnlyAllowedVariables(t *testing.T) {
	t.Setenv("FORGE_SECRET_NPM", "npm-value")
	t.Setenv("CI_DEPLOY_KEY", "deploy-value")
	t.Setenv("FORGE_TOKEN", "worker-token-value")
	t.Setenv("HOME_SECRET", "home-value")
	t.Setenv("FORGE_SECRET_OWN", "own-value")
	p := envsecrets.New(envsecrets.Options{
		Prefixes: []string{envsecrets.DefaultPrefix, ""},
		Names:    []string{"CI_DEPLOY_KEY", "FORGE_TOKEN"},
		Deny:     []string{"FORGE_SECRET_OWN"},
	})
	for _, c := range []struct {
		name, want string
		kind       fault.Kind
	}{
		{"FORGE_SECRET_NPM", "npm-value", ""},
		{"CI_DEPLOY_KEY", "deploy-value", ""},
		{"FORGE_TOKEN", "the platform's own credentials", fault.PermissionDenied},
		{"FORGE_SECRET_OWN", "the platform's own credentials", fault.PermissionDenied},
		{"HOME_SECRET", "HOME_SECRET is not allowed on this worker (allowed: FORGE_SECRET_*, CI_DEPLOY_KEY, FORGE_TOKEN)", fault.PermissionDenied},
		{"FORGE_SECRET_UNSET", "FORGE_SECRET_UNSET is not set", fault.NotFound},
	} {
		got, err := p.Resolve(context.Background(), map[string]any{"name": c.name})
		if c.kind == "" {
			if err != nil || got != c.want {
				t.Errorf("%s: %q, %v", c.name, got, err)
			}
			continue
		}
		if !fault.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "-value") {
			t.Errorf("%s: error %v (%s), want %s containing %q and no value", c.name, err, fault.KindOf(err), c.kind, c.want)
		}
	}
}

func TestNothingAllowedSaysHowToAllow(t *testing.T) {
	_, err := envsecrets.New(envsecrets.Options{}).Resolve(context.Background(), map[string]any{"name": "X"})
	if !fault.Is(err, fault.PermissionDenied) || !strings.Contains(err.Error(), "--secret-env-prefix") {
		t.Errorf("error = %v", err)
	}
}
