package resolving_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/catalyst-forge/forge/application/resolving"
	"github.com/catalyst-forge/forge/domain/config"
	"github.com/catalyst-forge/forge/domain/fault"
	"github.com/catalyst-forge/forge/ports"
)

// mapProvider is a provider over a map, for the registry's own rules.
type mapProvider struct {
	name, schema string
	values       map[string]string
}

func (p mapProvider) Name() string   { return p.name }
func (p mapProvider) Schema() string { return p.schema }
func (p mapProvider) Resolve(ctx context.Context, cfg map[string]any) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	v, ok := p.values[fmt.Sprint(cfg["path"])]
	if !ok {
		return "", fault.New(fault.NotFound, "no secret at %v", cfg["path"])
	}
	return v, nil
}

func TestRegistry(t *testing.T) {
	r, err := resolving.NewRegistry(
		mapProvider{name: "vault", schema: `path: string & != "", key?: string, version?: int & >0`, values: map[string]string{"ci/token": "s3cr3t"}},
		mapProvider{name: "env", schema: `name: =~"^[A-Za-z_][A-Za-z0-9_]*$"`},
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Names(), ","); got != "env,vault" {
		t.Errorf("Names = %s", got)
	}
	ctx := context.Background()
	for _, c := range []struct {
		name string
		ref  config.SecretRef
		want string // the value, or the error's text
		kind fault.Kind
	}{
		{"resolves", config.SecretRef{Provider: "vault", Config: map[string]any{"path": "ci/token", "key": "k"}}, "s3cr3t", ""},
		{"optional int", config.SecretRef{Provider: "vault", Config: map[string]any{"path": "ci/token", "version": 2}}, "s3cr3t", ""},
		{"missing secret", config.SecretRef{Provider: "vault", Config: map[string]any{"path": "ci/none"}}, "no secret at ci/none", fault.NotFound},
		{"misspelt field", config.SecretRef{Provider: "vault", Config: map[string]any{"pth": "ci/token"}}, `secret provider "vault": field pth: field not allowed`, fault.Validation},
		{"unknown field", config.SecretRef{Provider: "vault", Config: map[string]any{"path": "ci/token", "region": "x"}}, "field region: field not allowed", fault.Validation},
		{"wrong type", config.SecretRef{Provider: "vault", Config: map[string]any{"path": 3}}, "field path: conflicting values", fault.Validation},
		{"out of range", config.SecretRef{Provider: "vault", Config: map[string]any{"path": "a", "version": 0}}, "field version: invalid value 0", fault.Validation},
		{"pattern", config.SecretRef{Provider: "env", Config: map[string]any{"name": "A-B"}}, `field name: invalid value "A-B"`, fault.Validation},
		{"no config", config.SecretRef{Provider: "env"}, `secret provider "env": field name is required (=~"^[A-Za-z_][A-Za-z0-9_]*$")`, fault.Validation},
		{"unknown provider", config.SecretRef{Provider: "aws", Config: map[string]any{"secretName": "x"}}, `secret provider "aws" is not available here (available: env, vault)`, fault.Validation},
		{"no provider", config.SecretRef{}, "a secret reference needs a provider (env, vault)", fault.Validation},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := r.Resolve(ctx, c.ref)
			if c.kind == "" {
				if err != nil || got != c.want {
					t.Fatalf("Resolve = %q, %v; want %q", got, err, c.want)
				}
				return
			}
			if !fault.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Resolve error = %v (%s), want %s containing %q", err, fault.KindOf(err), c.kind, c.want)
			}
		})
	}
}

func TestRegistryRefusesBadProviders(t *testing.T) {
	for _, c := range []struct {
		ps   []mapProvider
		want string
	}{
		{[]mapProvider{{name: "", schema: "a: string"}}, "has no name"},
		{[]mapProvider{{name: "x", schema: "a: string"}, {name: "x", schema: "b: string"}}, `two secret providers are named "x"`},
		{[]mapProvider{{name: "x", schema: "a: {"}}, `the schema of secret provider "x"`},
	} {
		_, err := newRegistry(c.ps...)
		if !fault.Is(err, fault.Validation) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewRegistry(%+v) = %v, want %q", c.ps, err, c.want)
		}
	}
}

func newRegistry(ps ...mapProvider) (*resolving.Registry, error) {
	list := make([]ports.SecretProvider, len(ps))
	for i, p := range ps {
		list[i] = p
	}
	return resolving.NewRegistry(list...)
}

// TestRegistryConcurrentUse checks resolutions from many goroutines (the
// workers run several steps at once); run with -race.
func TestRegistryConcurrentUse(t *testing.T) {
	r, err := resolving.NewRegistry(mapProvider{name: "m", schema: "path: string", values: map[string]string{"a": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			ref := config.SecretRef{Provider: "m", Config: map[string]any{"path": "a"}}
			if i%2 == 1 {
				ref.Config = map[string]any{"path": i}
			}
			v, err := r.Resolve(context.Background(), ref)
			if i%2 == 0 && (err != nil || v != "1") || i%2 == 1 && !fault.Is(err, fault.Validation) {
				t.Errorf("goroutine %d: %q, %v", i, v, err)
			}
		})
	}
	wg.Wait()
}
